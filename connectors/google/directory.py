"""Whose data a Google source reads: explicit users, organisational units and groups.

Read through the Admin SDK Directory API as ``admin_user`` (delegation cannot read the
directory as a plain user): ``users.list`` with ``query=orgUnitPath='...'`` (which includes
sub-units, per the Directory API's search documentation) and ``members.list`` per group,
following nested groups once each. Only the directory scopes are used here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from connectors.base import SourceError
from connectors.google.client import GoogleApi, GoogleError
from connectors.google.config import DIRECTORY_SCOPE, GROUP_MEMBER_SCOPE, GoogleSourceConfig

USER_SCOPES = (DIRECTORY_SCOPE,)
GROUP_SCOPES = (GROUP_MEMBER_SCOPE,)


def unique_lower(values: Iterable[str]) -> list[str]:
    """Case-insensitive de-duplication keeping first-seen order."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        key = value.strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append(key)
    return result


def _quote(path: str) -> str:
    return "'" + path.replace("\\", "\\\\").replace("'", "\\'") + "'"


def org_unit_users(api: GoogleApi, config: GoogleSourceConfig, path: str) -> list[str]:
    admin = config.admin_user or ""
    found: list[str] = []
    try:
        for page in api.pages("admin", admin, USER_SCOPES, lambda s, token: s.users().list(
            customer=config.customer, query=f"orgUnitPath={_quote(path)}", maxResults=min(config.page_size, 500),
            pageToken=token, fields="users(primaryEmail,suspended),nextPageToken",
        )):
            for user in page.get("users", []):
                if user.get("primaryEmail") and (config.include_suspended or not user.get("suspended")):
                    found.append(user["primaryEmail"])
    except GoogleError as exc:
        raise exc.source_error(f"organisatie-eenheid {path} / organisational unit {path}") from None
    return found


def group_users(api: GoogleApi, config: GoogleSourceConfig, groups: Iterable[str]) -> list[str]:
    admin = config.admin_user or ""
    seen: set[str] = set()
    pending = [g.lower() for g in groups]
    found: list[str] = []
    while pending:
        group = pending.pop(0)
        if group in seen:
            continue
        seen.add(group)
        try:
            for page in api.pages("admin", admin, GROUP_SCOPES, partial(_members_page, group)):
                for member in page.get("members", []):
                    email = str(member.get("email") or "").lower()
                    if not email:
                        continue
                    if member.get("type") == "GROUP":
                        pending.append(email)
                    elif member.get("type") == "USER" and (
                        config.include_suspended or member.get("status", "ACTIVE") == "ACTIVE"
                    ):
                        found.append(email)
        except GoogleError as exc:
            raise exc.source_error(f"groep {group} / group {group}") from None
    return found


def _members_page(group: str, service: Any, token: str | None) -> Any:
    return service.members().list(
        groupKey=group, maxResults=200, pageToken=token, fields="members(email,type,status),nextPageToken"
    )


def source_users(api: GoogleApi, config: GoogleSourceConfig) -> list[str]:
    """Explicit users, then org-unit members, then group members, lower-cased and unique."""
    users = list(config.users)
    for path in config.org_units:
        users += org_unit_users(api, config, path)
    if config.groups:
        users += group_users(api, config, config.groups)
    result = unique_lower(users)
    if not result and not getattr(config, "shared_drives", None):
        raise SourceError("not_found", "geen gebruikers gevonden / no users found")
    return result
