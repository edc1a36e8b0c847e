"""Every supported format extracts its text, with the part path and location it came from."""

from __future__ import annotations

import hashlib

from scanner.core.model import ItemKind
from scanner.extract import ExtractionCache
from tests.extract import corpus
from tests.extract.conftest import all_codes, codes, run, text_of

BSN = corpus.BSN


def test_plain_mail_body_subject_and_hash(extractor):
    raw = corpus.mail_bytes("Beste ouders, het BSN van Lisa is 123456782.", subject=f"Lisa {BSN}")
    result = run(extractor, raw, "m", ItemKind.MAIL)
    assert result.errors == []
    assert result.content_hash == hashlib.sha256(raw).hexdigest()
    assert result.bytes_read == len(raw)
    assert text_of(result, "subject") == f"Lisa {BSN}"
    assert "Lisa is 123456782" in text_of(result, "body")


def test_html_alternative_prefers_plain_and_html_only_is_converted(extractor):
    raw = corpus.mail_bytes("platte tekst", html="<p>html <b>tekst</b></p>")
    assert text_of(run(extractor, raw, "m", ItemKind.MAIL), "body") == "platte tekst"
    html_only = (b"Subject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                 b"<html><head><style>p{}</style><script>var x=1</script></head>"
                 b"<body><p>Verzuim van <b>Tim</b></p></body></html>")
    body = text_of(run(extractor, html_only, "m", ItemKind.MAIL), "body")
    assert "Verzuim van" in body and "Tim" in body and "var x" not in body


def test_mail_attachments_nested_paths_and_locations(extractor):
    inner_zip = corpus.zip_bytes({"leerlingen.csv": f"Naam;BSN\nJan;{BSN}\n".encode()})
    forwarded = corpus.mail_bytes("doorgestuurd OPP", subject="Fwd",
                                  attachments={"rapport.pdf": corpus.pdf_bytes(["p1", f"BSN {BSN}"])})
    raw = corpus.mail_bytes("zie bijlagen", attachments={
        "export.zip": inner_zip,
        "lijst.docx": corpus.docx_bytes(["Klassenlijst"], [["Naam", "BSN"], ["Jan", BSN]]),
        "oud.eml": forwarded,
    })
    result = run(extractor, raw, "m", ItemKind.MAIL)
    assert result.errors == []
    parts = {p.part for p in result.parts}
    assert {"subject", "body", "export.zip/leerlingen.csv", "lijst.docx", "oud.eml",
            "oud.eml/subject", "oud.eml/rapport.pdf"} <= parts
    csv_part = next(p for p in result.parts if p.part == "export.zip/leerlingen.csv")
    assert csv_part.context["column_headers"] == ["Naam", "BSN"]
    assert csv_part.location == "rij 2"
    assert csv_part.content_hash == hashlib.sha256(f"Naam;BSN\nJan;{BSN}\n".encode()).hexdigest()
    pdf_pages = [p for p in result.parts if p.part == "oud.eml/rapport.pdf"]
    assert [p.location for p in pdf_pages] == ["pagina 1", "pagina 2"]
    table = next(p for p in result.parts if p.part == "lijst.docx" and p.location)
    assert table.location == "tabel 1, rij 2" and table.context["column_headers"] == ["Naam", "BSN"]


def test_xlsx_sheets_keep_column_headers(extractor):
    rows = [["Naam", "BSN", "Klas"]] + [[f"Leerling {i}", 123456782, "3B"] for i in range(450)]
    data = corpus.xlsx_bytes({"Klas 3B": rows, "Leeg": []})
    result = run(extractor, data, "klas.xlsx")
    assert result.errors == []
    chunks = [p for p in result.parts if p.context.get("sheet") == "Klas 3B"]
    assert 2 <= len(chunks) <= 5  # chunks of rows, not one part per cell
    first = chunks[0]
    assert first.location == "blad Klas 3B, rij 2-201"
    assert first.context["column_headers"] == ["Naam", "BSN", "Klas"]
    lines = first.text.splitlines()
    assert lines[0] == "Naam\tBSN\tKlas" and lines[1] == "Leerling 0\t123456782\t3B"
    assert first.context["row_numbers"][0] == 2


def test_pptx_odf_rtf_csv_html_text(extractor):
    cases = {
        "les.pptx": (corpus.pptx_bytes(["Dia over Fleur", "Tweede dia"]), "Fleur", "dia 1"),
        "brief.odt": (corpus.odt_bytes(["Brief over Sem", "BSN 123456782"]), "Sem", None),
        "lijst.ods": (corpus.ods_bytes("Groep 8", [["Naam", "BSN"], ["Eva", BSN]]), "Eva",
                      "blad Groep 8, rij 2"),
        "pres.odp": (corpus.odp_bytes(["Presentatie Milan"]), "Milan", "dia 1"),
        "notitie.rtf": (rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0 Gesprek met Zo\'eb}",
                        "Zoë", None),
        "export.csv": ("Naam;Geboortedatum\nAnaïs;01-02-2015\n".encode("cp1252"), "Anaïs", "rij 2"),
        "pagina.html": (b"<html><body><h1>Dossier</h1><p>Thijs</p></body></html>", "Thijs", None),
        "notities.txt": ("Gesprek met vader van Bram".encode("utf-16"), "Bram", None),
    }
    for name, (data, needle, location) in cases.items():
        result = run(extractor, data, name)
        assert result.errors == [], (name, result.errors)
        hit = [p for p in result.parts if needle in p.text]
        assert hit, name
        if location:
            assert hit[0].location == location, (name, hit[0].location)
    ods = run(extractor, cases["lijst.ods"][0], "lijst.ods")
    assert ods.parts[0].context["column_headers"] == ["Naam", "BSN"]


def test_archives_7z_tar_gz_and_nested(extractor):
    csv = f"Naam;BSN\nJan;{BSN}\n".encode()
    seven = corpus.seven_zip_bytes({"map/leerlingen.csv": csv})
    result = run(extractor, seven, "export.7z")
    assert result.errors == [] and "Jan" in text_of(result, "map/leerlingen.csv")
    tgz = corpus.tar_gz_bytes({"a/b.txt": b"tekst in tar", "c.zip": corpus.zip_bytes({"d.txt": b"diep"})})
    result = run(extractor, tgz, "backup.tar.gz")
    assert result.errors == []
    assert text_of(result, "a/b.txt") == "tekst in tar" and text_of(result, "c.zip/d.txt") == "diep"
    import gzip

    result = run(extractor, gzip.compress(csv), "leerlingen.csv.gz")
    assert result.errors == [] and "Jan" in text_of(result, "leerlingen.csv")


def test_encrypted_7z_and_owner_only_pdf(extractor):
    result = run(extractor, corpus.seven_zip_bytes({"x.txt": b"geheim"}, password="pw"), "x.7z")
    assert all_codes(result) == {"encrypted"}
    # a PDF with only an owner password opens with the empty user password: text is read
    pdf = corpus.pdf_bytes(["Alleen printbeveiliging, Vera"], owner_password="eigenaar")
    result = run(extractor, pdf, "beveiligd.pdf")
    assert result.errors == [] and "Vera" in text_of(result)


def test_cache_extracts_identical_attachments_once(extractor):
    attachment = corpus.pdf_bytes([f"Klassenlijst BSN {BSN}"])
    cache = ExtractionCache(max_entries=10)
    first = run(extractor, corpus.mail_bytes("een", attachments={"lijst.pdf": attachment}),
                "m1", ItemKind.MAIL, cache=cache)
    misses = cache.misses
    second = run(extractor, corpus.mail_bytes("twee", attachments={"kopie.pdf": attachment}),
                 "m2", ItemKind.MAIL, cache=cache)
    assert cache.hits == 1 and cache.misses == misses  # served from the cache, not parsed again
    assert text_of(second, "kopie.pdf") == text_of(first, "lijst.pdf")
    assert next(p for p in second.parts if p.part == "kopie.pdf").location == "pagina 1"
    digest = hashlib.sha256(attachment).hexdigest()
    assert f"pdf:{digest}" in cache
    # the same file as a top-level item is served from the cache as well
    hits = cache.hits
    third = run(extractor, attachment, "elders.pdf", cache=cache)
    assert cache.hits == hits + 1 and "Klassenlijst" in text_of(third, "body")


def test_cache_keeps_formats_apart(extractor):
    """The same bytes as a .csv and as a .txt are two extractions: a hit for the one must not
    hand the other its parts (cells against lines)."""
    data = f"naam;bsn\nDaan;{BSN}\n".encode()
    cache = ExtractionCache(max_entries=10)
    as_csv = run(extractor, data, "lijst.csv", cache=cache)
    as_txt = run(extractor, data, "lijst.txt", cache=cache)
    assert cache.hits == 0
    again = run(extractor, data, "kopie.csv", cache=cache)
    assert cache.hits == 1
    assert [(p.location, p.text) for p in again.parts] == [(p.location, p.text) for p in as_csv.parts]
    assert [p.location for p in as_txt.parts] != [p.location for p in as_csv.parts]


def test_cache_is_bounded():
    from scanner.extract.cache import CacheEntry

    cache = ExtractionCache(max_entries=3, max_chars=1000)
    for i in range(10):
        cache.put(str(i), CacheEntry(parts=(("", "x" * 100, None, {}, None),), errors=()))
    assert len(cache) == 3 and "9" in cache and "0" not in cache
    cache.put("big", CacheEntry(parts=(("", "x" * 5000, None, {}, None),), errors=()))
    assert "big" not in cache


def test_images_skipped_silently_without_ocr(extractor):
    raw = corpus.mail_bytes("foto", attachments={"foto.jpg": corpus.jpeg_bytes()})
    result = run(extractor, raw, "m", ItemKind.MAIL)
    assert result.errors == [] and {p.part for p in result.parts} == {"subject", "body"}


def test_error_messages_are_bilingual_and_content_free(extractor):
    raw = corpus.mail_bytes("x", attachments={"geheim-dossier-Jan.zip": corpus.encrypted_zip(b"a", b"b")})
    result = run(extractor, raw, "m", ItemKind.MAIL)
    assert codes(result) == {"geheim-dossier-Jan.zip/dossier.txt": {"encrypted"}}
    for error in result.errors:
        assert " / " in error.message and "Jan" not in error.message and "dossier" not in error.message


def test_winmail_dat_body_and_attachments(extractor):
    tnef = corpus.tnef_bytes(b"Zie de lijst van groep 7", {"lijst.csv": f"Naam;BSN\nJan;{BSN}\n".encode()})
    message = corpus.mail_bytes("Outlook-bericht", attachments={"winmail.dat": tnef})
    result = run(extractor, message, "m", ItemKind.MAIL)
    assert result.errors == []
    assert "groep 7" in text_of(result, "winmail.dat")
    csv_part = next(p for p in result.parts if p.part == "winmail.dat/lijst.csv")
    assert csv_part.context["column_headers"] == ["Naam", "BSN"] and BSN in csv_part.text


def test_ocr_is_optional_and_reads_dutch_text(extractor):
    import os
    import shutil

    import pytest

    if shutil.which("tesseract") is None:
        if os.environ.get("SCHOONSCHIP_ALLOW_SKIP") == "1":
            pytest.skip("tesseract not installed")
        pytest.fail("tesseract-ocr (with the nld language) is required for the OCR test")
    image = corpus.text_image_png(f"Leerling Jansen BSN {BSN}")
    assert run(extractor, image, "scan.png").parts == []  # off by default: skipped silently
    result = run(extractor, image, "scan.png", ocr=True)
    assert result.errors == []
    assert BSN in text_of(result) and result.parts[0].location == "afbeelding (OCR)"


def test_outlook_msg_with_attachment_and_embedded_msg(extractor):
    from tests.extract import cfb

    data = cfb.msg_bytes(
        "Zorgmelding Eva", "Body over Eva", [("lijst.csv", f"Naam;BSN\nEva;{BSN}\n".encode())],
        embedded=("Doorgestuurd", "Binnenste bericht over Eva", [("notitie.txt", b"diep in de msg")]))
    result = run(extractor, data, "melding.msg")
    assert result.errors == []
    assert text_of(result, "subject") == "Zorgmelding Eva" and text_of(result, "body") == "Body over Eva"
    assert next(p for p in result.parts if p.part == "lijst.csv").context["column_headers"] == ["Naam", "BSN"]
    assert text_of(result, "Doorgestuurd.msg") == "Binnenste bericht over Eva"
    assert text_of(result, "Doorgestuurd.msg/subject") == "Doorgestuurd"
    assert text_of(result, "Doorgestuurd.msg/notitie.txt") == "diep in de msg"
    # and the same .msg as a mail attachment
    mail = run(extractor, corpus.mail_bytes("zie msg", attachments={"melding.msg": data}), "m", ItemKind.MAIL)
    assert mail.errors == [] and text_of(mail, "melding.msg/Doorgestuurd.msg/notitie.txt") == "diep in de msg"


def test_password_protected_office_file_is_encrypted(extractor):
    from tests.extract import cfb

    result = run(extractor, cfb.encrypted_office(), "cijfers.xlsx")
    assert all_codes(result) == {"encrypted"}
    assert result.errors[0].message.startswith("niet te lezen: versleuteld")


def test_legacy_xls_keeps_headers_and_whole_numbers(extractor):
    from tests.extract import cfb

    data = cfb.xls_bytes("Klas 4A", [["Naam", "BSN"], ["Jan", 123456782], ["Piet", "111222333"]])
    result = run(extractor, data, "klas.xls")
    assert result.errors == []
    part = result.parts[0]
    assert part.location == "blad Klas 4A, rij 2-3"
    assert part.context["column_headers"] == ["Naam", "BSN"]
    assert part.text.splitlines()[1] == f"Jan\t{BSN}"  # 123456782.0 from BIFF is shown as the BSN


def test_signed_and_encrypted_mail_parts(extractor):
    signed = (b"Subject: getekend\r\nMIME-Version: 1.0\r\n"
              b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="S"\r\n\r\n'
              b"--S\r\nContent-Type: text/plain\r\n\r\nOndertekende mail over Lars\r\n"
              b"--S\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n--S--\r\n")
    result = run(extractor, signed, "m", ItemKind.MAIL)
    assert result.errors == [] and "Lars" in text_of(result, "body")
    enveloped = (b"Subject: versleuteld\r\nMIME-Version: 1.0\r\n"
                 b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
                 b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n")
    assert all_codes(run(extractor, enveloped, "m", ItemKind.MAIL)) == {"encrypted"}
    video = corpus.mail_bytes("filmpje", attachments={"schoolreis.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(64)})
    assert run(extractor, video, "m", ItemKind.MAIL).errors == []
