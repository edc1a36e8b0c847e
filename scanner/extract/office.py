"""Office documents in ZIP containers: DOCX, XLSX, PPTX (lxml directly with python-docx as its
fallback, python-calamine with openpyxl as its fallback, python-pptx)
and OpenDocument ODT/ODS/ODP (odfpy).

The archive layer has already checked declared member sizes and ratios before any of these
libraries opens the container. Spreadsheets go through :func:`emit_table` so a column headed
BSN travels with its values. openpyxl is used in ``read_only`` mode with its declared sheet
dimension reset: a hostile ``<dimension ref="A1:XFD1048576"/>`` would otherwise make it pad
every row to 16,384 cells. Embedded objects (an XLSX inside a DOCX) are visited as children.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from scanner.extract.errors import ExtractError, ItemTimeout
from scanner.extract.handler import WalkContext, here
from scanner.extract.tables import MAX_COLUMNS, emit_table

_EMBED_DIRS = ("word/embeddings/", "xl/embeddings/", "ppt/embeddings/")


def _embedded(walker: WalkContext, zf: zipfile.ZipFile, path: str, depth: int) -> None:
    for index, info in enumerate(zf.infolist(), 1):
        if not info.filename.startswith(_EMBED_DIRS) or info.filename.endswith("/"):
            continue
        if walker.exhausted or not walker.take_member(here(path)):
            return
        if info.flag_bits & 1 or info.file_size > walker.limits.max_item_bytes:
            continue
        walker.child(zf.read(info), info.filename, path, depth + 1, f"object-{index}")


@contextmanager
def _styles_unparsed() -> Iterator[None]:
    """Open .docx files without parsing their style sheet (kept as raw bytes).

    WHY: text, tables, headers and footers never look at styles, but python-docx parses every
    part it knows when it opens a file, and Word's style sheet is the largest part by far
    (350 kB in Word's own template, 100 times the document text of a typical letter): it was
    most of the 8.5 ms a small .docx cost. The registration is put back afterwards, so any
    other use of python-docx in the process (writing a document) is unchanged."""
    from docx.opc.constants import CONTENT_TYPE
    from docx.opc.part import Part, PartFactory

    registered = PartFactory.part_type_for.get(CONTENT_TYPE.WML_STYLES)
    PartFactory.part_type_for[CONTENT_TYPE.WML_STYLES] = Part
    try:
        yield
    finally:
        if registered is None:
            PartFactory.part_type_for.pop(CONTENT_TYPE.WML_STYLES, None)
        else:
            PartFactory.part_type_for[CONTENT_TYPE.WML_STYLES] = registered


def handle_docx(walker: WalkContext, zf: zipfile.ZipFile, stream: BinaryIO, path: str, depth: int,
                chash: str) -> None:
    """Text, tables and section headers/footers of a .docx: read from its XML directly
    (:mod:`scanner.extract.docx_xml`, ~4 times cheaper), by python-docx when that module is
    not certain to give the same output (it then reads the file exactly as before)."""
    from scanner.extract import docx_xml

    try:
        content = docx_xml.read(zf)
    except (MemoryError, ItemTimeout):
        raise
    except Exception:  # noqa: BLE001 - Unsuitable, or a part that does not parse: python-docx decides
        _docx_python_docx(walker, stream, path, chash)
    else:
        _emit_docx(walker, here(path), content.body, content.tables, content.blocks, chash)
    _embedded(walker, zf, path, depth)


def _emit_docx(walker: WalkContext, part: str, body: str, tables: Iterable[Iterable[list[str]]],
               blocks: Iterable[tuple[str, str]], chash: str) -> None:
    """What a .docx gives the walk, in this order: the body text, each table (rows of cell
    texts, labelled ``tabel N``), the sections' header and footer texts. Both readers emit
    through here; python-docx's tables and blocks are generators, read as they are emitted
    (a broken header is skipped by its generator, after what came before it was emitted)."""
    walker.add_text(part, body, None, None, chash)
    for number, rows in enumerate(tables, 1):
        walker.tick()
        emit_table(walker, part, enumerate(rows, 1), sheet=None, content_hash=chash,
                   label=f"tabel {number}")
    for where, text in blocks:
        walker.add_text(part, text, where, None, chash)


def _docx_python_docx(walker: WalkContext, stream: BinaryIO, path: str, chash: str) -> None:
    """python-docx: the documents :mod:`scanner.extract.docx_xml` leaves to it."""
    import docx

    stream.seek(0)
    with _styles_unparsed():
        document = docx.Document(stream)

    def blocks() -> Iterator[tuple[str, str]]:
        for section in document.sections:
            for where, block in (("koptekst", section.header), ("voettekst", section.footer)):
                try:
                    text = "\n".join(p.text for p in block.paragraphs)
                except Exception:  # noqa: BLE001 - a broken header must not hide the body
                    continue
                yield where, text

    def tables() -> Iterator[Iterator[list[str]]]:
        # a function, not a generator expression: ``document.tables`` is read only after the
        # body was emitted, as before (a generator expression reads its first iterable at once)
        for table in document.tables:
            yield ([cell.text for cell in row.cells] for row in table.rows)

    _emit_docx(walker, here(path), "\n".join(p.text for p in document.paragraphs), tables(), blocks(), chash)


def handle_xlsx(walker: WalkContext, zf: zipfile.ZipFile, stream: BinaryIO, path: str, depth: int,
                chash: str) -> None:
    from scanner.extract import xlsx

    part = here(path)
    try:
        sheets = xlsx.read_sheets(zf, stream, walker.limits)
    except xlsx.Unsuitable:
        _xlsx_openpyxl(walker, stream, part, chash)
    else:
        for title, rows in sheets:
            walker.tick()
            emit_table(walker, part, rows, sheet=title, content_hash=chash)
            if walker.exhausted:
                break
    _embedded(walker, zf, path, depth)


def _xlsx_openpyxl(walker: WalkContext, stream: BinaryIO, part: str, chash: str) -> None:
    """openpyxl, streaming: for the workbooks calamine does not read (:mod:`scanner.extract.xlsx`)."""
    from openpyxl import load_workbook

    stream.seek(0)
    workbook = load_workbook(stream, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            walker.tick()
            if not hasattr(sheet, "iter_rows"):
                continue
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()
            rows = enumerate(sheet.iter_rows(values_only=True), 1)
            emit_table(walker, part, rows, sheet=sheet.title, content_hash=chash)
            if walker.exhausted:
                break
    finally:
        workbook.close()


def _shape_texts(shapes: Any, walker: WalkContext, part: str, slide: int, chash: str) -> Iterator[str]:
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6 and hasattr(shape, "shapes"):  # group
            yield from _shape_texts(shape.shapes, walker, part, slide, chash)
            continue
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text
        if getattr(shape, "has_table", False) and shape.has_table:
            rows = ((r, [c.text for c in row.cells]) for r, row in enumerate(shape.table.rows, 1))
            emit_table(walker, part, rows, sheet=None, content_hash=chash,
                       label=f"dia {slide}, tabel")


def handle_pptx(walker: WalkContext, zf: zipfile.ZipFile, stream: BinaryIO, path: str, depth: int,
                chash: str) -> None:
    from pptx import Presentation

    part = here(path)
    stream.seek(0)
    presentation = Presentation(stream)
    for number, slide in enumerate(presentation.slides, 1):
        walker.tick()
        texts = list(_shape_texts(slide.shapes, walker, part, number, chash))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            texts.append(slide.notes_slide.notes_text_frame.text)
        if not walker.add_text(part, "\n".join(texts), f"dia {number}", None, chash):
            return
    _embedded(walker, zf, path, depth)


# --- OpenDocument --------------------------------------------------------------------------


def _odf_encrypted(zf: zipfile.ZipFile) -> bool:
    try:
        info = zf.getinfo("META-INF/manifest.xml")
    except KeyError:
        return False
    if info.file_size > 4 * 1024 * 1024:
        return False
    return b"encryption-data" in zf.read(info)


def _odf_load(zf: zipfile.ZipFile, stream: BinaryIO) -> Any:
    from odf.opendocument import load

    if _odf_encrypted(zf):
        raise ExtractError("encrypted")
    stream.seek(0)
    return load(stream)


def _odf_text(element: Any) -> str:
    from odf import teletype

    text: str = teletype.extractText(element)
    return text


def handle_odt(walker: WalkContext, zf: zipfile.ZipFile, stream: BinaryIO, path: str, depth: int,
               chash: str) -> None:
    from odf import table as odftable
    from odf import text as odftext

    part = here(path)
    document = _odf_load(zf, stream)
    lines = [_odf_text(el) for el in document.text.getElementsByType(odftext.H)]
    lines += [_odf_text(el) for el in document.text.getElementsByType(odftext.P)]
    walker.add_text(part, "\n".join(lines), None, None, chash)
    for number, table in enumerate(document.text.getElementsByType(odftable.Table), 1):
        emit_table(walker, part, _odf_rows(walker, table), sheet=None, content_hash=chash,
                   label=f"tabel {number}")


def _repeat(element: Any, attribute: str) -> int:
    try:
        return max(1, int(element.getAttribute(attribute) or 1))
    except (ValueError, TypeError):
        return 1


def _odf_rows(walker: WalkContext, table: Any) -> Iterator[tuple[int, list[str]]]:
    """Rows of an ODF table, honouring (and bounding) row and column repetition."""
    from odf import table as odftable

    number = 0
    for row in table.getElementsByType(odftable.TableRow):
        cells: list[str] = []
        for cell in row.childNodes:
            if getattr(cell, "qname", (None, None))[1] not in ("table-cell", "covered-table-cell"):
                continue
            value = _odf_text(cell)
            count = min(_repeat(cell, "numbercolumnsrepeated"), MAX_COLUMNS)
            cells.extend([value] * count)
            if len(cells) >= MAX_COLUMNS:
                break
        repeat = _repeat(row, "numberrowsrepeated")
        if not any(cells):
            # a repeated empty row is one XML element for a million rows: count, don't loop
            limit = walker.limits.max_empty_rows + 1
            for _ in range(min(repeat, limit)):
                number += 1
                yield number, []
            number += max(0, repeat - limit)
            continue
        for _ in range(min(repeat, 1000)):
            number += 1
            yield number, cells


def handle_ods(walker: WalkContext, zf: zipfile.ZipFile, stream: BinaryIO, path: str, depth: int,
               chash: str) -> None:
    from odf import table as odftable

    part = here(path)
    document = _odf_load(zf, stream)
    for table in document.spreadsheet.getElementsByType(odftable.Table):
        walker.tick()
        name = table.getAttribute("name") or "?"
        emit_table(walker, part, _odf_rows(walker, table), sheet=name, content_hash=chash)
        if walker.exhausted:
            return


def handle_odp(walker: WalkContext, zf: zipfile.ZipFile, stream: BinaryIO, path: str, depth: int,
               chash: str) -> None:
    from odf import draw
    from odf import text as odftext

    part = here(path)
    document = _odf_load(zf, stream)
    for number, page in enumerate(document.presentation.getElementsByType(draw.Page), 1):
        walker.tick()
        text = "\n".join(_odf_text(p) for p in page.getElementsByType(odftext.P))
        if not walker.add_text(part, text, f"dia {number}", None, chash):
            return


HANDLERS: dict[str, Callable[..., None]] = {
    "docx": handle_docx, "xlsx": handle_xlsx, "pptx": handle_pptx,
    "odt": handle_odt, "ods": handle_ods, "odp": handle_odp,
}
