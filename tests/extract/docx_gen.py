"""Synthetic .docx files for comparing :mod:`scanner.extract.docx_xml` with python-docx: random
documents built with python-docx (runs with tabs and breaks, hyperlinks, tables with merged and
nested cells, sections with their own or inherited headers and footers) and random edits of
their XML (merges python-docx resolves oddly, wrapped paragraphs, stray section properties,
damaged parts). All text is made up."""

from __future__ import annotations

import io
import random
import zipfile
from typing import Any

import docx
import docx.shared
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WORDS = ["Noor", "klas", "3B", "zorg", "  ", "Öztürk", "één", "BSN 123456782", "x", " spatie ",
         "dyslexie", "😀", "a-b", "groep 8", ""]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))


def _run(rng: random.Random, paragraph: Any) -> None:
    run = paragraph.add_run(_text(rng))
    for _ in range(rng.randint(0, 3)):
        choice = rng.random()
        if choice < 0.2:
            run.add_tab()
        elif choice < 0.4:
            run.add_break(rng.choice([WD_BREAK.LINE, WD_BREAK.PAGE, WD_BREAK.COLUMN]))
        elif choice < 0.5:
            run._r.append(OxmlElement(rng.choice(["w:cr", "w:noBreakHyphen", "w:ptab", "w:softHyphen",
                                                  "w:sym", "w:delText"])))
        else:
            run.add_text(_text(rng))


def _hyperlink(rng: random.Random, paragraph: Any) -> None:
    rid = paragraph.part.relate_to("https://example.invalid/x", RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    for _ in range(rng.randint(0, 2)):
        run = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = _text(rng)
        run.append(t)
        link.append(run)
    paragraph._p.append(link)


def _paragraph(rng: random.Random, container: Any) -> None:
    paragraph = container.add_paragraph()
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.15:
            _hyperlink(rng, paragraph)
        else:
            _run(rng, paragraph)


def _table(rng: random.Random, container: Any, depth: int = 0) -> None:
    rows, cols = rng.randint(1, 5), rng.randint(1, 5)
    try:
        table = container.add_table(rows=rows, cols=cols)
    except TypeError:  # a cell or a header wants a width
        table = container.add_table(rows, cols, docx.shared.Inches(4))
    for row in table.rows:
        for cell in row.cells:
            cell.text = _text(rng)
            if rng.random() < 0.2:
                _paragraph(rng, cell)
    for _ in range(rng.randint(0, 3)):
        a = table.cell(rng.randrange(rows), rng.randrange(cols))
        b = table.cell(rng.randrange(rows), rng.randrange(cols))
        try:
            a.merge(b)
        except Exception:  # noqa: BLE001 - python-docx refuses some spans
            pass
    if depth < 2 and rng.random() < 0.2:
        _table(rng, table.cell(rng.randrange(rows), rng.randrange(cols)), depth + 1)


def _headers(rng: random.Random, section: Any) -> None:
    blocks = [section.header, section.footer]
    if rng.random() < 0.3:
        section.different_first_page_header_footer = True
        blocks += [section.first_page_header, section.first_page_footer]
    if rng.random() < 0.2:
        blocks += [section.even_page_header, section.even_page_footer]
    for block in blocks:
        if rng.random() < 0.6:
            block.is_linked_to_previous = False
            block.paragraphs[0].text = _text(rng)
            if rng.random() < 0.3:
                _paragraph(rng, block)
            if rng.random() < 0.2:
                _table(rng, block)


def random_docx(seed: int) -> bytes:
    """A random document made with python-docx."""
    rng = random.Random(seed)
    document = docx.Document()
    if rng.random() < 0.5:
        _headers(rng, document.sections[0])
    for _ in range(rng.randint(0, 10)):
        choice = rng.random()
        if choice < 0.6:
            _paragraph(rng, document)
        elif choice < 0.85:
            _table(rng, document)
        else:
            section = document.add_section(rng.choice([WD_SECTION.NEW_PAGE, WD_SECTION.CONTINUOUS]))
            if rng.random() < 0.6:
                _headers(rng, section)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- edits of the XML ----------------------------------------------------------------------


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _properties(element: Any, tag: str) -> Any:
    """The element's ``w:tcPr``/``w:pPr`` child, made as its first child when it has none
    (where the schema puts it)."""
    found = element.find(_w(tag))
    if found is None:
        found = etree.Element(_w(tag))
        element.insert(0, found)
    return found


def _edit_document(rng: random.Random, root: Any) -> None:
    elements = [e for e in root.iter() if isinstance(e.tag, str)]  # not comments, PIs
    tcs = [e for e in elements if e.tag == _w("tc")]
    trs = [e for e in elements if e.tag == _w("tr")]
    ps = [e for e in elements if e.tag == _w("p")]
    runs = [e for e in elements if e.tag == _w("r")]
    choice = rng.randrange(17)
    if choice == 0 and tcs:
        tc = rng.choice(tcs)
        tcpr = _properties(tc, "tcPr")
        vmerge = etree.SubElement(tcpr, _w("vMerge"))
        value = rng.choice([None, "continue", "restart", "foo"])
        if value is not None:
            vmerge.set(_w("val"), value)
    elif choice == 1 and tcs:
        tc = rng.choice(tcs)
        tcpr = _properties(tc, "tcPr")
        span = etree.SubElement(tcpr, _w("gridSpan"))
        value = rng.choice(["0", "1", "2", "3", " 2", "+2", "x", "", "5000", None])
        if value is not None:
            span.set(_w("val"), value)
    elif choice == 2 and trs:
        tr = rng.choice(trs)
        trpr = etree.Element(_w("trPr"))
        tr.insert(0, trpr)
        before = etree.SubElement(trpr, _w("gridBefore"))
        before.set(_w("val"), rng.choice(["0", "1", "2", "y"]))
    elif choice == 3 and tcs:
        tc = rng.choice(tcs)
        tc.getparent().remove(tc)
    elif choice == 4 and ps:
        p = rng.choice(ps)
        parent = p.getparent()
        wrapper = etree.Element(_w(rng.choice(["ins", "sdt", "customXml", "smartTag"])))
        parent.replace(p, wrapper)
        wrapper.append(p)
    elif choice == 5 and runs:
        r = rng.choice(runs)
        parent = r.getparent()
        wrapper = etree.Element(_w(rng.choice(["ins", "del", "smartTag", "fldSimple", "hyperlink"])))
        parent.replace(r, wrapper)
        wrapper.append(r)
    elif choice == 6 and runs:
        br = etree.SubElement(rng.choice(runs), _w("br"))
        value = rng.choice(["page", "column", "textWrapping", "", "foo", None])
        if value is not None:
            br.set(_w("type"), value)
    elif choice == 7 and runs:
        t = etree.SubElement(rng.choice(runs), _w("t"))
        t.text = rng.choice(["a", "", "  ", None])
        if rng.random() < 0.5:
            child = etree.SubElement(t, _w("x")) if rng.random() < 0.5 else etree.Comment("c")
            if child.getparent() is None:
                t.append(child)
            child.tail = "na"
    elif choice == 8 and ps:
        p = rng.choice(ps)
        ppr = _properties(p, "pPr")
        sectpr = etree.SubElement(ppr, _w("sectPr"))
        for kind in ("headerReference", "footerReference"):
            if rng.random() < 0.7:
                ref = etree.SubElement(sectpr, _w(kind))
                ref.set(_w("type"), rng.choice(["default", "first", "even", "x"]))
                if rng.random() < 0.9:
                    ref.set(qn("r:id"), rng.choice(["rId1", "rId7", "rId8", "rId9", "rId99"]))
    elif choice == 9:
        sectprs = [e for e in elements if e.tag == _w("sectPr")]
        if sectprs:
            change = etree.SubElement(rng.choice(sectprs), _w("sectPrChange"))
            etree.SubElement(change, _w("sectPr"))
    elif choice == 10:
        body = root.find(_w("body"))
        if body is not None and rng.random() < 0.5:
            root.append(etree.Element(_w("body")))
        elif body is not None:
            root.remove(body)
    elif choice == 11 and elements:
        target = rng.choice(elements)
        node = etree.Comment("x") if rng.random() < 0.5 else etree.ProcessingInstruction("pi", "y")
        target.append(node)
    elif choice == 12 and ps:
        p = rng.choice(ps)
        run = etree.SubElement(p, _w("r"))
        for tag in rng.sample(["t", "tab", "ptab", "cr", "noBreakHyphen", "br", "sym"], 3):
            el = etree.SubElement(run, _w(tag))
            if tag == "t":
                el.text = _text(rng)
    elif choice == 13 and tcs:
        tc = rng.choice(tcs)
        body_tbl = etree.SubElement(tc, _w("tbl"))
        tr = etree.SubElement(body_tbl, _w("tr"))
        etree.SubElement(etree.SubElement(etree.SubElement(tr, _w("tc")), _w("p")), _w("r"))
    elif choice == 14 and ps:
        rng.choice(ps).tail = rng.choice(["  ", "\n", "x"])
    elif choice == 15:
        body = root.find(_w("body"))
        if body is not None:
            sectpr = body.find(_w("sectPr"))
            if sectpr is not None:
                for ref in list(sectpr):
                    if ref.tag in (_w("headerReference"), _w("footerReference")) and rng.random() < 0.5:
                        sectpr.remove(ref)
    elif choice == 16 and runs:
        run = rng.choice(runs)
        for child in list(run):
            if child.tag == _w("t") and child.text:
                child.text = child.text + "&amp;<>\u00a0"


def _edit_package(rng: random.Random, members: dict[str, bytes]) -> None:
    choice = rng.randrange(10)
    headers = [n for n in members if n.startswith(("word/header", "word/footer"))]
    if choice == 0:
        members["docProps/core.xml"] = b"<not xml"
    elif choice == 1 and headers:
        members[rng.choice(headers)] = b"<w:hdr"
    elif choice == 2:
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
            b"document.main+xml", b"document.macroEnabled.main+xml" if rng.random() < 0.5 else b"x")
    elif choice == 3 and headers:
        name = rng.choice(headers)
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
            f'PartName="/{name}"'.encode(), b'PartName="/elders.xml"')
    elif choice == 4:
        rels = members.get("word/_rels/document.xml.rels", b"")
        members["word/_rels/document.xml.rels"] = rels.replace(
            b"</Relationships>", b'<Relationship Id="rId1" Type="x" Target="a.xml"/></Relationships>')
    elif choice == 5:
        rels = members.get("word/_rels/document.xml.rels", b"")
        members["word/_rels/document.xml.rels"] = rels.replace(
            b'Target="header', b'TargetMode="External" Target="header')
    elif choice == 6:
        rels = members.get("word/_rels/document.xml.rels", b"")
        members["word/_rels/document.xml.rels"] = rels.replace(
            b"relationships/header", b"relationships/image", 1)
    elif choice == 7 and headers:
        del members[rng.choice(headers)]
    elif choice == 8:
        members["word/document.xml"] = members["word/document.xml"][: rng.randrange(50, 400)]
    elif choice == 9:
        members.pop("word/_rels/document.xml.rels", None)


def mutated_docx(seed: int) -> bytes:
    """A random document with a few random edits of its XML or its package."""
    rng = random.Random(seed)
    data = random_docx(seed)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    root = etree.fromstring(members["word/document.xml"])
    for _ in range(rng.randint(1, 4)):
        _edit_document(rng, root)
    members["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                  standalone=True)
    if rng.random() < 0.3:
        _edit_package(rng, members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return out.getvalue()


def replace_member(data: bytes, name: str, blob: bytes) -> bytes:
    """``data`` with the member ``name`` replaced by ``blob``."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members[name] = blob
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, content in members.items():
            zf.writestr(member, content)
    return out.getvalue()


def broken_unused_part(data: bytes) -> bool:
    """Whether a part other than the document is missing, does not parse or has no content
    type: what made python-docx refuse a file the direct reader reads (the accepted change)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        types = zf.read("[Content_Types].xml").decode()
        for rels in ("_rels/.rels", "word/_rels/document.xml.rels"):
            if rels not in names:
                continue
            base = "" if rels.startswith("_rels") else "word/"
            for rel in etree.fromstring(zf.read(rels)):
                if rel.get("TargetMode") == "External":
                    continue
                member = base + rel.get("Target", "")
                if member == "word/document.xml":
                    continue
                if member not in names or f'PartName="/{member}"' not in types and not member.endswith(
                        (".jpeg", ".png", ".rels")):
                    return True
                if member.endswith(".xml"):
                    try:
                        etree.fromstring(zf.read(member))
                    except etree.XMLSyntaxError:
                        return True
    return False
