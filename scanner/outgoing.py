"""Outgoing mail: the one place that turns the delivery settings into a transport.

Teacher digests (``jobs.run_digest``) and IT notifications (:mod:`scanner.notify`) both send
through :func:`open_transport`, so both go out the way ``delivery:`` says: ``outbox`` (``.eml``
files), ``smtp`` (the school's relay), ``graph`` (``sendMail``) or ``ews`` (on-premises
Exchange). Graph and EWS reuse the connection of the source named in ``delivery.source``, so
credentials are configured once.

Why here and not in ``reports/``: sending through Graph or EWS needs a connector's client, and
``reports/`` does not import ``connectors/``. The transports themselves (outbox, SMTP, a send
function) live in :mod:`reports.delivery`, which needs nothing from the connectors; this module
only chooses and connects. The connector modules are imported only for Graph and EWS, so a
school that sends by SMTP never loads msal or exchangelib.
"""

from __future__ import annotations

from typing import TypeVar

from connectors.base import SourceConfig
from reports.delivery import (
    CallableTransport,
    DeliveryError,
    OutboxTransport,
    SmtpTransport,
    Transport,
)
from scanner.config import Settings

_Source = TypeVar("_Source", bound=SourceConfig)


def open_transport(settings: Settings, period: str | None = None) -> Transport:
    """The transport ``settings.delivery.method`` asks for, connected where it needs to be.

    ``period`` names the outbox files (``<period>_<recipient>.eml``). Raises a fatal
    :class:`DeliveryError` (``not_configured``) when Graph or EWS has no source of the right
    kind to send through.
    """
    delivery = settings.delivery
    if delivery.method == "outbox":
        return OutboxTransport(settings.outbox_dir, period)
    if delivery.method == "smtp":
        return SmtpTransport(delivery)
    assert delivery.sender is not None  # enforced by DeliverySettings
    if delivery.method == "graph":
        from connectors.graph.client import GraphClient
        from connectors.graph.config import GraphSourceConfig

        client = GraphClient(_sending_source(settings, GraphSourceConfig, "Graph"))
        return CallableTransport("Graph", delivery.sender, client.send_mail, client.close)
    from connectors.ews import EwsConfig, EwsConnector

    connector = EwsConnector(_sending_source(settings, EwsConfig, "EWS"))
    return CallableTransport("EWS", delivery.sender, connector.send_mime, connector.close)


def _sending_source(settings: Settings, config_type: type[_Source], label: str) -> _Source:
    """The source named in ``delivery.source``, when it is of a kind that can send (its
    configuration model is ``config_type``: both Graph kinds for Graph, ``ews`` for EWS)."""
    name = settings.delivery.source
    for source in settings.sources:
        if source.name == name and isinstance(source, config_type):
            return source
    raise DeliveryError(
        "not_configured",
        f"verzenden via {label} heeft een {label}-bron nodig (delivery.source) / "
        f"sending through {label} needs a {label} source (delivery.source)",
        fatal=True,
    )
