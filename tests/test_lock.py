"""requirements.lock is in step with setup.cfg: scripts/install.sh installs the lock and then webmap
without its dependencies, so a requirement missing from the lock would be missing everywhere.
After changing setup.cfg, run ``bash scripts/lock.sh`` and commit both files.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parent.parent


def _declared() -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(PROJECT / "setup.cfg", encoding="utf-8")
    blocks = [config["options"]["install_requires"]]
    blocks += [value for _extra, value in config.items("options.extras_require")]
    return [Requirement(line) for block in blocks for line in block.splitlines() if line.strip()]


def _locked() -> tuple[dict[str, Version], set[str]]:
    """The pinned versions, and the packages the lock says setup.cfg asked for."""
    pins: dict[str, Version] = {}
    direct: set[str] = set()
    current = ""
    for line in (PROJECT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        pinned = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line.strip())
        if pinned and not line.startswith(" "):
            current = canonicalize_name(pinned[1])
            pins[current] = Version(pinned[2])
        elif current and "webmap (setup.cfg)" in line:
            direct.add(current)
    return pins, direct


def test_every_requirement_is_pinned_at_a_version_it_allows() -> None:
    pins, _direct = _locked()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run bash scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, setup.cfg asks {requirement}"
        )


def test_the_lock_asks_for_nothing_setup_cfg_no_longer_does() -> None:
    _pins, direct = _locked()
    declared = {canonicalize_name(requirement.name) for requirement in _declared()}
    assert direct, "requirements.lock names no package as wanted by setup.cfg"
    assert direct == declared
