"""The link between a pool worker and its driver's run-level extraction cache: a worker reads
what another worker stored, and a broken link makes look-ups miss instead of failing."""

from __future__ import annotations

import multiprocessing

from scanner.extract.cache import CacheEntry, ExtractionCache
from scanner.extract.cache_link import CacheClient, CacheServer

ENTRY = CacheEntry(parts=(("", "Verslag van Sanne", None, {}, "abc"),), errors=(("corrupt", "kapot", "bijlage"),))


def _pair() -> tuple[CacheClient, object]:
    server_end, client_end = multiprocessing.Pipe(duplex=True)
    return CacheClient(client_end), server_end


def test_two_clients_share_one_cache() -> None:
    cache = ExtractionCache()
    server = CacheServer(cache)
    first, first_end = _pair()
    second, second_end = _pair()
    server.serve(first_end)  # type: ignore[arg-type]
    server.serve(second_end)  # type: ignore[arg-type]

    assert first.get("pdf:abc") is None
    first.put("pdf:abc", ENTRY)
    assert first.get("pdf:abc") == ENTRY  # messages of one pipe are served in order
    assert second.get("pdf:abc") == ENTRY
    assert second.get("xlsx:abc") is None  # the format is part of the key
    assert len(cache) == 1 and cache.hits == 2 and cache.misses == 2


def test_the_cache_bounds_hold_for_entries_from_workers() -> None:
    cache = ExtractionCache(max_entries=10, max_chars=10)
    server = CacheServer(cache)
    client, end = _pair()
    thread = server.serve(end)  # type: ignore[arg-type]
    client.put("pdf:big", ENTRY)  # more characters than the cache may hold
    assert client.get("pdf:big") is None
    client._conn.close()
    thread.join(timeout=5)
    assert not thread.is_alive()  # the serving thread ends with its worker's pipe


def test_a_broken_link_misses_and_drops() -> None:
    client, end = _pair()
    end.close()  # type: ignore[attr-defined]  # the driver is gone
    assert client.get("pdf:abc") is None
    client.put("pdf:abc", ENTRY)  # no exception: extraction goes on uncached
    assert client.get("pdf:abc") is None
