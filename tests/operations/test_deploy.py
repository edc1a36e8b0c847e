"""The shipped systemd units and crontab: hardened, calling real CLI commands, and timers that
fire once a day (week, month) across the daylight-saving nights."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scanner.cli import build_cli
from scanner.triggers import SchoolCronTrigger
from tests.conftest import allow_skip

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = ["schoonschip.service", "schoonschip-scan.service", "schoonschip-digest.service",
            "schoonschip-report.service"]
TIMERS = {"schoonschip-scan.timer": "scan", "schoonschip-digest.timer": "digest",
          "schoonschip-report.timer": "report"}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def check_command(words: list[str]) -> None:
    """The command after the program name exists in the CLI with the options used."""
    group = build_cli()
    command = group.commands[words[0]]
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words[1:]:
        if word.startswith("-"):
            assert word in options, f"{words[0]} has no option {word}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_units_are_hardened_and_call_real_commands(name):
    service = unit(name)["Service"]
    assert service.get("User") == "schoonschip" or service.get("DynamicUser") == "yes"
    assert service["ProtectSystem"] == "strict"
    assert "/var/lib/schoonschip" in service["ReadWritePaths"].split()
    assert service["PrivateTmp"] == "yes" and service["NoNewPrivileges"] == "yes"
    assert service["KillMode"] == "mixed", "SIGTERM to the main process only, so it can checkpoint"
    words = shlex.split(service["ExecStart"])
    assert words[0].endswith("/schoonschip")
    check_command(words[1:])


def calendar(expression: str, base: str, iterations: int) -> list[datetime]:
    systemd_analyze = shutil.which("systemd-analyze")
    if systemd_analyze is None:
        if allow_skip():
            pytest.skip("systemd-analyze not installed")
        pytest.fail("systemd-analyze is needed to check the timers (package systemd)")
    result = subprocess.run([systemd_analyze, "calendar", f"--base-time={base}", f"--iterations={iterations}",
                             expression], capture_output=True, text=True, timeout=30, env={"TZ": "UTC"})
    assert result.returncode == 0, result.stderr
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", result.stdout)
    return [datetime.fromisoformat(s) for s in stamps]


@pytest.mark.parametrize("base", ["2027-03-26 12:00 UTC", "2027-10-29 12:00 UTC"])
def test_scan_timer_fires_every_night_once_across_dst(base):
    timer = unit("schoonschip-scan.timer")["Timer"]
    assert timer["Persistent"] == "true"
    fires = calendar(timer["OnCalendar"], base, 5)
    assert len(fires) == 5
    local = [f.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Amsterdam")) for f in fires]
    days = [f.date() for f in local]
    assert len(set(days)) == 5 and (days[-1] - days[0]).days == 4, fires
    assert {(f.hour, f.minute) for f in local} == {(1, 30)}


def test_digest_and_report_timers_match_the_default_schedule():
    digest = calendar(unit("schoonschip-digest.timer")["Timer"]["OnCalendar"], "2027-03-20 12:00 UTC", 2)
    assert [(d.weekday(), d.hour) for d in digest] == [(0, 6), (0, 5)]  # Monday 07:00 CET, then CEST
    report = calendar(unit("schoonschip-report.timer")["Timer"]["OnCalendar"], "2027-01-15 12:00 UTC", 2)
    assert [(d.month, d.day, d.hour) for d in report] == [(2, 1, 7), (3, 1, 7)]


def test_each_timer_starts_its_own_service():
    for timer, job in TIMERS.items():
        target = unit(timer)["Timer"]["Unit"]
        assert (DEPLOY / target).is_file()
        assert shlex.split(unit(target)["Service"]["ExecStart"])[1] == job


def test_crontab_example_lines_parse_and_call_real_commands():
    jobs = []
    for line in (DEPLOY / "crontab.example").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split()
        SchoolCronTrigger.from_crontab(" ".join(fields[:5]), timezone="Europe/Amsterdam")
        assert fields[5] == "schoonschip"  # the user column of /etc/cron.d
        command = shlex.split(line.split(None, 6)[6].split(">", 1)[0])
        assert command[0] == "$SCHOONSCHIP"
        check_command(command[1:])
        jobs.append(command[1])
    assert jobs == ["scan", "digest", "report", "status"]
