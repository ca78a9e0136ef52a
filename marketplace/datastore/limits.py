"""How large the parts of one upload may be: each limit stops a file whose cost grows far faster
than its size (a 38 MB header line, a 50 MB field, a 200 KB workbook that expands to a 200 MB
cell or a million rows) before it is read whole, and the refusal names the limit it broke.

Sizes of text are counted in characters (what a field costs once decoded); sizes of a workbook in
bytes, read from its zip directory before anything is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The most rows a worksheet can have; a row numbered beyond it is not a spreadsheet's.
XLSX_MAX_SHEET_ROWS = 1_048_576
#: Columns right of the header that are still read to find a ragged row; cells beyond them are
#: not read at all (a cell in column XFD would otherwise make every row 16,384 cells wide).
XLSX_RAGGED_LOOKAHEAD = 16


@dataclass(frozen=True)
class ImportLimits:
    """The limits of one upload, beside the byte limit of the upload itself (``ImportSpec``).

    :param max_rows: data rows per upload (``DATABANK_MAX_IMPORT_ROWS``)
    :param max_field_chars: characters in one CSV field, XLSX cell or JSONL value
    :param max_header_chars: characters in the header line (CSV) or the header's names
        (XLSX, JSONL)
    :param max_line_chars: characters in one line (CSV, JSONL): many fields within their limit
        still may not make a line without end
    :param max_xlsx_expanded_bytes: the uncompressed size of all a workbook's parts
    :param max_xlsx_ratio: how many times its own size a workbook may expand to
    """

    max_rows: int = 10_000_000
    max_field_chars: int = 1 << 20
    max_header_chars: int = 1 << 16
    max_line_chars: int = 8 << 20
    max_xlsx_expanded_bytes: int = 1 << 30
    max_xlsx_ratio: int = 100

    def __post_init__(self) -> None:
        for name in ("max_rows", "max_field_chars", "max_header_chars", "max_line_chars",
                     "max_xlsx_expanded_bytes", "max_xlsx_ratio"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"the import limit {name} must be at least 1")


def characters(limit: int) -> str:
    return f"{limit:,} characters"
