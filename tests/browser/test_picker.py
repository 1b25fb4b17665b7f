"""<webmap-picker> on the demo e-service, driven like a person would: keyboard only, search
only, no JavaScript, touch; in Swedish and English. Real app, real lookups, Debian's Chromium."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Traffic
from tests.browser.picker_helpers import (
    ACTIVE,
    expect_live,
    open_demo,
    reverse,
    tab_to,
)
from tiles import style

pytestmark = pytest.mark.browser


def _shown(prop: dict) -> str:
    """A designation as the picker and the receipt show it: invented ones say "(fiktiv)"."""
    return prop["designation"] + (" (fiktiv)" if prop.get("fictional") else "")


def _received_location(page: Page) -> dict:
    expect(page.locator("h1")).to_have_text("Tack, vi har tagit emot ditt ärende")
    return json.loads(page.locator("#received-location").inner_text())


def test_keyboard_only_choose_and_submit(page: Page, live_server: str, traffic: Traffic) -> None:
    picker = open_demo(page, live_server)
    tab_to(page, "map")
    expect(picker.locator("#map")).to_have_attribute("role", "application")
    status = picker.locator("[role=status]")
    page.keyboard.press("+")
    expect(status).to_have_text(re.compile(r"^Zoomnivå 17\."), timeout=10_000)
    page.keyboard.press("-")
    # Ambient news once the map rests: the zoom, then what is under the crosshair.
    here = reverse(live_server, 18.075, 59.338)  # zooming keeps the demo's centre
    expect(status).to_have_text(
        f"Zoomnivå 16. Vid hårkorset: Fastighet {_shown(here['property'])}, "
        f"nära {here['address']['label']}, i Stockholms kommun.",
        timeout=10_000,
    )
    assert traffic.failures == []
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")
    page.wait_for_timeout(400)
    page.keyboard.press("Enter")

    chosen = picker.locator("#chosen-text")
    expect(chosen).not_to_have_text("Ingen plats vald ännu.", timeout=10_000)
    value = picker.evaluate("el => el.value")
    lon, lat = value["geometry"]["coordinates"]
    truth = reverse(live_server, lon, lat)
    assert truth["property"] and truth["address"], (
        f"the demo starts over a property: {value} {truth}"
    )
    props = value["properties"]
    assert props["property"]["designation"] == truth["property"]["designation"]
    assert props["address"]["label"] == truth["address"]["label"]
    assert props["municipality"] == {"code": "0180", "name": "Stockholm"}
    assert props["sweref99tm"]["srid"] == 3006 and props["sweref99tm"]["n"] > 6_000_000
    # The place only: the zoom level is not part of the choice's announcement.
    spoken = (
        f"Fastighet {_shown(truth['property'])}, nära {truth['address']['label']}, "
        "i Stockholms kommun."
    )
    expect_live(picker, spoken)
    expect(chosen).to_have_text(props["label"])

    tab_to(page, "submit")
    page.keyboard.press("Enter")
    received = _received_location(page)
    assert received == value
    expect(page.locator("#received-property")).to_have_text(_shown(truth["property"]))
    assert traffic.foreign() == [] and traffic.failures == []


def test_search_alone_completes_the_form(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server)
    tab_to(page, "q")
    page.keyboard.type("Karlavägen")
    option = picker.locator("[role=option]").first
    expect(option).to_be_visible(timeout=10_000)
    assert picker.locator("#q").get_attribute("aria-expanded") == "true"
    expect(picker.locator("[role=status]")).to_contain_text("förslag. Välj med pil ned och Enter.")
    page.keyboard.press("ArrowDown")
    first_id = option.get_attribute("id")
    assert picker.locator("#q").get_attribute("aria-activedescendant") == first_id
    assert option.get_attribute("aria-selected") == "true"
    label = option.locator(".option-label").inner_text()
    assert "Karlavägen" in label  # å, ä, ö kept all the way
    page.keyboard.press("Enter")

    expect(picker.locator("#chosen-text")).to_contain_text("Karlavägen", timeout=10_000)
    assert picker.locator("#q").get_attribute("aria-expanded") == "false"
    value = picker.evaluate("el => el.value")
    assert value["properties"]["source"] == "search"
    assert value["properties"]["address"]["label"] == label
    tab_to(page, "submit")
    page.keyboard.press("Enter")
    received = _received_location(page)
    assert received["properties"]["address"]["label"] == label


def test_required_blocks_submit_and_reset_clears(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server)
    page.locator("#submit").click()
    expect(page.locator("h1")).to_have_text("Felanmälan – gata och park")
    error = picker.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator(".text")).to_have_text(
        "Välj en plats på kartan eller sök på en adress eller fastighet."
    )
    assert picker.evaluate("el => el.validity.valueMissing") is True
    assert page.evaluate(ACTIVE) == "q", "the browser moves focus to the invalid field"

    picker.locator("[data-action=choose]").click()
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    expect(error).to_be_hidden()
    assert picker.evaluate("el => el.checkValidity()") is True
    page.locator("#reset").click()
    expect(picker.locator("#chosen-text")).to_have_text("Ingen plats vald ännu.")
    assert picker.evaluate("el => el.value") is None
    assert picker.evaluate("el => el.validity.valueMissing") is True


def test_refusals_and_announcements_in_english(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server, "?lang=en")
    expect(picker.locator("[data-action=choose]")).to_have_text("Choose this place")
    tab_to(page, "map")
    page.keyboard.press("-")
    page.keyboard.press("-")
    expect_live(picker, "Zoom level 14. Zoom in to choose a place: zoom to level 15 (now 14).")
    page.keyboard.press("Enter")
    expect_live(picker, "Zoom in to choose a place: zoom to level 15 (now 14).")
    expect(picker.locator("#refusal .text")).to_have_text(
        "Zoom in to choose a place: zoom to level 15 (now 14)."
    )
    assert picker.evaluate("el => el.value") is None
    page.keyboard.press("+")
    page.keyboard.press("+")
    # The map has come to rest at zoom 16 when it says so (announced on moveend).
    expect(picker.locator("[role=status]")).to_contain_text("Zoom level 16.")
    page.keyboard.press("Enter")
    expect(picker.locator("#chosen-text")).to_contain_text("Property", timeout=10_000)
    expect(picker.locator("[role=status]")).to_have_text(
        re.compile(r"^Property Stockholm .+, near (?!.*Zoom level).+\.\u200b?$")
    )
    page.keyboard.press("?")
    expect(picker.locator("#help")).to_be_visible()
    expect(picker.locator("#help-title")).to_have_text("Keyboard shortcuts for the map")
    page.keyboard.press("Escape")
    expect(picker.locator("#help")).to_be_hidden()
    assert page.evaluate(ACTIVE) == "map"


def test_without_javascript_the_fallback_field_submits(browser: Browser, live_server: str) -> None:
    found = reverse(live_server, 18.075, 59.338)["property"]
    designation = found["designation"]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/demo")
        field = page.get_by_label("Adress eller fastighetsbeteckning")
        expect(field).to_be_visible()
        page.locator("#submit").click()  # the fallback field is required too
        expect(page.locator("h1")).to_have_text("Felanmälan – gata och park")
        field.fill(designation)
        page.locator("#submit").click()
        expect(page.locator("h1")).to_have_text("Tack, vi har tagit emot ditt ärende")
        expect(page.locator("#received-text")).to_have_text(designation)
        # The server resolved the text into the same kind of value the widget sends.
        expect(page.locator("#resolved-property")).to_have_text(_shown(found))
        expect(page.locator("#resolved-address")).not_to_be_empty()
    finally:
        context.close()


def test_touch_phone_crosshair_and_targets(browser: Browser, live_server: str) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
    )
    try:
        page = context.new_page()
        picker = open_demo(page, live_server)
        sizes = picker.evaluate(
            """el => [...el.shadowRoot.querySelectorAll('button:not([hidden]), input')]
                 .filter(b => b.offsetParent !== null)
                 .map(b => { const r = b.getBoundingClientRect();
                             return [b.dataset.action || b.id, r.width, r.height]; })"""
        )
        assert len(sizes) >= 10
        small = [s for s in sizes if s[1] < 44 or s[2] < 44]
        assert small == [], f"targets under 44 px: {small}"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, "no horizontal scrolling at 360 px"
        picker.locator("[data-action=choose]").tap()
        expect(picker.locator("#chosen-text")).to_contain_text("Fastighet", timeout=10_000)
        page.screenshot(path="/tmp/webmap-picker-phone.png", full_page=True)
    finally:
        context.close()


def test_reflows_at_400_percent_zoom(browser: Browser, live_server: str) -> None:
    """1280 × 1024 at 400 % zoom is a 320 × 256 CSS-pixel viewport: no sideways scrolling, and
    the place can still be chosen (WCAG 1.4.10)."""
    context = browser.new_context(viewport={"width": 320, "height": 256})
    try:
        page = context.new_page()
        picker = open_demo(page, live_server)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        overflowing = picker.evaluate(
            """el => [...el.shadowRoot.querySelectorAll('*')]
                 .filter(n => n.getBoundingClientRect().right > 321 && n.offsetParent !== null)
                 .map(n => n.className || n.tagName)"""
        )
        assert overflowing == []
        map_box = picker.locator(".map-area").bounding_box()
        assert map_box is not None and map_box["height"] >= 150
        choose = picker.locator("[data-action=choose]")
        choose.scroll_into_view_if_needed()
        choose.click()
        expect(picker.locator("#chosen-text")).to_contain_text("Fastighet", timeout=10_000)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["dark", "forced-colors"])
def test_dark_and_forced_colours_keep_controls_visible(
    browser: Browser, live_server: str, scheme: str
) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 1200})
    try:
        page = context.new_page()
        if scheme == "dark":
            page.emulate_media(color_scheme="dark")
        else:
            page.emulate_media(forced_colors="active")
        picker = open_demo(page, live_server)
        button = picker.locator("[data-action=choose]")
        colours = button.evaluate(
            "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
        )
        assert colours[0] != colours[1], "button text must differ from its background"
        crosshair = picker.locator(".crosshair").evaluate(
            "c => getComputedStyle(c, '::before').backgroundColor"
        )
        assert crosshair not in ("rgba(0, 0, 0, 0)", "transparent")
        picker.locator("#map").focus()
        page.screenshot(path=f"/tmp/webmap-picker-{scheme}.png", full_page=True)
    finally:
        context.close()


def test_use_my_location(browser: Browser, live_server: str) -> None:
    context = browser.new_context(
        geolocation={"longitude": 18.076, "latitude": 59.336}, permissions=["geolocation"]
    )
    try:
        page = context.new_page()
        picker = open_demo(page, live_server)
        picker.locator("[data-action=locate]").click()
        expect(picker.locator("#chosen-text")).to_contain_text("Fastighet", timeout=10_000)
        value = picker.evaluate("el => el.value")
        assert value["properties"]["source"] == "geolocation"
        assert value["geometry"]["coordinates"] == [18.076, 59.336]
    finally:
        context.close()


def test_use_my_location_denied_says_what_to_do(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server)
    picker.locator("[data-action=locate]").click()
    text = (
        "Din position kunde inte hämtas eftersom du inte har gett tillåtelse. "
        "Sök på adress i stället."
    )
    expect_live(picker, text)
    # Beside the buttons (where focus is), not as a field error: nothing is marked invalid.
    expect(picker.locator("#refusal .text")).to_have_text(text)
    expect(picker.locator("#q")).not_to_have_attribute("aria-invalid", "true")


def test_picker_map_draws_the_basemap_style(page: Page, live_server: str, traffic: Traffic) -> None:
    """The widget's own style renderer (mini-style.js) paints the style's colours."""
    picker = open_demo(page, live_server)
    colours = picker.evaluate(
        """el => {
          const counts = {};
          let samples = 0;
          for (const canvas of el.shadowRoot.querySelectorAll('#map canvas')) {
            if (!canvas.width || !canvas.height) continue;
            const ctx = canvas.getContext('2d');
            const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < data.length; i += 4 * 7) {
              if (data[i + 3] !== 255) continue;
              const hex = '#' + [data[i], data[i + 1], data[i + 2]]
                .map((v) => v.toString(16).padStart(2, '0')).join('');
              counts[hex] = (counts[hex] || 0) + 1;
              samples += 1;
            }
          }
          return {counts, samples};
        }"""
    )
    assert colours["samples"] > 5_000
    for name in ("BUILTUP", "PARK", "BUILDING", "ROAD"):
        share = colours["counts"].get(getattr(style, name).lower(), 0) / colours["samples"]
        assert share > 0.001, f"{name} not drawn"
    assert traffic.failures == [] and traffic.foreign() == []
    assert traffic.console_errors == []


def test_page_scroll_is_never_trapped_by_the_map(page: Page, live_server: str) -> None:
    """Cooperative gestures: the wheel over the map scrolls the page and shows a hint; Ctrl +
    wheel zooms the map."""
    page.set_viewport_size({"width": 1280, "height": 700})
    picker = open_demo(page, live_server)
    map_area = picker.locator(".map-area")
    map_area.scroll_into_view_if_needed()
    box = map_area.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before = page.evaluate("window.scrollY")
    page.mouse.wheel(0, 300)
    expect(picker.locator(".gesture-hint .text")).to_have_text(
        "Håll ned Ctrl och skrolla för att zooma kartan."
    )
    page.wait_for_function("y => window.scrollY > y", arg=before)
    assert picker.evaluate("el => el.value") is None

    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    expect(picker.locator("[role=status]")).to_contain_text("Zoomnivå 17.")


def test_disabled_fieldset_disables_the_picker(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server)
    page.evaluate(
        """() => {
          const fieldset = document.createElement('fieldset');
          fieldset.id = 'wrapper';
          const picker = document.querySelector('webmap-picker');
          picker.replaceWith(fieldset);
          fieldset.append(picker);
          fieldset.disabled = true;
        }"""
    )
    expect(picker.locator("[data-action=choose]")).to_be_disabled()
    expect(picker.locator("#q")).to_be_disabled()
    assert picker.locator("#map").get_attribute("tabindex") is None
    assert picker.evaluate("el => el.willValidate") is False
    page.evaluate("() => { document.getElementById('wrapper').disabled = false; }")
    expect(picker.locator("[data-action=choose]")).to_be_enabled()
    assert picker.locator("#map").get_attribute("tabindex") == "0"


def test_place_outside_the_allowed_municipality_is_refused(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server)
    picker.evaluate("el => el.setAttribute('allowed-area', '1480')")  # Göteborg, not Stockholm
    picker.locator("[data-action=choose]").click()
    refused = (
        "Platsen ligger utanför kommunen. Den ligger i Stockholms kommun. "
        "Välj en plats inom kommunen."
    )
    expect_live(picker, refused)
    expect(picker.locator("#refusal .text")).to_have_text(refused)
    assert picker.evaluate("el => el.value") is None
    picker.evaluate("el => el.setAttribute('allowed-area', '0180')")
    picker.locator("[data-action=choose]").click()
    expect(picker.locator("#chosen-text")).to_contain_text("Fastighet", timeout=10_000)
    expect(picker.locator("#refusal")).to_be_hidden()


def test_when_the_map_fails_the_text_field_completes_the_form(page: Page, live_server: str) -> None:
    """The author's plain field is offered at once (tests/browser/test_map_failure.py has more)."""
    page.route("**/styles/basemap.json", lambda route: route.abort())
    page.goto(f"{live_server}/demo")
    picker = page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "error", timeout=20_000)
    expect(picker.locator(".map-status")).to_have_text(
        "Kartan kunde inte laddas. "
        "Skriv adress eller fastighetsbeteckning i fältet nedan i stället."
    )
    expect(picker.locator("[data-action=choose]")).to_be_hidden()
    field = page.get_by_label("Adress eller fastighetsbeteckning")
    expect(field).to_be_enabled()
    field.fill("Karlavägen 10")
    page.locator("#submit").click()
    expect(page.locator("#received-text")).to_have_text("Karlavägen 10")
    expect(page.locator("#resolved-label")).to_contain_text("Karlavägen")


def test_without_a_fallback_field_the_search_stays_when_the_map_fails(
    page: Page, live_server: str
) -> None:
    page.route("**/styles/basemap.json", lambda route: route.abort())
    page.goto(f"{live_server}/demo")
    page.evaluate(
        """() => {
          const picker = document.createElement('webmap-picker');
          picker.id = 'bare';
          picker.setAttribute('name', 'bare');
          document.querySelector('form').append(picker);
        }"""
    )
    picker = page.locator("#bare")
    expect(picker.locator("#map")).to_have_attribute("data-state", "error", timeout=20_000)
    expect(picker.locator(".map-status")).to_have_text(
        "Kartan kunde inte laddas. Sök på adress eller fastighet i stället."
    )
    picker.locator("#q").fill("Karlavägen")
    picker.locator("[role=option]").first.click()
    expect(picker.locator("#chosen-text")).to_contain_text("Karlavägen", timeout=10_000)


def test_layers_attribute_draws_catalog_layers_over_the_map(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    """An e-service asks for extra layers; an unknown one is reported and left out."""
    open_demo(page, live_server)
    page.evaluate(
        """() => {
          window.errors = [];
          const picker = document.createElement('webmap-picker');
          const attributes = {id: 'extra', name: 'extra', layers: 'water, nope',
                              center: '18.085,59.333', zoom: '15'};
          Object.entries(attributes).forEach(([k, v]) => picker.setAttribute(k, v));
          picker.addEventListener('webmap:error', (e) => window.errors.push(e.detail));
          document.querySelector('form').append(picker);
        }"""
    )
    picker = page.locator("#extra")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    page.wait_for_function("() => window.errors.length > 0")
    errors = page.evaluate("() => window.errors")
    assert errors[0]["kind"] == "map" and "/tiles/nope.json" in errors[0]["message"]
    assert traffic.matching("/tiles/water/"), "the water layer's own tiles were requested"
    overlay_hits = """el => {
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
    # Wait (bounded) for the overlay's tiles to be fetched and drawn, not for a fixed time.
    page.wait_for_function(
        f"el => ({overlay_hits})(el) > 100", arg=picker.element_handle(), timeout=20_000
    )
    assert picker.evaluate(overlay_hits) > 100, "the overlay's outline colour is on the map"
    assert [f for f in traffic.failures if "/tiles/nope.json" not in f] == []
