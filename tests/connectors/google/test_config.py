"""Registry, configuration rules and picklability of the Google sources."""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from connectors.google.config import GoogleDriveConfig, GoogleMailConfig
from connectors.registry import config_model, connector_class
from tests.crawling import crawl_all

from .conftest import mail_connector


def test_registry_resolves_both_kinds() -> None:
    assert connector_class("google_mail").__name__ == "GoogleMailConnector"
    assert connector_class("google_drive").__name__ == "GoogleDriveConnector"
    assert config_model("google_drive") is GoogleDriveConfig


def test_configuration_rules(key_file) -> None:
    key = {"file": str(key_file)}
    with pytest.raises(ValidationError, match="users, org_units of groups"):
        GoogleMailConfig(name="g", service_account_key=key)
    with pytest.raises(ValidationError, match="admin_user"):
        GoogleMailConfig(name="g", service_account_key=key, groups=["docenten@school.nl"])
    with pytest.raises(ValidationError, match="https"):
        GoogleMailConfig(name="g", service_account_key=key, users=["a@school.nl"],
                         api_endpoint="http://proxy.school.nl/")
    with pytest.raises(ValidationError, match="admin_user"):
        GoogleDriveConfig(name="d", service_account_key=key, shared_drives=[{"id": "0Ax"}])
    assert GoogleDriveConfig(name="d", service_account_key=key, shared_drives=[{"id": "0Ax", "member": "a@s.nl"}])
    with pytest.raises(ValidationError, match="Extra inputs"):
        GoogleMailConfig(name="g", service_account_key=key, users=["a@school.nl"], scopes=["gmail.modify"])


def test_a_connector_travels_by_configuration(fake, key_file, clock) -> None:
    fake.add_user("jansen@school.nl")
    fake.add_message("jansen@school.nl", "Rooster")
    connector = mail_connector(fake, key_file, clock, users=["jansen@school.nl"])
    assert len(crawl_all(connector).seen()) == 1
    copy = pickle.loads(pickle.dumps(connector))
    assert b"PRIVATE KEY" not in pickle.dumps(connector)
    ref = crawl_all(copy).seen()[0]
    assert copy.fetch(ref).data.startswith(b"From:")
