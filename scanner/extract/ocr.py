"""Optional OCR of images with the Tesseract binary (``limits.ocr``, off by default).

Scans of ID documents and photographed class lists are real, but OCR is slow and needs a
system package, so it is opt-in. The ``tesseract`` binary is called directly through
``subprocess`` (image on stdin, text on stdout) with the item's remaining time as its
timeout: no Python wrapper is needed, and a hung tesseract is killed like any parser.
"""

from __future__ import annotations

import shutil
import subprocess
import time

from scanner.extract.errors import ExtractError
from scanner.extract.handler import Blob, WalkContext, here


def handle_image(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    if not walker.limits.ocr:
        return
    binary = shutil.which("tesseract")
    if binary is None:
        raise ExtractError("ocr_failed", "tesseract ontbreekt / tesseract is missing")
    remaining = 60.0
    if walker.deadline is not None:
        remaining = max(1.0, walker.deadline - time.monotonic())
    try:
        result = subprocess.run(
            [binary, "stdin", "stdout", "-l", walker.limits.ocr_language, "--psm", "3"],
            input=blob.read(), capture_output=True, timeout=remaining, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractError("timeout") from exc
    except OSError as exc:
        raise ExtractError("ocr_failed") from exc
    if result.returncode != 0:
        raise ExtractError("ocr_failed")
    walker.add_text(here(path), result.stdout.decode("utf-8", "replace"), "afbeelding (OCR)", None, chash)
