"""Exposure of OneDrive/SharePoint files from Graph's permission resources (issue 20, item 3).

The classification is checked against the permission shapes Microsoft documents (the
``permission`` resource: ``link.scope``, ``grantedToV2`` / ``grantedToIdentitiesV2`` with
``sharePointIdentitySet`` facets, the deprecated ``grantedTo``, ``invitation``); the connector
against the fake's ``GET /drives/{id}/items/{id}/permissions`` (paged, 403, 404); the pipeline
on the server side: sharing is read for new and changed items and where the delta says sharing
changed, and an unchanged rescan asks zero permissions.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from connectors.graph.sharing import SharingRules, sharing_key
from scanner.config import load_config
from scanner.core.model import Exposure, ExposureLevel, ItemKind, ItemRef
from scanner.jobs import run_scan
from scanner.store import open_store

from .conftest import connection, files_connector

ALICE = "alice@school.nl"
TODAY = datetime(2025, 3, 1, 12, tzinfo=UTC)
RULES = SharingRules(["school.nl"], ["Alle leerlingen en personeel"])

ANYONE = {"roles": ["read"], "link": {"scope": "anonymous", "type": "view", "webUrl": "https://x/y"}}
ORGANISATION = {"roles": ["write"], "link": {"scope": "organization", "type": "edit"}}
COLLEAGUE = {"roles": ["read"], "grantedToV2": {"user": {"id": "u2", "displayName": "Collega",
                                                         "email": "bob@school.nl"}}}
EVERYONE_EXCEPT_EXTERNAL = {"roles": ["read"], "grantedToV2": {"siteUser": {
    "id": "9", "displayName": "Everyone except external users",
    "loginName": "c:0-.f|rolemanager|spo-grid-all-users/0c7c3b1e-tenant"}}}
GUEST_LOGIN = "i:0#.f|membership|ouder_gmail.com#ext#@school.onmicrosoft.com"
GUEST = {"roles": ["read"], "link": {"scope": "users", "type": "view"},
         "grantedToIdentitiesV2": [{"siteUser": {"id": "12", "displayName": "Ouder",
                                                 "loginName": GUEST_LOGIN}}]}
INVITED = {"roles": ["read"], "invitation": {"email": "ouder@gmail.com", "signInRequired": True},
           "grantedTo": {"user": {"id": "13", "displayName": "Ouder"}}}
SCHOOL_GROUP = {"roles": ["read"],
                "grantedToV2": {"group": {"id": "g1", "displayName": "Alle leerlingen en personeel"}}}
OWNER = {"roles": ["owner"], "grantedToV2": {"user": {"id": "o", "displayName": "Eigenaar", "email": ALICE}}}


def test_documented_permission_shapes_classify_by_reason_codes_only() -> None:
    assert RULES.exposure([OWNER]) == Exposure(ExposureLevel.LIMITED)
    assert RULES.exposure([OWNER, COLLEAGUE]) == Exposure(ExposureLevel.LIMITED)
    assert RULES.exposure([ANYONE]).reasons == ("anonymous_link",)
    assert RULES.exposure([ORGANISATION]).reasons == ("organisation_link",)
    assert RULES.exposure([EVERYONE_EXCEPT_EXTERNAL]).reasons == ("broad_group",)
    assert RULES.exposure([SCHOOL_GROUP]).reasons == ("broad_group",)
    assert RULES.exposure([GUEST]).reasons == ("external_guest",)
    assert RULES.exposure([INVITED]).reasons == ("external_guest",)
    both = RULES.exposure([GUEST, ANYONE, OWNER])
    assert both.level is ExposureLevel.BROAD and both.reasons == ("anonymous_link", "external_guest")
    # Without known school domains an outside address is not guessed at (only #ext# tells).
    assert SharingRules([], []).exposure([INVITED]) == Exposure(ExposureLevel.LIMITED)
    # A group that is not the whole school is not broad.
    narrow = {"roles": ["read"], "grantedToV2": {"group": {"id": "g2", "displayName": "Sectie Nederlands"}}}
    assert RULES.exposure([narrow]) == Exposure(ExposureLevel.LIMITED)


def test_sharing_key_follows_etag_and_shared_facet_and_names_nothing() -> None:
    item = {"id": "drive-alice-00001", "eTag": '"{drive-alice-00001},3"'}
    key = sharing_key(item)
    assert key and "drive-alice" not in key
    assert sharing_key({**item, "shared": {"scope": "anonymous"}}) != key
    assert sharing_key({**item, "eTag": '"{drive-alice-00001},4"'}) != key
    assert sharing_key({"id": "x"}) is None


def ref_for(item: Any) -> ItemRef:
    return ItemRef(source="m365-files", item_key=f"drive-alice:{item.id}", kind=ItemKind.FILE, owner=ALICE,
                   folder="", title=item.name, date=TODAY)


def test_the_connector_reads_every_page_and_an_unreadable_answer_is_unknown(fake, certs, clock) -> None:
    fake.add_mailbox(ALICE)
    fake.add_drive("drive-alice", owner=ALICE)
    item = fake.add_file("drive-alice", "Documenten/lijst.csv", b"naam;bsn\n")
    for permission in (COLLEAGUE, COLLEAGUE, COLLEAGUE, GUEST):  # the guest is on the third page
        fake.share("drive-alice", item.id, permission)
    connector = files_connector(fake, certs, clock, users=[ALICE])
    exposure = connector.exposure(ref_for(item))
    assert exposure.reasons == ("external_guest",)
    assert len(fake.logged("/permissions$")) == 3  # owner + 4 in pages of 2
    # 403 on the permissions (the app lacks the right, or the library forbids it): unknown.
    fake.schedule([(r"/permissions$", "403", None)])
    assert connector.exposure(ref_for(item)) == Exposure.unknown()
    fake.schedule([(r"/permissions$", "404", None)])
    assert connector.exposure(ref_for(item)) == Exposure.unknown()
    # Internal domains default to the configured users' domains.
    assert connector.sharing_rules.domains == {"school.nl"}


def settings(tmp_path: Path, fake: Any, certs: Any) -> Any:
    conn = connection(fake, certs, retry={"max_attempts": 2, "backoff_base_seconds": 0.001,
                                          "backoff_max_seconds": 0.01, "max_total_wait_seconds": 2})
    data = {
        "state_dir": str(tmp_path / "state"),
        "secret_file": str(tmp_path / "hmac.key"),
        "school": {"name": "Test"},
        "detection": {"spacy_model": "none"},
        "sources": [{"name": "m365-files", "kind": "graph_files", "users": [ALICE], "page_size": 4, **conn}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def exposures(config: Any) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    store = open_store(config)
    try:
        return {item.title or "": (item.exposure, item.exposure_reasons) for item in store.iter_items()}
    finally:
        store.close()


def requests_since(fake: Any, before: int, pattern: str) -> int:
    return sum(1 for r in fake.log[before:] if re.search(pattern, r.path))


def test_the_pipeline_reads_sharing_only_for_what_changed(tmp_path, fake, certs) -> None:
    fake.add_mailbox(ALICE)
    fake.add_drive("drive-alice", owner=ALICE, business=True)
    lijst = fake.add_file("drive-alice", "Documenten/lijst.csv", b"Naam;BSN\nDaan de Vries;111222333\n")
    fake.add_file("drive-alice", "Documenten/rooster.txt", b"De gymles is op vrijdag.\n")
    fake.share("drive-alice", lijst.id, ANYONE)
    config = settings(tmp_path, fake, certs)

    before = len(fake.log)
    run_scan(config, progress=False, echo=lambda line: None, today=TODAY)
    assert requests_since(fake, before, r"/permissions$") == 2  # two new files
    assert exposures(config) == {"lijst.csv": ("breed_gedeeld", ("anonymous_link",)),
                                 "rooster.txt": ("beperkt", ())}

    # Nothing changed: no permissions asked, nothing downloaded.
    before = len(fake.log)
    run_scan(config, progress=False, echo=lambda line: None, today=TODAY)
    assert requests_since(fake, before, r"/permissions$") == 0
    assert requests_since(fake, before, r"/content$") == 0

    # The link is removed: the delta lists the item again (new eTag, same content hash). Its
    # sharing is read again; the file is not downloaded.
    fake.unshare("drive-alice", lijst.id)
    before = len(fake.log)
    run_scan(config, progress=False, echo=lambda line: None, today=TODAY)
    assert requests_since(fake, before, r"/permissions$") == 1
    assert requests_since(fake, before, r"/content$") == 0
    assert exposures(config)["lijst.csv"] == ("beperkt", ())

    # Permissions unreadable when the item changes: unknown, never private, and no stop.
    fake.share("drive-alice", lijst.id, ORGANISATION)
    fake.schedule([(r"/permissions$", "403", None)])
    run_scan(config, progress=False, echo=lambda line: None, today=TODAY)
    assert exposures(config)["lijst.csv"] == ("onbekend", ())
