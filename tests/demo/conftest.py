from __future__ import annotations

from datetime import date

import pytest

from scanner.demo import DemoCorpus, generate_demo

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCorpus:
    """The default demo corpus (3 teachers x 120 mails), generated once per session."""
    return generate_demo(tmp_path_factory.mktemp("demo"), seed=2026, today=TODAY)


@pytest.fixture(scope="session")
def demo_items(demo: DemoCorpus) -> dict[str, dict]:
    """Every item of the demo, opened: key -> {"text", "attachments", "msg"/"path"}.

    Opening each mail with the email package and each attachment or file with its library
    (python-docx, openpyxl, pypdf, zipfile, csv, BeautifulSoup) is itself the parseability check.
    """
    from pathlib import Path

    from tests.demo.textwalk import file_text, iter_mails, message_text, parse

    items: dict[str, dict] = {}
    mail_sources = [s for s in demo.sources if s["kind"] != "folder"]
    for key, src, raw in iter_mails(demo.root, mail_sources):
        msg = parse(raw)
        text, attachments = message_text(msg)
        items[key] = {"text": text, "attachments": attachments, "msg": msg, "raw": raw, "source": src}
    for src in demo.sources:
        if src["kind"] == "folder":
            for file in sorted(Path(src["path"]).rglob("*")):
                if file.is_file():
                    key = file.relative_to(demo.root).as_posix()
                    items[key] = {"text": file_text(file.name, file.read_bytes()), "path": file, "source": src}
    return items
