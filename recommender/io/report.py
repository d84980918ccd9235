"""Import reports: row errors are data, returned to the caller, never raised."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

_VALUE_PREVIEW = 60


def preview(value: object) -> str:
    """A short, printable form of an offending value (cells can be megabytes)."""
    text = "" if value is None else str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    if len(text) > _VALUE_PREVIEW:
        text = f"{text[:_VALUE_PREVIEW]}… ({len(str(value))} chars)"
    return text


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row (or, with ``row`` 0, the whole file) was rejected."""

    file: str
    row: int  # line number in the file (header is line 1); 0 for a file-level error
    column: str | None
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f", row {self.row}" if self.row else "")
        col = f", column {self.column}" if self.column else ""
        val = f" (value {self.value!r})" if self.value else ""
        return f"{where}{col}: {self.reason}{val}"


@dataclass(slots=True)
class FileReport:
    """What happened to one file."""

    file: str
    kind: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def taken(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def add_errors(self, errors: list[RowError], limit: int) -> None:
        self.error_count += len(errors)
        room = max(0, limit - len(self.errors))
        self.errors.extend(errors[:room])


@dataclass(slots=True)
class ImportReport:
    """What one import did, file by file."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def taken(self) -> int:
        return sum(f.taken for f in self.files)

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def errors(self) -> list[RowError]:
        return [e for f in self.files for e in f.errors]

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and not any(e.row == 0 for e in self.errors)

    def file(self, kind: str) -> FileReport:
        for f in self.files:
            if f.kind == kind:
                return f
        raise KeyError(kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "taken": self.taken,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "files": [
                {**{k: v for k, v in asdict(f).items() if k != "errors"}, "taken": f.taken,
                 "errors": [asdict(e) for e in f.errors]}
                for f in self.files
            ],
        }

    def format_text(self, max_errors: int = 20) -> str:
        """The table the CLI prints: one line a file, then the first errors."""
        head = f"{'file':<28} {'read':>9} {'taken':>9} {'new':>9} {'updated':>9} {'same':>9} {'rejected':>9}"
        lines = [head, "-" * len(head)]
        for f in self.files:
            lines.append(
                f"{f.file[-28:]:<28} {f.rows_read:>9} {f.taken:>9} {f.inserted:>9} {f.updated:>9}"
                f" {f.unchanged:>9} {f.rejected:>9}"
            )
        lines.append("-" * len(head))
        lines.append(
            f"{'total':<28} {self.rows_read:>9} {self.taken:>9} {self.inserted:>9} {self.updated:>9}"
            f" {self.unchanged:>9} {self.rejected:>9}"
        )
        shown = self.errors[:max_errors]
        total_errors = sum(f.error_count for f in self.files)
        if shown:
            lines.append("")
            lines.append(f"errors ({total_errors}; first {len(shown)}):")
            lines.extend(f"  {e}" for e in shown)
        return "\n".join(lines)
