"""Stable error codes of extraction, with their Dutch-first messages.

Every limit that is hit and every file that cannot be read becomes one :class:`ItemError`
with a code from :data:`MESSAGES`. The messages are constants on purpose: they may mention a
configured limit (a number) but never content, a subject or the name of an attachment, so they
are safe to store and to show in the IT run report. Where it happened goes in ``part``.
"""

from __future__ import annotations

from scanner.core.model import ItemError

MESSAGES: dict[str, str] = {
    "encrypted": "niet te lezen: versleuteld / unreadable: encrypted",
    "too_large": "bestand is groter dan de ingestelde limiet / file exceeds the configured size limit",
    "zip_bomb": "archief geweigerd: uitgepakte grootte of compressieverhouding boven de limiet "
    "/ archive refused: uncompressed size or compression ratio above the limit",
    "too_many_members": "archief heeft meer bestanden dan de limiet; de rest is overgeslagen "
    "/ archive has more members than the limit; the rest was skipped",
    "nesting_too_deep": "te diep geneste bijlagen of archieven; niet verder gelezen "
    "/ attachments or archives nested too deeply; not read further",
    "timeout": "tijdslimiet per item bereikt / time limit per item reached",
    "memory_limit": "geheugenlimiet bereikt bij het lezen / memory limit reached while reading",
    "crashed": "lezer onverwacht gestopt / reader stopped unexpectedly",
    "corrupt": "bestand is beschadigd of onvolledig / file is damaged or incomplete",
    "repaired": "bestand was beschadigd en is gedeeltelijk gelezen / file was damaged and was partly read",
    "unsupported": "bestandstype wordt niet gelezen / file type is not read",
    "type_mismatch": "inhoud past niet bij de bestandsextensie / content does not match the file extension",
    "text_truncated": "tekst ingekort tot de ingestelde limiet / text truncated at the configured limit",
    "sheet_truncated": "werkblad niet helemaal gelezen (te veel (lege) rijen) "
    "/ sheet not fully read (too many (empty) rows)",
    "bad_charset": "tekenset ontbreekt of klopt niet; tekst is geraden "
    "/ character set missing or wrong; text was decoded by guess",
    "malformed_mime": "e-mailstructuur is beschadigd; ruwe tekst gelezen "
    "/ mail structure is malformed; raw text was read",
    "bad_name": "bestandsnaam bevat ongeldige tekens / file name contains invalid characters",
    "empty": "bestand is leeg / file is empty",
    "ocr_failed": "tekstherkenning (OCR) mislukt / text recognition (OCR) failed",
    "fetch_failed": "inhoud kon niet worden gelezen / content could not be read",
}


def item_error(code: str, part: str = "body", detail: str | None = None) -> ItemError:
    """Build an :class:`ItemError` for ``code``. ``detail`` must be content-free (a number,
    a limit) and already bilingual; it is appended in parentheses."""
    message = MESSAGES.get(code, MESSAGES["corrupt"])
    if detail:
        message = f"{message} ({detail})"
    return ItemError(code=code, message=message, part=part)


class ExtractError(Exception):
    """Raised inside a format handler to end that part with a stable code.

    The exception text is never stored; only ``code`` (and a content-free ``detail``) is.
    """

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


class ItemTimeout(Exception):
    """The cooperative deadline of the item passed; stop and return what was found."""
