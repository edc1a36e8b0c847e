"""XLSX cells through python-calamine (Rust), with openpyxl kept for what calamine reads
differently.

WHY: openpyxl parses every cell and the style sheet into Python objects: ~6 ms for the small
class lists school mail carries, the largest share of the sandbox's CPU. calamine reads the
same workbook in ~0.3 ms. Its output is mapped to what openpyxl in ``read_only``/``data_only``
mode gives, so the text, the sheet names and the row numbers of every location stay the same:

* a date-formatted whole number is ``datetime.date`` in calamine, ``datetime`` (midnight) in
  openpyxl: it is made a ``datetime`` again (the text reads ``2012-05-03 00:00:00`` as before);
* every number is a float in calamine; an integral one below 2**53 becomes an ``int``, as
  openpyxl gives it for ``<v>4111111111111111</v>`` (``cell_text`` only did this below 1e15);
* rows are numbered from 1 like openpyxl's after ``reset_dimensions``; calamine's rows start
  at row 1 and its columns at the first used one, so the missing columns are put back.

calamine is NOT used (openpyxl reads the workbook, exactly as before) when a cheap scan of the
sheets' XML finds something calamine would read differently or that could cost it memory:
an error cell (``#N/A``: calamine gives an empty cell), a cell or row without its ``r``
reference, a row number above ``max_empty_rows`` (openpyxl streams, and may stop a sheet at a
run of empty rows; calamine loads a sheet whole), or more than :data:`MAX_CELLS` cells of
bounding area (calamine allocates the dense rectangle, a sparse hostile sheet would hit the
memory cap as an abort instead of an error). A workbook calamine cannot open (damaged,
unexpected layout, a panic in the Rust code) also goes to openpyxl, so a damaged file gives the
error it gave before.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from scanner.extract.limits import ExtractionLimits

MAX_CELLS = 2_000_000
"""Bounding-area cells of all sheets together that calamine may hold (~64 MB in Rust)."""
_EXACT_INT = 2**53

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_CELL = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_CELL_REF = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?(?<![\w:])r\s*=\s*[\"']([A-Z]{1,3})([0-9]{1,7})[\"']")
_ROW = re.compile(rb"<" + _PREFIX + rb"row[\s/>]")
_ROW_REF = re.compile(rb"<" + _PREFIX + rb"row\s[^>]*?(?<![\w:])r\s*=\s*[\"']([0-9]{1,7})[\"']")
_ERROR_CELL = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?(?<![\w:])t\s*=\s*[\"']e[\"']")

_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOC = ("/officeDocument",)
_WORKSHEET = "/worksheet"

Rows = Iterator[tuple[int, list[Any]]]


class Unsuitable(Exception):
    """This workbook is read by openpyxl (see the module docstring)."""


def _xml(data: bytes) -> Any:
    import lxml.etree

    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  huge_tree=False)
    return lxml.etree.fromstring(data, parser)


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _relationships(zf: zipfile.ZipFile, rels_path: str, base: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, member path) of one .rels part."""
    root = _xml(zf.read(rels_path))
    out: dict[str, tuple[str, str]] = {}
    for rel in root:
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(base, target))
        out[rel.get("Id") or ""] = (rel.get("Type") or "", path)
    return out


def worksheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, member path) of every worksheet in the workbook's order (chart and other
    sheets are left out, as openpyxl's ``worksheets`` leaves them out)."""
    package = _relationships(zf, "_rels/.rels", "")
    workbook = next((path for kind, path in package.values() if kind.endswith(_OFFICE_DOC)), None)
    if workbook is None:
        raise Unsuitable()
    folder, name = posixpath.split(workbook)
    rels = _relationships(zf, posixpath.join(folder, "_rels", name + ".rels"), folder)
    root = _xml(zf.read(workbook))
    sheets: list[tuple[str, str]] = []
    for element in root.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id" and k.startswith("{")), None)
        kind, path = rels.get(rid or "", ("", ""))
        if kind.endswith(_WORKSHEET):
            sheets.append((element.get("name") or "", path))
    return sheets


def _extent(xml: bytes, limits: ExtractionLimits) -> tuple[int, int]:
    """(last row, last column) a sheet's XML refers to; Unsuitable when calamine would read
    it differently from openpyxl or could need too much memory for it."""
    refs = _CELL_REF.findall(xml)
    rows = _ROW_REF.findall(xml)
    if len(refs) != len(_CELL.findall(xml)) or len(rows) != len(_ROW.findall(xml)):
        raise Unsuitable()  # a cell or row placed by counting
    if _ERROR_CELL.search(xml):
        raise Unsuitable()  # calamine reads "#N/A" as an empty cell
    last_row = max([int(r) for r in rows] + [int(r) for _, r in refs] + [0])
    last_col = max([_column(c) for c, _ in refs] + [0])
    if last_row > limits.max_empty_rows:
        raise Unsuitable()
    return last_row, last_col


def _column(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def _cell(value: Any) -> Any:
    if type(value) is float:
        if value.is_integer() and abs(value) < _EXACT_INT:
            return int(value)
        return value
    if type(value) is datetime.date:
        return datetime.datetime.combine(value, datetime.time())
    return value


def _rows(sheet: Any) -> Rows:
    start = sheet.start
    if start is None:
        return
    pad = [None] * int(start[1])
    for number, row in enumerate(sheet.iter_rows(), 1):
        yield number, pad + [_cell(v) for v in row]


def read_sheets(zf: zipfile.ZipFile, stream: BinaryIO, limits: ExtractionLimits) -> list[tuple[str, Rows]]:
    """Every worksheet as (name, rows), loaded by calamine before any text is emitted.
    Raises :class:`Unsuitable` when openpyxl should read this workbook instead."""
    try:
        sheets = worksheet_parts(zf)
        area = 0
        for _, path in sheets:
            last_row, last_col = _extent(zf.read(path), limits)
            area += last_row * last_col
            if area > MAX_CELLS:
                raise Unsuitable()
    except Unsuitable:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # a damaged package part: openpyxl gives the error it gave
        raise Unsuitable() from exc
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum

        stream.seek(0)
        workbook = CalamineWorkbook.from_filelike(stream)
        worksheets = [(i, m.name) for i, m in enumerate(workbook.sheets_metadata)
                      if m.typ == SheetTypeEnum.WorkSheet]
        if [name for _, name in worksheets] != [name for name, _ in sheets]:
            raise Unsuitable()
        loaded = [(name, workbook.get_sheet_by_index(i)) for i, name in worksheets]
    except Unsuitable:
        raise
    except (MemoryError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # incl. pyo3's PanicException, a BaseException
        if type(exc).__name__ != "PanicException" and not isinstance(exc, Exception):
            raise
        raise Unsuitable() from exc
    return [(name, _rows(sheet)) for name, sheet in loaded]
