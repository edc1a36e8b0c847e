"""A real store with a clean-up history for the FG page and the store-level figures: six
teachers, each with two overdue items named by a sent digest; five clean both up (one moves
them on a Verwijderen answer) two days after the digest, the sixth holds one. ``NOW`` is when the FG looks: long enough
after the digest that the block is complete and its cohort had its three weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanner.answers.fg_auth import hash_password
from scanner.config import load_config
from scanner.store import Store, open_store
from tests.answers.helpers import flagged

PASSWORD = "zeven-kikkers-in-een-emmer"
PASSWORD_HASH = hash_password(PASSWORD)
TEACHERS = [f"docent{n}@school.nl" for n in range(1, 7)]
NOW = datetime.now(UTC) + timedelta(days=80)


def fg_settings(tmp: Path, public_url: str = "https://schoonschip.proefschool.nl", **fg: object):
    share = tmp / "share"
    share.mkdir(exist_ok=True)
    return load_config(None, {
        "school": {"name": "De Proefschool"},
        "state_dir": str(tmp / "data"),
        "sources": [{"name": "gedeeld", "kind": "folder", "path": str(share), "owner": TEACHERS[0]}],
        "answers": {"public_url": public_url},
        "fg_page": {"password_hash": PASSWORD_HASH, **fg},
    })


def with_history(settings, title_value: str = "") -> tuple[Store, dict[str, list[str]]]:
    """The store and each teacher's item ids; item titles carry ``title_value``."""
    store = open_store(settings)
    ids: dict[str, list[str]] = {}
    for n, owner in enumerate(TEACHERS):
        ids[owner] = flagged(store, settings, [f"plan {title_value} {n}-a.txt", f"plan {title_value} {n}-b.txt"],
                             owner=owner, folder=f"Map{n}")
        store.record_listed(owner, "2026-W49", ids[owner])
        store.record(owner, "2026-W49", "sending", None)
        store.record(owner, "2026-W49", "sent", None)
    sent = store.first_digests(ids[TEACHERS[0]])[ids[TEACHERS[0]][0]]
    for n, owner in enumerate(TEACHERS[:5]):
        when = sent + timedelta(days=2, minutes=n)  # one day, one week, one block: no cell of fewer teachers
        if n == 0:
            store.record_answers([{"item_id": i, "owner_key": "k", "action": "verwijderen", "reason": None,
                                   "answered_at": when, "outcome": "moved", "error_code": None, "place": "quarantaine",
                                   "reversed_at": None} for i in ids[owner]], {}, moved=ids[owner], when=when)
        else:
            store.close_ids(ids[owner], when)
    held = ids[TEACHERS[5]][0]
    store.record_answers([{"item_id": held, "owner_key": "k", "action": "bewaren", "reason": "leerlingdossier",
                           "answered_at": sent + timedelta(days=2), "outcome": "recorded", "error_code": None,
                           "place": None, "reversed_at": None}], {held: "legal_hold"})
    return store, ids
