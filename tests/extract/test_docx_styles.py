"""A .docx opened by python-docx without parsing its style sheet gives the same text, tables,
headers and footers, and python-docx is left as it was for everything else in the process.
(python-docx reads what :mod:`scanner.extract.docx_xml` leaves to it; these tests force it.)"""

from __future__ import annotations

import io
from contextlib import nullcontext

import docx

from scanner.extract import docx_xml, office
from scanner.extract.handler import Blob
from scanner.extract.limits import ExtractionLimits
from scanner.extract.walker import Walker


def _styled_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Overdracht groep 8", level=1)
    document.add_paragraph("Leerling Noor, BSN 123456782", style="List Bullet")
    document.add_paragraph("Zorg: dyslexie\tverklaring aanwezig", style="Quote")
    table = document.add_table(rows=2, cols=2, style="Light Grid Accent 1")
    for r, row in enumerate([["Naam", "BSN"], ["Noor", "123456782"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    section = document.sections[0]
    section.header.paragraphs[0].text = "Vertrouwelijk"
    section.footer.paragraphs[0].text = "Basisschool De Linde"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _walk(data: bytes) -> tuple[list[tuple[object, ...]], list[tuple[str, str]]]:
    walker = Walker(ExtractionLimits())
    walker.run(Blob(data=data), "overdracht.docx")
    return ([(p.part, p.text, p.location, p.context) for p in walker.parts],
            [(e.code, e.part) for e in walker.errors])


def _python_docx_only(zf: object) -> None:
    raise docx_xml.Unsuitable("test")


def test_text_is_the_same_without_the_style_sheet(monkeypatch):
    monkeypatch.setattr(docx_xml, "read", _python_docx_only)
    data = _styled_docx()
    unparsed = _walk(data)
    monkeypatch.setattr(office, "_styles_unparsed", nullcontext)
    parsed = _walk(data)
    assert unparsed == parsed
    texts = " ".join(str(part[1]) for part in unparsed[0])
    assert "Overdracht groep 8" in texts and "Vertrouwelijk" in texts and "123456782" in texts


def test_style_registration_is_put_back(monkeypatch):
    monkeypatch.setattr(docx_xml, "read", _python_docx_only)
    _walk(_styled_docx())
    document = docx.Document(io.BytesIO(_styled_docx()))
    assert document.styles["Quote"].name == "Quote"  # styles are parsed again outside extraction
