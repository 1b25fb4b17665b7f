"""The map as a keyboard stop (issue 10 §3): on focus it says where the crosshair is, also where
no address is near; the next form field is at most 5 Tabs away (the map's buttons are one
toolbar, with a name of its own); the focus ring stands at least 3:1 against the map in light
and dark page themes, measured on the screenshot. Debian's Chromium, the real app, axe."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.picker_helpers import ACTIVE, expect_live, open_demo, run_axe

pytestmark = pytest.mark.browser

AT_START = (
    "Zoomnivå 16. Vid hårkorset: Fastighet Stockholm Fiktiva Rönnen 2 (fiktiv), "
    "nära Linnégatan 2, Stockholm, i Stockholms kommun."
)


def _tab_into_map(page: Page) -> None:
    """From the field before the picker's search box, Tab twice: the search, then the map."""
    page.locator("#description").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) == "map"


def _tabs_to(page: Page, target: str, limit: int = 12) -> int:
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE) == target:
            return count
    raise AssertionError(f"{target!r} not reached in {limit} Tabs")


def test_focus_says_where_the_crosshair_is_and_where_no_address_is(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    picker = open_demo(page, live_server)
    _tab_into_map(page)
    expect_live(picker, AT_START)
    # East of the sample's addresses (still Stockholm): the municipality, and that none is near.
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    expect_live(picker, "Vid hårkorset: ingen adress i närheten, i Stockholms kommun.")
    # Leaving and coming back says it again, with the zoom level.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect_live(picker, "Zoomnivå 16. Vid hårkorset: ingen adress i närheten, i Stockholms kommun.")


def test_focus_announcement_in_english(desktop: Page, live_server: str) -> None:
    page = desktop
    picker = open_demo(page, live_server, "?lang=en")
    _tab_into_map(page)
    expect_live(
        picker,
        "Zoom level 16. At the crosshair: Property Stockholm Fiktiva Rönnen 2 (fictional), "
        "near Linnégatan 2, Stockholm, in Stockholm municipality.",
    )


def _expect_few_tab_stops(page: Page, picker: Locator) -> None:
    tools = picker.locator("[role=toolbar]")
    expect(tools).to_have_accessible_name("Kartknappar")
    expect(picker.locator("#map")).to_have_accessible_name("Karta för att välja plats")
    picker.locator("[data-action=choose]").click()
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    _tab_into_map(page)
    # map → buttons (one stop) → "Välj denna plats" → "Använd min position" → "Ta bort …" → next.
    assert _tabs_to(page, "submit") <= 5
    # Inside the toolbar the arrow keys move; the last one used keeps the stop.
    tools.locator("button").first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate(ACTIVE) == "zoom-out"
    page.keyboard.press("End")
    assert page.evaluate(ACTIVE) == "help"
    page.keyboard.press("ArrowRight")
    assert page.evaluate(ACTIVE) == "zoom-in"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(ACTIVE) == "map"
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) == "help"
    # The buttons still work, by key and by pointer.
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready")
    assert run_axe(page) == []


def test_next_field_is_at_most_five_tabs_from_the_map(desktop: Page, live_server: str) -> None:
    _expect_few_tab_stops(desktop, open_demo(desktop, live_server))


def test_next_field_is_at_most_five_tabs_from_the_map_on_a_phone(
    phone: BrowserContext, live_server: str
) -> None:
    page = phone.new_page()
    _expect_few_tab_stops(page, open_demo(page, live_server))


def test_area_mode_buttons_are_in_the_toolbar_too(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(f"{live_server}/demo/bygglov")
    picker = page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    tools = picker.locator("[role=toolbar]")
    expect(tools.locator("[data-action=undo]")).to_be_visible()
    expect(tools.locator("[data-action=remove-vertex]")).to_be_visible()
    picker.locator("#map").focus()
    # map → toolbar → "Lägg till punkt här" → "Klar med området" → the form's next field.
    assert _tabs_to(page, "submit") <= 5


# --- the focus ring ---------------------------------------------------------------------------


def _luminance(rgb: tuple[int, ...]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a[:3], b[:3], strict=True))


def _ring_against_the_map(page: Page, picker: Locator) -> float:
    """The least contrast, over points all round the ring, between the map beside the ring and
    the better of the ring's two colours (read from the screenshot, not from the CSS)."""
    _tab_into_map(page)
    map_element = picker.locator("#map")
    expect(map_element).to_be_focused()
    page.wait_for_timeout(300)  # the ring is painted in the next frame
    box = map_element.bounding_box()
    assert box is not None
    image = Image.open(io.BytesIO(map_element.screenshot())).convert("RGB")
    scale = image.width / box["width"]
    w, h = image.width, image.height

    def at(x: float, y: float) -> tuple[int, ...]:
        return image.getpixel((min(w - 1, int(x * scale)), min(h - 1, int(y * scale))))

    # Outer ring 0–3 px, inner ring 3–6 px, the map from 6 px (CSS pixels).
    outer, inner = at(w / scale / 2, 1.5), at(w / scale / 2, 4.5)
    assert _contrast(outer, inner) >= 3, (outer, inner)
    worst = 21.0
    width, height = w / scale, h / scale
    points = [(x, y) for x in range(20, int(width) - 20, 37) for y in (1.5, 4.5, 8.0)]
    points += [(x, height - 1 - d) for x in range(20, int(width) - 20, 37) for d in (0.5, 3.5, 7)]
    points += [(d, y) for y in range(20, int(height) - 40, 29) for d in (1.5, 4.5, 8.0)]
    points += [(width - 1 - d, y) for y in range(20, int(height) - 40, 29) for d in (0.5, 3.5, 7)]
    for x, y in points:
        depth = min(x, y, width - 1 - x, height - 1 - y)
        pixel = at(x, y)
        if depth < 3:
            assert _close(pixel, outer), (x, y, pixel, outer)
        elif depth < 6:
            assert _close(pixel, inner), (x, y, pixel, inner)
        else:
            worst = min(worst, max(_contrast(pixel, outer), _contrast(pixel, inner)))
    return worst


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_ring_stands_out_against_the_map(
    browser: Browser, live_server: str, scheme: str
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="sv-SE",
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    try:
        page = context.new_page()
        picker = open_demo(page, live_server)
        assert _ring_against_the_map(page, picker) >= 3
    finally:
        context.close()
