"""Retention judged as new items are written, and runs that end before their retention pass:
a failed run leaves those items unjudged (NULL), as before write-time judging, so the next
run's pass decides them with its own rules; a run that ends with its pass stores them judged."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from sqlalchemy import text

from scanner.core.model import AnalysisResult, Verdict
from scanner.executors import Executor, Work
from scanner.pipeline import ScanRunner
from scanner.store import open_store
from tests.pipeline import memory_source
from tests.pipeline.conftest import settings_for


class AnsweringExecutor(Executor):
    """Answers each batch at once (student data in every item); raises at batch ``fail_at``."""

    name = "answering"

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.fail_at = fail_at

    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        for n, batch in enumerate(work):
            if n == self.fail_at:
                raise RuntimeError("the workers are gone")
            yield batch.tag, [AnalysisResult(ref=ref, content_hash=f"h-{ref.item_key}",
                                             verdict=Verdict(True, ["zorg"], [])) for ref in batch.refs]

    @property
    def detection_mode(self) -> tuple[str, str | None]:
        return "regex", None


def outcomes(store: Any) -> list[tuple]:
    with store.engine.connect() as conn:
        return list(conn.execute(text("select retention_status, rule_id from items")))


@pytest.mark.parametrize("fail_at", [None, 1])
def test_a_run_that_ends_before_its_pass_leaves_what_it_judged_to_the_next(tmp_path, fail_at):
    world = memory_source.WORLDS["w"] = memory_source.World()
    for folder in ("Zorg", "Inbox"):
        for n in range(3):
            world.put(folder, f"verslag-{n}.txt", f"{folder} {n}".encode())
    settings = settings_for(tmp_path, [{"name": "m", "kind": "memory", "world": "w"}])
    store = open_store(settings)
    runner = ScanRunner(settings, store, executor=AnsweringExecutor(fail_at))
    if fail_at is None:
        runner.run()
        assert outcomes(store) and all(status is not None for status, _ in outcomes(store))
        return
    with pytest.raises(RuntimeError):
        runner.run()
    written = outcomes(store)
    assert written and all(outcome == (None, None) for outcome in written)
