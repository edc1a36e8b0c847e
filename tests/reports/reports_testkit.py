"""Shared helpers of the report tests: headless Chromium, screenshots, sample data."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import date, datetime
from html import escape
from pathlib import Path

import pytest

from reports.data import DigestItem, TeacherDigest

CHROMIUM = os.environ.get("SCHOONSCHIP_CHROMIUM", "/usr/bin/chromium")


def need_chromium() -> str:
    """The Chromium binary, or a clear failure (a skip only with SCHOONSCHIP_ALLOW_SKIP=1)."""
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if not path:
        message = "chromium ontbreekt (apt-get install chromium) / chromium is missing"
        if os.environ.get("SCHOONSCHIP_ALLOW_SKIP") == "1":
            pytest.skip(message)
        pytest.fail(message)
    return path


def _chromium(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    binary = need_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )


def screenshot(html_file: Path, png: Path, width: int, height: int) -> Path:
    """Render ``html_file`` in headless Chromium at ``width`` x ``height`` into ``png``."""
    result = _chromium([f"--screenshot={png}", f"--window-size={width},{height}", html_file.as_uri()])
    assert png.is_file(), f"chromium made no screenshot (rc {result.returncode}): {result.stderr[-500:]}"
    return png


def scroll_width(html: str, tmp: Path, width: int) -> tuple[int, int]:
    """The page's ``(scrollWidth, viewport width)`` in a ``width`` px wide frame: a scroll
    width larger than the viewport means a phone user has to scroll sideways.

    Headless Chromium will not make a window narrower than 500 px, so the page is measured
    inside an iframe of the wanted width; a test-only wrapper writes the measurement into the
    DOM, which Chromium then dumps.
    """
    wrapper = (
        "<!DOCTYPE html><html><body style='margin:0'>"
        f"<iframe id='f' style='width:{width}px;height:900px;border:0' srcdoc=\"{escape(html, quote=True)}\""
        " onload=\"var d=this.contentDocument.documentElement;"
        " document.body.setAttribute('data-scroll-width', d.scrollWidth + ':' + d.clientWidth);\">"
        "</iframe></body></html>"
    )
    page = tmp / f"probe-{width}.html"
    page.write_text(wrapper, encoding="utf-8")
    result = _chromium(["--dump-dom", "--window-size=800,1000", page.as_uri()])
    marker = 'data-scroll-width="'
    start = result.stdout.find(marker)
    assert start >= 0, f"no measurement in the DOM dump: {result.stderr[-500:]}"
    scroll, inner = result.stdout[start + len(marker):].split('"', 1)[0].split(":")
    return int(scroll), int(inner)


def assert_not_blank(png: Path, min_ink: float = 0.02) -> None:
    """The screenshot shows something: several colours and enough non-background pixels."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 22) or []
        total = rgb.width * rgb.height
    assert len(colours) > 20, f"screenshot {png.name} has only {len(colours)} colours"
    background = max(colours)[0]
    ink = 1 - background / total
    assert ink >= min_ink, f"screenshot {png.name} is nearly blank ({ink:.1%} non-background)"


def item(n: int, status: str = "verlopen", categories: tuple[str, ...] = ("zorg",), kind: str = "mail",
         title: str | None = None, link: str | None = "https://outlook.office365.com/owa/?ItemID=X",
         action: str = "dossier_en_verwijderen") -> DigestItem:
    return DigestItem(
        item_id=f"item-{n}",
        source="m365",
        kind=kind,
        title=title or f"Onderwerp {n}",
        folder="Inbox/Zorg",
        date=datetime(2022, 1 + n % 12, 1 + n % 27, 9, 30),
        categories=categories,
        status=status,
        due_date=date(2025, 8, 1) if status == "verlopen" else date(2026, 12, 31),
        action=action,
        link=link,
    )


def digest(items: list[DigestItem], owner: str = "jansen@school.nl", language: str = "nl",
           hint: str | None = None) -> TeacherDigest:
    return TeacherDigest(owner=owner, language=language, school="OBS De Regenboog", items=items,
                         generated=datetime(2026, 11, 23, 6, 0), full_list_hint=hint)


def fg_frames(seed: int = 7, n: int = 400):
    """A synthetic store extract: items over three runs, several departments (one tiny),
    categories with realistic skew, some cleaned up and some marked false positive."""
    import random

    import pandas as pd

    rng = random.Random(seed)
    runs = pd.DataFrame({
        "run_id": ["r1", "r2", "r3", "r4"],
        "started_at": pd.to_datetime(["2026-11-01 02:00", "2026-11-08 02:00", "2026-11-15 02:00",
                                      "2026-11-22 02:00"], utc=True),
        "finished_at": pd.to_datetime(["2026-11-01 03:10", "2026-11-08 03:05", None, "2026-11-22 03:00"],
                                      utc=True),
        "status": ["completed", "completed", "failed", "completed"],
    })
    cats_pool = ["gezondheid", "zorg", "verzuim", "cijfers", "contactgegevens", "identificatie",
                 "thuissituatie", "veiligheid"]
    weights = [10, 14, 20, 30, 18, 6, 6, 3]
    sens = {"gezondheid": "bijzonder", "zorg": "hoog", "veiligheid": "hoog", "thuissituatie": "hoog",
            "identificatie": "hoog"}
    departments = ["Onderbouw", "Bovenbouw", "Zorgteam", "Locatie Noord"]
    rows = []
    for i in range(n):
        chosen = sorted(set(rng.choices(cats_pool, weights, k=rng.choice([1, 1, 2, 3]))))
        if i == 0:
            chosen = ["religie"]  # a single item of a rare category: must never be visible
        sensitivity = ("bijzonder" if any(sens.get(c) == "bijzonder" or c == "religie" for c in chosen)
                       else "hoog" if any(sens.get(c) == "hoog" for c in chosen) else "normaal")
        first = rng.choice(["r1", "r1", "r1", "r2", "r4"])
        cleaned = rng.random() < 0.2 and first != "r4"
        age_days = rng.choice([100, 300, 500, 900, 1500, 2200, 3000])
        rows.append({
            "item_id": f"i{i}", "source_kind": rng.choice(["graph_mail", "smb"]),
            "kind": rng.choice(["mail", "file"]),
            "department": "Directie" if i in (1, 2) else rng.choice(departments),
            "date": pd.Timestamp("2026-11-22", tz="UTC") - pd.Timedelta(days=age_days + rng.randint(0, 60)),
            "categories": chosen, "sensitivity": sensitivity,
            "status": rng.choice(["verlopen", "verlopen", "binnenkort", "ok"]),
            "state": "opgeruimd" if cleaned else "actief",
            "closed_at": (pd.Timestamp("2026-11-22 02:30", tz="UTC") if rng.random() < 0.6
                          else pd.Timestamp("2026-11-08 02:30", tz="UTC")) if cleaned else None,
            "first_seen_run": first,
            "false_positive": rng.random() < 0.06,
            "student_data": rng.random() < 0.93,
        })
    return pd.DataFrame(rows), runs
