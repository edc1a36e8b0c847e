"""PDF text layer via pypdf (pure Python, actively maintained, handles AES/RC4 encryption).

pypdf in non-strict mode repairs much of what it finds (a broken xref table is rebuilt by
scanning the file); we keep the text it recovers but record ``repaired`` so IT can see the
file was damaged. A file without its end marker is ``corrupt`` (truncated), again with whatever
pages could be read. Encrypted PDFs are tried with the empty user password (many are only
"protected" against printing); if that fails the item is ``encrypted``.
"""

from __future__ import annotations

import logging

from scanner.extract.errors import ExtractError
from scanner.extract.handler import Blob, WalkContext, here


class _WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:  # never formats: messages may hold bytes
        self.count += 1


def handle_pdf(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    part = here(path)
    logger = logging.getLogger("pypdf")
    counter = _WarningCounter()
    logger.addHandler(counter)
    previous_propagate = logger.propagate
    logger.propagate = False
    try:
        with blob.open() as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(0, size - 2048))
            truncated = b"%%EOF" not in stream.read()
            stream.seek(0)
            try:
                reader = PdfReader(stream, strict=False)
                if reader.is_encrypted:
                    try:
                        if not reader.decrypt(""):
                            raise ExtractError("encrypted")
                    except (FileNotDecryptedError, NotImplementedError) as exc:
                        raise ExtractError("encrypted") from exc
                pages = reader.pages
                count = len(pages)
            except ExtractError:
                raise
            except FileNotDecryptedError as exc:
                raise ExtractError("encrypted") from exc
            except (PdfReadError, Exception) as exc:
                raise ExtractError("corrupt") from exc
            broken_pages = 0
            for index in range(count):
                walker.tick()
                try:
                    text = pages[index].extract_text() or ""
                except FileNotDecryptedError as exc:
                    raise ExtractError("encrypted") from exc
                except (ExtractError, MemoryError):
                    raise
                except Exception:  # noqa: BLE001 - one bad page does not spoil the rest
                    broken_pages += 1
                    continue
                if not walker.add_text(part, text, f"pagina {index + 1}", None, chash):
                    break
    finally:
        logger.removeHandler(counter)
        logger.propagate = previous_propagate
    if truncated:
        walker.error("corrupt", part, "onvolledig bestand / truncated file")
    elif broken_pages or counter.count:
        walker.error("repaired", part)
