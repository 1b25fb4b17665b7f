"""<webmap-picker projection="EPSG:3006">: the map in SWEREF 99 TM from the server's OGC API –
Tiles SWEREF99TM tiles, with the same value as in Web Mercator mode. Real app, Debian's Chromium."""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Traffic
from tests.browser.picker_helpers import open_demo, run_axe, tab_to
from tests.browser.test_viewer import CANVAS_COLOURS
from tiles import style

pytestmark = pytest.mark.browser

SWEREF = "?projection=EPSG:3006"


def _choose_at_start(page: Page, live_server: str, query: str) -> dict[str, Any]:
    """Open the demo, choose the place under the crosshair by keyboard, return the value."""
    picker = open_demo(page, live_server, query)
    tab_to(page, "map")
    page.keyboard.press("Enter")
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    value: dict[str, Any] = picker.evaluate("el => el.value")
    return value


def _tile_path(url: str) -> list[str]:
    """tileMatrix, tileRow, tileCol of an OGC API – Tiles URL."""
    return url.split("/tiles/SWEREF99TM/")[1].split("?")[0].split("/")


def _metres_apart(a: list[float], b: list[float]) -> float:
    north = (a[1] - b[1]) * 111_320
    east = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(north, east)


def test_same_place_same_value_in_both_projections(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    mercator = _choose_at_start(page, live_server, "")
    assert traffic.matching("/tiles/basemap/"), "Web Mercator mode draws the XYZ tiles"
    assert not traffic.matching("/tiles/SWEREF99TM/")
    before = len(traffic.urls)

    sweref = _choose_at_start(page, live_server, SWEREF)
    urls = traffic.urls[before:]
    ogc = [u for u in urls if "/ogc/collections/basemap/tiles/SWEREF99TM/" in u]
    assert ogc, "the SWEREF 99 TM map draws the SWEREF99TM tile matrix set"
    assert all("?v=" in u for u in ogc), "versioned, immutable tile URLs"
    assert not [u for u in urls if "/tiles/basemap/" in u], "and no Web Mercator tiles"
    assert traffic.failures == [] and traffic.foreign() == []

    a, b = mercator["geometry"]["coordinates"], sweref["geometry"]["coordinates"]
    assert _metres_apart(a, b) < 0.01, (a, b)
    pa, pb = mercator["properties"], sweref["properties"]
    assert abs(pa["sweref99tm"]["e"] - pb["sweref99tm"]["e"]) < 0.01
    assert abs(pa["sweref99tm"]["n"] - pb["sweref99tm"]["n"]) < 0.01
    for key in ("address", "property", "municipality", "label", "zoom", "source"):
        assert pa[key] == pb[key], key

    # The tiles asked for are those of Lantmäteriet's grid around the chosen place: at the most
    # detailed level fetched, the tile holding the crosshair (row from the top, then column).
    fetched = {tuple(int(v) for v in _tile_path(u)) for u in ogc}
    level = max(z for z, _, _ in fetched)
    cell = 4096 / 2**level * 256
    row = math.floor((8_500_000 - pb["sweref99tm"]["n"]) / cell)
    col = math.floor((pb["sweref99tm"]["e"] + 1_200_000) / cell)
    assert (level, row, col) in fetched, (level, row, col, sorted(fetched))


def test_sweref_picker_has_no_axe_violations(browser: Browser, live_server: str) -> None:
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="sv-SE", bypass_csp=True
    )
    try:
        page = ctx.new_page()
        open_demo(page, live_server, SWEREF)
        assert run_axe(page) == []
    finally:
        ctx.close()


def test_viewer_in_sweref_draws_the_sweref_tiles(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    page.goto(f"{live_server}/?projection=EPSG:3006")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    ogc = traffic.matching("/ogc/collections/basemap/tiles/SWEREF99TM/")
    assert ogc and all("?v=" in u for u in ogc)
    assert not traffic.matching("/tiles/basemap/"), "no Web Mercator tiles"
    assert traffic.failures == [] and traffic.foreign() == []
    colours = page.evaluate(CANVAS_COLOURS)
    # Östermalm drawn in the style's own colours, as in Web Mercator.
    for name in ("BUILTUP", "PARK", "BUILDING"):
        count = int(colours["counts"].get(getattr(style, name).lower(), 0))
        assert count / max(1, int(colours["samples"])) > 0.002, f"{name} not drawn"
    # "Visa hela Sverige" fits the country in the SWEREF 99 TM view too.
    page.get_by_role("button", name="Visa hela Sverige").click()
    expect(page.locator("#map")).not_to_have_attribute("data-zoom", "15", timeout=10_000)
    assert float(page.get_attribute("#map", "data-zoom") or 99) < 8


def test_widget_stays_within_its_size_budget(frontend_built: Path) -> None:
    """The widget, SWEREF 99 TM included, is ≤ 150 KB gzipped (issue 5's aim; bench/widget.py)."""
    gzipped = len(gzip.compress((frontend_built / "webmap.js").read_bytes(), 9))
    assert gzipped <= 150 * 1024, f"{gzipped / 1024:.1f} KB"


OVERLAY_HITS = """el => {
  let hits = 0;
  for (const canvas of el.shadowRoot.querySelectorAll('#map canvas')) {
    if (!canvas.width) continue;
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] === 0 && d[i + 1] === 90 && d[i + 2] === 156) hits += 1;
    }
  }
  return hits;
}"""


def test_overlay_layers_come_from_their_sweref_tiles(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    open_demo(page, live_server, SWEREF)
    page.evaluate(
        """() => {
          const picker = document.createElement('webmap-picker');
          const attributes = {id: 'extra', name: 'extra', layers: 'water', projection: 'EPSG:3006',
                              center: '18.085,59.333', zoom: '15'};
          Object.entries(attributes).forEach(([k, v]) => picker.setAttribute(k, v));
          document.querySelector('form').append(picker);
        }"""
    )
    picker = page.locator("#extra")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    page.wait_for_function(
        f"el => ({OVERLAY_HITS})(el) > 100", arg=picker.element_handle(), timeout=20_000
    )
    assert traffic.matching("/ogc/collections/water/tiles/SWEREF99TM/")
    assert not traffic.matching("/tiles/water/"), "no Web Mercator tiles of the overlay"
    assert traffic.failures == []
