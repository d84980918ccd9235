"""Turning a CSV or Parquet file into raw string cells with their row numbers.

Nothing is typed here: every cell stays a string (or ``None`` when empty), so
that validation sees exactly what the user wrote and can quote it back. What
cannot even be split into cells (a bad byte sequence, a row with the wrong
number of fields, an unbalanced quote) becomes a row error here, and the rows
around it are still read.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.contract import FileSpec
from recommender.io.report import RowError, preview

# Cells larger than this are still read (then rejected by length in validation);
# the csv module's default limit would abort the whole file instead.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

PARQUET_SUFFIXES = (".parquet", ".pq")
_BAD_CHAR = "\ufffd"


@dataclass(slots=True)
class RawTable:
    """Cells of one file, all strings, aligned with the line each row starts on."""

    file: str
    spec: FileSpec
    cells: pd.DataFrame  # one object column per contract column present in the header
    rows: np.ndarray  # row number of each record, for messages
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0  # records seen, including those rejected while reading
    missing_columns: tuple[str, ...] = ()


def _normalise_header(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


_BAD_BYTES = re.compile("[\udc80-\udcff\x00\ufffd]")


def _has_bad_bytes(text: str) -> bool:
    """Undecodable bytes (kept as surrogates), NULs or replacement characters."""
    return _BAD_BYTES.search(text) is not None


def _encoding_hint(data: bytes) -> str:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return "the file is not UTF-8 text; save it as UTF-8"
    return "the file is not UTF-8 (it looks like GBK/GB18030); save it as UTF-8"


def _split_lines(text: str) -> list[str]:
    """Split on newline only: str.splitlines would also break on U+2028 and friends inside cells."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _is_full_row(line: str, width: int) -> bool:
    """The line on its own is a record as wide as the header (a row an unbalanced quote swallowed)."""
    try:
        return len(next(csv.reader([line], strict=False), [])) == width
    except csv.Error:
        return False


def _well_quoted(span: list[str]) -> bool:
    """The lines are one record with properly closed quotes (a quoted cell holding line breaks)."""
    try:
        return len(list(csv.reader(span, strict=True))) == 1
    except csv.Error:
        return False


def _parse_records(
    lines: list[str], width: int, file: str
) -> tuple[list[list[str]], list[int], list[RowError], int]:
    """Parse CSV records after the header, recovering from malformed rows.

    A record whose field count differs from the header's is rejected. When such
    a record spans several lines because of an unbalanced quote (its quotes do
    not close properly, or a swallowed line is a full row on its own), only its first line is
    rejected and parsing restarts on the next line, so the valid rows after it
    are not lost; otherwise (a quoted cell with line breaks in a row of the
    wrong width) the whole record is one rejected row.
    """
    records: list[list[str]] = []
    rownums: list[int] = []
    errors: list[RowError] = []
    seen = 0
    start = 1  # index into lines of the next line to parse (0 is the header)
    n = len(lines)
    while start < n:
        reader = csv.reader(iter(lines[start:]), strict=False)
        consumed = 0
        restart_at: int | None = None
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line_no = start + consumed + 1
                seen += 1
                errors.append(RowError(file, line_no, None, "", f"unreadable CSV row: {exc}"))
                restart_at = start + consumed + 1
                break
            first_line = start + consumed  # index of the record's first line
            consumed = reader.line_num
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue  # blank line
            seen += 1
            row_no = first_line + 1
            if len(rec) != width:
                spans = consumed - (first_line - start)
                reason = f"row has {len(rec)} fields, the header has {width}"
                span = lines[first_line : start + consumed]
                if spans > 1 and (not _well_quoted(span) or any(_is_full_row(line, width) for line in span[1:])):
                    reason += f" (an unbalanced quote joined lines {row_no}-{row_no + spans - 1})"
                    errors.append(RowError(file, row_no, None, preview(lines[first_line]), reason))
                    restart_at = first_line + 1
                    break
                errors.append(RowError(file, row_no, None, preview(lines[first_line]), reason))
                continue
            records.append(rec)
            rownums.append(row_no)
        if restart_at is None:
            break
        start = restart_at
    return records, rownums, errors, seen


def _parse_unquoted(text: str, lines: list[str], width: int) -> pd.DataFrame | None:
    """Files without any quote character, one record per line: pandas' C parser.

    Field counts are checked line by line first (without quotes a comma always
    separates fields), because the C parser would silently pad a short row.
    """
    body = lines[1:]
    if not body or '"' in text:
        return None
    commas = width - 1
    for line in body:
        if line.count(",") != commas or not line.strip():
            return None
    frame = pd.read_csv(
        io.StringIO("".join(body)),
        header=None,
        dtype=object,
        keep_default_na=False,
        na_filter=False,
        engine="c",
        skip_blank_lines=False,
        quoting=csv.QUOTE_NONE,
    )
    if len(frame) != len(body) or frame.shape[1] != width:
        return None
    frame.columns = range(width)
    return frame.astype(object)


def _parse_simple(lines: list[str], width: int) -> tuple[list[list[str]], list[int], list[RowError], int] | None:
    """The common case in one C-speed pass: one record per line, every row as wide as the header.

    Returns None when the file needs the careful parser (blank lines, cells
    spanning lines, wrong field counts), so row numbers are always exact.
    """
    body = lines[1:]
    if any(not line.strip() for line in body):
        return None
    try:
        records = list(csv.reader(body, strict=False))
    except csv.Error:
        return None
    if len(records) != len(body) or any(len(r) != width for r in records):
        return None
    return records, list(range(2, len(records) + 2)), [], len(records)


def _columns_frame(records: list[list[str]], width: int) -> pd.DataFrame | None:
    """Object columns (never pandas' Arrow strings, which refuse undecodable bytes)."""
    if not records:
        return None
    columns = list(zip(*records, strict=True))
    return pd.DataFrame({i: np.array(columns[i], dtype=object) for i in range(width)}, dtype=object)


def _read_csv(data: bytes, file: str, spec: FileSpec) -> RawTable:
    text = data.decode("utf-8", errors="surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _split_lines(text)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        err = RowError(file, 0, None, "", "the file is empty (no header row)")
        return RawTable(file, spec, pd.DataFrame(), np.array([], dtype=np.int64), [err], 0)
    header_line = lines[0]
    if _has_bad_bytes(header_line):
        err = RowError(file, 1, None, preview(header_line), _encoding_hint(data))
        return RawTable(file, spec, pd.DataFrame(), np.array([], dtype=np.int64), [err], 0)
    header = [_normalise_header(h) for h in next(csv.reader([header_line]))]
    fastest = None if _has_bad_bytes_in(data) else _parse_unquoted(text, lines, len(header))
    if fastest is not None:
        rownums = np.arange(2, len(fastest) + 2, dtype=np.int64)
        return _select_columns(file, spec, header, fastest, rownums, [], len(fastest), data)
    fast = _parse_simple(lines, len(header))
    if fast is not None:
        records, rownums, errors, seen = fast
    else:
        records, rownums, errors, seen = _parse_records(lines, len(header), file)
    frame = _columns_frame(records, len(header))
    return _select_columns(file, spec, header, frame, np.asarray(rownums, dtype=np.int64), errors, seen, data)


def _arrow_column_to_strings(values: pd.Series) -> pd.Series:
    """Parquet columns come typed; turn them back into the strings a CSV would hold."""

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (list, tuple, np.ndarray)):
            return ";".join(str(x) for x in v if x is not None)
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        if isinstance(v, pd.Timestamp):
            return v.date().isoformat()
        if hasattr(v, "isoformat"):
            return v.isoformat()  # type: ignore[no-any-return]
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, bytes):
            return v.decode("utf-8", errors="surrogateescape")
        return str(v)

    return pd.Series([one(v) for v in values.tolist()], index=values.index, dtype=object)


# A Parquet file can expand enormously when read (a 5 KB file whose 2 million
# rows all point at one 1 MB dictionary string is 2 TB of text): a file whose
# decoded contract columns would pass this is refused whole, before it is expanded.
PARQUET_MAX_DECODED_BYTES = 512 * 1024 * 1024


def _decoded_bytes(arr: object) -> int:
    """Bytes an Arrow array takes once its dictionaries are expanded (without expanding them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        return sum(_decoded_bytes(c) for c in arr.chunks)
    t = arr.type  # type: ignore[attr-defined]
    if pa.types.is_dictionary(t):
        lengths = pc.binary_length(arr.dictionary).take(arr.indices)  # type: ignore[attr-defined]
        return int(pc.sum(lengths).as_py() or 0) + 8 * len(arr)  # type: ignore[arg-type]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _decoded_bytes(arr.flatten()) + 8 * len(arr)  # type: ignore[attr-defined, arg-type]
    if pa.types.is_struct(t):
        return sum(_decoded_bytes(arr.field(i)) for i in range(t.num_fields)) + 8 * len(arr)  # type: ignore[attr-defined, arg-type]
    return int(arr.nbytes)  # type: ignore[attr-defined]


def _read_parquet(data: bytes, file: str, spec: FileSpec, max_decoded_bytes: int = PARQUET_MAX_DECODED_BYTES) -> RawTable:
    import pyarrow.parquet as pq

    def refuse(reason: str) -> RawTable:
        err = RowError(file, 0, None, "", reason)
        return RawTable(file, spec, pd.DataFrame(), np.array([], dtype=np.int64), [err], 0)

    wanted = set(spec.column_names)
    try:
        pf = pq.ParquetFile(io.BytesIO(data))
        names = list(pf.schema_arrow.names)
        keep = [n for n in dict.fromkeys(names) if _normalise_header(str(n)) in wanted]  # only contract columns are read
        md = pf.metadata
        estimate = md.num_rows * 8 * max(1, len(keep))
        dictionary_paths = []
        for j in range(md.num_columns):
            leaf = md.schema.column(j)
            if leaf.path.split(".")[0] not in keep:
                continue
            if leaf.physical_type == "BYTE_ARRAY":
                dictionary_paths.append(leaf.path)
            estimate += sum(md.row_group(g).column(j).total_uncompressed_size for g in range(md.num_row_groups))
        if estimate > max_decoded_bytes:
            return refuse(f"the Parquet file decompresses to more than {max_decoded_bytes} bytes; split it or import it as CSV")
        pf = pq.ParquetFile(io.BytesIO(data), read_dictionary=dictionary_paths or None)  # strings stay dictionary-encoded
        table = pf.read(columns=keep)
        decoded = _decoded_bytes_table(table)
        if decoded > max_decoded_bytes:
            return refuse(f"the Parquet file decompresses to {decoded} bytes, over {max_decoded_bytes}; split it or import it as CSV")
        header = [_normalise_header(str(h)) for h in table.column_names]
        columns: dict[int, pd.Series] = {}
        for i, name in enumerate(header):
            if name in wanted:
                columns[i] = _arrow_column_to_strings(table.column(i).to_pandas())
    except Exception as exc:  # pyarrow raises several types for corrupt files (and ArrowMemoryError)
        return refuse(f"not a readable Parquet file: {type(exc).__name__}: {str(exc)[:300]}")
    frame = pd.DataFrame(columns) if columns else pd.DataFrame(index=range(table.num_rows))
    rownums = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return _select_columns(file, spec, header, frame, rownums, [], table.num_rows, data)


def _decoded_bytes_table(table: object) -> int:
    return sum(_decoded_bytes(table.column(i)) for i in range(table.num_columns))  # type: ignore[attr-defined]


def _select_columns(
    file: str,
    spec: FileSpec,
    header: list[str],
    frame: pd.DataFrame | None,
    rownums: np.ndarray,
    errors: list[RowError],
    seen: int,
    data: bytes,
) -> RawTable:
    """Keep the contract's columns (extra columns are ignored, never an error)."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(name, i)
    missing = tuple(c for c in spec.required_columns if c not in positions)
    n = len(rownums)
    cells: dict[str, pd.Series] = {}
    for col in spec.column_names:
        if col in positions and frame is not None and positions[col] in frame.columns:
            series = frame[positions[col]]
            series = series.where(series.notna(), None).astype(object)
            cells[col] = series.reset_index(drop=True)
    out = pd.DataFrame(cells, index=range(n)) if cells else pd.DataFrame(index=range(n))
    bad_rows = _bad_byte_rows(out) if _has_bad_bytes_in(data) else np.zeros(n, dtype=bool)
    if bad_rows.any():
        hint = _encoding_hint(data)
        for idx in np.flatnonzero(bad_rows):
            col = next(c for c in out.columns if isinstance(out.at[idx, c], str) and _has_bad_bytes(out.at[idx, c]))
            errors.append(RowError(file, int(rownums[idx]), col, preview(out.at[idx, col]), f"invalid bytes: {hint}"))
        keep = ~bad_rows
        out = out[keep].reset_index(drop=True)
        rownums = rownums[keep]
    return RawTable(file, spec, out, rownums, errors, seen, missing)


def _has_bad_bytes_in(data: bytes) -> bool:
    """Cheap whole-file test, so clean files skip the per-cell scan."""
    if b"\x00" in data or "\ufffd".encode() in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_byte_rows(frame: pd.DataFrame) -> np.ndarray:
    bad = np.zeros(len(frame), dtype=bool)
    for col in frame.columns:
        values = frame[col]
        mask = values.map(lambda v: isinstance(v, str) and _has_bad_bytes(v), na_action="ignore")
        bad |= mask.fillna(False).to_numpy(dtype=bool)
    return bad


def read_raw(source: Path | bytes, spec: FileSpec, *, file: str | None = None, parquet: bool | None = None) -> RawTable:
    """Read one contract file (a path, or bytes with its display name) into raw cells."""
    if isinstance(source, Path):
        name = file or source.name
        data = source.read_bytes()
        is_parquet = source.suffix.lower() in PARQUET_SUFFIXES if parquet is None else parquet
    else:
        name = file or spec.filename
        data = source
        is_parquet = name.lower().endswith(PARQUET_SUFFIXES) if parquet is None else parquet
    if is_parquet:
        return _read_parquet(data, name, spec)
    return _read_csv(data, name, spec)
