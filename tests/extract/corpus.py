"""Generators for the extraction test corpus: ordinary documents and hostile inputs.

Everything is built by the tests themselves: no binary fixtures are checked in. Bombs are
built without inflating them (a deflate stream of zeros is assembled from one repeated
flushed block), and the big inputs are streamed to disk, so the test process itself stays
small.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import random
import struct
import tarfile
import zipfile
import zlib
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

MiB = 1024 * 1024
BSN = "123456782"  # passes the 11-proef; a test value, not a person's


# --- documents ---------------------------------------------------------------------------


def pdf_bytes(pages: list[str], *, user_password: str | None = None,
              owner_password: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text=text)
    data = bytes(pdf.output())
    if user_password is None and owner_password is None:
        return data
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password or "", owner_password=owner_password,
                   algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def pptx_bytes(slides: list[str]) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    for text in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[5])
        box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1))
        box.text_frame.text = text
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def odt_bytes(paragraphs: list[str]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    for text in paragraphs:
        document.text.addElement(P(text=text))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def ods_bytes(name: str, rows: list[list[str]]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name=name)
    for row in rows:
        tr = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def odp_bytes(slides: list[str]) -> bytes:
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="L")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="M", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    for text in slides:
        page = Page(masterpagename=master)
        frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
        box = TextBox()
        box.addElement(P(text=text))
        frame.addElement(box)
        page.addElement(frame)
        document.presentation.addElement(page)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def seven_zip_bytes(members: dict[str, bytes], password: str | None = None) -> bytes:
    import py7zr

    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w", password=password, header_encryption=bool(password)) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return out.getvalue()


def mail_bytes(body: str, subject: str = "Leerling", attachments: dict[str, bytes] | None = None,
               html: str | None = None) -> bytes:
    message = MIMEMultipart("mixed")
    message["From"] = "mentor@school.example"
    message["To"] = "ib@school.example"
    message["Subject"] = subject
    if html is not None:
        alternative = MIMEMultipart("alternative")
        alternative.attach(MIMEText(body, "plain", "utf-8"))
        alternative.attach(MIMEText(html, "html", "utf-8"))
        message.attach(alternative)
    else:
        message.attach(MIMEText(body, "plain", "utf-8"))
    for name, data in (attachments or {}).items():
        part = MIMEApplication(data)
        part.add_header("Content-Disposition", "attachment", filename=name)
        message.attach(part)
    return message.as_bytes()


# --- hand-made ZIP: precompressed data, lying headers, NUL names, ZipCrypto -----------------


@functools.lru_cache(maxsize=8)
def deflated_zeros(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``mib`` MiB of zeros and its CRC-32, built without deflating
    ``mib`` MiB: after a full flush every further MiB of zeros compresses to the same block."""
    zero = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(zero) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zero) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    stream = first + block * (mib - 1) + end
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zero, crc)
    return stream, crc


def raw_zip(entries: list[dict]) -> bytes:
    """Write a ZIP from entries with explicit fields: ``name`` (bytes), ``data`` (already
    compressed), ``crc``, ``usize`` (declared), ``method`` (0 stored, 8 deflate), ``flags``."""
    out = io.BytesIO()
    central = []
    for entry in entries:
        offset = out.tell()
        name = entry["name"] if isinstance(entry["name"], bytes) else entry["name"].encode()
        fields = (20, entry.get("flags", 0), entry.get("method", 8), 0, 0x21,
                  entry["crc"], len(entry["data"]), entry["usize"], len(name), 0)
        out.write(b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields) + name + entry["data"])
        central.append(b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, *fields[:-1], 0, 0,
                                                   0, 0, 0, offset) + name)
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    out.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), size, start, 0))
    return out.getvalue()


def zip_single_bomb(mib: int = 1024) -> bytes:
    stream, crc = deflated_zeros(mib)
    return raw_zip([{"name": "nullen.txt", "data": stream, "crc": crc, "usize": mib * MiB}])


def zip_lying_bomb(mib: int = 1024) -> bytes:
    """Declares 1000 bytes but holds ``mib`` MiB of zeros."""
    stream, crc = deflated_zeros(mib)
    return raw_zip([{"name": "klein.txt", "data": stream, "crc": crc, "usize": 1000},
                    {"name": "leesmij.txt", "data": zlib.compress(b"Gewoon bestand", 9)[2:-4],
                     "crc": zlib.crc32(b"Gewoon bestand"), "usize": 14}])


def nested_bomb(levels: int = 4, fanout: int = 16, leaf_mib: int = 64) -> bytes:
    """A 42.zip-style bomb: ``fanout`` copies per level, ``leaf_mib`` MiB of zeros per leaf."""
    stream, crc = deflated_zeros(leaf_mib)
    layer = raw_zip([{"name": f"{i}.txt", "data": stream, "crc": crc, "usize": leaf_mib * MiB}
                     for i in range(fanout)])
    for level in range(levels - 1):
        layer = zip_bytes({f"lib {level}-{i}.zip": layer for i in range(fanout)})
    return layer


def deeply_nested_zip(depth: int, secret: str) -> bytes:
    data = f"Naam;BSN\nJan;{secret}\n".encode()
    name = "leerlingen.csv"
    for level in range(depth):
        data = zip_bytes({name: data, f"leesmij-{level}.txt": f"niveau {level}".encode()})
        name = f"niveau-{level}.zip"
    return data


def gzip_bomb(mib: int = 1024) -> bytes:
    stream, crc = deflated_zeros(mib)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream
            + struct.pack("<II", crc, (mib * MiB) & 0xFFFFFFFF))


def _zipcrypto_keys():
    return [0x12345678, 0x23456789, 0x34567890]


def _crc_byte(crc: int, byte: int) -> int:
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def zipcrypto_encrypt(data: bytes, password: bytes, crc: int) -> bytes:
    """Traditional PKWARE encryption (what "zip -e" and Windows produce)."""
    keys = _zipcrypto_keys()

    def update(byte: int) -> None:
        keys[0] = _crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    header = bytearray(random.Random(7).randbytes(11)) + bytes([crc >> 24])
    out = bytearray()
    for byte in bytes(header) + data:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


def encrypted_zip(secret_text: bytes, plain_text: bytes, password: bytes = b"geheim") -> bytes:
    crc = zlib.crc32(secret_text)
    compressed = zlib.compress(secret_text, 9)[2:-4]
    return raw_zip([
        {"name": "dossier.txt", "data": zipcrypto_encrypt(compressed, password, crc), "crc": crc,
         "usize": len(secret_text), "flags": 0x1},
        {"name": "openbaar.txt", "data": zlib.compress(plain_text, 9)[2:-4],
         "crc": zlib.crc32(plain_text), "usize": len(plain_text)},
    ])


def nul_named_zip(text: bytes) -> bytes:
    return raw_zip([{"name": b"\x00" * 12 + b".txt", "data": text, "method": 0,
                     "crc": zlib.crc32(text), "usize": len(text)}])


# --- XLSX with a million empty rows, written as sheet XML straight into the zip ----------------

_CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Klas 3B" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def million_empty_rows_xlsx(path: Path, empty_rows: int = 1_000_000, hidden: str = BSN) -> Path:
    """Header, one data row, ``empty_rows`` empty rows (each with an empty cell), then a row
    hidden far below. The sheet claims the full dimension A1:XFD1048576."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        b'<dimension ref="A1:XFD1048576"/><sheetData>')
            sheet.write(f'<row r="1">{_inline("A1", "Naam")}{_inline("B1", "BSN")}</row>'.encode())
            sheet.write(f'<row r="2">{_inline("A2", "Jan")}{_inline("B2", "111222333")}</row>'.encode())
            batch = []
            for r in range(3, empty_rows + 3):
                batch.append(f'<row r="{r}"><c r="A{r}"/></row>')
                if len(batch) == 10000:
                    sheet.write("".join(batch).encode())
                    batch.clear()
            sheet.write("".join(batch).encode())
            last = empty_rows + 3
            sheet.write(f'<row r="{last}">{_inline(f"A{last}", "Piet")}{_inline(f"B{last}", hidden)}'
                        f'</row></sheetData></worksheet>'.encode())
    return path


# --- MIME oddities ---------------------------------------------------------------------------


def mime_wrong_charset() -> bytes:
    """Declares us-ascii but the body is UTF-8; a second part declares utf-8 but is cp1252;
    a third names a charset that does not exist."""
    return (
        b"From: a@school.example\r\nSubject: ziekmelding\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        + "Zoë is ziek, BSN 123456782\r\n".encode()
        + b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "Geboortedatum van Anaïs: 1-2-2015\r\n".encode("cp1252")
        + b"--XX\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nDaan heeft dyslexie\r\n"
        b"--XX--\r\n"
    )


def mime_missing_boundary() -> bytes:
    return (
        b"From: a@school.example\r\nSubject: OPP\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\n"
        b"--ABC\r\nContent-Type: text/plain\r\n\r\nOPP van Sam, BSN 123456782\r\n--ABC--\r\n"
    )


def mime_wrong_boundary() -> bytes:
    return (
        b"From: a@school.example\r\nSubject: OPP\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="declared"\r\n\r\n'
        b"--other\r\nContent-Type: text/plain\r\n\r\nHandelingsplan Sam\r\n--other--\r\n"
    )


def big_attachment_mail(path: Path, attachment_mib: int = 200) -> Path:
    """A mail with a ``attachment_mib`` MiB attachment, streamed to disk in base64."""
    line_bytes = 57  # 76 base64 characters per line
    rng = random.Random(1)
    block = bytes(rng.getrandbits(8) for _ in range(line_bytes * 1000))
    encoded = b"\r\n".join(base64.b64encode(block[i:i + line_bytes])
                           for i in range(0, len(block), line_bytes)) + b"\r\n"
    with open(path, "wb") as out:
        out.write(b"From: a@school.example\r\nSubject: export\r\nMIME-Version: 1.0\r\n"
                  b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
                  b"--B\r\nContent-Type: text/plain\r\n\r\nZie bijlage.\r\n"
                  b"--B\r\nContent-Type: application/octet-stream\r\n"
                  b'Content-Disposition: attachment; filename="export.bin"\r\n'
                  b"Content-Transfer-Encoding: base64\r\n\r\n")
        for _ in range(attachment_mib * MiB // len(block) + 1):
            out.write(encoded)
        out.write(b"--B--\r\n")
    return path


def big_csv_zip(path: Path, mib: int = 200) -> Path:
    """A zip on disk holding one ``mib`` MiB CSV (stored), written in a stream."""
    row = f"Jan;{BSN};3B\n".encode() * 4096
    with (zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf,
          zf.open("leerlingen.csv", "w", force_zip64=True) as member):
        member.write(b"Naam;BSN;Klas\n")
        for _ in range(mib * MiB // len(row) + 1):
            member.write(row)
    return path


def rss_peak_kib(pid: int | None = None) -> int:
    """Peak resident set (VmHWM) of a process, in KiB (Linux)."""
    with open(f"/proc/{pid or os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("VmHWM not found")


def slow_pdf(operations: int = 200_000, pages: int = 1) -> bytes:
    """``pages`` pages, each with a content stream of ``operations`` text-showing operators: a
    single ``extract_text()`` call on one page runs for seconds, with no point to stop in
    between (100,000 take ~3 s on the 2-core test machine, less on a faster one). pypdf 7
    refuses a stream of more than 2 million tokens (9 per operator here), so one page holds
    at most ~220,000; a test that needs more time than a fast machine spends on one page
    takes several pages (the soft deadline between pages stops it)."""
    content = zlib.compress(b"BT /F1 1 Tf\n" + b"1 0 0 1 5 5 Tm (x) Tj\n" * operations + b"ET\n", 9)
    first_page = 4  # objects 1-3: catalog, page tree, font
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i in range(pages):
        objects += [
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (first_page + 2 * i + 1),
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def heavy_ods(path: Path, rows: int = 150_000) -> Path:
    """An ODS whose content.xml (written directly, random cell text so it barely compresses)
    becomes a DOM of millions of objects in odfpy: far more memory than its size suggests."""
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml",
                    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                    '<manifest:file-entry manifest:full-path="/" manifest:media-type='
                    '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                    'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                    '</manifest:manifest>')
        with zf.open("content.xml", "w", force_zip64=True) as content:
            content.write(f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}>'
                          '<office:body><office:spreadsheet><table:table table:name="Blad">'.encode())
            for _ in range(rows):
                cells = "".join(
                    "<table:table-cell><text:p>"
                    + "".join(rng.choice(alphabet) for _ in range(12))
                    + "</text:p></table:table-cell>" for _ in range(4))
                content.write(f"<table:table-row>{cells}</table:table-row>".encode())
            content.write(b"</table:table></office:spreadsheet></office:body></office:document-content>")
    return path


def tnef_bytes(body: bytes, attachments: dict[str, bytes]) -> bytes:
    """A minimal winmail.dat: TNEF version, a body, attachments (render data, title, data)."""

    def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
        return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack(
            "<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 0x0101)
    out += attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))
    out += attribute(1, 0x800C, 0x0002, body)
    for name, data in attachments.items():
        out += attribute(2, 0x9002, 0x0006, bytes(14))
        out += attribute(2, 0x8010, 0x0001, name.encode() + b"\x00")
        out += attribute(2, 0x800F, 0x0006, data)
    return out


def text_image_png(text: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=48)
    image = Image.new("L", (60 + 30 * len(text), 200), 255)
    ImageDraw.Draw(image).text((20, 60), text, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
