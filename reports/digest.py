"""The teacher's weekly clean-up digest: HTML and plain text, and the MIME message.

A digest lists only the recipient's own items. It says *where* student data is and *why* it
was flagged (categories), never the detected values. It is grouped by urgency (overdue
first) and then by the item's most sensitive category (special categories under AVG art. 9
first), and capped so that a teacher with 400 old mails gets a readable mail with a total
and a pointer to the full list instead of a wall of rows.

The HTML is written for the mail clients teachers use (Outlook desktop with its Word
engine, Outlook on the web, phone apps): tables for layout, inline styles only, no scripts,
no external images, 600 px wide at most and fluid below that.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import PureWindowsPath
from urllib.parse import quote, urlsplit

from reports import categories as cats
from reports.data import DIGEST_STATUSES, AnswerLink, DigestItem, FolderGroup, TeacherDigest
from reports.i18n import check_language, format_date, t
from reports.rendering import render
from scanner.core.model import EXPOSURE_REASONS, ExposureLevel, RetentionAction, RetentionStatus
from scanner.core.privacy import could_mask_to, scrub

DEFAULT_CAP = 25
DIGEST_HEADER = "X-Schoonschip-Digest"


def digest_message_id(owner: str, period: str, domain: str) -> str:
    """The Message-ID of ``owner``'s digest for ``period``: the same on every attempt.

    A send that is retried (a run that died between handing the mail over and recording it,
    an SMTP server that accepted and then dropped the connection) then carries the Message-ID
    of the first attempt, so mail servers and clients that de-duplicate on it, and a helpdesk
    looking at two copies, see one message. It is a hash, so the header names no teacher
    beyond the To: line it travels with."""
    digest = hashlib.sha256(f"schoonschip-digest\n{owner.lower()}\n{period}".encode()).hexdigest()[:32]
    return f"<digest.{period}.{digest}@{domain}>"

_SAFE_SCHEMES = {"http", "https", "file"}
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


@dataclass(frozen=True)
class ItemView:
    """One item as the templates show it (all strings already in the digest's language)."""

    title: str
    kind_label: str
    date_text: str
    folder: str
    why: str
    special: bool
    action: str
    due_text: str
    href: str | None
    path_text: str | None
    answers: tuple[tuple[str, str], ...] = ()
    """(label, url) of each answer link, in the catalogue's order."""
    answer_note: str = ""
    """What became of the owner's last answer (a failed or by-hand deletion)."""
    move_note: str = ""
    """Optional enforcement: the day the school's policy moves the item if it is not answered."""
    exposure: str = ""
    """Who can reach a broadly shared item and what to do about it ("" when not broad)."""


@dataclass(frozen=True)
class FolderView:
    """A folder group as the templates show it: the folder, a sentence, its answer links."""

    folder: str
    heading: str
    answers: tuple[tuple[str, str], ...]


@dataclass
class GroupView:
    category: str
    label: str
    special: bool
    count: int
    items: list[ItemView] = field(default_factory=list)

    @property
    def count_text(self) -> str:
        return str(self.count) if len(self.items) == self.count else f"{len(self.items)}/{self.count}"


@dataclass
class SectionView:
    status: str
    heading: str
    count: int
    groups: list[GroupView] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedDigest:
    """A rendered digest, ready to be turned into a mail."""

    owner: str
    language: str
    school: str
    subject: str
    html: str
    text: str
    total: int
    shown: int
    overdue: int
    due_soon: int
    listed: tuple[str, ...] = ()
    """The ids of the items this digest names: those shown and those its folder links cover.
    Recorded in the ledger with the delivery, it is when a teacher was first told of an item."""
    moves: tuple[tuple[str, date], ...] = ()
    """(item id, day) of every shown item whose move by the school's policy this digest
    announces: recorded with the delivery, the licence for that move (optional enforcement)."""
    broad: int = 0

    def to_mime(
        self,
        sender: str,
        period: str | None = None,
        sent_at: datetime | None = None,
        sender_name: str | None = None,
    ) -> EmailMessage:
        """Build the multipart/alternative message (text first, HTML preferred).

        ``period`` (e.g. ``2026-W47``) goes into the ``X-Schoonschip-Digest`` header so a
        mailbox rule or a helpdesk can recognise digests; ``Auto-Submitted`` and
        ``X-Auto-Response-Suppress`` stop out-of-office replies from flooding the sender.
        """
        message = EmailMessage(policy=SMTP)
        display = sender_name if sender_name is not None else t(
            "digest.sender_name", self.language, school=self.school)
        message["From"] = _address(sender, display)
        message["To"] = _address(self.owner, "")
        message["Subject"] = self.subject
        message["Date"] = format_datetime(sent_at or datetime.now(UTC))
        domain = sender.rpartition("@")[2] or "schoonschip.invalid"
        message["Message-ID"] = (digest_message_id(self.owner, period, domain) if period
                                 else make_msgid(idstring="schoonschip", domain=domain))
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        if period:
            message[DIGEST_HEADER] = period
        message.set_content(self.text, subtype="plain", charset="utf-8")
        message.add_alternative(self.html, subtype="html", charset="utf-8")
        # set_content() replaces Content-* headers, so this one goes on last.
        message["Content-Language"] = self.language
        return message


def _address(addr: str, display: str) -> Address:
    """An address header value; refuses anything that is not ``local@domain`` (a stored
    owner with a line break must not become a header injection)."""
    local, at, domain = addr.strip().rpartition("@")
    if not at or not local or not domain or any(c in addr for c in "\r\n<>,;\"") or " " in addr.strip():
        raise ValueError("ongeldig e-mailadres / invalid e-mail address")
    return Address(display_name=display, username=local, domain=domain)


def render_digest(digest: TeacherDigest, cap: int = DEFAULT_CAP) -> RenderedDigest | None:
    """Render ``digest``; ``None`` when there is nothing to ask of the teacher (no mail).

    ``cap`` limits the number of listed items (the counts always cover all of them).
    """
    language = check_language(digest.language)
    if cap < 1:
        raise ValueError("cap moet minstens 1 zijn / cap must be at least 1")
    items = [item for item in digest.items if item.status in DIGEST_STATUSES or item.broadly_shared]
    if not items and not digest.policy_moved:
        return None

    ordered = sorted(items, key=_order)
    shown = _shown(ordered, cap)
    overdue = sum(1 for item in items if item.status == RetentionStatus.OVERDUE)
    due_soon = sum(1 for item in items if item.status == RetentionStatus.DUE_SOON)
    broad = sum(1 for item in items if item.broadly_shared)
    sections = _sections(items, shown, language)

    total = len(items)
    subject = (t("digest.subject_one", language) if total == 1
               else t("digest.subject", language, total=total) if total
               else t("digest.subject_moved", language))
    context = {
        "t": lambda key, **kw: t(key, language, **kw),
        "language": language,
        "school": digest.school,
        "subject": subject,
        "sections": sections,
        "total": total,
        "shown": len(shown),
        "overdue": overdue,
        "due_soon": due_soon,
        "broad": broad,
        "capped": len(shown) < total,
        "full_list_hint": digest.full_list_hint,
        "full_list_default": t("digest.full_list_default", language),
        "generated": format_date(digest.generated, language),
        "answering": any(item.answers for item in shown) or bool(digest.folder_groups),
        "folders": [_folder_view(group, language) for group in digest.folder_groups if group.answers],
        "policy_moved": [t("digest.policy_moved", language, count=count, place=place)
                         for place, count in sorted(digest.policy_moved.items())],
    }
    return RenderedDigest(
        owner=digest.owner,
        language=language,
        school=digest.school,
        subject=subject,
        html=render("digest.html.j2", **context),
        text=render("digest.txt.j2", **context),
        total=total,
        shown=len(shown),
        overdue=overdue,
        due_soon=due_soon,
        listed=_listed(shown, digest.folder_groups),
        moves=tuple((item.item_id, item.move_on) for item in shown if item.move_on is not None),
        broad=broad,
    )


def _listed(shown: list[DigestItem], groups: list[FolderGroup]) -> tuple[str, ...]:
    ids = dict.fromkeys(item.item_id for item in shown)
    for group in groups:
        if group.answers:
            ids.update(dict.fromkeys(group.item_ids))
    return tuple(ids)


BROAD_SECTION = ExposureLevel.BROAD.value
"""The digest's first section: student data that anyone with a link, the whole school or a
guest can reach (issue 20). It is a risk today, whatever the retention clock says."""
LINK_REASONS = frozenset({"anonymous_link", "organisation_link"})


ARCHIVE_SHARE = 5
"""A capped digest keeps room for Archiefwet records: up to one in ``ARCHIVE_SHARE`` of its
rows (at least one). Sorted by sensitivity alone, an exam list ("cijfers") would always be
pushed out by 25 care files, and it is the one item the teacher must not just delete."""


def _shown(ordered: list[DigestItem], cap: int) -> list[DigestItem]:
    """The first ``cap`` items, with room reserved for ``archiveren`` items (they replace the
    last rows that are neither broadly shared nor to archive themselves)."""
    shown = ordered[:cap]
    reserved = [i for i in ordered if i.action == RetentionAction.ARCHIVEREN.value][:max(1, cap // ARCHIVE_SHARE)]
    missing = [i for i in reserved if i not in shown]
    if not missing:
        return shown
    for victim in reversed(list(shown)):
        if len(missing) == 0:
            break
        if victim.action != RetentionAction.ARCHIVEREN.value and not victim.broadly_shared:
            shown.remove(victim)
            shown.append(missing.pop(0))
    return sorted(shown, key=_order)


def _order(item: DigestItem) -> tuple:
    """Broadly shared first, then urgency, then most sensitive category, then longest overdue /
    soonest due, oldest."""
    primary = cats.primary(item.categories)
    due = item.due_date or date.max
    return (
        0 if item.broadly_shared else 1,
        DIGEST_STATUSES.index(item.status) if item.status in DIGEST_STATUSES else len(DIGEST_STATUSES),
        cats.sort_key(primary) if primary else (len(cats.CATEGORIES) + 1, ""),
        due,
        _naive(item.date),
        item.item_id,
    )


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _sections(items: list[DigestItem], shown: list[DigestItem], language: str) -> list[SectionView]:
    shown_ids = {id(item) for item in shown}
    sections: list[SectionView] = []
    for status in (BROAD_SECTION, *DIGEST_STATUSES):
        in_status = sorted((i for i in items if (i.broadly_shared if status == BROAD_SECTION
                                                 else i.status == status and not i.broadly_shared)), key=_order)
        if not in_status:
            continue
        section = SectionView(status=status, heading=t(f"digest.section.{status}", language),
                              count=len(in_status))
        groups: dict[str, GroupView] = {}
        for item in in_status:
            key = cats.primary(item.categories) or ""
            group = groups.get(key)
            if group is None:
                meta = cats.info(key) if key else None
                group = GroupView(
                    category=key,
                    label=_capital(meta.label(language) if meta else t("category.unknown", language)),
                    special=bool(meta and meta.special),
                    count=0,
                )
                groups[key] = group
            group.count += 1
            if id(item) in shown_ids:
                group.items.append(_item_view(item, language))
        section.groups = [g for g in groups.values() if g.items]
        if section.groups:
            sections.append(section)
    return sections


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _item_view(item: DigestItem, language: str) -> ItemView:
    labels = [cats.info(key).label(language) for key in cats.ordered(item.categories)]
    kind = item.kind if item.kind in ("mail", "file") else "file"
    action_key = f"action.{item.action}.{kind}"
    try:
        action = t(action_key, language)
    except KeyError:
        action = t(f"action.verwijderen.{kind}", language)
    due_text = (t(f"digest.due.{item.status}", language, date=format_date(item.due_date, language))
                if item.due_date else "")
    href, path_text = link_target(item.link)
    if path_text is not None:
        # link_text: the path with the names the findings hold masked (scanner.digest_mask);
        # masked_path then puts in the stored (value-masked) folder and title and scrubs numbers.
        shown = item.link_text if item.link_text is not None else path_text
        path_text = masked_path(shown, item.folder, item.title)
    return ItemView(
        title=item.title,
        kind_label=t(f"digest.kind.{kind}", language),
        date_text=format_date(item.date, language),
        folder=item.folder,
        why=t("digest.why_text", language,
              categories=", ".join(labels) if labels else t("category.unknown", language)),
        special=any(cats.info(key).special for key in item.categories),
        action=action,
        due_text=due_text,
        href=href,
        path_text=path_text,
        answers=_answer_views(item.answers, language),
        answer_note=(t(f"digest.answer_note.{item.answer_note.kind}", language,
                       date=format_date(item.answer_note.day, language), code=item.answer_note.code or "")
                     if item.answer_note else ""),
        move_note=(t("digest.move_note", language, date=format_date(item.move_on, language))
                   if item.move_on else ""),
        exposure=exposure_text(item.exposure_reasons, language),
    )


def exposure_text(reasons: tuple[str, ...], language: str) -> str:
    """"iedereen met de link, iemand buiten de school: verwijder de deellink; stop het delen met
    de gast" (who can reach it, then what to do); "" when the item is not broadly shared."""
    known = [r for r in reasons if r in EXPOSURE_REASONS]
    if not known:
        return ""
    todo = []
    if LINK_REASONS & set(known):
        todo.append(t("exposure.todo.link", language))
    if {"broad_group", "world_readable"} & set(known):
        todo.append(t("exposure.todo.share", language))
    if "external_guest" in known:
        todo.append(t("exposure.todo.guest", language))
    who = ", ".join(t(f"exposure.reason.{r}", language) for r in known)
    return f"{who}: {'; '.join(todo)}"


def _answer_views(links: tuple[AnswerLink, ...], language: str) -> tuple[tuple[str, str], ...]:
    """(label, url) pairs; only http(s) links (they are ours, but a template never trusts)."""
    return tuple((t(f"digest.answer.{link.action}", language), link.url) for link in links
                 if urlsplit(link.url).scheme in ("http", "https"))


def _folder_view(group: FolderGroup, language: str) -> FolderView:
    kind = group.kind if group.kind in ("mail", "file") else "mixed"
    views = []
    for link in group.answers:
        if urlsplit(link.url).scheme not in ("http", "https"):
            continue
        views.append((t(f"digest.folder_answer.{link.action}.{kind}", language, count=group.count,
                        folder=group.folder), link.url))
    return FolderView(folder=group.folder,
                      heading=t(f"digest.folder_heading.{kind}", language, count=group.count, folder=group.folder),
                      answers=tuple(views))


def masked_path(path: str, folder: str, title: str) -> str:
    """The path as shown in the digest: its last components replaced by the stored (masked)
    folder and title wherever those are masked forms of them, and every identity number
    masked. The link itself still opens the item; only what is read on screen is masked
    (a file or folder named after a pupil or by a BSN)."""
    separators = re.compile(r"([\\/]+)")
    pieces = separators.split(path)
    shown = [c for c in re.split(r"[\\/]+", f"{folder}/{title}") if c]
    index = len(pieces) - 1
    for masked in reversed(shown):
        while index >= 0 and (not pieces[index] or separators.fullmatch(pieces[index])):
            index -= 1
        if index < 0 or not could_mask_to(masked, pieces[index]):
            break
        pieces[index] = masked
        index -= 1
    return scrub("".join(pieces))


def link_target(link: str | None) -> tuple[str | None, str | None]:
    """Turn a stored link into ``(href, path_text)``.

    Web links (Graph ``webLink``, OWA) are used as they are. UNC and local paths become
    ``file:`` URLs, and the path itself is shown too, because several mail clients refuse to
    open ``file:`` links and the teacher can then paste it into the explorer. Any other
    scheme (``javascript:``, ``data:``) is dropped: links come from sources, not from us.
    """
    if not link:
        return None, None
    link = link.strip()
    if link.startswith(("\\\\", "//")):
        parts = [p for p in re.split(r"[\\/]+", link) if p]
        if len(parts) < 2:
            return None, link
        host, rest = parts[0], parts[1:]
        return "file://" + quote(host) + "/" + "/".join(quote(p) for p in rest), link
    if _WINDOWS_DRIVE.match(link):
        return PureWindowsPath(link).as_uri(), link
    if link.startswith("/"):
        return "file://" + quote(link), link
    scheme = urlsplit(link).scheme.lower()
    if scheme in _SAFE_SCHEMES:
        return link, (link if scheme == "file" else None)
    return None, None
