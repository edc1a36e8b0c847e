"""The base of every configuration model, and references to secrets kept outside the YAML.

It lives on the ground floor because every part of the application has settings: detection,
extraction, retention, reports and each connector. Before it moved here it sat in
``connectors/base.py``, so detection and reports imported the connector package only to get a
base class.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator


class StrictModel(BaseModel):
    """Base for all configuration models: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(StrictModel):
    """A secret named in the YAML but kept outside it: an environment variable or a file.

    Written as ``{env: GRAPH_CLIENT_SECRET}`` or ``{file: /etc/schoonschip/graph.pem}``.
    The reference is checked when the configuration is loaded, so a missing secret is one
    clear error naming the key, not a failure at 03:00. The value itself is read only when
    needed and never kept in the model (which is pickled to workers).
    """

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _check_available(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("geef precies een van 'env' of 'file' / give exactly one of 'env' or 'file'")
        if self.env is not None and not os.environ.get(self.env):
            raise ValueError(
                f"omgevingsvariabele {self.env} is niet gezet / environment variable {self.env} is not set"
            )
        if self.file is not None and not Path(self.file).is_file():
            raise ValueError(f"bestand {self.file} bestaat niet / file {self.file} does not exist")
        return self

    def get(self) -> str:
        """Read the secret now (text, stripped of surrounding white space)."""
        if self.env is not None:
            return os.environ.get(self.env, "")
        return Path(self.file).read_text(encoding="utf-8").strip()  # type: ignore[arg-type]

    def get_bytes(self) -> bytes:
        if self.env is not None:
            return os.environ.get(self.env, "").encode()
        return Path(self.file).read_bytes()  # type: ignore[arg-type]
