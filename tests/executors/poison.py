"""A test connector whose items can kill the process that fetches them.

Importing this module registers the kind ``poison_folder`` (a folder source); the pool loads it
in its workers through ``preload``, as a school would load a plug-in connector. Fetching a file
whose name starts with ``poison`` SIGKILLs the fetching process, which is what the OOM killer or
a segfault in a parser does to a worker. Fetching a file whose name starts with ``slow`` takes
0.3 s and appends its start and end time, with the batch's folder, to ``activity.log`` beside the
folder, so a test can see how many batches of one mailbox ran at the same time. Fetching a file
whose name starts with ``env`` appends the worker's ``SCHOONSCHIP_TEST_MARK`` and working
directory to ``environment.log`` beside the folder.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Literal

from connectors.folder import FolderConfig, FolderConnector
from connectors.registry import CONNECTORS
from scanner.core.model import Fetched, ItemRef


class PoisonConfig(FolderConfig):
    kind: Literal["poison_folder"]  # type: ignore[assignment]


class PoisonFolderConnector(FolderConnector):
    config_model = PoisonConfig

    def fetch(self, ref: ItemRef) -> Fetched:
        name = os.path.basename(ref.item_key)
        if name.startswith("poison"):
            os.kill(os.getpid(), signal.SIGKILL)
        if name.startswith("slow"):
            log = self.config.path.parent / "activity.log"
            started = time.time()
            time.sleep(0.3)
            line = f"{ref.folder or '.'} {started:.6f} {time.time():.6f}\n"
            with open(log, "a", encoding="utf-8") as stream:
                stream.write(line)
        if name.startswith("env"):
            with open(self.config.path.parent / "environment.log", "a", encoding="utf-8") as stream:
                stream.write(f"{os.environ.get('SCHOONSCHIP_TEST_MARK', '-')} {os.getcwd()}\n")
        return super().fetch(ref)


CONNECTORS["poison_folder"] = "tests.executors.poison:PoisonFolderConnector"
