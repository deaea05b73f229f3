"""CSV as RFC 4180 (CRLF, quoted where needed), UTF-8 with a BOM for spreadsheet programs, and
guarded against formula injection: a cell a spreadsheet would run is prefixed with `'`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bot.services.exports.rows import COLUMNS, ExportRow

BOM = "\ufeff"
# What Excel, LibreOffice and Google Sheets treat as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


_FIRST = frozenset("=+-@\t\r'")


def needs_guard(cell: str) -> bool:
    """A formula start, or a guard quote before one (so the guard itself can be undone)."""
    if not cell or cell[0] not in _FIRST:
        return False
    if cell.startswith(FORMULA_STARTS):
        return True
    return needs_guard(cell[1:])


def guard(cell: str) -> str:
    return "'" + cell if needs_guard(cell) else cell


def unguard(cell: str) -> str:
    """The inverse of `guard`: what a reader of the export gets back."""
    return cell[1:] if cell.startswith("'") and needs_guard(cell[1:]) else cell


class CsvWriter:
    """Turns rows into CSV text chunk by chunk (the header first, with the BOM)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def header(self) -> str:
        self._csv.writerow(COLUMNS)
        return BOM + self._take()

    def rows(self, rows: Iterable[ExportRow]) -> str:
        first = _FIRST  # most cells start with none of these: one set lookup, no call
        self._csv.writerows(
            [guard(cell) if cell and cell[0] in first else cell for cell in row.cells()]
            for row in rows
        )
        return self._take()

    def footer(self) -> str:
        return ""

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text
