"""Through the worker-side analysis: a mail whose attachment is corrupt keeps the findings of
its body, and the attachment's error names the part it belongs to."""

from __future__ import annotations

from pathlib import Path

from connectors.base import ConnectorContext
from connectors.local_mail import MessageFolderConfig, MessageFolderConnector
from scanner.analysis import AnalysisSpec, Analyzer
from scanner.config import Settings
from scanner.core.model import Seen
from tests.extract import corpus


def test_corrupt_attachment_error_and_body_findings(tmp_path: Path):
    pdf = corpus.pdf_bytes(["Rapport"])
    inbox = tmp_path / "mail" / "Inbox"
    inbox.mkdir(parents=True)
    (inbox / "1.eml").write_bytes(corpus.mail_bytes(
        "Beste collega,\n\nHet burgerservicenummer van leerling Noor is 123456782.\n",
        subject="Overdracht", attachments={"kapot.pdf": pdf[: len(pdf) // 2]}))
    config = MessageFolderConfig(name="mail", kind="eml", path=tmp_path / "mail", owner="mentor@school.nl")
    with MessageFolderConnector(config, ConnectorContext()) as connector:
        refs = [event.ref for unit in connector.units() for event in connector.crawl(unit, None)
                if isinstance(event, Seen)]
    defaults = Settings()
    analyzer = Analyzer(AnalysisSpec(sources=(config,), detection=defaults.detection,
                                     extraction=defaults.extraction, secret=b"k" * 32))
    try:
        before = analyzer.extractor.requests
        (result,) = analyzer.analyse(refs)
        assert analyzer.extractor.requests == before + 1  # the PDF alone went to the sandbox
    finally:
        analyzer.close()
    assert [(e.code, e.part) for e in result.errors] == [("corrupt", "kapot.pdf")]
    assert result.verdict is not None
    assert any(f.entity == "NL_BSN" and f.part == "body" for f in result.verdict.findings)
    assert result.ref.title == "Overdracht"
