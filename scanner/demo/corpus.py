"""Generate the demo corpus: teacher mailboxes, a shared folder and the school's roster.

The corpus is a pure function of (seed, sizes, today): one :class:`random.Random` per mail and
per document, keyed by the seed and the item's position, so the same arguments give the same
bytes, and a mail does not depend on how many mails came before it.

Memory: mails are rendered and written one at a time. What stays in memory is the population
(a few hundred students), the document caches (bounded: one class list per group and year, an
LRU of per-student documents, a handful of hard-negative variants; a few MB) and, for the demo
only, the ground-truth map (one entry per item). :func:`generate_bulk` keeps counters instead
of a map, so its memory does not grow with ``n_mails``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from scanner.demo.docs import DocFactory, school_year_label
from scanner.demo.mime import render
from scanner.demo.people import (
    Population,
    Staff,
    Student,
    build_population,
    cohort_for,
)
from scanner.demo.people import (
    teachers as make_teachers,
)
from scanner.demo.planted import PlantedValues, Planter
from scanner.demo.scenarios import SCENARIOS, MailContext, aware, pick_scenario
from scanner.demo.shared import write_shared_folder
from scanner.demo.writers import EmlWriter, MaildirWriter, MboxWriter

FIRST_SCHOOL_YEAR = 2017
ONLINE_ARCHIVE = "Online archief"
PST_ARCHIVE = "Archief/archief 2017.pst"
"""The old Outlook archive on the shared folder (with ``pst_archive``; scanner/demo/pst.py)."""
EARLIEST_TODAY = date(2019, 9, 1)  # the corpus spans school years from 2017; it needs two of them
LAYOUTS = ("maildir", "mbox", "eml")


def school_year_of(d: date) -> int:
    """The Dutch school year starts on 1 August; it is named after its starting year."""
    return d.year if d.month >= 8 else d.year - 1


@dataclass
class DemoCorpus:
    """What :func:`generate_demo` wrote, with the ground truth tests need.

    Keys of ``expected_student_data`` (and ``expected_categories``) are paths relative to
    ``root`` in POSIX form: a Maildir or .eml message file, a file in the shared folder, or
    ``<mbox path>#<n>`` for the n-th (0-based) message of an mbox file. ``mail_keys`` maps each
    mail's Message-ID to that key, for connectors whose item keys are not paths.
    """

    root: Path
    sources: list[dict]
    roster_csv: Path
    planted: PlantedValues
    teachers: list[str]
    expected_student_data: dict[str, bool]
    expected_categories: dict[str, list[str]] = field(default_factory=dict)
    mail_keys: dict[str, str] = field(default_factory=dict)
    today: date | None = None
    former_roster_csv: Path | None = None
    """The LAS export of former pupils (``oud-leerlingen.csv``, with their leaving dates)."""
    pst_mails: int = 0
    """Pupil mails planted in the shared folder's Outlook archive (0: no archive written)."""


def draw_when(rng: random.Random, today: date) -> datetime:
    """A mail date between 1 August 2017 and yesterday, spread so retention statuses vary.

    About 55 % lies two or more school years back (overdue under any sensible policy), 17 %
    in the previous school year (a third of those in its last weeks: due soon or just due),
    23 % in the current school year and 5 % in the last 30 days.
    """
    sy_now = school_year_of(today)
    end = today - timedelta(days=1)
    roll = rng.random()
    if roll < 0.05:
        start = end - timedelta(days=30)
    elif roll < 0.28:
        start = date(sy_now, 8, 20)
    elif roll < 0.45:
        if rng.random() < 0.35:
            # The last weeks of the previous school year (June/July before 1 August).
            start, end = date(sy_now, 6, 1), min(end, date(sy_now, 7, 20))
        else:
            start, end = date(sy_now - 1, 8, 20), min(end, date(sy_now, 7, 20))
    else:
        sy = rng.randrange(FIRST_SCHOOL_YEAR, max(FIRST_SCHOOL_YEAR + 1, sy_now - 1))
        start, end = date(sy, 8, 20), min(end, date(sy + 1, 7, 20))
    if start > end:
        start = end - timedelta(days=30)
    start = min(max(start, date(FIRST_SCHOOL_YEAR, 8, 1)), end)
    day = start + timedelta(days=rng.randrange((end - start).days + 1))
    if day.weekday() >= 5 and rng.random() < 0.85:  # most school mail is sent on weekdays
        day -= timedelta(days=day.weekday() - 4)
        day = max(day, start)
    return datetime.combine(day, time(rng.randrange(7, 23), rng.randrange(60), rng.randrange(60)))


@dataclass
class _Sink:
    """Where a mailbox's items go: a layout writer plus bookkeeping callbacks."""

    kind: str
    path: Path
    root: Path
    maildir: MaildirWriter | None = None
    mbox: MboxWriter | None = None
    eml: EmlWriter | None = None

    def open(self, seed: int) -> None:
        if self.kind == "maildir":
            self.maildir = MaildirWriter(self.path, seed)
            self.maildir._folder_dir("INBOX")
        elif self.kind == "mbox":
            self.mbox = MboxWriter(self.path)
        else:
            self.eml = EmlWriter(self.path)

    def close(self) -> None:
        if self.mbox:
            self.mbox.close()


def _folder(kind: str, rng: random.Random, outgoing: bool, when: datetime, sy_now: int) -> str:
    sy = school_year_of(when.date())
    if kind == "eml":
        if outgoing:
            return "Verzonden items"
        if sy < sy_now - 1 and rng.random() < 0.7:
            return f"Archief/{school_year_label(sy)}"
        return "Postvak IN"
    if outgoing:
        return "Verzonden"
    if sy < sy_now - 1 and rng.random() < 0.7:
        # The oldest years sit where Exchange Online's retention moves them, the online
        # archive; its folders are named as the Graph and EWS connectors name them
        # ("Online archief/..."), written as a Maildir++ subfolder.
        return f"{ONLINE_ARCHIVE}.Archief {sy}" if sy < sy_now - 3 else f"Archief {sy}"
    return "INBOX"


ItemCallback = Callable[[str, str, bool, list[str]], None]


def write_mailbox(
    sink: _Sink,
    *,
    teacher: Staff,
    index: int,
    n_mails: int,
    seed: int,
    today: date,
    population: Population,
    docs: DocFactory,
    planter: Planter,
    attachments_ratio: float,
    chronological: bool,
    every_scenario: bool = False,
    on_item: ItemCallback | None = None,
) -> int:
    """Write ``n_mails`` mails for one teacher; returns how many hold student data.

    ``chronological`` pre-draws and sorts the dates (an mbox is in arrival order); that costs
    one datetime per mail, so bulk runs leave it off. ``every_scenario`` places each scenario
    at least once, spread over the mailbox, so a small demo still shows the rare categories
    (veiligheid, religie, etniciteit) instead of leaving them to chance.
    """
    forced: dict[int, tuple] = {}
    if every_scenario and n_mails >= len(SCENARIOS):
        forced = {(j * n_mails) // len(SCENARIOS): sc for j, sc in enumerate(SCENARIOS)}
    sy_now = school_year_of(today)
    dates_rng = random.Random(f"{seed}:dates:{teacher.email}")
    dates = sorted(draw_when(dates_rng, today) for _ in range(n_mails)) if chronological else None
    sink.open(seed)
    student_mails = 0
    try:
        for i in range(n_mails):
            rng = random.Random(f"{seed}:mail:{teacher.email}:{i}")
            when = dates[i] if dates is not None else draw_when(rng, today)
            sy = school_year_of(when.date())
            if i in forced:
                scenario, _weight, mode = forced[i]
                attach = mode != "never"
            else:
                scenario, attach = pick_scenario(rng, attachments_ratio)
            ctx = MailContext(rng, seed, teacher, teacher.groep or 1, sy, when,
                              population.group(teacher.groep or 1, sy), docs, planter, attach)
            spec = scenario(ctx)
            domain = spec.sender[1].rsplit("@", 1)[-1]
            message_id = f"<{when:%Y%m%d%H%M%S}.{seed}.{index}.{i}@{domain}>"
            ts = aware(when).timestamp()
            data = render(spec, message_id=message_id, when=when, rng=rng, crlf=sink.kind == "eml")
            folder = _folder(sink.kind, rng, spec.outgoing, when, sy_now)
            if sink.maildir is not None:
                unread = not spec.outgoing and (today - when.date()).days < 14 and rng.random() < 0.5
                key = sink.maildir.write(folder, data, ts, i, unread).relative_to(sink.root).as_posix()
            elif sink.mbox is not None:
                key = f"{sink.path.relative_to(sink.root).as_posix()}#{sink.mbox.write(data, ts, spec.sender[1])}"
            else:
                assert sink.eml is not None
                key = sink.eml.write(folder, data, when, ts, spec.subject, i).relative_to(sink.root).as_posix()
            student_mails += spec.student_data
            if on_item is not None:
                on_item(key, message_id, spec.student_data, sorted(spec.categories))
    finally:
        sink.close()
    return student_mails


def _check_today(today: date) -> date:
    if today < EARLIEST_TODAY:
        raise ValueError(
            f"today moet op of na {EARLIEST_TODAY.isoformat()} liggen / today must be on or after "
            f"{EARLIEST_TODAY.isoformat()}"
        )
    return today


def _prepare(root: Path, own: tuple[str, ...], overwrite: bool) -> None:
    """Create ``root``; refuse (or, with ``overwrite``, remove) an earlier corpus in it."""
    root.mkdir(parents=True, exist_ok=True)
    existing = [root / name for name in own if (root / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"er staat al een demo-corpus in {root}; kies een lege map of gebruik overwrite / "
            f"a demo corpus already exists in {root}; choose an empty directory or use overwrite"
        )
    for path in existing:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _write_pst_archive(shared: Path, root: Path, seed: int, population: Population, planter: Planter,
                       record: Callable[[str, str, bool, list[str]], None]) -> int:
    """Plant four mails about former pupils (groep 8 in the first school year) in the sample
    archive; 0 when the sample is not in the cache."""
    from scanner.demo.docs import zorg_issue
    from scanner.demo.pst import write_planted_archive

    pupils = population.group(8, FIRST_SCHOOL_YEAR)
    rng = random.Random(f"{seed}:pst")
    a, b, c, d = rng.sample(pupils, 4)
    issue, _ = zorg_issue(seed, a)
    parent_b, parent_c = b.parents[0], c.parents[0]
    texts = [
        f"Beste collega,\r\n\r\nIn het zorgoverleg is het OPP van {planter.name(a)} (groep 8, "
        f"BSN {planter.pgn(a)}) besproken: {issue}. De intern begeleider belt de ouders.\r\n\r\nGroet, IB",
        f"Goedemorgen juf,\r\n\r\n{planter.name(b)} is ziek, de huisarts denkt aan de ziekte van Pfeiffer. "
        f"Geboortedatum {planter.birth(b)}. Wilt u het huiswerk klaarleggen?\r\n\r\n{planter.parent(parent_b)}",
        f"Beste juf,\r\n\r\nNa de scheiding heeft alleen ik het gezag over {planter.name(c)}; "
        f"zijn vader mag niet ophalen. Nieuw adres: {planter.address(c)}.\r\n\r\n{planter.parent(parent_c)}",
        f"Melding leerplicht: {planter.name(d)} ({planter.pgn(d, 1)}) was deze maand twaalf ochtenden "
        "ongeoorloofd afwezig. De leerplichtambtenaar is ingelicht.",
    ]
    target = shared / PST_ARCHIVE
    planted = write_planted_archive(target, texts)
    if planted is None:
        return 0
    target.chmod(0o640)  # readable by its owner and group, as the demo's other files
    target.parent.chmod(0o755)
    stamp = datetime(2018, 7, 13, 16, 30, tzinfo=UTC).timestamp()
    os.utime(target, (stamp, stamp))
    record(target.relative_to(root).as_posix(), "", False, [])
    return len(planted)


def _population_for(seed: int, today: date) -> Population:
    sy_now = school_year_of(today)
    return build_population(seed, cohort_for(8, FIRST_SCHOOL_YEAR), cohort_for(1, sy_now))


def write_roster(path: Path, population: Population, school_year: int) -> int:
    """The current students (groep 1-8) as a LAS export: UTF-8, comma separated, ISO dates,
    with the inschrijfdatum and an empty uitschrijfdatum (they are all still here).

    Students who left the school appear in old mails but not here, as in a real school; they
    are in :func:`write_former_roster`.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["leerlingnummer", "roepnaam", "tussenvoegsel", "achternaam", "geboortedatum", "groep",
                     "inschrijfdatum", "uitschrijfdatum"])
    count = 0
    for groep in range(1, 9):
        for s in population.group(groep, school_year):
            writer.writerow([s.number, s.first, s.tussenvoegsel, s.surname, s.birth.isoformat(), groep,
                             enrolled_on(s).isoformat(), ""])
            count += 1
    path.write_text(buf.getvalue(), encoding="utf-8")
    return count


def enrolled_on(s: Student) -> date:
    """The day a pupil started groep 1: the first school day after the summer it turned 4."""
    return date(cohort_sy(s.cohort, 1), 8, 20)


def left_on(s: Student) -> date:
    """The day a pupil left after groep 8: the last school day before the summer holiday."""
    return date(cohort_sy(s.cohort, 8) + 1, 7, 12)


def cohort_sy(cohort: int, groep: int) -> int:
    """The school year in which a cohort is in ``groep``."""
    return cohort + groep + 3


def write_former_roster(path: Path, population: Population, school_year: int) -> int:
    """The pupils who left after groep 8 before ``school_year``, as the LAS exports former
    pupils: semicolon separated, Dutch dates (dd-mm-jjjj), with the uitschrijfdatum."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(["leerlingnummer", "roepnaam", "tussenvoegsel", "achternaam", "geboortedatum",
                     "inschrijfdatum", "uitschrijfdatum"])
    count = 0
    for s in population.all():
        if s.groep(school_year) > 8:
            writer.writerow([s.number, s.first, s.tussenvoegsel, s.surname, f"{s.birth:%d-%m-%Y}",
                             f"{enrolled_on(s):%d-%m-%Y}", f"{left_on(s):%d-%m-%Y}"])
            count += 1
    path.write_text(buf.getvalue(), encoding="utf-8")
    return count


def generate_demo(
    out_dir: Path,
    *,
    seed: int = 2026,
    mails_per_teacher: int = 120,
    teachers: int = 3,
    today: date | None = None,
    overwrite: bool = False,
    pst_archive: bool = False,
) -> DemoCorpus:
    """Write the demo corpus under ``out_dir`` and describe it.

    Teacher 1 gets a Maildir++ (INBOX, Verzonden, Archief YYYY), teacher 2 an mbox file,
    teacher 3 a folder of .eml files; further teachers cycle through the three layouts.
    ``gedeeld/`` is the shared folder; ``leerlingen.csv`` the roster. ``today`` decides the
    date range and therefore the retention statuses; pass it for reproducible output.

    With ``pst_archive`` the shared folder also gets ``Archief/archief 2017.pst``: a real Outlook
    archive with pupil mails planted in it (:mod:`scanner.demo.pst`), when the sample archive is
    in the test-data cache (``scripts/fetch-test-data.sh``); ``DemoCorpus.pst_mails`` says how
    many were planted (0: no sample, no archive).

    An existing corpus in ``out_dir`` is an error unless ``overwrite`` is set, because left-over
    files from another seed would silently contradict the ground truth; with ``overwrite`` only
    the generator's own paths (``mail``, ``gedeeld``, ``leerlingen.csv``) are removed.
    """
    today = _check_today(today or date.today())
    if mails_per_teacher < 0:
        raise ValueError("mails_per_teacher moet >= 0 zijn / mails_per_teacher must be >= 0")
    staff = make_teachers(teachers)
    root = Path(out_dir).resolve()
    _prepare(root, ("mail", "gedeeld", "leerlingen.csv", "oud-leerlingen.csv"), overwrite)
    population = _population_for(seed, today)
    planter = Planter()
    docs = DocFactory(seed, planter)
    truth: dict[str, bool] = {}
    categories: dict[str, list[str]] = {}
    mail_keys: dict[str, str] = {}

    def record(key: str, message_id: str, student_data: bool, cats: list[str]) -> None:
        truth[key] = student_data
        categories[key] = cats
        if message_id:
            mail_keys[message_id] = key

    sources: list[dict] = []
    for index, teacher in enumerate(staff):
        kind = LAYOUTS[index % len(LAYOUTS)]
        slug = teacher.email.split("@")[0].replace(".", "-")
        path = root / "mail" / (f"{slug}.mbox" if kind == "mbox" else slug)
        write_mailbox(
            _Sink(kind, path, root), teacher=teacher, index=index, n_mails=mails_per_teacher, seed=seed,
            today=today, population=population, docs=docs, planter=planter, attachments_ratio=0.35,
            chronological=True, every_scenario=True, on_item=record,
        )
        sources.append({"name": f"mail-{slug}", "kind": kind, "path": str(path), "owner": teacher.email,
                        "department": teacher.department})

    shared = root / "gedeeld"
    owners = write_shared_folder(shared, root=root, seed=seed, today=today, teachers=staff,
                                 population=population, docs=docs, planter=planter,
                                 on_item=lambda key, sd, cats: record(key, "", sd, cats))
    sources.append({"name": "gedeeld", "kind": "folder", "path": str(shared), "owner": staff[0].email,
                    "owners": owners, "department": "Schoolbreed"})
    pst_mails = _write_pst_archive(shared, root, seed, population, planter, record) if pst_archive else 0

    roster = root / "leerlingen.csv"
    write_roster(roster, population, school_year_of(today))
    former = root / "oud-leerlingen.csv"
    write_former_roster(former, population, school_year_of(today))
    stamp = aware(datetime.combine(today, time(7, 0))).timestamp()
    for path in (roster, former):
        os.utime(path, (stamp, stamp))
    return DemoCorpus(
        root=root, sources=sources, roster_csv=roster, planted=planter.freeze(),
        teachers=[t.email for t in staff], expected_student_data=truth, expected_categories=categories,
        mail_keys=mail_keys, today=today, former_roster_csv=former, pst_mails=pst_mails,
    )


def generate_bulk(
    out_dir: Path,
    n_mails: int,
    seed: int = 2026,
    attachments_ratio: float = 0.3,
    *,
    teachers: int = 8,
    today: date | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``n_mails`` mails as one Maildir++ per teacher under ``out_dir/bulk``; return it.

    For benchmarks (issue 11: >= 20,000 mails, peak-memory runs at 10k and 50k items). Memory
    stays flat in ``n_mails``: mails are written one by one, dates are drawn per mail, and
    only counters are kept. ``bulk/manifest.json`` lists the mailboxes, counts and the
    matching source configurations (also available through :func:`bulk_sources`).
    """
    today = _check_today(today or date.today())
    if n_mails < 1:
        raise ValueError("n_mails moet >= 1 zijn / n_mails must be >= 1")
    root = Path(out_dir).resolve() / "bulk"
    staff = make_teachers(min(teachers, n_mails))
    _prepare(root.parent, ("bulk",), overwrite)
    root.mkdir()
    population = _population_for(seed, today)
    planter = Planter()
    docs = DocFactory(seed, planter)
    manifest: dict = {"seed": seed, "today": today.isoformat(), "n_mails": n_mails,
                      "attachments_ratio": attachments_ratio, "mailboxes": []}
    for index, teacher in enumerate(staff):
        share = n_mails // len(staff) + (index < n_mails % len(staff))
        slug = teacher.email.split("@")[0].replace(".", "-")
        path = root / slug
        student = write_mailbox(
            _Sink("maildir", path, root), teacher=teacher, index=index, n_mails=share, seed=seed, today=today,
            population=population, docs=docs, planter=planter, attachments_ratio=attachments_ratio,
            chronological=False,
        )
        manifest["mailboxes"].append({
            "source": {"name": f"bulk-{slug}", "kind": "maildir", "path": str(path), "owner": teacher.email,
                       "department": teacher.department},
            "mails": share, "student_data": student,
        })
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return root


def bulk_sources(bulk_root: Path) -> list[dict]:
    """The source configurations of a corpus written by :func:`generate_bulk`."""
    manifest = json.loads((Path(bulk_root) / "manifest.json").read_text(encoding="utf-8"))
    return [box["source"] for box in manifest["mailboxes"]]


