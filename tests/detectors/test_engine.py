"""The detector as the pipeline uses it: verdicts, findings, privacy, batching, long texts."""

from __future__ import annotations

import dataclasses
import re
import socket

from detectors import build_detector, explain
from detectors.settings import DetectionSettings
from scanner.core.model import TextPart
from scanner.core.privacy import mask
from tests.detectors.conftest import body

BSN = "123456782"
SICK = (
    "Beste juf Anna,\n\nSanne uit groep 5 is vandaag ziek, ze heeft koorts.\n\n"
    "Met vriendelijke groet,\nMirjam de Vries\n06-12345678"
)


def test_mode_and_notice_when_model_switched_off(detector):
    assert detector.mode.startswith("naamlijsten")
    assert detector.mode_notice is None


def test_fallback_notice_says_how_to_install(hasher, tmp_path, caplog):
    d = build_detector(DetectionSettings(spacy_model=str(tmp_path / "geen-model")), hasher)
    assert d.mode == "naamlijsten (geen spaCy-model)"
    assert d.mode_notice and "spacy download nl_core_news_md" in d.mode_notice
    assert d.mode_notice.index(" / ") > 0  # Dutch first, then English
    assert "naamlijsten" in caplog.text


def test_bsn_alone_is_enough(detector):
    v = detector.analyze(body(f"BSN: {BSN}"))
    assert v.student_data and v.categories == ["identificatie"] and v.reasons == ["bsn:1"]


def test_name_alone_is_not_enough(detector):
    v = detector.analyze(body("Het boek is geschreven door Annie M.G. Schmidt en Daan Jansen."))
    assert not v.student_data and v.categories == []
    assert any(r.startswith("naam_zonder_context") for r in v.reasons)


def test_name_with_student_context_or_category(detector):
    v = detector.analyze(body(SICK))
    assert v.student_data
    assert "naam_met_leerlingcontext:1" in v.reasons
    assert set(v.categories) >= {"verzuim", "gezondheid"}
    v = detector.analyze(body("Daan Jansen heeft sinds kort de diagnose ADHD."))
    assert v.student_data and "naam_met_categorie:1" in v.reasons and "gezondheid" in v.categories


def test_correspondents_and_staff_do_not_count(detector):
    v = detector.analyze(body("Hoi Wouter,\n\nKun jij morgen groep 5 overnemen? Ik ben ziek.\n\nGroet,\nPetra"))
    assert not v.student_data
    assert "naam_correspondent:2" in v.reasons
    v = detector.analyze(body("Welkom aan juf Anna, zij wordt de nieuwe leerkracht van groep 6."))
    assert not v.student_data and "naam_personeel:1" in v.reasons


def test_invoice_with_valid_numbers_is_no_student_data(detector):
    text = f"FACTUUR\nFactuurnummer: {BSN}\nKlantnummer: 1234.56.782\nTotaal € 12,00"
    v = detector.analyze(body(text))
    assert not v.student_data
    assert not [f for f in v.findings if f.entity == "NL_BSN"]


def test_sender_contact_details_are_not_student_data(detector):
    v = detector.analyze(body(SICK))
    assert "contact_afzender:1" in v.reasons
    assert "contactgegevens" not in v.categories
    assert not [f for f in v.findings if f.entity == "PHONE_NUMBER"]


def test_findings_never_carry_values(detector):
    values = [BSN, "Sanne de Vries", "s.devries@ziggo.nl", "06-12345678", "NL91 ABNA 0417 1643 00",
              "12-03-2012", "Kerkstraat 12", "ADHD"]
    text = (f"Leerling Sanne de Vries, geboren 12-03-2012, BSN {BSN}, woont op Kerkstraat 12, "
            f"1234 AB Utrecht. Moeder: s.devries@ziggo.nl, tel 06-12345678, IBAN NL91 ABNA 0417 1643 00. "
            f"Diagnose ADHD.")
    v = detector.analyze(body(text))
    assert {f.entity for f in v.findings} >= {"NL_BSN", "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER",
                                               "IBAN_CODE", "DATE_OF_BIRTH", "NL_ADDRESS", "CATEGORY_TERM"}
    for finding in v.findings:
        for field in dataclasses.fields(finding):
            value = getattr(finding, field.name)
            if field.name == "masked" or not isinstance(value, str):
                continue
            for clear in values:
                assert clear.lower() not in value.lower(), field.name
        assert finding.masked == mask(text[finding.start : finding.end], finding.entity)
    for clear in values:
        assert all(clear not in r for r in v.reasons)
        assert all(clear not in line for line in explain(v, "nl") + explain(v, "en"))


def test_value_hash_is_keyed_and_stable(detector, hasher):
    a = detector.analyze(body(f"BSN {BSN}")).findings[0]
    b = detector.analyze(body("BSN: 1234.56.782")).findings[0]
    assert a.value_hash == b.value_hash == hasher.hash("NL_BSN", BSN)


def test_finding_offsets_and_locations_across_merged_parts(detector):
    headers = {"column_headers": ["Naam", "BSN"]}
    rows = [TextPart("klas.xlsx", f"Kind {i}\t{BSN}", location=f"rij {i}", context=headers)
            for i in range(50)]
    v = detector.analyze(rows)
    bsns = [f for f in v.findings if f.entity == "NL_BSN"]
    assert len(bsns) == 50
    assert {f.location for f in bsns} == {f"rij {i}" for i in range(50)}
    for f in bsns:
        i = int(f.location.split()[1])
        assert rows[i].text[f.start : f.end] == BSN


def test_long_text_is_chunked_and_offsets_stay_right(hasher):
    d = build_detector(DetectionSettings(spacy_model="none", chunk_chars=2000), hasher)
    filler = "Dit is een regel zonder bijzonderheden.\n" * 400
    text = "Naam;BSN\n" + filler + f"Sanne;{BSN}\n" + filler + f"BSN leerling: {BSN}\n"
    v = d.analyze(body(text))
    bsns = [f for f in v.findings if f.entity == "NL_BSN"]
    assert len(bsns) == 2
    assert all(text[f.start : f.end] == BSN for f in bsns)


def test_analyze_many_equals_analyze(detector):
    items = [body(SICK), body(f"BSN {BSN}"), body("Nieuwsbrief: de schoolreis is op 12 juni."), []]
    many = detector.analyze_many(items)
    assert [v.student_data for v in many] == [True, True, False, False]
    for item, verdict in zip(items, many, strict=True):
        single = detector.analyze(item)
        assert (single.student_data, single.categories, single.reasons) == (
            verdict.student_data, verdict.categories, verdict.reasons)
        assert [(f.entity, f.start, f.end) for f in single.findings] == [
            (f.entity, f.start, f.end) for f in verdict.findings]


def test_entity_filter(hasher):
    d = build_detector(DetectionSettings(spacy_model="none", entities=["NL_BSN"]), hasher)
    v = d.analyze(body(SICK + f"\nBSN {BSN}"))
    assert {f.entity for f in v.findings} == {"NL_BSN"}


def test_no_network_at_build_or_run(hasher, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("netwerk gebruikt / network used")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    d = build_detector(DetectionSettings(), hasher)  # 'auto' without a model installed
    v = d.analyze(body("Mail Sanne via sanne@example.nl, groep 7."))
    assert any(f.entity == "EMAIL_ADDRESS" for f in v.findings)


def test_explain_in_dutch_and_english(detector):
    v = detector.analyze(body(SICK))
    nl, en = explain(v, "nl"), explain(v, "en")
    assert nl[0] == "Bevat persoonsgegevens van leerlingen."
    assert en[0] == "Contains student personal data."
    assert any("leerlingwoorden" in line for line in nl)
    assert any(re.search(r"student words", line) for line in en)
    assert len(nl) == len(en)


def test_empty_and_odd_input(detector):
    assert detector.analyze([]).student_data is False
    v = detector.analyze(body("\x00\ufffd" * 100 + "🙂" * 50))
    assert v.student_data is False


def test_school_lexicon_folder_reaches_the_verdict(hasher, tmp_path):
    (tmp_path / "zorg.txt").write_text("plusgroepje\n", encoding="utf-8")
    plain = build_detector(DetectionSettings(spacy_model="none"), hasher)
    extended = build_detector(DetectionSettings(spacy_model="none", lexicon_dirs=[tmp_path]), hasher)
    text = "Daan Jansen gaat na de kerst naar het plusgroepje."
    assert not plain.analyze(body(text)).student_data
    verdict = extended.analyze(body(text))
    assert verdict.student_data and verdict.categories == ["zorg"]


def test_cijfers_need_a_grade_context(detector):
    table = "Daan Jansen uit groep 7 maakt de begroting.\nDe cijfers van 2024:\nPost A 1200\nPost B 3400"
    v = detector.analyze(body(table))
    assert "cijfers" not in v.categories
    assert "cijfers_zonder_cijfercontext:1" in v.reasons
    v = detector.analyze(body("Daan Jansen uit groep 7: zijn cijfers voor de toets zijn een 4,5 en 5,2."))
    assert "cijfers" in v.categories


def test_thuissituatie_without_the_word_scheiding(detector):
    v = detector.analyze(body("Daan Jansen uit groep 4 woont bij zijn oma; omgang met vader via de rechter."))
    assert v.student_data and "thuissituatie" in v.categories


def test_a_titled_person_named_again_is_no_pupil(hasher):
    """A news item about the mayor talking to pupils is no pupil data: "Wiebigje" later in the
    text is the mayor again, not a pupil near the word "leerlingen"."""
    from detectors import build_detector
    from detectors.settings import DetectionSettings
    from tests.detectors.conftest import body

    detector = build_detector(DetectionSettings(spacy_model="none"), hasher)
    news = ("In Rotterdam sprak burgemeester Wiebigje Tange met leerlingen over pesten. "
            "Wiebigje vertelde over haar eigen schooltijd.")
    verdict = detector.analyze(body(news))
    assert not verdict.student_data and "naam_herhaald:1" in verdict.reasons, verdict.reasons
    # a parent who signs a sick note may share the child's first name: the child stays a subject
    note = "Beste juf Els,\n\nMohammed heeft hoofdpijn en blijft thuis.\n\nGroet,\nMohammed Hendriks"
    sick = detector.analyze(body(note))
    assert sick.student_data and "gezondheid" in sick.categories, sick.reasons
