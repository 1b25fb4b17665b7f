"""Helpers for driving <webmap-picker> in tests (shared by the picker's browser tests)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"

# The deepest focused element, through shadow roots.
ACTIVE = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? (a.id || a.getAttribute('data-action') || a.tagName.toLowerCase()) : null;
}"""


def open_demo(page: Page, live_server: str, query: str = "") -> Locator:
    """Open /demo and wait until the picker's map has drawn its first tiles."""
    page.goto(f"{live_server}/demo{query}")
    picker = page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    return picker


def tab_to(page: Page, target: str, limit: int = 30) -> None:
    """Press Tab until the element with id (or data-action) ``target`` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE) == target:
            return
    raise AssertionError(f"{target!r} never received focus by Tab")


def live_text(picker: Locator) -> str:
    return picker.locator("[role=status]").inner_text().replace("\u200b", "").strip()


def expect_live(picker: Locator, text: str) -> None:
    expect(picker.locator("[role=status]")).to_have_text(text, timeout=10_000)


def reverse(live_server: str, lon: float, lat: float) -> dict[str, Any]:
    """What the server's reverse lookup says about a point (for comparing with the value)."""
    url = f"{live_server}/api/reverse?lon={lon}&lat={lat}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body: dict[str, Any] = json.load(response)
    return body


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core (from node_modules, no network) on the page; returns the violations.

    The page's CSP forbids inline scripts, so the test context must use ``bypass_csp=True``.
    """
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]][:5],
        }
        for v in violations
    ]
