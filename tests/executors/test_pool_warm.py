"""The pool's forkserver loads the spec-independent part of the engine once: a worker forked
from it finds the name lists loaded, and a preparation that fails never stops the forkserver."""

from __future__ import annotations

import multiprocessing

import pytest

from scanner.executors import warm
from scanner.executors.pool import FORKSERVER_PRELOAD, _start_context


def _report_loaded(conn) -> None:  # runs in a process forked from the pool's forkserver
    import sys

    from detectors.recognizers import names

    conn.send((names._LEXICON is not None, "scanner.extract.mime" in sys.modules))
    conn.close()


def test_a_forked_worker_finds_the_name_lists_loaded() -> None:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver on this platform: workers are spawned and load the lists themselves")
    assert FORKSERVER_PRELOAD[-1] == "scanner.executors.warm"
    context = _start_context()
    parent, child = context.Pipe()
    process = context.Process(target=_report_loaded, args=(child,))
    process.start()
    child.close()
    assert parent.poll(60)
    assert parent.recv() == (True, True)
    process.join(10)


def test_a_failing_preparation_is_reported_not_raised(monkeypatch) -> None:
    from detectors.recognizers import names

    def broken() -> None:
        raise OSError("lists unreadable")

    monkeypatch.setattr(names, "name_lexicon", broken)
    assert warm.prepare() is False
    monkeypatch.undo()
    monkeypatch.setattr(warm, "LATE_IMPORTS", ("scanner.no_such_module",))
    assert warm.prepare() is False
    monkeypatch.undo()
    assert warm.prepare() is True
