"""Configuration of detection (the ``detection:`` section of the YAML)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from scanner.core.config_base import StrictModel


class RosterSettings(StrictModel):
    """The school's student list (CSV export from the LAS). Names are only kept as keyed hashes."""

    path: Path
    name_columns: list[str] = Field(
        default_factory=lambda: ["roepnaam", "voornaam", "tussenvoegsel", "achternaam", "naam"]
    )
    birth_date_column: str | None = "geboortedatum"
    student_number_column: str | None = "leerlingnummer"
    delimiter: str | None = None
    enrolled_column: str | None = "inschrijfdatum"
    left_column: str | None = Field(
        default="uitschrijfdatum",
        description=(
            "Leaving date (dd-mm-jjjj or ISO). With this or the enrolled column present, a "
            "pupil without a leaving date is still enrolled: retention rules can then count "
            "from the day a pupil left (term: {after: pupil_left})."
        ),
    )
    former_path: Path | None = Field(
        default=None,
        description=(
            "Optional second CSV of former pupils (LAS export of uitgeschreven leerlingen), "
            "same columns: their names count as student names, their leaving dates for retention."
        ),
    )


class DetectionSettings(StrictModel):
    """How text is analysed. Defaults suit a school that installed nothing extra."""

    spacy_model: str = Field(
        default="auto",
        description=(
            "'auto' picks the largest installed nl_core_news_{lg,md,sm}; a package name or a "
            "path loads that pipeline; 'none' uses the offline name lexicon only."
        ),
    )
    score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    entities: list[str] | None = Field(
        default=None, description="Limit detection to these entity names (default: all)."
    )
    student_number_pattern: str | None = Field(
        default=None,
        description="Regular expression of the school's leerlingnummer, e.g. '\\b\\d{6}\\b'.",
    )
    roster: RosterSettings | None = None
    lexicon_dirs: list[Path] = Field(
        default_factory=list,
        description="Extra folders with category lexicon files that extend the built-in ones.",
    )
    batch_size: int = Field(default=32, ge=1, le=1024)
    chunk_chars: int = Field(
        default=100_000,
        ge=1_000,
        le=1_000_000,
        description=(
            "Texts are analysed in pieces of at most this many characters (spaCy's max_length "
            "is 1,000,000; smaller pieces keep memory flat); small parts of one item with the "
            "same origin are merged up to this size."
        ),
    )


def check_detection_settings(settings: DetectionSettings) -> None:
    """Raise ``ValueError`` (Dutch first) when detection cannot work as configured: an invalid
    ``student_number_pattern`` or a roster that cannot be read.

    Cheap (no spaCy): ``schoonschip check`` and the start of every scan call it, so the mistake
    fails every night, not only the nights that happen to bring new mail (the engine itself is
    built only when there is something to analyse). The roster is read with a throw-away key:
    only whether it loads matters here.
    """
    from detectors.recognizers.roster import Roster
    from detectors.recognizers.student_number import compile_student_pattern
    from scanner.core.privacy import ValueHasher

    if settings.student_number_pattern:
        compile_student_pattern(settings.student_number_pattern)
    if settings.roster is not None:
        Roster.load(settings.roster, ValueHasher(bytes(32)))
