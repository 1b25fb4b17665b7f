"""Messages where focus is, and a map that fails (issue 10 §3).

- A refusal or a field error is in view (360 × 740) together with the control that has focus.
- When the map cannot be drawn (style, TileJSON or all first tiles unreachable), the crosshair
  no longer sits on the message, the plain text field is there at once with what was typed, and
  focus goes to it when it was in the picker.
Debian's Chromium, the real app, axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect

from tests.browser.picker_helpers import ACTIVE, expect_live, open_demo, run_axe

pytestmark = pytest.mark.browser

VIEWPORT_HEIGHT = 740
FAILED = (
    "Kartan kunde inte laddas. Skriv adress eller fastighetsbeteckning i fältet nedan i stället."
)


def _in_view(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] >= -1 and box["y"] + box["height"] <= VIEWPORT_HEIGHT + 1, box
    return box


def _partly_in_view(locator: Locator) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] < VIEWPORT_HEIGHT and box["y"] + box["height"] > 0, box


def test_refusal_is_in_view_beside_the_focused_map_on_a_phone(
    phone: BrowserContext, live_server: str
) -> None:
    page = phone.new_page()
    picker = open_demo(page, live_server)
    picker.evaluate("el => el.setAttribute('min-zoom-to-choose', '18')")
    page.locator("#description").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the map: scrolled just into view, at the bottom of the screen
    assert page.evaluate(ACTIVE) == "map"
    page.keyboard.press("Enter")
    text = "Zooma in för att välja en plats: zooma till nivå 18 (nu 16)."
    expect(picker.locator("#refusal .text")).to_have_text(text)
    page.wait_for_timeout(200)
    _in_view(picker.locator("#refusal"))
    _partly_in_view(picker.locator("#map"))
    assert page.evaluate(ACTIVE) == "map"
    assert run_axe(page) == []


def test_refusal_is_in_view_beside_the_choose_button_on_a_phone(
    phone: BrowserContext, live_server: str
) -> None:
    page = phone.new_page()
    picker = open_demo(page, live_server)
    picker.evaluate("el => el.setAttribute('min-zoom-to-choose', '18')")
    choose = picker.locator("[data-action=choose]")
    # The button at the top of the screen (room below it to scroll so far), the map above it.
    choose.evaluate(
        """el => { document.body.style.paddingBottom = '1500px'; el.focus();
                   window.scrollBy(0, el.getBoundingClientRect().top); }"""
    )
    assert (choose.bounding_box() or {"y": -1})["y"] < 5
    page.keyboard.press("Enter")
    expect(picker.locator("#refusal")).to_be_visible()
    page.wait_for_timeout(200)
    _in_view(picker.locator("#refusal"))
    _in_view(choose)
    assert page.evaluate(ACTIVE) == "choose"


def test_required_error_is_under_the_field_focus_lands_on(
    phone: BrowserContext, live_server: str
) -> None:
    page = phone.new_page()
    picker = open_demo(page, live_server)
    page.locator("#submit").click()  # nothing chosen: the form reports the picker
    error = picker.locator("#error")
    expect(error).to_be_visible()
    assert page.evaluate(ACTIVE) == "q"
    page.wait_for_timeout(200)
    field = _in_view(picker.locator("#q"))
    box = _in_view(error)
    assert 0 <= box["y"] - (field["y"] + field["height"]) < 40
    assert run_axe(page) == []


def _expect_map_failed(picker: Locator) -> None:
    expect(picker.locator("#map")).to_have_attribute("data-state", "error", timeout=20_000)
    status = picker.locator(".map-status")
    expect(status).to_have_text(FAILED)
    expect(picker.locator(".crosshair")).to_be_hidden()
    expect(picker.locator("[role=toolbar]")).to_be_hidden()
    expect(picker.locator("[data-action=choose]")).to_be_hidden()
    expect(picker.locator("#q")).to_be_hidden()
    # Nothing lies on top of the message: the element at its centre is the message itself.
    on_top = status.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   const x = r.x + r.width / 2, y = r.y + r.height / 2;
                   return el.getRootNode().elementFromPoint(x, y) === el; }"""
    )
    assert on_top


def test_failed_style_gives_the_text_field_at_once_with_what_was_typed(
    phone: BrowserContext, live_server: str
) -> None:
    page = phone.new_page()
    held: list[Route] = []
    page.route("**/styles/basemap.json", lambda route: held.append(route))
    page.goto(f"{live_server}/demo")
    picker = page.locator("webmap-picker")
    picker.locator("#q").fill("Karlavägen 10")
    for _ in range(50):  # the handler runs while Playwright waits: wait (bounded) for the request
        if held:
            break
        page.wait_for_timeout(100)
    held[0].abort()
    _expect_map_failed(picker)
    field = page.get_by_label("Adress eller fastighetsbeteckning")
    expect(field).to_be_visible()
    expect(field).to_be_enabled()
    expect(field).to_have_value("Karlavägen 10")
    expect(field).to_be_focused()
    expect_live(picker, FAILED)
    assert run_axe(page) == []
    page.locator("#submit").click()
    expect(page.locator("#received-text")).to_have_text("Karlavägen 10")


def test_unreachable_tiles_fail_the_map_without_taking_focus(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    page.route("**/tiles/basemap/**", lambda route: route.abort())
    page.goto(f"{live_server}/demo")
    picker = page.locator("webmap-picker")
    _expect_map_failed(picker)
    field = page.get_by_label("Adress eller fastighetsbeteckning")
    expect(field).to_be_visible()
    expect(field).to_be_enabled()
    # Focus was not in the picker: it is not moved (the person may be filling in another field).
    assert page.evaluate(ACTIVE) in {"body", None}
    assert run_axe(page) == []


def test_english_map_failure_message(desktop: Page, live_server: str) -> None:
    page = desktop
    page.route("**/tiles/basemap.json*", lambda route: route.abort())
    page.route("**/styles/basemap.json", lambda route: route.fulfill(status=503, body="down"))
    page.goto(f"{live_server}/demo?lang=en")
    picker = page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "error", timeout=20_000)
    expect(picker.locator(".map-status")).to_have_text(
        "The map could not be loaded. Type the address or property designation in the field "
        "below instead."
    )


def test_a_working_map_keeps_the_fallback_hidden(desktop: Page, live_server: str) -> None:
    picker = open_demo(desktop, live_server)
    expect(desktop.get_by_label("Adress eller fastighetsbeteckning")).to_be_hidden()
    expect(picker.locator(".crosshair")).to_be_visible()
