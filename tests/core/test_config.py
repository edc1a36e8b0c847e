"""Configuration: defaults, validation errors that name file and key, secrets, paths."""

from pathlib import Path

import pytest

from scanner.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "school.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load_without_a_file():
    settings = load_config(None)
    assert settings.school.timezone == "Europe/Amsterdam"
    assert settings.reports.min_group_size == 5
    assert settings.sources == []


def test_example_config_is_valid(monkeypatch, tmp_path):
    monkeypatch.setenv("SCHOONSCHIP_SMTP_PASSWORD", "x")
    example = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
    text = example.read_text(encoding="utf-8").replace("/etc/schoonschip/leerlingen.csv", str(tmp_path / "r.csv"))
    (tmp_path / "r.csv").write_text("leerlingnummer;roepnaam;achternaam\n1;Ada;Jansen\n", encoding="utf-8")
    settings = load_config(write(tmp_path, text))
    assert [s.kind for s in settings.sources] == ["maildir", "folder"]
    assert settings.sources[1].owners["Zorg/*"] == "ib@regenboog.nl"


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, "school:\n  naam: X\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = info.value.format()
    assert str(path) in text and "school.naam" in text and "onbekende sleutel" in text


def test_wrong_type_and_missing_field_in_a_source(tmp_path):
    path = write(tmp_path, "reports:\n  min_group_size: veel\nsources:\n  - name: a\n    kind: maildir\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = "\n".join(info.value.problems)
    assert "reports.min_group_size" in problems and "geheel getal" in problems
    assert "sources[0] (a).path" in problems and "veld ontbreekt" in problems


def test_unknown_source_kind_lists_the_known_ones(tmp_path):
    path = write(tmp_path, "sources:\n  - {name: a, kind: ftp, path: x}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "maildir" in info.value.problems[0] and "ftp" in info.value.problems[0]


def test_missing_secret_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SECRET_VAR", raising=False)
    path = write(tmp_path, "delivery:\n  method: smtp\n  host: h\n  sender: a@b.nl\n  username: u\n"
                           "  password: {env: NO_SUCH_SECRET_VAR}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert any("delivery.password" in p and "NO_SUCH_SECRET_VAR" in p for p in info.value.problems)


def test_invalid_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "school:\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "YAML" in info.value.problems[0]


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "mail").mkdir()
    path = write(tmp_path, "state_dir: data\nsources:\n  - {name: a, kind: maildir, path: mail, owner: a@b.nl}\n")
    settings = load_config(path)
    assert settings.state_dir == tmp_path / "data"
    assert Path(settings.sources[0].path) == tmp_path / "mail"


def test_duplicate_source_names_are_refused(tmp_path):
    path = write(tmp_path, "sources:\n  - {name: a, kind: maildir, path: m, owner: x@y.nl}\n"
                           "  - {name: a, kind: mbox, path: m, owner: x@y.nl}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert any("dubbele naam" in p for p in info.value.problems)
