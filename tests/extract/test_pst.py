"""Outlook .pst/.ost archives read in the sandbox: every mail announced with its folder path,
counted against pst-extractor's own listing of the same files (tests/pst_samples.py)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.contained import split_archive
from scanner.core.model import Fetched, ItemKind, ItemRef
from scanner.extract import Extraction, Extractor
from tests.planted import valid_bsns
from tests.pst_samples import (
    ENRON,
    OSTS,
    body_of,
    expected_listing,
    plant,
    samples_dir,
    set_store_password,
)

PLANT_SUBJECT = "I/B Link Capacity for November and December 2001"
BSN = valid_bsns(1)[0]
PLANTED = (f"Beste collega, hierbij het OPP van Sanne de Vries uit groep 7, BSN {BSN}. Zij heeft "
           "dyslexie en krijgt begeleiding van de intern begeleider. Graag bespreken.")


def read(extractor: Extractor, path: Path, **limits) -> Extraction:
    fetched = Fetched(name=path.name, size=path.stat().st_size, path=path)
    if limits:
        return extractor.extract_with(fetched, ItemKind.FILE, extractor.limits.model_copy(update=limits))
    return extractor.extract(fetched, ItemKind.FILE)


def listing(result: Extraction) -> Counter:
    return Counter((m["folder"], m["subject"]) for m in result.messages)


def test_enron_pst_lists_every_mail_pst_extractor_lists(extractor):
    expected = expected_listing(ENRON)
    assert len(expected) == 71
    result = read(extractor, samples_dir() / ENRON)
    assert result.listing_complete is True
    assert listing(result) == Counter(expected)
    assert len({m["key"] for m in result.messages}) == 71
    # the folder path inside the archive, below Outlook's hidden top folder
    assert ("lokay-m/MLOKAY (Non-Privileged)/TW-Commercial Group", "New OBA's") in listing(result)


@pytest.mark.parametrize("name", OSTS)
def test_ost_mails_are_all_listed(extractor, name):
    """pst-extractor lists only e-mails of an .ost; we list every message (calendar items hold
    text too), so its listing must be contained in ours."""
    expected = Counter(expected_listing(name))
    assert sum(expected.values()) == {OSTS[0]: 47, OSTS[1]: 26}[name]
    result = read(extractor, samples_dir() / name)
    assert result.listing_complete is True
    assert not expected - listing(result)


def test_attachments_are_read_nested_under_their_mail(extractor):
    result = read(extractor, samples_dir() / "pstextractortestpdf@outlook.com.ost")
    ref = ItemRef(source="s", item_key="Archief/test.ost", kind=ItemKind.FILE, owner="ib@school.nl",
                  folder="Archief", title="test.ost", date=datetime(2020, 1, 1, tzinfo=UTC))
    mails, own = split_archive(ref, result.parts, result.errors, result.messages)
    assert not own
    single = [m for m in mails if m.ref.title == "single PDF"]
    assert len(single) == 1
    assert any(p.part.endswith(".pdf") and p.text.strip() for p in single[0].parts), \
        [p.part for p in single[0].parts]
    assert single[0].ref.item_key.startswith("Archief/test.ost//")
    assert single[0].ref.folder == "Archief/test.ost/Inbox"
    assert single[0].ref.owner == "ib@school.nl"


def test_keys_and_hashes_are_stable_across_reads(extractor):
    first = read(extractor, samples_dir() / ENRON)
    second = read(extractor, samples_dir() / ENRON)
    assert [(m["key"], m["hash"]) for m in first.messages] == [(m["key"], m["hash"]) for m in second.messages]


def test_planted_mail_changes_only_its_own_hash(extractor, tmp_path):
    source = samples_dir() / ENRON
    target = tmp_path / "archief 2012.pst"
    plant(source, target, body_of(source, PLANT_SUBJECT), PLANTED)
    before = {m["key"]: m["hash"] for m in read(extractor, source).messages}
    result = read(extractor, target)
    after = {m["key"]: m["hash"] for m in result.messages}
    changed = [key for key in before if before[key] != after[key]]
    assert len(changed) == 1
    planted = next(m for m in result.messages if m["key"] == changed[0])
    assert planted["subject"] == PLANT_SUBJECT
    assert BSN in "".join(p.text for p in result.parts if p.part == planted["prefix"])


def test_truncated_archive_is_an_item_error_not_a_stop(extractor, tmp_path):
    truncated = tmp_path / "archief.pst"
    truncated.write_bytes((samples_dir() / ENRON).read_bytes()[:5_000_000])
    result = read(extractor, truncated)
    assert [e.code for e in result.errors] == ["corrupt"]
    assert not result.messages and result.listing_complete is None
    # the sandbox is still fine afterwards
    assert read(extractor, samples_dir() / ENRON).listing_complete is True


def test_password_protected_pst_is_an_item_error(extractor, tmp_path):
    """PidTagPstPassword (0x67FF) in the message store: a CRC of the password, 0 when none.
    Set by the same in-place route as the planted text: the property's value in the store's
    property context (found by libpff, written back with the block's CRC)."""
    target = tmp_path / "prive.pst"
    set_store_password(samples_dir() / ENRON, target)
    result = read(extractor, target)
    assert [e.code for e in result.errors] == ["encrypted"]
    assert not result.messages


def test_time_limit_keeps_what_was_read_and_says_the_listing_broke_off(extractor):
    result = read(extractor, samples_dir() / "pstextractortest@outlook.com.ost", max_seconds_per_item=0.05)
    if "timeout" not in {e.code for e in result.errors}:
        pytest.skip("this machine read the archive within 0.05 s")
    assert result.listing_complete is False


def test_a_pst_inside_a_zip_is_read_as_the_zips_text(extractor, tmp_path):
    """Only an archive that is the item has mails that are items; one inside a zip is a
    container like any other, its mails' text the zip's."""
    import zipfile

    source = samples_dir() / ENRON
    planted = tmp_path / "archief.pst"
    plant(source, planted, body_of(source, PLANT_SUBJECT), PLANTED)
    bundle = tmp_path / "export.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.write(planted, "oud/archief.pst")
    result = read(extractor, bundle)
    assert not result.messages and result.listing_complete is None
    assert any(BSN in p.text and p.part.startswith("oud/archief.pst/m") for p in result.parts)
