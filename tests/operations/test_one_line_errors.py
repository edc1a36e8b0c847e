"""Say what is wrong, in one line, never a traceback (issue 15): the CLI against a broken
machine. Each case runs the real command in a child process and checks its exit code and its
one-line message, Dutch by default and English with ``--lang en``.

The faults are real: a garbage and a truncated database file, a ``state_dir`` that is a file,
a file system that is full or mounted read-only (a small tmpfs), a database file without write
permission and a secret file without read permission (the child runs without root's file
capabilities, :mod:`tests.permissions`), a replaced or missing HMAC key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import allow_skip
from tests.permissions import unprivileged

BSN = "111222333"


def cli(*args: str, lang: str = "nl", unprivileged_child: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("SCHOONSCHIP_LANG", None)
    prefix = unprivileged() if unprivileged_child else []
    return subprocess.run([*prefix, sys.executable, "-m", "scanner.cli", "--lang", lang, *args],
                          capture_output=True, text=True, timeout=300, env=env)


def write_config(tmp_path: Path, state_dir: Path, share: Path, **extra) -> Path:
    data = {"state_dir": str(state_dir), "school": {"name": "Test"},
            "detection": {"spacy_model": "none"},  # the offline lexicon: faster, BSNs all the same
            "sources": [{"name": "gedeeld", "kind": "folder", "path": str(share), "owner": "ib@school.nl"}]}
    data.update(extra)
    path = tmp_path / "school.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def school(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(config, state_dir, share) of a school whose first scan succeeded."""
    share = tmp_path / "share"
    share.mkdir()
    (share / "lijst.csv").write_text(f"naam;bsn\nDaan de Vries;{BSN}\n", encoding="utf-8")
    state = tmp_path / "state"
    config = write_config(tmp_path, state, share)
    first = cli("scan", "--config", str(config), "--no-progress")
    assert first.returncode == 0, first.stderr
    return config, state, share


def both_languages(words_nl: str, words_en: str):
    """(language, words the message must hold) for Dutch and English."""
    return (("nl", words_nl), ("en", words_en))


def one_line(result: subprocess.CompletedProcess, *needles: str) -> str:
    """The error line of a failed command: no traceback anywhere, every needle in one line."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "OperationalError" not in output and "DatabaseError" not in output, output
    lines = [line for line in output.splitlines() if all(n.lower() in line.lower() for n in needles)]
    assert lines, output
    return lines[0]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_garbage_or_truncated_database(school, damage):
    config, state, share = school
    database = state / "schoonschip.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    if damage == "garbage":
        database.write_bytes(os.urandom(8192))
    else:
        data = database.read_bytes()
        database.write_bytes(data[: len(data) // 3])
    (share / "nieuw.txt").write_text(f"BSN {BSN}\n")
    for lang, words in both_languages("geen (of een beschadigde)", "not a schoonschip database"):
        for command in ("scan", "status", "report"):
            result = cli(command, "--config", str(config), lang=lang)
            assert result.returncode == 1, (command, result.stdout, result.stderr)
            one_line(result, words, str(database))


def test_a_state_dir_that_is_a_file(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text("x")
    state = tmp_path / "state"
    state.write_text("oops")
    config = write_config(tmp_path, state, share)
    for lang, words in both_languages("is een bestand, geen map", "is a file, not a folder"):
        result = cli("scan", "--config", str(config), lang=lang)
        assert result.returncode == 1
        one_line(result, words, str(state))


def test_a_read_only_database_file(school):
    config, state, share = school
    (share / "nieuw.txt").write_text(f"BSN {BSN}\n")
    for path in state.iterdir():
        if path.name.startswith("schoonschip.sqlite"):
            path.chmod(0o400)
    for lang, words in both_languages("alleen-lezen", "read-only"):
        result = cli("scan", "--config", str(config), "--no-progress", lang=lang, unprivileged_child=True)
        assert result.returncode == 1
        one_line(result, words)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a disk that can really fill up or be remounted read-only."""
    mount = tmp_path / "schijf"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if allow_skip():
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        pytest.fail(f"a tmpfs is needed for the disk tests (run as root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full(tmp_path, small_disk):
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text(f"BSN {BSN}\n")
    config = write_config(tmp_path, small_disk / "state", share)
    assert cli("scan", "--config", str(config), "--no-progress").returncode == 0
    for index in range(400):  # new items with findings: the database must grow
        (share / f"lijst-{index:03d}.csv").write_text(
            "naam;bsn\n" + "".join(f"Leerling {index}-{row};{BSN}\n" for row in range(40)), encoding="utf-8")
    fill(small_disk / "vulling")
    for lang, words in both_languages("schijf vol", "disk full"):
        result = cli("scan", "--config", str(config), "--no-progress", lang=lang)
        assert result.returncode == 1, result.stdout + result.stderr
        one_line(result, words)


def fill(path: Path) -> None:
    """Write zeros to ``path`` until the file system has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 512, 1):
            while True:
                try:
                    if os.write(fd, b"\0" * size) < size:
                        break
                except OSError:
                    break
    finally:
        os.close(fd)


def test_a_read_only_disk(tmp_path, small_disk):
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text(f"BSN {BSN}\n")
    config = write_config(tmp_path, small_disk / "state", share)
    assert cli("scan", "--config", str(config), "--no-progress").returncode == 0
    (share / "b.txt").write_text(f"BSN {BSN} nieuw\n")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for lang, words in both_languages("alleen-lezen", "read-only"):
        result = cli("scan", "--config", str(config), "--no-progress", lang=lang)
        assert result.returncode == 1, result.stdout + result.stderr
        one_line(result, words)


def test_an_unreadable_secret_file(school):
    config, state, share = school
    (state / "hmac.key").chmod(0)
    for lang, words in both_languages("niet leesbaar", "not readable"):
        result = cli("scan", "--config", str(config), "--no-progress", lang=lang, unprivileged_child=True)
        assert result.returncode == 1
        line = one_line(result, words, str(state / "hmac.key"))
        assert "unreachable" not in line and "onbereikbaar" not in line


def test_a_missing_secret_with_hashes_in_the_database_is_refused(school):
    config, state, share = school
    (state / "hmac.key").unlink()
    for lang, words in both_languages("ontbreekt", "is missing"):
        for command in ("scan", "report"):
            result = cli(command, "--config", str(config), lang=lang)
            # the store refuses it before anything runs: its item ids are keyed with the secret
            assert result.returncode == 2
            one_line(result, words, str(state / "hmac.key"))
    assert not (state / "hmac.key").exists(), "a new key was made silently"


def test_a_replaced_secret_is_refused(school):
    config, state, share = school
    original = (state / "hmac.key").read_text()
    (state / "hmac.key").write_text("ab" * 32)
    for lang, words in both_languages("hoort niet bij deze database", "does not belong to this database"):
        result = cli("scan", "--config", str(config), lang=lang)
        assert result.returncode == 2  # refused by the store (keyed item ids), a configuration error
        one_line(result, words, str(state / "hmac.key"))
    (state / "hmac.key").write_text(original)
    assert cli("scan", "--config", str(config), "--no-progress").returncode == 0


def test_a_database_from_before_the_fingerprint_accepts_its_key_once(school):
    from sqlalchemy import create_engine, text

    config, state, share = school
    engine = create_engine(f"sqlite:///{state / 'schoonschip.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("delete from meta where key = 'secret_fingerprint'"))
    engine.dispose()
    assert cli("scan", "--config", str(config), "--no-progress").returncode == 0
    (state / "hmac.key").write_text("ab" * 32)
    assert cli("scan", "--config", str(config)).returncode == 2  # the store's own fingerprint refuses it


@pytest.mark.parametrize("problem", ["missing_roster", "bad_pattern"])
def test_bad_detection_settings_fail_check_and_every_scan(tmp_path, problem):
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text("Rooster.\n")
    detection = ({"roster": {"path": str(tmp_path / "leerlingen.csv")}} if problem == "missing_roster"
                 else {"student_number_pattern": "(\\d{6}"})
    detection["spacy_model"] = "none"
    state = tmp_path / "state"
    config = write_config(tmp_path, state, share, detection=detection)
    if problem == "missing_roster":
        (tmp_path / "leerlingen.csv").write_text("roepnaam;achternaam\nDaan;Vries\n", encoding="utf-8")
        ok = cli("scan", "--config", str(config), "--no-progress")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        (tmp_path / "leerlingen.csv").unlink()
    needle = "leerlingenlijst" if problem == "missing_roster" else "student_number_pattern"
    for lang, words in both_languages("Detectie-instellingen onbruikbaar", "Detection settings unusable"):
        check = cli("check", "--config", str(config), "--no-connect", lang=lang)
        assert check.returncode == 1
        one_line(check, words, needle)
    for _ in range(2):  # nothing changed at the source: still a failure, every night
        result = cli("scan", "--config", str(config), "--no-progress")
        assert result.returncode == 2, result.stdout + result.stderr
        one_line(result, "Detectie-instellingen onbruikbaar", needle)


def test_created_private_whatever_the_umask(tmp_path):
    """Under cron with umask 000: the state folder is 0700, the database and secret 0600."""
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text(f"BSN {BSN}\n")
    state = tmp_path / "nieuw" / "state"
    config = write_config(tmp_path, state, share)
    result = subprocess.run(["sh", "-c", f"umask 000 && exec {sys.executable} -m scanner.cli scan "
                                         f"--config {config} --no-progress"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert state.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "nieuw").stat().st_mode & 0o022 == 0
    files = [p for p in state.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"schoonschip.sqlite", "hmac.key"}
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, (path.name, oct(path.stat().st_mode))
    for path in state.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))
    shutil.rmtree(tmp_path / "nieuw")
