"""The map viewer at ``/`` in Debian's Chromium: real tiles from PostGIS drawn on the canvas."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Traffic
from tiles import style

pytestmark = pytest.mark.browser

# Reads every map canvas and counts its colours; samples a grid so it stays fast.
CANVAS_COLOURS = """
() => {
  const counts = {};
  let samples = 0;
  let transparent = 0;
  for (const canvas of document.querySelectorAll('#map canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let y = 0; y < canvas.height; y += 3) {
      for (let x = 0; x < canvas.width; x += 3) {
        const i = (y * canvas.width + x) * 4;
        if (data[i + 3] === 0) { transparent += 1; samples += 1; continue; }
        if (data[i + 3] < 255) continue;
        const hex = '#' + [data[i], data[i + 1], data[i + 2]]
          .map((v) => v.toString(16).padStart(2, '0')).join('');
        counts[hex] = (counts[hex] || 0) + 1;
        samples += 1;
      }
    }
  }
  return {counts, samples, transparent};
}
"""


def _renders(page: Page) -> int:
    return int(page.get_attribute("#map", "data-renders") or "0")


def _wait_for_new_render(page: Page, before: int) -> None:
    page.wait_for_function(
        "n => Number(document.querySelector('#map').dataset.renders || 0) > n",
        arg=before,
        timeout=20_000,
    )


def _open(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)


def _share(colours: dict[str, Any], colour: str) -> float:
    return int(colours["counts"].get(colour.lower(), 0)) / max(1, int(colours["samples"]))


def test_viewer_draws_tiles_from_this_server_only(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    _open(page, live_server)

    tiles = traffic.matching("/tiles/basemap/")
    assert tiles, "no tile was requested"
    assert all("?v=" in url for url in tiles), "tile URLs must carry the data version"
    assert traffic.failures == []
    assert traffic.foreign() == []
    assert int(page.get_attribute("#map", "data-tiles-loaded") or 0) >= len(set(tiles))
    assert page.get_attribute("#map", "data-tile-errors") == "0"

    colours = page.evaluate(CANVAS_COLOURS)
    assert colours["samples"] > 10_000
    # Östermalm at z15: built-up area, parks, water and buildings are all in view, drawn in the
    # style's own colours (fill interiors are exact; edges are anti-aliased blends).
    for name in ("BUILTUP", "PARK", "WATER", "BUILDING", "ROAD"):
        assert _share(colours, getattr(style, name)) > 0.002, f"{name} not drawn"
    assert len(colours["counts"]) > 50, "a drawn street map has many anti-aliased shades"
    assert traffic.console_errors == []
    page.screenshot(path="/tmp/webmap-viewer-ostermalm.png")


def test_attribution_is_visible(page: Page, live_server: str) -> None:
    _open(page, live_server)
    attribution = page.locator(".ol-attribution")
    expect(attribution).to_be_visible()
    expect(attribution).to_contain_text("© OpenStreetMap contributors")
    expect(attribution).to_contain_text("© Lantmäteriet")
    box = attribution.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] >= 12


def test_whole_of_sweden_button_shows_the_country(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    # With reduced motion the view jumps instead of flying, so only the final zoom's tiles load.
    page.emulate_media(reduced_motion="reduce")
    _open(page, live_server)
    before = _renders(page)
    traffic.urls.clear()
    page.get_by_role("button", name="Visa hela Sverige").click()
    _wait_for_new_render(page, before)
    expect(page.locator("#map-status")).to_have_text("Kartan visar hela Sverige.")

    zooms = {
        int(url.split("/tiles/basemap/")[1].split("/")[0])
        for url in traffic.matching("/tiles/basemap/")
    }
    assert zooms and max(zooms) <= 5, f"Sweden should come from low-zoom tiles, got {zooms}"
    assert float(page.get_attribute("#map", "data-zoom") or 99) < 6
    colours = page.evaluate(CANVAS_COLOURS)
    # The country is land (municipality fill) surrounded by the outside colour.
    assert _share(colours, style.LAND) > 0.05
    # Sea and neighbours are not drawn on the canvas: the style's background shows through.
    assert colours["transparent"] / colours["samples"] > 0.05
    backgrounds = page.evaluate(
        "() => [...document.querySelectorAll('#map *')]"
        ".map(e => getComputedStyle(e).backgroundColor)"
    )
    red, green, blue = (int(style.OUTSIDE[i : i + 2], 16) for i in (1, 3, 5))
    assert f"rgb({red}, {green}, {blue})" in backgrounds, "the style's background colour"
    assert traffic.failures == [] and traffic.foreign() == []
    page.screenshot(path="/tmp/webmap-viewer-sweden.png")


def test_keyboard_zooms_only_while_the_map_has_focus(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    _open(page, live_server)
    start_zoom = float(page.get_attribute("#map", "data-zoom") or 0)
    page.keyboard.press("+")  # focus is on the page, not the map: nothing may happen
    page.wait_for_timeout(300)
    assert float(page.get_attribute("#map", "data-zoom") or 0) == start_zoom

    page.keyboard.press("Tab")  # the map is the first tab stop
    expect(page.locator("#map")).to_be_focused()
    page.keyboard.press("+")
    expect(page.locator("#map")).to_have_attribute("data-zoom", f"{start_zoom + 1:g}")

    before = _renders(page)
    traffic.urls.clear()
    page.keyboard.press("ArrowRight")
    _wait_for_new_render(page, before)
    assert traffic.failures == []
