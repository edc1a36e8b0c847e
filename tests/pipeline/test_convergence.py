"""Convergence of the pipeline itself (issue 15, property 1), driven by seeded fault schedules.

A source (the in-test :mod:`tests.pipeline.memory_source`, which follows the connector
contract: delta with ``Gone``, ``Resync`` on an expired cursor, ``Blind`` for what it cannot
read) changes a little every night while the scan meets transient faults: failed downloads
(429, resets, permissions), an unreadable subfolder, an expired delta token, a listing that
breaks off, an empty mount point, a kill -9 in the middle of the run. Once the faults stop,
the next run must leave the store equal to the store of a clean run over the same source
state (:func:`tests.convergence.assert_converged`): same items, findings, categories,
statuses and due dates; nothing active that is gone; nothing closed that exists.

A run killed in the last faulty night is resumed first: a resumed run is the rest of the same
(faulty) run, and the property is about the first run that starts after the faults stopped.

The schedules keep the real removals of one night small (one item), as in real schools;
larger ones are the suspected outages that ``test_truth`` covers, which close only on a
second run or on IT's confirmation.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from scanner.pipeline import ScanRunner
from scanner.store import Store
from tests.convergence import assert_converged, store_snapshot
from tests.pipeline.conftest import settings_for
from tests.pipeline.memory_source import WORLDS, Faults, World

TODAY = datetime(2025, 3, 1, 12, tzinfo=UTC)
FOLDERS = ("Inbox", "Zorg", "Klas")
FETCH_CODES = ("throttled", "fetch_failed", "unreachable", "access_denied", "locked", "timeout")
SEEDS = range(6)
NIGHTS = 3


class Killed(BaseException):
    """kill -9: raised from the progress hook, so none of the runner's own handling runs."""


def text(rng: random.Random, n: int) -> bytes:
    kind = rng.choice(["bsn", "plain", "zorg"])
    if kind == "bsn":
        return f"Klassenlijst {n}: Daan de Vries, BSN 111222333, groep 7.\n".encode()
    if kind == "zorg":
        return f"Notitie {n}: OPP en handelingsplan besproken met de IB'er.\n".encode()
    return f"Mededeling {n}: de gymles is verplaatst naar vrijdag.\n".encode()


def initial_world(rng: random.Random) -> World:
    world = World()
    counter = 0
    for folder in FOLDERS:
        for _ in range(6):
            counter += 1
            sub = "sub/" if rng.random() < 0.3 else ""
            world.put(folder, f"{sub}item{counter}.txt", text(rng, counter))
    return world


def change_the_source(rng: random.Random, world: World, counter: int) -> int:
    """One night of ordinary changes: new items, edits, at most one removal (a delete or a move)."""
    for _ in range(rng.randint(1, 3)):
        counter += 1
        sub = "sub/" if rng.random() < 0.3 else ""
        world.put(rng.choice(FOLDERS), f"{sub}new{counter}.txt", text(rng, counter))
    for _ in range(rng.randint(0, 2)):
        folder = rng.choice(FOLDERS)
        name = rng.choice(sorted(world.folders[folder]))
        counter += 1
        world.put(folder, name, text(rng, counter) + b"Bijgewerkt.\n")
    folder = rng.choice(FOLDERS)
    if len(world.folders[folder]) >= 5:
        name = rng.choice(sorted(world.folders[folder]))
        if rng.random() < 0.5:
            world.delete(folder, name)
        else:
            to = rng.choice([f for f in FOLDERS if f != folder])
            if name not in world.folders[to]:
                world.move(folder, name, to)
    return counter


def night_faults(rng: random.Random, world: World, delta: bool, outage_used: bool) -> tuple[Faults, bool]:
    faults = Faults()
    keys = sorted(world.items())
    if rng.random() < 0.8:
        for key in rng.sample(keys, rng.randint(1, 4)):
            faults.fetch[key] = rng.choice(FETCH_CODES)
    if rng.random() < 0.4:
        folder = rng.choice(FOLDERS)
        faults.blind[folder] = f"{folder}/sub/"
    if delta and rng.random() < 0.5:
        faults.expire = set(rng.sample(FOLDERS, rng.randint(1, len(FOLDERS))))
    if rng.random() < 0.3:
        faults.unit_error = {rng.choice(FOLDERS)}
    if not outage_used and rng.random() < 0.2:
        setattr(faults, rng.choice(["empty", "no_units"]), True)
        outage_used = True
    return faults, outage_used


def run(settings, store, kill_after: int | None = None) -> None:
    calls = {"n": 0}

    def hook(_source, _totals):
        calls["n"] += 1
        if kill_after is not None and calls["n"] == kill_after:
            raise Killed()

    try:
        ScanRunner(settings, store, today=TODAY, progress=hook).run()
    except Killed:
        pass


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "listing"])
@pytest.mark.parametrize("seed", SEEDS)
def test_once_faults_stop_the_next_run_equals_a_clean_run(tmp_path, seed, delta):
    rng = random.Random(seed * 2 + delta)
    world = initial_world(rng)
    WORLDS["w"] = world
    source = [{"name": "bron", "kind": "memory", "world": "w", "delta": delta}]
    settings = settings_for(tmp_path, source, name="faulty")
    store = Store(settings.database_url)
    run(settings, store)  # the first night is clean: the store knows the source
    counter, outage_used, killed = 1000, False, False
    for _ in range(NIGHTS):
        counter = change_the_source(rng, world, counter)
        world.faults, outage_used = night_faults(rng, world, delta, outage_used)
        kill_after = rng.randint(2, 12) if not killed and rng.random() < 0.3 else None
        killed = killed or kill_after is not None
        run(settings, store, kill_after)
    world.faults = Faults()
    if store.unfinished_run("scan"):
        run(settings, store)  # the rest of the killed (faulty) run
    run(settings, store)  # the first run after the faults stopped

    clean_settings = settings_for(tmp_path, source, name="clean")
    clean = Store(clean_settings.database_url)
    run(clean_settings, clean)
    expected = store_snapshot(clean)
    assert {key for _, key in expected} == set(world.items())
    assert_converged(store_snapshot(store), expected)
    # Nothing is left waiting for another attempt, and nothing was given up.
    assert all(item["attempts"] == 0 and not item["stale"] for item in store_snapshot(store).values())
    store.close()
    clean.close()
