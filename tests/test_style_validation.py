"""The served basemap style against the official MapLibre style specification.

The validator is the style-spec package's own (``frontend/scripts/validate-style.mjs`` runs
``validateStyleMin`` from ``@maplibre/maplibre-gl-style-spec``), so "valid" means what MapLibre
means by it, not what we think the spec says. The script also rejects URLs to other hosts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
SCRIPT = FRONTEND / "scripts" / "validate-style.mjs"


def _validate(style: Any, base: str) -> tuple[int, list[str], list[str]]:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "@maplibre").is_dir():
        pytest.fail("needs node and frontend/node_modules: run scripts/install.sh (npm ci)")
    done = subprocess.run(
        [node, str(SCRIPT), base],
        input=json.dumps(style),
        capture_output=True,
        text=True,
        cwd=FRONTEND,
        timeout=60,
    )
    report = json.loads(done.stdout)
    return done.returncode, report["errors"], report["widget_unsupported"]


@pytest.mark.parametrize("name", ["basemap", "basemap-dark"])
def test_served_basemap_style_has_no_validation_errors(client: FlaskClient, name: str) -> None:
    response = client.get(f"/styles/{name}.json")
    assert response.status_code == 200
    style = response.get_json()
    code, errors, widget_unsupported = _validate(style, "http://localhost/")
    assert errors == []
    assert code == 0
    # The widget draws the style with its own small renderer (frontend/src/shared/mini-style.js):
    # everything the style uses must be something it draws.
    assert widget_unsupported == []
    # Labels, with glyphs from this server's own /fonts route.
    assert style["glyphs"] == "http://localhost/fonts/{fontstack}/{range}.pbf"
    assert "sprite" not in style
    symbols = {layer["id"] for layer in style["layers"] if layer["type"] == "symbol"}
    assert {"label-streets", "label-places", "label-water", "label-builtup"} <= symbols


def test_validator_reports_broken_and_foreign_styles(client: FlaskClient) -> None:
    """The check above means something: the same validator rejects a damaged copy."""
    style = client.get("/styles/basemap.json").get_json()
    style["layers"].append({"id": "ghost", "type": "fill", "source": "nowhere"})
    style["layers"][1]["paint"]["fill-color"] = "not a colour"
    style["glyphs"] = "https://fonts.example.com/{fontstack}/{range}.pbf"
    code, errors, widget_unsupported = _validate(style, "http://localhost/")
    assert code == 1
    assert widget_unsupported == []  # a foreign glyphs URL is the validator's error, above
    assert any("nowhere" in error for error in errors)
    assert any("fill-color" in error for error in errors)
    assert any("fonts.example.com" in error for error in errors)
