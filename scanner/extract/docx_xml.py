"""The text of a .docx read straight from its XML, exactly as the python-docx path gives it.

WHY: python-docx builds a Python object for every part of the package and every element it
touches (``Document()`` alone reads every part the relationships reach, and parses most), which
made a .docx of the bulk corpus cost ~4.6 ms of sandbox CPU even with the style sheet unparsed
(:func:`scanner.extract.office._styles_unparsed`). What :func:`scanner.extract.office.handle_docx`
needs is only the text of ``word/document.xml`` and of the header and footer parts its sections
name: this module reads those parts from the already-open ZIP with lxml and nothing else.

The output is the output of python-docx 1.2, element for element (mirrored from its source):

* body text: the body's own ``w:p`` children (not those inside ``w:sdt``, ``w:ins``, tables),
  joined with ``"\\n"``; a paragraph's text is its ``w:r`` and ``w:hyperlink/w:r`` children's
  ``w:t`` (text before any child), ``w:tab``/``w:ptab`` -> tab, ``w:br`` without a type or of
  type ``textWrapping`` -> newline (other breaks -> nothing), ``w:cr`` -> newline,
  ``w:noBreakHyphen`` -> ``-``, in document order;
* tables: the body's own ``w:tbl`` children; rows are their ``w:tr`` children, a row's cells
  its ``w:tc`` children, each repeated ``gridSpan`` times, a ``vMerge`` continuation standing for
  the cell above it at the same grid offset (repeated the *root* cell's span times), the cell
  text being its own ``w:p`` children's text (a nested table is not part of it);
* per section (``w:body/w:p/w:pPr/w:sectPr`` and ``w:body/w:sectPr`` in document order) the
  default header, then the default footer, inherited from the nearest earlier section that has
  one; a reference to a relationship that does not exist (or is external) is skipped, as the
  python-docx path's ``except`` skipped it; no definition at all is empty text.

The XML is parsed with python-docx's own parser settings (``remove_blank_text``, no entity
resolution; lxml's defaults for the rest: no network, no DTD loading, no ``huge_tree``), so both
see the same tree. Anything this module is not certain to read as python-docx would raises
:class:`Unsuitable` and python-docx reads the file as before: a part that does not parse, a
content type or relationship python-docx would treat otherwise (a ``.docm``, an image
relationship to a used part, duplicate relationship ids), a ``gridSpan`` that is not a plain
number or above :data:`MAX_SPAN`, a vertical merge without a cell above it, deeper than
:data:`MAX_MERGE_DEPTH` or more than :data:`MAX_CELLS` cells in all, ``w:sectPr`` elements
outside the places listed above (python-docx's header inheritance follows them), more than
:data:`MAX_SECTIONS` sections or :data:`MAX_RELS` .rels parts.

One difference is deliberate: python-docx opens *every* part the relationships reach (images,
settings, numbering, properties, headers no section uses) and refused the whole file as
``corrupt`` when any of them was missing, damaged or without a content type. Such a file is now
read: the broken part holds no text this scanner reads. A damaged part that *is* read (the
document, a used header) still goes to python-docx and is still ``corrupt``.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_OFFICE_DOCUMENT = _RT + "officeDocument"
_IMAGE = _RT + "image"  # python-docx makes any part reached by this type an ImagePart
_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_HEADER = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
_FOOTER = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"

_P, _R, _HYPERLINK = _W + "p", _W + "r", _W + "hyperlink"
_T, _TAB, _PTAB, _BR, _CR, _NBH = (_W + "t", _W + "tab", _W + "ptab", _W + "br", _W + "cr",
                                   _W + "noBreakHyphen")
_TYPE = _W + "type"
_TBL, _TR, _TC, _TCPR, _TRPR = _W + "tbl", _W + "tr", _W + "tc", _W + "tcPr", _W + "trPr"
_GRID_SPAN, _GRID_BEFORE, _VMERGE, _VAL = _W + "gridSpan", _W + "gridBefore", _W + "vMerge", _W + "val"
_BODY, _DOCUMENT, _SECTPR, _PPR = _W + "body", _W + "document", _W + "sectPr", _W + "pPr"
_HDR, _FTR = _W + "hdr", _W + "ftr"
_REFERENCE = {"koptekst": _W + "headerReference", "voettekst": _W + "footerReference"}

MAX_SPAN = 1000
"""gridSpan above this goes to python-docx (it repeats the cell that often, so would we)."""
MAX_CELLS = 1_000_000
"""Cells of all tables (after spans) held at once; python-docx made them one row at a time."""
MAX_MERGE_DEPTH = 200
"""python-docx follows a vertical merge up by recursion; a long one could hit Python's limit."""
MAX_SECTIONS = 100
"""python-docx finds an inherited header by recursion and an XPath per section."""
MAX_RELS = 200
""".rels parts the image check parses; python-docx reads only those its walk reaches, so a
package of thousands of them is left to it rather than parsed here without a deadline check."""

_NUMBER = re.compile(r"[0-9]{1,9}")


class Unsuitable(Exception):
    """python-docx reads this document (see the module docstring)."""


@dataclass(slots=True)
class DocxContent:
    """What :func:`scanner.extract.office.handle_docx` emits, in its order."""

    body: str
    tables: list[list[list[str]]] = field(default_factory=list)
    blocks: list[tuple[str, str]] = field(default_factory=list)
    """("koptekst" | "voettekst", text) per section, header before footer; skipped ones left out."""


def _parser() -> Any:
    import lxml.etree

    return lxml.etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True,
                                load_dtd=False, huge_tree=False)


class _Package:
    """The parts of one ZIP that the text comes from, resolved as python-docx resolves them."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.parser = _parser()
        self.overrides: dict[str, str] = {}
        self.defaults: dict[str, str] = {}
        self.parsed: dict[str, _Rels] = {}
        self._content_types()

    def xml(self, member: str) -> Any:
        import lxml.etree

        try:
            data = self.zf.read(member)
        except KeyError as exc:
            raise Unsuitable("missing part") from exc
        return lxml.etree.fromstring(data, self.parser)

    def _content_types(self) -> None:
        root = self.xml("[Content_Types].xml")
        if root.tag != _CT + "Types":
            raise Unsuitable("content types")
        for element in root.iterchildren(_CT + "Override"):
            name, kind = element.get("PartName"), element.get("ContentType")
            if name is None or kind is None:
                raise Unsuitable("content types")
            self.overrides[name.lower()] = kind
        for element in root.iterchildren(_CT + "Default"):
            ext, kind = element.get("Extension"), element.get("ContentType")
            if ext is None or kind is None:
                raise Unsuitable("content types")
            self.defaults[ext.lower()] = kind

    def content_type(self, partname: str) -> str | None:
        kind = self.overrides.get(partname.lower())
        if kind is not None:
            return kind
        raw_ext = posixpath.splitext(partname)[1]
        return self.defaults.get((raw_ext[1:] if raw_ext.startswith(".") else raw_ext).lower())

    def rels(self, partname: str) -> _Rels | None:
        """The relationships of ``partname``, None when it has no .rels (python-docx: none)."""
        base, filename = posixpath.split(partname)
        member = posixpath.join(base, "_rels", f"{filename}.rels")[1:]
        try:
            data = self.zf.read(member)
        except KeyError:
            return None
        return self.parse_rels(member, data, base)

    def parse_rels(self, member: str, data: bytes, base: str) -> _Rels:
        import lxml.etree

        rels = _Rels(base, lxml.etree.fromstring(data, self.parser))
        self.parsed[member] = rels
        return rels


class _Rels:
    """One .rels part: rId -> (type, Target, external), targets resolved only when asked for."""

    __slots__ = ("base", "entries")

    def __init__(self, base: str, root: Any) -> None:
        if root.tag != _PR + "Relationships":
            raise Unsuitable("relationships")
        self.base = base
        self.entries: dict[str, tuple[str, str, bool]] = {}
        for rel in root.iterchildren(_PR + "Relationship"):
            rid, kind, target = rel.get("Id"), rel.get("Type"), rel.get("Target")
            if rid is None or kind is None or target is None or rid in self.entries:
                raise Unsuitable("relationships")  # duplicates: python-docx keeps a mix of both
            self.entries[rid] = (kind, target, rel.get("TargetMode", "Internal") == "External")

    def partname(self, target: str) -> str:
        """python-docx's ``PackURI.from_rel_ref``."""
        return posixpath.abspath(posixpath.join(self.base, target))

    def internal(self, rid: str) -> str | None:
        """The partname an internal relationship targets; None when absent or external (not
        in python-docx's ``related_parts``)."""
        entry = self.entries.get(rid)
        if entry is None or entry[2]:
            return None
        return self.partname(entry[1])


# --- text ----------------------------------------------------------------------------------


def _run_text(run: Any, out: list[str]) -> None:
    for child in run:
        tag = child.tag
        if tag == _T:
            text = child.text
            if text:
                out.append(text)
        elif tag in (_TAB, _PTAB):
            out.append("\t")
        elif tag == _BR:
            if child.get(_TYPE, "textWrapping") == "textWrapping":
                out.append("\n")
        elif tag == _CR:
            out.append("\n")
        elif tag == _NBH:
            out.append("-")


def paragraph_text(p: Any) -> str:
    """python-docx's ``Paragraph.text``."""
    out: list[str] = []
    for child in p:
        tag = child.tag
        if tag == _R:
            _run_text(child, out)
        elif tag == _HYPERLINK:
            for run in child:
                if run.tag == _R:
                    _run_text(run, out)
    return "".join(out)


def _paragraphs(element: Any) -> str:
    return "\n".join([paragraph_text(p) for p in element if p.tag == _P])


def _first(element: Any, tag: str) -> Any | None:
    """The first child with ``tag``: python-docx's ``find`` (ZeroOrOne), without ElementPath's
    Python-level path handling (a third of a table's cost)."""
    for child in element.iterchildren(tag):
        return child
    return None


def _number(element: Any | None, default: int) -> int:
    """An integer ``w:val`` as python-docx reads it (``int()``), only when it is plain digits."""
    if element is None:
        return default
    value = element.get(_VAL)
    if value is None or not _NUMBER.fullmatch(value):
        raise Unsuitable("number")
    return int(value)


class _Cell:
    __slots__ = ("tc", "span", "continues", "offset", "text")

    def __init__(self, tc: Any, offset: int) -> None:
        tcpr = _first(tc, _TCPR)
        self.tc = tc
        self.span = 1 if tcpr is None else _number(_first(tcpr, _GRID_SPAN), 1)
        if self.span > MAX_SPAN:
            raise Unsuitable("span")
        vmerge = None if tcpr is None else _first(tcpr, _VMERGE)
        self.continues = vmerge is not None and vmerge.get(_VAL, "continue") == "continue"
        self.offset = offset
        self.text: str | None = None


def _table(tbl: Any, budget: list[int]) -> list[list[str]]:
    """python-docx's ``[[cell.text for cell in row.cells] for row in table.rows]``."""
    grid: list[tuple[int, list[_Cell]]] = []
    for tr in tbl:
        if tr.tag != _TR:
            continue
        trpr = _first(tr, _TRPR)
        before = 0 if trpr is None else _number(_first(trpr, _GRID_BEFORE), 0)
        cells: list[_Cell] = []
        offset = before
        for tc in tr:
            if tc.tag == _TC:
                cell = _Cell(tc, offset)
                offset += cell.span
                cells.append(cell)
        grid.append((before, cells))
    rows: list[list[str]] = []
    for index, (_, cells) in enumerate(grid):
        row: list[str] = []
        for cell in cells:
            root = _merge_root(grid, index, cell)
            if root.text is None:
                root.text = _paragraphs(root.tc)
            row.extend([root.text] * root.span)
        budget[0] -= len(row)
        if budget[0] < 0:
            raise Unsuitable("cells")
        rows.append(row)
    return rows


def _merge_root(grid: list[tuple[int, list[_Cell]]], index: int, cell: _Cell) -> _Cell:
    """The cell whose content a ``vMerge`` continuation shows: python-docx's ``_tc_above``
    (``tc_at_grid_offset`` of the row above), followed up until a cell that does not continue."""
    depth = 0
    while cell.continues:
        depth += 1
        index -= 1
        if index < 0 or depth > MAX_MERGE_DEPTH:
            raise Unsuitable("merge")  # python-docx raises (no row above) or may recurse too deep
        before, above = grid[index]
        remaining = cell.offset - before
        found = None
        for candidate in above:
            if remaining < 0:
                break
            if remaining == 0:
                found = candidate
                break
            remaining -= candidate.span
        if found is None:
            raise Unsuitable("merge")  # python-docx: ValueError, no cell at that grid offset
        cell = found
    return cell


# --- sections ------------------------------------------------------------------------------


def _sections(root: Any, body: Any) -> list[Any]:
    """python-docx's ``sectPr_lst``; Unsuitable when other ``w:sectPr`` exist (its inheritance
    takes the nearest preceding ``w:sectPr`` anywhere in the document)."""
    found: list[Any] = []
    for child in body:
        if child.tag == _P:
            for ppr in child:
                if ppr.tag == _PPR:
                    found.extend(s for s in ppr if s.tag == _SECTPR)
        elif child.tag == _SECTPR:
            found.append(child)
    if len(found) > MAX_SECTIONS or sum(1 for _ in root.iter(_SECTPR)) != len(found):
        raise Unsuitable("sections")
    return found


def _blocks(package: _Package, sections: list[Any], rels: _Rels | None,
            used: set[str]) -> list[tuple[str, str]]:
    texts: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    for index in range(len(sections)):
        for where, tag in _REFERENCE.items():
            reference = None
            for sectpr in reversed(sections[:index + 1]):
                reference = next((r for r in sectpr if r.tag == tag and r.get(_TYPE) == "default"),
                                 None)
                if reference is not None:
                    break
            if reference is None:
                out.append((where, ""))  # python-docx adds an empty definition
                continue
            rid = reference.get(_R_ID)
            if rid is None:
                raise Unsuitable("reference")
            partname = None if rels is None else rels.internal(rid)
            if partname is None:
                continue  # python-docx: KeyError in related_parts, skipped by handle_docx
            if partname not in texts:
                if package.content_type(partname) not in (_HEADER, _FOOTER):
                    raise Unsuitable("header part")
                part = package.xml(partname[1:])
                if part.tag not in (_HDR, _FTR):
                    raise Unsuitable("header part")
                texts[partname] = _paragraphs(part)
                used.add(partname)
            out.append((where, texts[partname]))
    return out


def _no_image_rels(zf: zipfile.ZipFile, package: _Package, used: set[str]) -> None:
    """Unsuitable when a relationship of type image anywhere targets a part read here:
    python-docx would have loaded that part as an image (first reached that way or not: this
    check is wider than python-docx's walk, to be certain)."""
    infos = [info for info in zf.infolist() if info.filename.endswith(".rels")]
    if len(infos) > MAX_RELS:
        raise Unsuitable("relationships")
    for info in infos:
        name = info.filename
        rels = package.parsed.get(name)
        if rels is None:
            directory = posixpath.split(name)[0]
            base = posixpath.split("/" + directory)[0] if directory.endswith("_rels") else "/" + directory
            try:
                rels = package.parse_rels(name, zf.read(info), base or "/")
            except Unsuitable:
                raise
            except Exception as exc:  # a .rels python-docx may read is damaged
                raise Unsuitable("relationships") from exc
        for kind, target, external in rels.entries.values():
            if kind == _IMAGE and not external and rels.partname(target) in used:
                raise Unsuitable("image relationship")


def read(zf: zipfile.ZipFile) -> DocxContent:
    """The body text, tables and section headers/footers of the .docx in ``zf``, as
    python-docx gives them; raises :class:`Unsuitable` (or a parse error) when python-docx
    must read it instead."""
    package = _Package(zf)
    top = package.rels("/")
    office = [(target, external) for kind, target, external in (top.entries.values() if top else ())
              if kind == _OFFICE_DOCUMENT]
    if top is None or len(office) != 1 or office[0][1]:
        raise Unsuitable("main document")
    main = top.partname(office[0][0])
    if package.content_type(main) != _MAIN:
        raise Unsuitable("main document")  # python-docx: "not a Word file" (.docm, .dotx)
    root = package.xml(main[1:])
    if root.tag != _DOCUMENT:
        raise Unsuitable("main document")
    bodies = [child for child in root if child.tag == _BODY]
    if len(bodies) != 1:
        raise Unsuitable("body")
    body = bodies[0]
    content = DocxContent(_paragraphs(body))
    budget = [MAX_CELLS]
    content.tables = [_table(tbl, budget) for tbl in body if tbl.tag == _TBL]
    sections = _sections(root, body)
    used = {main}
    if sections:
        content.blocks = _blocks(package, sections, package.rels(main), used)
    _no_image_rels(zf, package, used)
    return content
