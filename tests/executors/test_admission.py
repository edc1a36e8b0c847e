"""The admission shared by the pool and Dask executors: per-key limits, a bounded waiting room,
held batches offered again oldest first."""

from __future__ import annotations

from scanner.executors.admission import Admission


def _admission(items: list[tuple[str, str | None]], limit: int = 1, max_waiting: int = 10) -> Admission:
    return Admission(items, key=lambda item: item[1], per_key_limit=limit, max_waiting=max_waiting)


def test_a_key_at_its_limit_is_held_and_released_in_order() -> None:
    admission = _admission([("a1", "a"), ("a2", "a"), ("b1", "b"), ("a3", "a"), ("n", None)])
    first = admission.next()
    assert first == ("a1", "a")
    admission.started(first)
    started = []
    while (item := admission.next()) is not None:
        admission.started(item)
        started.append(item[0])
    assert started == ["b1", "n"]  # a2 and a3 wait for a1
    assert admission.exhausted and not admission.drained
    admission.finished(first)
    assert admission.next() == ("a2", "a")  # the oldest held batch of the key, not a3
    admission.started(("a2", "a"))
    assert admission.next() is None
    admission.finished(("a2", "a"))
    assert admission.next() == ("a3", "a")
    assert admission.drained


def test_the_waiting_room_is_bounded() -> None:
    reads = []

    def source():
        for n in range(100):
            reads.append(n)
            yield (f"a{n}", "a")

    admission = Admission(source(), key=lambda item: item[1], per_key_limit=1, max_waiting=3)
    admission.started(admission.next())
    assert admission.next() is None
    assert len(reads) == 4  # one running, three held: the source is not read further
    assert not admission.exhausted


def test_busy_keys_and_held_retries() -> None:
    admission = _admission([("a1", "a"), ("b1", "b")], limit=4)
    assert admission.next(busy_keys={"a"}) == ("b1", "b")
    admission.hold(("r", None))
    admission.hold(("f", None), first=True)
    assert admission.next(busy_keys={"a"}) == ("f", None)
    assert admission.next(busy_keys={"a"}) == ("r", None)
    assert admission.next() == ("a1", "a")
    assert admission.next() is None and admission.drained
