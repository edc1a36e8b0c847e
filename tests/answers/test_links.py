"""Answer links: what they carry is hidden and cannot be changed; they expire."""

from __future__ import annotations

import base64

import pytest

from scanner.answers.links import MAX_ITEMS, LinkCodec, LinkError

SECRET = b"s" * 32
IDS = ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"]


def test_a_link_reads_back_and_shows_nothing_it_carries():
    codec = LinkCodec(SECRET)
    token = codec.make("mentor@school.nl", "verwijderen", IDS, now=1_800_000_000)
    claim = codec.read(token, now=1_800_000_100)
    assert (claim.owner, claim.action, claim.item_ids, claim.issued) == (
        "mentor@school.nl", "verwijderen", tuple(IDS), 1_800_000_000)
    assert claim.destructive and len(claim.nonce) == 24
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for needle in (b"mentor", b"school", bytes.fromhex(IDS[0]), IDS[0].encode()):
        assert needle not in raw
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    # two links for the same answer differ (each has its own nonce)
    assert codec.make("mentor@school.nl", "verwijderen", IDS) != codec.make("mentor@school.nl", "verwijderen", IDS)


@pytest.mark.parametrize("change", ["flip", "truncate", "extend", "garbage", "other_key"])
def test_any_change_makes_a_forged_link(change):
    codec = LinkCodec(SECRET)
    token = codec.make("mentor@school.nl", "bewaren", IDS)
    if change == "flip":
        middle = len(token) // 2
        token = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    elif change == "truncate":
        token = token[:-4]
    elif change == "extend":
        token += "AAAA"
    elif change == "garbage":
        token = "niet-een-link"
    else:
        token = LinkCodec(b"t" * 32).make("mentor@school.nl", "bewaren", IDS)
    with pytest.raises(LinkError) as caught:
        codec.read(token)
    assert caught.value.code == "forged"


def test_links_expire_and_undo_links_live_longer():
    codec = LinkCodec(SECRET, link_days=28, undo_days=30)
    made = 1_800_000_000
    answer = codec.make("mentor@school.nl", "verwijderen", IDS, now=made)
    undo = codec.make("mentor@school.nl", "terugdraaien", IDS, now=made)
    assert codec.read(answer, now=made + 28 * 86400).action == "verwijderen"
    with pytest.raises(LinkError) as caught:
        codec.read(answer, now=made + 28 * 86400 + 1)
    assert caught.value.code == "expired"
    assert codec.read(undo, now=made + 29 * 86400).action == "terugdraaien"
    with pytest.raises(LinkError):
        codec.read(codec.make("a@b.nl", "bewaren", IDS, now=made + 3600), now=made)  # from the future


def test_a_link_holds_one_to_a_hundred_items_and_stays_short():
    codec = LinkCodec(SECRET)
    ids = [f"{n:032x}" for n in range(MAX_ITEMS)]
    token = codec.make("mentor@school.nl", "verwijderen", ids)
    assert len(token) < 2300 and codec.read(token).item_ids == tuple(ids)
    for wrong in ([], ids + ["0" * 32]):
        with pytest.raises(ValueError):
            codec.make("mentor@school.nl", "verwijderen", wrong)
    with pytest.raises(ValueError):
        codec.make("mentor@school.nl", "wissen", IDS)
