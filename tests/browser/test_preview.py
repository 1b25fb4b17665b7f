"""The picker's preview (issue 15): a server-drawn picture of the start view in the map's box
until the live map has drawn, in the same box, named like the map, gone once the map is there.

The states are held deterministically: the widget script or the basemap tiles are kept back
(Playwright routes answered later) while the test looks at the page, then let through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.picker_helpers import run_axe

pytestmark = pytest.mark.browser

MAP_LABEL = {"sv": "Karta för att välja plats", "en": "Map for choosing a place"}

# Installed before any page script: when the preview was loaded, began to fade and was removed.
TIMELINE = """(() => {
  const t = (window.__preview = { loaded: null, leaving: null, removed: null });
  document.addEventListener('load', (event) => {
    if (event.target.matches?.('[slot="preview"] > img')) t.loaded ??= performance.now();
  }, true);
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'attributes' && record.target.classList?.contains('leaving'))
        t.leaving ??= performance.now();
      for (const node of record.removedNodes || [])
        if (node.matches?.('[slot="preview"]')) t.removed ??= performance.now();
    }
  }).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['class'],
  });
})();"""

MAP_AREA_BOX = """(picker) => {
  const r = picker.shadowRoot.querySelector('.map-area').getBoundingClientRect();
  return [Math.round(r.width), Math.round(r.height)];
}"""


class Held:
    """Requests matching a pattern kept back until ``release()``."""

    def __init__(self, page: Page, pattern: str) -> None:
        self.routes: list[Route] = []
        self.page = page
        self.pattern = pattern
        self.released = False
        page.route(pattern, self._hold)

    def _hold(self, route: Route) -> None:
        if self.released:
            route.continue_()
        else:
            self.routes.append(route)

    def release(self) -> None:
        self.released = True
        for route in self.routes:
            route.continue_()
        self.routes.clear()


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
        locale="sv-SE",
        bypass_csp=True,  # axe
    )
    ctx.add_init_script(TIMELINE)
    yield ctx.new_page()
    ctx.close()


def _timeline(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("() => window.__preview")
    return result


@pytest.mark.parametrize(("path", "lang"), [("/demo", "sv"), ("/embed?lang=en", "en")])
def test_preview_is_there_before_the_script_in_the_maps_box_with_the_maps_name(
    phone_page: Page, live_server: str, path: str, lang: str
) -> None:
    script = Held(phone_page, "**/widget/webmap.js")
    pictures: list[str] = []
    phone_page.on("request", lambda r: pictures.append(r.url) if "staticmap" in r.url else None)
    phone_page.goto(
        f"{live_server}{path}", wait_until="commit"
    )  # DOMContentLoaded waits for the script
    preview = phone_page.locator('webmap-picker > picture[slot="preview"]')
    expect(preview).to_be_visible()
    image = preview.locator("img")
    phone_page.wait_for_function("() => document.querySelector('[slot=preview] > img').complete")
    assert image.get_attribute("alt") == MAP_LABEL[lang]
    # At the live map's scale: 200 × 210 image pixels stand for 400 × 420 CSS pixels, the centre
    # of the wide picture (a phone-width page gets the narrow one).
    assert image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [400, 420]
    assert "width=200&height=210" in image.evaluate("(img) => img.currentSrc")
    assert "v=" in (image.get_attribute("src") or "")
    # It fills the map's box, centred: no part of the box is left without the picture.
    fitted = image.evaluate(
        "(img) => { const s = getComputedStyle(img); const r = img.getBoundingClientRect();"
        " const p = img.parentElement.getBoundingClientRect();"
        " return [s.objectFit, Math.round(p.width - r.width), Math.round(p.height - r.height)]; }"
    )
    assert fitted == ["none", 4, 4]  # inside the 2 px border
    before = preview.bounding_box()
    assert before is not None and before["height"] >= 160

    script.release()
    picker = phone_page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=30_000)
    # The live map, when it is there, has the preview's name and the preview's box.
    assert picker.locator("#map").get_attribute("aria-label") == MAP_LABEL[lang]
    assert picker.evaluate(MAP_AREA_BOX) == [round(before["width"]), round(before["height"])]
    assert len(pictures) == 1, pictures  # the preload was the picture <picture> chose


def test_preview_stays_until_the_map_has_drawn_then_fades_out(
    phone_page: Page, live_server: str
) -> None:
    tiles = Held(phone_page, "**/tiles/basemap/**")
    phone_page.goto(f"{live_server}/demo")
    picker = phone_page.locator("webmap-picker")
    expect(picker).to_have_js_property("isConnected", True)
    phone_page.wait_for_function(
        "() => customElements.get('webmap-picker')"
        " && document.querySelector('[slot=preview] > img')?.complete"
    )
    phone_page.wait_for_timeout(500)  # the map would have drawn by now, had it its tiles
    # The widget is up, the map has no tiles: the preview shows in the map's box, hidden from
    # assistive technology (the map under it is already there, focusable and named).
    preview = picker.locator('[slot="preview"]')
    assert picker.locator("#map").get_attribute("data-state") != "ready"
    expect(preview).to_be_visible()
    assert preview.get_attribute("aria-hidden") == "true"
    slotted = preview.evaluate(
        "(el) => { const r = el.getBoundingClientRect(); const img = el.querySelector('img');"
        " const i = img.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height),"
        " Math.round(i.width), Math.round(i.height), getComputedStyle(img).objectFit,"
        " el.assignedSlot?.name]; }"
    )
    area = picker.evaluate(MAP_AREA_BOX)
    inside = [area[0] - 4, area[1] - 4]  # inside the 2 px border
    assert slotted == [*inside, *inside, "none", "preview"]
    # axe in the preview state: nothing to fix.
    assert run_axe(phone_page) == []

    tiles.release()
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(preview).to_have_count(0, timeout=5_000)
    ready_ms = float(picker.locator("#map").get_attribute("data-ready-ms") or "nan")
    timeline = _timeline(phone_page)
    assert timeline["loaded"] < ready_ms  # shown before the map drew
    assert timeline["leaving"] >= ready_ms - 1  # and left only after it had drawn
    assert timeline["removed"] - timeline["leaving"] >= 150  # a 200 ms fade, not a flash
    assert picker.evaluate(MAP_AREA_BOX) == area  # the box kept its size throughout


def test_reduced_motion_removes_the_preview_without_a_fade(
    browser: Browser, live_server: str
) -> None:
    ctx: BrowserContext = browser.new_context(
        viewport={"width": 360, "height": 740}, reduced_motion="reduce", locale="sv-SE"
    )
    ctx.add_init_script(TIMELINE)
    page = ctx.new_page()
    try:
        page.goto(f"{live_server}/demo")
        picker = page.locator("webmap-picker")
        expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=30_000)
        expect(picker.locator('[slot="preview"]')).to_have_count(0)
        ready_ms = float(picker.locator("#map").get_attribute("data-ready-ms") or "nan")
        timeline = _timeline(page)
        assert timeline["leaving"] is None
        assert -1 <= timeline["removed"] - ready_ms < 100  # data-ready-ms is rounded
    finally:
        ctx.close()


def test_without_javascript_there_is_no_picture_of_a_map_only_the_text_field(
    browser: Browser, live_server: str
) -> None:
    # Playwright cannot start a page that knows it has no scripting (java_script_enabled=False
    # stops scripts, but the parser still skips <noscript> and @media (scripting) still says
    # enabled), so the page is given as such a browser parses it: <noscript>'s content as markup.
    ctx = browser.new_context(java_script_enabled=False, locale="sv-SE")
    page = ctx.new_page()

    def as_without_scripting(route: Route) -> None:
        response = route.fetch()
        html = response.text()
        assert '<noscript><link rel="stylesheet" href="/static/noscript.css"></noscript>' in html
        body = html.replace("<noscript>", "").replace("</noscript>", "")
        route.fulfill(response=response, body=body)

    try:
        page.route(f"{live_server}/demo", as_without_scripting)
        page.goto(f"{live_server}/demo")
        expect(page.locator("#location-text")).to_be_visible()
        expect(page.locator('[slot="preview"] > img')).to_be_hidden()
    finally:
        ctx.close()


def test_a_failing_map_takes_the_preview_away_with_it(phone_page: Page, live_server: str) -> None:
    phone_page.route("**/tiles/basemap/**", lambda route: route.abort())
    phone_page.goto(f"{live_server}/embed")
    picker = phone_page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "error", timeout=30_000)
    expect(picker.locator('[slot="preview"]')).to_have_count(0)
    expect(phone_page.locator("#location-text")).to_be_visible()


def test_a_wide_page_gets_the_wide_preview_fetched_once(browser: Browser, live_server: str) -> None:
    """Above phone width the box can be up to 800 CSS pixels wide: the whole picture, preloaded
    and shown from one request (the preload's media query is <picture>'s)."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 800}, locale="sv-SE")
    page = ctx.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if "/api/staticmap" in r.url else None)
    script = Held(page, "**/widget/webmap.js")
    try:
        page.goto(f"{live_server}/demo", wait_until="commit")
        image = page.locator('webmap-picker > picture[slot="preview"] > img')
        expect(image).to_be_visible()
        page.wait_for_function("() => document.querySelector('[slot=preview] > img').complete")
        assert image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [800, 420]
        assert "width=400&height=210" in image.evaluate("(img) => img.currentSrc")
        script.release()
        picker = page.locator("webmap-picker")
        expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=30_000)
        assert len(requested) == 1, requested
    finally:
        ctx.close()
