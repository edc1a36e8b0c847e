"""The teacher digest: content, grouping, cap, escaping, links, MIME, and how it looks."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest

from reports.digest import DIGEST_HEADER, link_target, render_digest

from .reports_testkit import assert_not_blank, digest, item, screenshot, scroll_width


def test_empty_digest_is_not_rendered() -> None:
    assert render_digest(digest([])) is None
    # items the retention policy considers fine are not the teacher's business this week
    assert render_digest(digest([item(1, status="ok")])) is None


def test_overdue_first_then_special_categories_first() -> None:
    rendered = render_digest(digest([
        item(1, status="binnenkort", categories=("gezondheid",), title="Binnenkort gezond"),
        item(2, categories=("cijfers",), title="Cijferlijst"),
        item(3, categories=("cijfers", "religie"), title="Gesprek geloof"),
        item(4, categories=("identificatie",), title="Kopie paspoort"),
    ]))
    assert rendered is not None
    for body in (rendered.html, rendered.text):
        order = [body.index(s) for s in ("Gesprek geloof", "Kopie paspoort", "Cijferlijst",
                                         "Binnenkort gezond")]
        assert order == sorted(order), body
    assert rendered.overdue == 3 and rendered.due_soon == 1 and rendered.total == 4
    assert "bijzonder persoonsgegeven" in rendered.html
    assert "Religie of levensovertuiging" in rendered.text  # group heading
    # why: categories by label, never values; the action in words
    assert "religie of levensovertuiging, cijfers en resultaten" in rendered.text
    assert "verwijder daarna het bericht" in rendered.text
    assert "termijn verlopen op 1 augustus 2025" in rendered.text
    assert rendered.subject == "Opruimoverzicht: 4 berichten en bestanden met leerlinggegevens"


def test_cap_shows_total_and_pointer_to_full_list() -> None:
    items = [item(n) for n in range(30)]
    rendered = render_digest(digest(items, hint="\\\\fs01\\ict\\overzichten\\jansen.csv"), cap=25)
    assert rendered is not None
    assert rendered.shown == 25 and rendered.total == 30
    assert "Dit overzicht toont 25 van de 30 items." in rendered.text
    assert "\\\\fs01\\ict\\overzichten\\jansen.csv" in rendered.text
    assert rendered.text.count("\n* ") == 25
    assert rendered.html.count(">Openen</a>") == 25
    # the default pointer when the store gives none
    default_hint = render_digest(digest(items), cap=10)
    assert default_hint is not None and "Vraag de ICT-afdeling om de volledige lijst." in default_hint.text
    # uncapped: no note
    small = render_digest(digest(items[:3]))
    assert small is not None and "Dit overzicht toont" not in small.text


def test_titles_are_escaped_and_html_has_no_scripts_or_external_assets() -> None:
    evil = '<script>alert("x")</script><img src="http://evil.example/p.png">'
    rendered = render_digest(digest([item(1, title=evil, link="javascript:alert(1)")]))
    assert rendered is not None
    html = rendered.html
    assert "<script" not in html.lower()
    assert "javascript:" not in html
    assert "&lt;script&gt;" in html
    assert not re.search(r"<(img|link|iframe|object)\b", html, re.I)
    assert "<style" not in html.lower()  # Outlook drops style blocks: inline styles only
    assert 'max-width:600px' in html
    assert evil in rendered.text  # the plain text part is not HTML and shows the subject as is


def test_english_digest() -> None:
    rendered = render_digest(digest([item(1, categories=("gezondheid", "verzuim"), kind="file")], language="en"))
    assert rendered is not None
    assert rendered.subject == "Clean-up digest: 1 message or file with student data"
    assert "Dear colleague," in rendered.text
    assert "contains health, absence" in rendered.text
    assert "then delete the file" in rendered.text
    assert 'lang="en"' in rendered.html
    with pytest.raises(ValueError, match="unknown language"):
        render_digest(digest([item(1)], language="fy"))


@pytest.mark.parametrize(
    ("link", "href", "shown"),
    [
        ("https://outlook.office.com/mail/id/AAMk", "https://outlook.office.com/mail/id/AAMk", None),
        ("\\\\fs01\\gedeeld\\Zorg\\OPP Sam.docx", "file://fs01/gedeeld/Zorg/OPP%20Sam.docx",
         "\\\\fs01\\gedeeld\\Zorg\\OPP Sam.docx"),
        ("H:\\Mijn documenten\\lijst.xlsx", "file:///H:/Mijn%20documenten/lijst.xlsx",
         "H:\\Mijn documenten\\lijst.xlsx"),
        ("/srv/share/a b.pdf", "file:///srv/share/a%20b.pdf", "/srv/share/a b.pdf"),
        ("javascript:alert(1)", None, None),
        ("data:text/html,x", None, None),
        (None, None, None),
    ],
)
def test_link_targets(link: str | None, href: str | None, shown: str | None) -> None:
    assert link_target(link) == (href, shown)


def test_item_without_link_says_how_to_find_it() -> None:
    rendered = render_digest(digest([item(1, link=None)]))
    assert rendered is not None
    assert "Open het via je mailprogramma of de verkenner." in rendered.html
    assert ">Openen</a>" not in rendered.html


def test_mime_message_parts_and_headers() -> None:
    rendered = render_digest(digest([item(1, title="Ziekmelding Daan – café", categories=("gezondheid",))]))
    assert rendered is not None
    raw = rendered.to_mime("privacy@school.nl", period="2026-W48").as_bytes()
    assert b"\r\n" in raw  # SMTP line endings
    message = message_from_bytes(raw, policy=default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"] == "jansen@school.nl"
    assert message["From"].addresses[0].addr_spec == "privacy@school.nl"
    assert message["Subject"] == rendered.subject
    assert message[DIGEST_HEADER] == "2026-W48"
    assert message["Message-ID"].endswith("@school.nl>")
    assert message["Date"] is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "nl"
    plain, html = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert "Ziekmelding Daan – café" in plain.get_content()
    assert html.get_content().replace("\r\n", "\n") == rendered.html


@pytest.mark.service
@pytest.mark.slow
def test_digest_renders_in_chromium_on_desktop_and_phone(tmp_path) -> None:
    items = [
        item(1, categories=("gezondheid", "zorg"), title="Ziekmelding en medicatie Sanne"),
        item(2, categories=("identificatie", "contactgegevens"), kind="file",
             title="Klassenlijst 3B met BSN en adressen van alle leerlingen.xlsx",
             link="\\\\fs01\\gedeeld\\Klassen\\2021-2022\\Klassenlijst 3B met BSN en adressen.xlsx",
             action="las_en_verwijderen"),
        item(3, categories=("verzuim",), action="las_en_verwijderen"),
        item(4, status="binnenkort", categories=("veiligheid",), title="Zorgmelding (meldcode)"),
        *[item(n, status="binnenkort", categories=("cijfers",)) for n in range(5, 12)],
    ]
    rendered = render_digest(digest(items), cap=6)
    assert rendered is not None
    page = tmp_path / "digest.html"
    page.write_text(rendered.html, encoding="utf-8")
    desktop = screenshot(page, tmp_path / "digest-desktop.png", 1024, 1600)
    phone = screenshot(page, tmp_path / "digest-phone.png", 390, 2400)
    assert_not_blank(desktop)
    assert_not_blank(phone)
    # on a phone nothing sticks out sideways, even the long unbreakable path
    scroll, viewport = scroll_width(rendered.html, tmp_path, 390)
    assert scroll <= viewport


def test_broadly_shared_items_come_first_with_what_to_do() -> None:
    from dataclasses import replace

    shared = replace(item(1, status="binnenkort", categories=("cijfers",), kind="file", title="Klassenlijst 3B"),
                     exposure_reasons=("anonymous_link", "external_guest"))
    open_share = replace(item(2, status="ok", categories=("identificatie",), kind="file", title="BSN-lijst"),
                         exposure_reasons=("broad_group",))
    rendered = render_digest(digest([item(3, categories=("gezondheid",), title="Medicatie"), shared, open_share]))
    assert rendered is not None
    assert rendered.broad == 2 and rendered.total == 3
    assert rendered.overdue == 1 and rendered.due_soon == 1  # an 'ok' item shared broadly is neither
    for body in (rendered.html, rendered.text):
        order = [body.index(s) for s in ("Breed gedeeld: doe deze eerst", "Klassenlijst 3B", "BSN-lijst",
                                         "Bewaartermijn verlopen", "Medicatie")]
        assert order == sorted(order), body
    assert ("iedereen met de link, iemand buiten de school: verwijder de deellink; stop het delen met de gast"
            in rendered.text)
    assert "een groep als Iedereen of de hele school: beperk de share" in rendered.text
    assert "Breed gedeeld met leerlinggegevens: 2." in rendered.text
    assert rendered.html.count('data-exposure="1"') == 2
    english = render_digest(digest([shared], language="en"))
    assert english is not None and "anyone with the link, someone outside the school: remove the sharing link" \
        in english.text and "Broadly shared: do these first" in english.text
    # Not broadly shared and not due: not in the digest.
    assert render_digest(digest([item(4, status="ok")])) is None


def test_archive_records_keep_room_in_a_capped_digest() -> None:
    care = [item(n, categories=("gezondheid",)) for n in range(30)]
    exam = item(99, categories=("cijfers",), title="Cijferlijst centraal examen", action="archiveren")
    rendered = render_digest(digest([*care, exam]), cap=25)
    assert rendered is not None and rendered.shown == 25
    assert "Cijferlijst centraal examen" in rendered.text
    assert "Archiveer in het LAS" in rendered.text
    assert rendered.text.count("\n* ") == 25
