"""Map labels in a real browser: MapLibre GL JS renders the published style's text with our own
glyphs, and the OpenLayers viewer and picker draw the same names as canvas text.

MapLibre needs WebGL, so it gets its own Chromium with SwiftShader (software GL); the shared
browser runs with the GPU off. maplibre-gl comes from frontend/node_modules (a dev dependency,
never in our bundles) through Playwright routes on the test server's origin: no test-only route
in the app, and nothing from another host.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, expect

from tests.browser.conftest import CHROMIUM, FRONTEND, Traffic
from tests.browser.picker_helpers import open_demo

pytestmark = pytest.mark.browser

MAPLIBRE_DIST = FRONTEND / "node_modules" / "maplibre-gl" / "dist"
SHOTS = Path(os.environ.get("WEBMAP_SCREENSHOTS", "/tmp"))
GL_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
]

TEST_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8">
<link rel="stylesheet" href="/__maplibre__/maplibre-gl.css">
<style>html, body { margin: 0 } #map { width: 900px; height: 650px }</style></head>
<body><div id="map"></div>
<script type="module">
  const module = await import('/__maplibre__/maplibre-gl.mjs');
  const maplibregl = module.default || module;
  window.errors = [];
  const map = new maplibregl.Map({
    container: 'map', style: location.origin + '/styles/' + STYLE + '.json',
    center: [18.0745, 59.3372], zoom: 16.5, attributionControl: false,
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.on('error', (e) => window.errors.push(String(e.error && e.error.message)));
  map.on('idle', () => { window.idle = true; });
  window.map = map;
</script></body></html>"""

# Symbol features MapLibre placed, as (layer id, text).
RENDERED_LABELS = """() => window.map.queryRenderedFeatures()
  .filter((f) => f.layer.type === 'symbol')
  .map((f) => [f.layer.id, f.properties.name || f.properties.housenumber || ''])"""


@pytest.fixture(scope="module")
def gl_browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=GL_ARGS
    )
    yield browser
    browser.close()


def _maplibre_page(gl_browser: Browser, live_server: str, style: str) -> tuple[Page, list[str]]:
    page = gl_browser.new_page(viewport={"width": 900, "height": 650})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    def dist(route: Route) -> None:
        name = route.request.url.split("/__maplibre__/", 1)[1].split("?", 1)[0]
        path = MAPLIBRE_DIST / name
        if "/" in name or not path.is_file():
            route.fulfill(status=404, body="")
            return
        kind = "text/javascript" if name.endswith(".mjs") else mimetypes.guess_type(name)[0]
        route.fulfill(status=200, body=path.read_bytes(), content_type=kind or "text/plain")

    page.route(f"{live_server}/__maplibre__/**", dist)
    html = TEST_PAGE.replace("STYLE", repr(style))
    page.route(
        f"{live_server}/__maplibre_test__",
        lambda route: route.fulfill(status=200, body=html, content_type="text/html"),
    )
    page.goto(f"{live_server}/__maplibre_test__")
    page.wait_for_function("window.idle === true", timeout=60_000)
    return page, requests


@pytest.mark.parametrize("style", ["basemap", "basemap-dark"])
def test_maplibre_renders_street_names_with_our_glyphs(
    gl_browser: Browser, live_server: str, style: str
) -> None:
    if not MAPLIBRE_DIST.is_dir():
        pytest.fail("maplibre-gl is missing: run npm ci in frontend/")
    page, requests = _maplibre_page(gl_browser, live_server, style)
    try:
        assert page.evaluate("window.errors") == []
        labels: list[list[str]] = page.evaluate(RENDERED_LABELS)
        streets = {text for layer, text in labels if layer == "label-streets"}
        assert streets, f"no street label placed; placed: {labels[:20]}"
        assert any("gatan" in s or "vägen" in s for s in streets), streets
        assert {layer for layer, _ in labels} >= {"label-streets", "label-places"}
        glyphs = [url for url in requests if url.endswith(".pbf")]
        assert glyphs and all(url.startswith(f"{live_server}/fonts/") for url in glyphs)
        assert any("/fonts/Noto%20Sans%20Regular/0-255.pbf" in url for url in glyphs)
        # Every request stayed on this server (the page and maplibre-gl come from routes there).
        assert [
            url for url in requests if not url.startswith((live_server, "blob:", "data:"))
        ] == []
        page.screenshot(path=str(SHOTS / f"webmap-maplibre-{style}.png"))
    finally:
        page.close()


# Shares of near-black and near-white opaque pixels on the map's canvases. Label text is the only
# thing drawn that dark on the light basemap (the darkest line, the road casing, is #5f5f5f) and
# that light on the dark one (the lightest line, the county border, is #c6b4dc).
TEXT_PIXELS = """(root) => {
  let samples = 0, dark = 0, light = 0;
  const scope = (root && root.shadowRoot) || document;
  for (const canvas of scope.querySelectorAll('#map canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] !== 255) continue;
      samples += 1;
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (r < 0x3a && g < 0x3a && b < 0x3a) dark += 1;
      if (r > 0xc8 && g > 0xc8 && b > 0xc8) light += 1;
    }
  }
  return {dark: dark / samples, light: light / samples, samples};
}"""


def _wait_for_labels(page: Page) -> None:
    # Labels appear once Noto Sans has loaded; the map then draws again.
    page.wait_for_function(
        "() => document.fonts.check('400 13px \"Noto Sans\"', 'Åå Ŋŋ')", timeout=20_000
    )
    page.wait_for_timeout(800)


def test_viewer_draws_labels_in_noto_sans(page: Page, live_server: str, traffic: Traffic) -> None:
    page.goto(f"{live_server}/")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    page.get_by_role("button", name="Zooma in").click()
    page.wait_for_function("() => Number(document.querySelector('#map').dataset.zoom) >= 15.9")
    _wait_for_labels(page)
    page.screenshot(path=str(SHOTS / "webmap-viewer-labels.png"))
    pixels = page.evaluate(TEXT_PIXELS, None)
    assert pixels["dark"] > 0.0004, f"no label text drawn: {pixels}"
    loaded = page.evaluate(
        "[...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family)"
    )
    assert len(loaded) >= 2 and {f.strip('"') for f in loaded} == {"Noto Sans"}
    assert any("/fonts/noto-sans-latin-400-normal.woff2" in u for u in traffic.urls)
    assert traffic.failures == [] and traffic.foreign() == []


def test_dark_scheme_gets_the_dark_basemap_with_light_labels(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server}/")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    _wait_for_labels(page)
    assert traffic.matching("/styles/basemap-dark.json")
    page.screenshot(path=str(SHOTS / "webmap-viewer-dark.png"))
    pixels = page.evaluate(TEXT_PIXELS, None)
    assert pixels["light"] > 0.0004, f"no light label text on the dark basemap: {pixels}"
    assert pixels["dark"] > 0.5, "the dark basemap is mostly dark"


def test_picker_draws_labels(page: Page, live_server: str, traffic: Traffic) -> None:
    picker = open_demo(page, live_server)
    _wait_for_labels(page)
    pixels = picker.evaluate(TEXT_PIXELS)
    assert pixels["dark"] > 0.0004, f"no label text drawn in the picker: {pixels}"
    picker.locator(".map-area").screenshot(path=str(SHOTS / "webmap-picker-labels.png"))
    assert traffic.failures == [] and traffic.foreign() == []
    assert traffic.console_errors == []
