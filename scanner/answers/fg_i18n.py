"""The FG page's own strings (sign-in, sign-out, downloads), Dutch first; the figures
themselves come with the FG report's catalogue (:mod:`reports.i18n`)."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "title": "FG-overzicht",
        "other_language": "English",
        "login.heading": "Inloggen voor de FG",
        "login.explain": "Deze pagina toont de opruimcijfers van de school, alleen als groepstotalen. "
                         "Het wachtwoord krijg je van de ICT-afdeling.",
        "login.password": "Wachtwoord",
        "login.button": "Inloggen",
        "login.wrong": "Dat wachtwoord klopt niet.",
        "login.blocked": "Te veel onjuiste pogingen. Probeer het over {minutes} minuten opnieuw.",
        "login.expired": "Je sessie is verlopen. Log opnieuw in.",
        "login.ended": "Je bent uitgelogd.",
        "login.csrf": "Het formulier is verlopen of niet vanaf deze pagina verstuurd. Probeer het opnieuw.",
        "login.off": "De FG-pagina is niet ingesteld. Vraag de ICT-afdeling om `schoonschip fg-password` "
                     "en zet de hash in fg_page.password_hash.",
        "logout": "Uitloggen",
        "vv.heading": "Vernietigingsverklaring downloaden",
        "vv.from": "Van",
        "vv.to": "Tot en met",
        "vv.html": "HTML (afdrukken als PDF)",
        "vv.csv": "CSV",
        "vv.bad_dates": "Geef twee datums (jjjj-mm-dd), de eerste niet na de tweede.",
        "readonly": "Alleen lezen: hier verandert niets.",
    },
    "en": {
        "title": "DPO overview",
        "other_language": "Nederlands",
        "login.heading": "Sign in for the DPO",
        "login.explain": "This page shows the school's clean-up figures, as group totals only. "
                         "IT gives you the password.",
        "login.password": "Password",
        "login.button": "Sign in",
        "login.wrong": "That password is not right.",
        "login.blocked": "Too many wrong attempts. Try again in {minutes} minutes.",
        "login.expired": "Your session has expired. Sign in again.",
        "login.ended": "You are signed out.",
        "login.csrf": "The form expired or was not sent from this page. Try again.",
        "login.off": "The DPO page is not set up. Ask IT to run `schoonschip fg-password` and put the hash in "
                     "fg_page.password_hash.",
        "logout": "Sign out",
        "vv.heading": "Download a certificate of destruction",
        "vv.from": "From",
        "vv.to": "To (inclusive)",
        "vv.html": "HTML (print to PDF)",
        "vv.csv": "CSV",
        "vv.bad_dates": "Give two dates (yyyy-mm-dd), the first not after the second.",
        "readonly": "Read only: nothing changes here.",
    },
}


def t(key: str, lang: str, **values: Any) -> str:
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES["nl"][key]
    return text.format(**values) if values else text
