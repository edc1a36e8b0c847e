"""SMB shares under real faults, through the whole scan (issue 15): a folder the server stops
serving (``chmod`` on the server side; smbd runs as the forced user ``nobody``, so the mode
really applies), a changed file that may not be read, a share that suddenly lists empty, and a
scan killed with SIGKILL. Nothing that exists is closed, every problem is named, and once the
fault is gone the next run's store equals the store of a clean run on the same share.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scanner.config import load_config
from tests.connectors.smb.samba_server import Samba
from tests.connectors.smb.smb_helpers import PASSWORD_ENV
from tests.connectors.smb.smb_tree import Tree
from tests.convergence import assert_stores_converged, scan, states
from tests.services.stored import scan_killed_once_stored

pytestmark = pytest.mark.service

BSN = "111222333"  # passes the 11-proef; fictional
_counter = itertools.count()



def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in (path.parent, *path.parent.parents):
        if parent.name in ("", "wijzig"):
            break
        parent.chmod(0o755)
    path.write_text(content, encoding="utf-8")
    path.chmod(0o644)


def build_share(root: Path) -> None:
    """8 files under Zorg/Klas 3 (5 with a BSN, as in the issue's test), 2 elsewhere."""
    for index in range(8):
        body = f"OPP leerling {index}, BSN {BSN}, diagnose ADHD.\n" if index < 5 else f"Rooster {index}.\n"
        _write(root / "Zorg" / "Klas 3" / f"dossier-{index}.txt", body)
    _write(root / "Zorg" / "overzicht.txt", "Overzicht van de zorg, zonder namen.\n")
    _write(root / "Groep 7" / "lijst.txt", f"naam;bsn\nDaan de Vries;{BSN}\n")


@pytest.fixture
def share(samba: tuple[Samba, Tree], tmp_path: Path):
    """(server, share-side folder, configuration factory) for a fresh folder in 'wijzig'."""
    server, _ = samba
    name = f"conv-{os.getpid()}-{next(_counter)}"
    root = server.shares["wijzig"] / name
    build_share(root)
    os.environ[PASSWORD_ENV] = server.password
    secret = tmp_path / "hmac.key"
    secret.write_text("ef" * 32)

    def configure(state: str, *, split: bool = True) -> object:
        data = {
            "state_dir": str(tmp_path / state), "school": {"name": "Test"}, "secret_file": str(secret),
            "sources": [{
                "name": "fileserver", "kind": "smb", "server": server.host, "port": server.port,
                "username": server.username, "password": {"env": PASSWORD_ENV},
                "shares": [{"share": "wijzig", "folder": name, "split_subfolders": split,
                            "owner": "ib@school.nl"}],
            }],
        }
        path = tmp_path / f"{state}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return load_config(path)

    yield server, root, configure
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(root)


def chmod(target: Callable[[Path], Path]) -> Callable[[Path], Callable[[], None]]:
    def apply(root: Path) -> Callable[[], None]:
        path = target(root)
        mode = path.stat().st_mode & 0o7777
        path.chmod(0)
        return lambda: path.chmod(mode)
    return apply


def changed_and_unreadable(root: Path) -> Callable[[], None]:
    path = root / "Zorg" / "Klas 3" / "dossier-0.txt"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("Aanvulling: medicatie gewijzigd.\n")
    return chmod(lambda _: path)(root)


def emptied(root: Path) -> Callable[[], None]:
    """Every folder of the share is still there, but lists no file (a restore in progress)."""
    away = root.with_name(root.name + ".weg")
    shutil.copytree(root, away)
    for path in root.rglob("*"):
        if path.is_file():
            path.unlink()

    def restore() -> None:
        shutil.rmtree(root)
        away.rename(root)
    return restore


FAULTS = {
    "nested_folder_unreadable": (chmod(lambda root: root / "Zorg" / "Klas 3"), {"access_denied"}),
    "top_folder_unreadable": (chmod(lambda root: root / "Zorg"), {"access_denied"}),
    "changed_file_unreadable": (changed_and_unreadable, {"access_denied"}),
}


@pytest.mark.parametrize("split", [True, False], ids=["split", "whole"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_closes_nothing_is_named_and_the_next_run_converges(share, fault, split):
    server, root, configure = share
    faulted = configure("faulted", split=split)
    first, errors = scan(faulted)
    assert not errors and first.totals()["analysed"] == 10 and first.totals()["flagged"] == 6
    before = states(faulted)

    apply, codes = FAULTS[fault]
    restore = apply(root)
    try:
        during, errors = scan(faulted)
    finally:
        restore()
    assert states(faulted) == before, "a fault closed files that still exist"
    assert during.totals()["closed"] == 0
    assert {error["code"] for error in errors} == codes, errors
    for error in errors:
        assert "\n" not in error["message"] and BSN not in error["message"]

    _, errors = scan(faulted)
    assert not errors
    reference = configure("reference", split=split)
    scan(reference)
    assert_stores_converged(faulted, reference)


def test_a_blind_spot_protects_only_while_it_lasts(share):
    """Files deleted while their folder was unreadable are closed by the first run that can
    see the folder again; the others stay."""
    server, root, configure = share
    faulted = configure("faulted")
    scan(faulted)
    klas = root / "Zorg" / "Klas 3"
    klas.chmod(0)
    try:
        _, errors = scan(faulted)
    finally:
        klas.chmod(0o755)
    assert [e["code"] for e in errors] == ["access_denied"]
    assert f"\\\\{server.host}\\wijzig" in errors[0]["message"]  # the place is named
    (klas / "dossier-0.txt").unlink()
    (klas / "dossier-7.txt").unlink()
    summary, _ = scan(faulted)
    assert summary.totals()["closed"] == 2
    closed = sorted(k for k, v in states(faulted).items() if v == "opgeruimd")
    assert [k[1].rsplit("/", 1)[1] for k in closed] == ["dossier-0.txt", "dossier-7.txt"]


def test_a_share_that_lists_empty_is_reported(share):
    server, root, configure = share
    settings = configure("faulted", split=False)
    scan(settings)
    restore = emptied(root)
    try:
        _, errors = scan(settings)
    finally:
        restore()
    # the connector says what it saw, the pipeline's outage rule keeps the items (issue 15)
    assert [e["code"] for e in errors] == ["empty_listing", "suspected_outage"]
    assert "10" in errors[0]["message"]  # how many there were last time
    assert set(states(settings).values()) == {"actief"}


def test_kill_9_under_a_fault_then_a_clean_run_converges(share, tmp_path):
    server, root, configure = share
    for index in range(60):
        _write(root / "Groep 7" / f"extra-{index:02d}.txt", f"Leerling {index}, BSN {BSN}.\n")
    faulted = configure("faulted")
    klas = root / "Zorg" / "Klas 3"
    klas.chmod(0)
    try:
        returncode = scan_killed_once_stored(tmp_path / "faulted.yaml", faulted.database_url, 5)
    finally:
        klas.chmod(0o755)
    assert returncode == -signal.SIGKILL, "the scan finished before it could be killed"
    summary, _ = scan(faulted)
    assert summary.status == "completed"
    reference = configure("reference")
    scan(reference)
    assert_stores_converged(faulted, reference)
    assert set(states(faulted).values()) == {"actief"}

