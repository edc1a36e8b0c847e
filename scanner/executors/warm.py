"""What the pool's forkserver prepares once, so that every worker forked from it starts with it.

The forkserver imports its preload list (:data:`scanner.executors.pool.FORKSERVER_PRELOAD`)
and this module is the last of it: importing it runs :func:`prepare`. Only what does not
depend on a run's spec belongs here (the spec reaches the worker after the fork):

- the name lexicon (:func:`detectors.recognizers.names.name_lexicon`: the name, word and place
  lists, ~0.07 CPU-s to read and fold), which every engine uses and a worker otherwise read
  again while building its detector;
- the modules a worker otherwise imported after the fork (the in-process mail walk, its HTML
  reader, the common connectors), so they are imported once and not once per worker and per
  restart.

A failure here must not stop the forkserver (it treats only ``ImportError`` of a preload as
harmless): anything that goes wrong is logged and left to the worker, which then loads it
itself exactly as it did before.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

LATE_IMPORTS = ("scanner.extract.mime", "scanner.extract.textual", "scanner.extract.tables", "lxml.html",
                "email.policy", "connectors.mailheaders", "connectors.localwalk", "connectors.local_mail",
                "connectors.folder", "connectors.imap")
"""Modules a worker imported after the fork (measured with ``sys.modules``): the in-process
mail walk and its HTML reader at the first batch, and the modules of the sources' settings
while unpickling the spec. Of the connectors only the light, common ones (local mail and
folders, IMAP: < 0.01 s each); Graph (~0.07 s) and SMB (~0.13 s) stay with the workers of
runs that have such a source, rather than weighing on every forkserver."""


def prepare() -> bool:
    """Load the spec-independent parts of the engine in this process; False if something
    could not be loaded (the worker will then load it on its own)."""
    complete = True
    for module in LATE_IMPORTS:
        try:
            importlib.import_module(module)
        except ImportError:
            complete = False  # an optional parser missing: its handler reports it per item
    try:
        from detectors.recognizers.names import name_lexicon

        name_lexicon()
    except Exception as exc:  # noqa: BLE001 - the worker reads the lists itself and reports it
        log.debug("name lists not preloaded in the forkserver: %s", type(exc).__name__)
        complete = False
    return complete


PREPARED = prepare()
"""Whether the preparation was complete (read by the tests)."""
