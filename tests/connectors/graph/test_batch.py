"""JSON batching (issue 21 item 4): the fake's ``$batch`` as Microsoft documents it, and the mail
connector's use of it, counted on the server side (tests/services/fake_graph.py).

* the fake: at most 20 requests, relative urls, responses in any order with their own status,
  headers and body, ``dependsOn`` (424 after a failed dependency, 400 for one it cannot honour);
* an unchanged scan of N folders makes ceil(N/20) delta batches and nothing else per folder;
* seeded fault schedules inside batches (an inner 429 with its own Retry-After, an inner 410,
  an inner 5xx) and on the batch itself (429, 503): once the faults stop, the next run's store
  equals a clean run's store, and nothing was closed that was not really deleted.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from connectors.graph.client import BatchRequest, GraphError
from scanner.config import load_config
from tests.convergence import assert_stores_converged, scan, states
from tests.crawling import FakeClock

from .conftest import connection, mail_connector

MAILBOXES = [f"docent{n}@school.nl" for n in range(3)]
FOLDERS = [f"Map {n:02d}" for n in range(15)]
DELTA = "/messages/delta"


def _client(fake: Any, certs: Any, clock: FakeClock) -> Any:
    connector = mail_connector(fake, certs, clock, mailboxes=["a@school.nl"])
    return connector.client


def _post(client: Any, payload: Any) -> Any:
    response = client.request("POST", "$batch", json=payload)
    assert isinstance(response, requests.Response)
    return response.json()


def test_the_fake_batch_answers_as_documented(fake, certs) -> None:
    box = fake.add_mailbox("a@school.nl")
    fake.add_folder("a@school.nl", "Inbox")
    client = _client(fake, certs, FakeClock())
    user = f"/users/{box.user_id}"

    with pytest.raises(GraphError) as too_many:
        _post(client, {"requests": [{"id": str(n), "method": "GET", "url": user + "/mailFolders"}
                                    for n in range(21)]})
    assert too_many.value.status == 400
    with pytest.raises(GraphError) as duplicate:
        _post(client, {"requests": [{"id": "1", "method": "GET", "url": user + "/mailFolders"}] * 2})
    assert duplicate.value.status == 400
    with pytest.raises(GraphError) as forward:  # a dependency must come earlier in the batch
        _post(client, {"requests": [{"id": "1", "method": "GET", "url": user + "/mailFolders", "dependsOn": ["2"]},
                                    {"id": "2", "method": "GET", "url": user + "/mailFolders"}]})
    assert forward.value.status == 400

    served = fake.batched_requests
    body = _post(client, {"requests": [
        *({"id": f"f{n}", "method": "GET", "url": user + "/mailFolders"} for n in range(17)),
        {"id": "abs", "method": "GET", "url": f"{fake.graph_url}{user}/mailFolders"},
        {"id": "gone", "method": "GET", "url": user + "/mailFolders/nope/childFolders"},
        {"id": "after", "method": "GET", "url": user + "/mailFolders", "dependsOn": ["gone"]},
    ]})
    answers = {r["id"]: r for r in body["responses"]}
    assert len(answers) == 20
    assert answers["f0"]["status"] == 200 and answers["f0"]["body"]["value"][0]["displayName"] == "Inbox"
    assert answers["f0"]["headers"]["Content-Type"].startswith("application/json")
    assert answers["abs"]["status"] == 400  # urls are relative, without the version
    assert answers["gone"]["status"] == 404
    assert answers["after"]["status"] == 424  # its dependency failed
    assert fake.batched_requests - served == 18  # the 400 and the 424 were never served


def test_the_responses_come_back_shuffled(fake, certs) -> None:
    box = fake.add_mailbox("a@school.nl")
    client = _client(fake, certs, FakeClock())
    ids = [str(n) for n in range(20)]
    body = _post(client, {"requests": [{"id": i, "method": "GET", "url": f"/users/{box.user_id}/mailFolders"}
                                       for i in ids]})
    order = [r["id"] for r in body["responses"]]
    assert sorted(order) == sorted(ids) and order != ids


def test_inner_faults_and_whole_batch_faults(fake, certs) -> None:
    box = fake.add_mailbox("a@school.nl")
    fake.add_folder("a@school.nl", "Inbox")
    clock = FakeClock()
    client = _client(fake, certs, clock)
    url = f"/users/{box.user_id}/mailFolders"
    fake.schedule([(r"/mailFolders$", "429", "7"), (r"/mailFolders$", "410"), (r"/mailFolders$", "503")])
    answers = client.batch([BatchRequest(str(n), url, {}) for n in range(4)])
    assert answers is not None
    statuses = sorted(a.status for a in answers.values())
    assert statuses == [200, 410, 429, 503]
    throttled = next(a for a in answers.values() if a.status == 429)
    assert throttled.headers["retry-after"] == "7"
    assert next(a for a in answers.values() if a.status == 410).code == "SyncStateNotFound"

    # The whole batch throttled: retried after its Retry-After, like any request.
    fake.schedule([(r"\$batch$", "429", "5"), (r"\$batch$", "503", "2")])
    answers = client.batch([BatchRequest("1", url, {})])
    assert answers is not None and answers["1"].status == 200
    assert clock.waits[-2:] == [5.0, 2.0]

    # A batch that keeps failing is given up: the caller sends the requests alone.
    fake.inject("503", r"\$batch$", times=100)
    assert client.batch([BatchRequest("1", url, {})]) is None


# -- the connector, counted at the server ---------------------------------------------------------


def world(fake: Any, n_folders: int = len(FOLDERS)) -> dict[str, list[str]]:
    fake.folder_page_cap = 100
    ids: dict[str, list[str]] = {}
    for mailbox in MAILBOXES:
        fake.add_mailbox(mailbox)
        for n, folder in enumerate(FOLDERS[:n_folders]):
            message = fake.add_message(mailbox, folder, f"Bericht {n}", body=f"Leerling {n}, BSN 111222333.",
                                       received="2023-03-01T08:00:00Z")
            ids.setdefault(mailbox, []).append(message.id)
    return ids


def settings(tmp_path: Path, fake: Any, certs: Any, name: str, executor: str = "inline") -> Any:
    conn = connection(fake, certs, retry={"max_attempts": 4, "backoff_base_seconds": 0.001,
                                          "backoff_max_seconds": 0.01, "max_total_wait_seconds": 5})
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / f"{name}-state"), "secret_file": str(tmp_path / "hmac.key"),
        "school": {"name": "Test"}, "detection": {"spacy_model": "none"},
        "sources": [{"name": "m365", "kind": "graph_mail", "mailboxes": MAILBOXES, **conn}],
        "executor": {"kind": executor, "workers": 1, "batch_size": 8}}), encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize("executor", ["inline", "pool"])
def test_an_unchanged_scan_of_n_folders_makes_ceil_n_over_20_delta_batches(fake, certs, tmp_path,
                                                                          executor) -> None:
    world(fake)
    config = settings(tmp_path, fake, certs, "nightly", executor)
    first, problems = scan(config)
    assert problems == [] and first.totals()["analysed"] == len(MAILBOXES) * len(FOLDERS)

    start, batches = len(fake.log), len(fake.batches)
    second, problems = scan(config)
    assert problems == [] and second.totals()["analysed"] == 0
    asked = fake.log[start:]
    folders = len(MAILBOXES) * len(FOLDERS)  # 45 folders: 3 delta batches (20, 20, 5)
    deltas = [r for r in asked if r.path.endswith(DELTA)]
    assert len(deltas) == folders and all(r.batched and r.status == 200 for r in deltas)
    sent = fake.batches[batches:]
    assert sorted(len(b) for b in sent if b[0].endswith(DELTA)) == [5, 20, 20]
    # The folder listing: the 3 mailboxes' top levels in one batch (no child folders here).
    assert [len(b) for b in sent if not b[0].endswith(DELTA)] == [3]
    graph = [r.path for r in asked if r.path.startswith("/v1.0/") and not r.batched]
    assert graph == ["/v1.0/$batch"] * 4


def test_without_batching_every_folder_is_asked_alone(fake, certs, clock) -> None:
    world(fake, 3)
    connector = mail_connector(fake, certs, clock, mailboxes=MAILBOXES, batch_requests=False)
    units = list(connector.units())
    assert len(units) == 9 and fake.batches == []
    assert sum(1 for r in fake.log if r.path.endswith("/mailFolders") and not r.batched) == len(MAILBOXES)


def fault_schedule(rng: random.Random, fake: Any) -> list[tuple[str, str, str | None]]:
    """Faults aimed at the delta requests and folder listings served inside batches, and at
    the batches themselves, in a seeded order."""
    folder = lambda: fake.folder_id(rng.choice(MAILBOXES), rng.choice(FOLDERS))  # noqa: E731
    entries: list[tuple[str, str, str | None]] = [
        (f"/mailFolders/{folder()}{DELTA}$", "429", "0.01"),
        (f"/mailFolders/{folder()}{DELTA}$", "410", None),
        (f"/mailFolders/{folder()}{DELTA}$", rng.choice(["500", "503", "504"]), None),
        (r"/mailFolders$", rng.choice(["429", "503"]), "0.01"),
        (r"/mailFolders$", rng.choice(["500", "504"]), None),
        (r"\$batch$", rng.choice(["429", "503"]), "0.01"),
    ]
    rng.shuffle(entries)
    return entries


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_faults_inside_batches_converge_and_close_only_what_is_gone(fake, certs, tmp_path, seed) -> None:
    rng = random.Random(seed)
    ids = world(fake)
    nightly = settings(tmp_path, fake, certs, "nightly")
    scan(nightly)

    deleted = []
    for mailbox in MAILBOXES:  # the tenant changes: one message gone, one new, per mailbox
        message_id = rng.choice(ids[mailbox])
        fake.delete_message(mailbox, message_id)
        deleted.append(f"{mailbox}:{message_id}")
        fake.add_message(mailbox, rng.choice(FOLDERS), "Nieuw", body="Een nieuwe ziekmelding, BSN 111222333.")
    schedule = fault_schedule(rng, fake)
    fake.schedule(schedule)
    start = len(fake.log)
    summary, _ = scan(nightly)  # the night with faults
    # Every change is seen the same night: a failed batch entry is asked again alone.
    assert summary.totals()["analysed"] == len(MAILBOXES)
    asked = fake.log[start:]
    hit = [r for r in asked if r.fault]
    assert len(hit) == len(schedule) and any(r.batched for r in hit) and any(r.path.endswith("$batch") for r in hit)
    for pattern, _, _ in schedule:
        if pattern.endswith(f"{DELTA}$"):
            folder = pattern[len("/mailFolders/"):-len(f"{DELTA}$")]
            assert any(r.path.endswith(f"/{folder}{DELTA}") and not r.batched and r.status == 200 for r in asked)
    closed = {key for (_, key), state in states(nightly).items() if state != "actief"}
    assert closed <= set(deleted)  # nothing closed that was not seen gone

    fake.clear_faults()
    scan(nightly)  # the night after
    clean = settings(tmp_path, fake, certs, "clean")
    scan(clean)
    assert_stores_converged(nightly, clean, deleted_meanwhile=True)
    assert {key for (_, key), state in states(nightly).items() if state != "actief"} == set(deleted)
