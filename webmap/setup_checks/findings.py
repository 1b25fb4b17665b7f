"""A check's outcome and what the checks look at (see :mod:`webmap.setup_checks`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from webmap.settings import Settings

Level = Literal["ok", "warning", "error"]


class Finding(NamedTuple):
    """One outcome: ``check`` names what was looked at; ``fix`` says what to do (empty if ok)."""

    check: str
    level: Level
    message: str
    fix: str = ""


def ok(check: str, message: str) -> Finding:
    return Finding(check, "ok", message)


@dataclass
class Deployment:
    """What the checks look at: the settings, the nginx template ``serve --proxy`` renders and
    the environment (for misspelt ``WEBMAP_*`` names)."""

    settings: Settings
    nginx_template: Path
    environ: Mapping[str, str]
