"""Reading and validating contract files: raw cells in, typed frames and row errors out."""

from recommender.io.reader import RawTable, read_raw
from recommender.io.report import FileReport, ImportReport, RowError
from recommender.io.validate import ValidatedTable, record_frame, validate_row, validate_table

__all__ = [
    "FileReport",
    "ImportReport",
    "RawTable",
    "RowError",
    "ValidatedTable",
    "read_raw",
    "record_frame",
    "validate_row",
    "validate_table",
]
