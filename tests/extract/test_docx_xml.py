"""The direct .docx reader gives what python-docx gives, or leaves the file to python-docx."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import docx
import pytest
from docx.enum.section import WD_SECTION
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from scanner.extract import docx_xml, office
from scanner.extract.handler import Blob
from scanner.extract.limits import ExtractionLimits
from scanner.extract.walker import Walker
from tests.extract import docx_gen

Content = tuple[str, list[list[list[str]]], list[tuple[str, str]]]


def _python_docx(data: bytes) -> Content:
    """What the python-docx path of handle_docx reads."""
    with office._styles_unparsed():
        document = docx.Document(io.BytesIO(data))
    body = "\n".join(p.text for p in document.paragraphs)
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    blocks = []
    for section in document.sections:
        for where, block in (("koptekst", section.header), ("voettekst", section.footer)):
            try:
                blocks.append((where, "\n".join(p.text for p in block.paragraphs)))
            except Exception:  # noqa: BLE001 - skipped there too
                continue
    return body, tables, blocks


def _direct(data: bytes) -> Content:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        content = docx_xml.read(zf)
    return content.body, content.tables, content.blocks


def _save(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _walk(data: bytes, limits: ExtractionLimits | None = None) -> tuple[list[Any], list[Any]]:
    walker = Walker(limits or ExtractionLimits())
    walker.run(Blob(data=data), "plan.docx")
    return ([(p.part, p.text, p.location, p.context) for p in walker.parts],
            [(e.code, e.part) for e in walker.errors])


def _forced(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsuitable(zf: zipfile.ZipFile) -> None:
        raise docx_xml.Unsuitable("test")

    monkeypatch.setattr(docx_xml, "read", unsuitable)


def _rich() -> bytes:
    """Tabs, breaks, a hyperlink, merged and nested cells, three sections with inherited and
    own headers and footers."""
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "Vertrouwelijk"
    paragraph = document.add_paragraph("Leerling\tNoor")
    run = paragraph.add_run("regel 1")
    run.add_break()
    run.add_text("regel 2")
    run._r.append(OxmlElement("w:noBreakHyphen"))
    run._r.append(OxmlElement("w:cr"))
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), paragraph.part.relate_to("https://example.invalid", RT.HYPERLINK, is_external=True))
    link_run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "BSN 123456782"
    link_run.append(text)
    link.append(link_run)
    paragraph._p.append(link)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1))  # horizontal
    table.cell(1, 2).merge(table.cell(2, 2))  # vertical
    table.cell(2, 0).add_table(rows=1, cols=1).cell(0, 0).text = "genest"
    second = document.add_section(WD_SECTION.NEW_PAGE)
    second.footer.is_linked_to_previous = False
    second.footer.paragraphs[0].text = "Basisschool De Linde"
    document.add_paragraph("Bijlage")
    document.add_section(WD_SECTION.CONTINUOUS)
    return _save(document)


def test_rich_document_reads_as_python_docx_reads_it():
    data = _rich()
    body, tables, blocks = _direct(data)
    assert (body, tables, blocks) == _python_docx(data)
    assert body.startswith("Leerling\tNoorregel 1\nregel 2-\nBSN 123456782")
    assert tables[0][0] == ["00\n01", "00\n01", "02"]  # a merged cell repeats
    assert [row[2] for row in tables[0][1:]] == ["12\n22", "12\n22"]
    assert tables[0][2][0] == "20\n"  # the nested table is not part of the cell's text
    assert blocks == [("koptekst", "Vertrouwelijk"), ("voettekst", ""),
                      ("koptekst", "Vertrouwelijk"), ("voettekst", "Basisschool De Linde"),
                      ("koptekst", "Vertrouwelijk"), ("voettekst", "Basisschool De Linde")]


def test_walker_output_is_unchanged(monkeypatch):
    data = _rich()
    small = ExtractionLimits(max_text_chars=1000, max_sheet_rows=2)
    direct = _walk(data), _walk(data, small)
    _forced(monkeypatch)
    assert (_walk(data), _walk(data, small)) == direct


@pytest.mark.parametrize("seed", range(120))
def test_random_documents_match_python_docx(seed):
    data = docx_gen.random_docx(seed)
    try:
        expected = _python_docx(data)
    except Exception:  # noqa: BLE001 - python-docx cannot read back some of its own merges
        with pytest.raises(Exception):  # noqa: B017 - Unsuitable or a parse error
            _direct(data)
        return
    assert _direct(data) == expected


def test_edited_documents_match_python_docx_or_go_to_it():
    read = fallback = 0
    for seed in range(300):
        data = docx_gen.mutated_docx(seed)
        try:
            got = _direct(data)
        except Exception:  # noqa: BLE001 - Unsuitable or a parse error: python-docx reads it
            fallback += 1
            continue
        read += 1
        try:
            expected = _python_docx(data)
        except Exception:  # noqa: BLE001 - only a part the text does not come from is broken
            assert docx_gen.broken_unused_part(data)
            continue
        assert got == expected, seed
    assert read > 100 and fallback > 50


def test_malformed_document_xml_falls_back_to_python_docx(monkeypatch):
    data = docx_gen.replace_member(_rich(), "word/document.xml", b"<w:document><w:body>")
    with pytest.raises(Exception):  # noqa: B017 - lxml's XMLSyntaxError
        _direct(data)
    calls: list[bool] = []
    original = office._docx_python_docx

    def spy(*args: Any) -> None:
        calls.append(True)
        original(*args)

    monkeypatch.setattr(office, "_docx_python_docx", spy)
    parts, errors = _walk(data)
    assert calls and parts == [] and errors == [("corrupt", "body")]


def test_uncertain_structure_falls_back_with_the_same_output(monkeypatch):
    data = _rich()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read("word/document.xml")
    xml = xml.replace(b"<w:gridSpan w:val=\"2\"/>", b"<w:gridSpan w:val=\" 2\"/>", 1)
    data = docx_gen.replace_member(data, "word/document.xml", xml)
    with pytest.raises(docx_xml.Unsuitable):
        _direct(data)
    walked = _walk(data)
    assert any("00 01\t00 01\t02" in part[1] for part in walked[0])
    _forced(monkeypatch)
    assert _walk(data) == walked


def test_a_broken_part_the_text_does_not_use_is_no_longer_corrupt():
    """The one accepted change: python-docx refused the whole file."""
    data = docx_gen.replace_member(_rich(), "docProps/core.xml", b"<kapot")
    with pytest.raises(Exception):  # noqa: B017
        _python_docx(data)
    parts, errors = _walk(data)
    assert errors == [] and "Leerling\tNoor" in parts[0][1]


def test_macro_document_is_still_refused():
    data = _rich()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        types = zf.read("[Content_Types].xml").replace(b"document.main+xml",
                                                       b"document.macroEnabled.main+xml")
    data = docx_gen.replace_member(data, "[Content_Types].xml", types)
    with pytest.raises(docx_xml.Unsuitable):
        _direct(data)
    assert _walk(data) == ([], [("corrupt", "body")])
