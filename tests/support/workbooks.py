"""Workbooks built part by part with zipfile, for the import limits' attacks: the parts stream
into the zip, so a sheet or string of hundreds of megabytes never sits in memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
        "</Types>"),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"),
}


def workbook(sheet_rows: Iterable[bytes], *, dimension: str | None = None,
             shared_strings: Iterable[bytes] = (b"<si><t>name</t></si>",)) -> bytes:
    """An XLSX whose first sheet holds ``sheet_rows`` (``<row>`` elements, streamed) and whose
    shared-string table holds ``shared_strings`` (``<si>`` elements, streamed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/sharedStrings.xml", "w") as part:
            part.write(f'<sst xmlns="{_MAIN}">'.encode())
            for item in shared_strings:
                part.write(item)
            part.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(f'<worksheet xmlns="{_MAIN}">'.encode())
            if dimension:
                part.write(f'<dimension ref="{dimension}"/>'.encode())
            part.write(b"<sheetData>")
            for row in sheet_rows:
                part.write(row)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def row(number: int, *cells: str | int) -> bytes:
    """A ``<row>``: strings inline, ints as numbers, in columns A, B, ..."""
    parts = []
    for i, value in enumerate(cells):
        ref = f"{chr(65 + i)}{number}"
        if isinstance(value, int):
            parts.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
    return f'<row r="{number}">{"".join(parts)}</row>'.encode()


HEADER = row(1, "name", "n")
