"""The two refusals of the datastore: an upload it will not import, a query it will not run."""

from __future__ import annotations

IMPORT_CODES = frozenset({"EMPTY", "RAGGED_ROW", "UNDECODABLE", "TOO_LARGE", "BAD_VALUE", "BAD_HEADER",
                          "DUPLICATE_KEY", "UNSUPPORTED_FORMAT"})


class ImportRejected(Exception):
    """An upload that cannot become a version; ``message`` is meant for the person who uploaded it.

    :param message: what is wrong, naming the column/value where there is one
    :param code: one of ``IMPORT_CODES``
    :param line: 1-based line (CSV, JSONL) or sheet row (XLSX) of the problem, when there is one
    """

    def __init__(self, message: str, *, code: str, line: int | None = None) -> None:
        assert code in IMPORT_CODES, code
        where = f" (line {line})" if line is not None else ""
        super().__init__(f"{code}: {message}{where}")
        self.message = message
        self.code = code
        self.line = line


class QueryRejected(Exception):
    """A query with an unknown column, a value of the wrong type, a page size over the limit..."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def shorten(value: object, limit: int = 40) -> str:
    """A value as it may appear in a message: at most ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
