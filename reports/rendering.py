"""The one Jinja2 environment all reports render with.

Autoescaping is on for every ``*.html.j2`` template: subjects and file names come from
mailboxes and shares, i.e. from anyone who can send a teacher an e-mail, so they must never
be able to inject markup into a digest. Undefined variables are errors, so a typo in a
template fails the tests instead of silently rendering an empty string.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "html"),
            disabled_extensions=("txt.j2",),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)
