"""Drawing an area by keyboard on the building-permit demo (<webmap-picker mode="polygon">):
Enter adds a corner at the crosshair, Delete removes, Ctrl+Z undoes, Done only when valid;
Page Down selects a corner that the arrows then move."""

from __future__ import annotations

import json
import math
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.picker_helpers import ACTIVE, expect_live, live_text, open_demo, tab_to

pytestmark = pytest.mark.browser


def _settle(page: Page) -> None:
    page.wait_for_timeout(350)  # the pan animation (150 ms) ends before the next corner


def test_keyboard_drawing_of_an_area_and_submit(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server, "/bygglov")
    done = picker.locator("[data-action=finish]")
    expect(done).to_have_attribute("aria-disabled", "true")
    tab_to(page, "map")

    page.keyboard.press("Enter")
    expect_live(picker, "Punkt 1 tillagd. Området har 1 hörn. Ett område behöver minst 3 hörn.")
    page.keyboard.press("ArrowRight")
    _settle(page)
    page.keyboard.press("Enter")
    expect_live(picker, "Punkt 2 tillagd. Området har 2 hörn. Ett område behöver minst 3 hörn.")
    page.keyboard.press("ArrowDown")
    _settle(page)
    page.keyboard.press("Enter")
    expect_live(picker, "Punkt 3 tillagd. Området har 3 hörn. Området kan väljas med Klar.")
    expect(done).to_have_attribute("aria-disabled", "false")

    page.keyboard.press("Delete")
    expect_live(
        picker, "Senaste punkten borttagen. Området har 2 hörn. Ett område behöver minst 3 hörn."
    )
    expect(done).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("Control+z")
    expect_live(picker, "Ångrat. Området har 3 hörn. Området kan väljas med Klar.")

    # A fourth corner that makes the edges cross is refused at Done.
    # Corners so far (in arrow steps): (0, 0), (1, 0), (1, -1); (0, 1) crosses the first edge.
    for key in ("ArrowLeft", "ArrowUp", "ArrowUp"):
        page.keyboard.press(key)
        _settle(page)
    page.keyboard.press("Enter")
    expect(picker.locator("[role=status]")).to_contain_text("Kanterna korsar varandra")
    expect(done).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("Control+z")
    expect(done).to_have_attribute("aria-disabled", "false")

    tab_to(page, "finish")
    page.keyboard.press("Enter")
    chosen = picker.locator("#chosen-text")
    expect(chosen).to_have_text(re.compile(r"^Område på cirka [\d\s\u00a0]+ m²"), timeout=10_000)
    value = picker.evaluate("el => el.value")
    assert value["geometry"]["type"] == "Polygon"
    ring = value["geometry"]["coordinates"][0]
    assert len(ring) == 4 and ring[0] == ring[-1]
    area = value["properties"]["area_m2"]
    # One arrow step is a quarter of the map's size: at z17 a triangle of some thousand m².
    assert 500 < area < 50_000
    assert value["properties"]["municipality"]["code"] == "0180"

    tab_to(page, "submit")
    page.keyboard.press("Enter")
    expect(page.locator("#received-geometry")).to_have_text("Polygon")
    received = json.loads(page.locator("#received-location").inner_text())
    assert received == value


def test_drawing_in_english_refuses_too_few_corners(page: Page, live_server: str) -> None:
    picker = open_demo(page, live_server, "/bygglov?lang=en")
    finish = picker.locator("[data-action=finish]")
    expect(finish).to_have_text("Done with the area")
    # aria-disabled, not disabled: it stays focusable and says why it cannot finish yet.
    finish.focus()
    page.keyboard.press("Enter")
    refused = "An area needs at least 3 corners. Add 3 more corners."
    expect_live(picker, refused)
    expect(picker.locator("#refusal .text")).to_have_text(refused)
    picker.locator("[data-action=add-vertex]").click()
    expect_live(picker, "Point 1 added. The area has 1 corner. An area needs at least 3 corners.")
    picker.locator("[data-action=undo]").click()
    expect_live(picker, "Undone. The area has 0 corners. An area needs at least 3 corners.")
    assert picker.evaluate("el => el.value") is None


def test_a_line_by_buttons_in_a_picker_added_by_script(page: Page, live_server: str) -> None:
    """mode="line", created by an e-service's own script after the page loaded."""
    open_demo(page, live_server)
    page.evaluate(
        """() => {
          const line = document.createElement('webmap-picker');
          line.setAttribute('name', 'route');
          line.setAttribute('mode', 'line');
          line.setAttribute('center', '18.075,59.338');
          line.setAttribute('zoom', '17');
          line.id = 'route';
          document.querySelector('form').append(line);
        }"""
    )
    picker = page.locator("#route")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    expect(picker.locator("[data-action=finish]")).to_have_text("Klar med linjen")
    picker.locator("[data-action=add-vertex]").click()
    expect_live(picker, "Punkt 1 tillagd. Linjen har 1 punkt. En linje behöver minst 2 punkter.")
    picker.locator("[data-action=pan-east]").click()
    page.wait_for_timeout(350)
    picker.locator("[data-action=add-vertex]").click()
    expect_live(picker, "Punkt 2 tillagd. Linjen har 2 punkter. Linjen kan väljas med Klar.")
    picker.locator("[data-action=finish]").click()
    expect(picker.locator("#chosen-text")).to_have_text(
        re.compile(r"^Sträcka på cirka [\d\s\u00a0]+ m"), timeout=10_000
    )
    value = picker.evaluate("el => el.value")
    assert value["geometry"]["type"] == "LineString"
    assert len(value["geometry"]["coordinates"]) == 2
    # A quarter of the map's width at z17 over Stockholm: some tens of metres.
    assert 20 < value["properties"]["length_m"] < 500
    form_data = page.evaluate(
        "() => Object.fromEntries(new FormData(document.querySelector('form')))"
    )
    assert json.loads(form_data["route"]) == value


def _shift_tab_to(page: Page, target: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(ACTIVE) == target:
            return
    raise AssertionError(f"{target!r} never received focus by Shift+Tab")


def _finish(page: Page, picker: Locator) -> list[list[float]]:
    """Press Done by keyboard; the polygon's corners (without the closing repeat), sorted."""
    before = picker.evaluate("el => JSON.stringify(el.value)")
    tab_to(page, "finish")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "([el, before]) => el.value && JSON.stringify(el.value) !== before",
        arg=[picker.element_handle(), before],
        timeout=10_000,
    )
    ring: list[list[float]] = picker.evaluate("el => el.value.geometry.coordinates[0]")
    _shift_tab_to(page, "map")
    return sorted(ring[:-1])


def test_moving_a_corner_by_keyboard_and_undoing_it(page: Page, live_server: str) -> None:
    """Page Down selects a corner, the arrows move it (not the map), Ctrl+Z puts it back."""
    picker = open_demo(page, live_server, "/bygglov")
    tab_to(page, "map")
    page.keyboard.press("?")
    expect(picker.locator("#help")).to_contain_text("välj nästa eller föregående punkt")
    page.keyboard.press("Escape")
    expect(picker.locator("#help")).to_be_hidden()
    for key in ("Enter", "ArrowRight", "Enter", "ArrowDown", "Enter"):
        page.keyboard.press(key)
        _settle(page)
    expect_live(picker, "Punkt 3 tillagd. Området har 3 hörn. Området kan väljas med Klar.")
    drawn = _finish(page, picker)

    page.keyboard.press("PageDown")
    expect_live(picker, "Punkt 1 av 3 vald. Piltangenterna flyttar punkten, Esc släpper den.")
    _settle(page)
    page.keyboard.press("ArrowLeft")
    expect(picker.locator("[role=status]")).to_have_text(
        re.compile(
            r"^Punkt 1 flyttad (\d+) m västerut\. "
            r"Området har 3 hörn\. Området kan väljas med Klar\.$"
        ),
        timeout=10_000,
    )
    spoken = re.search(r"flyttad (\d+) m", live_text(picker))
    assert spoken is not None
    _settle(page)
    moved = _finish(page, picker)
    # Exactly one corner changed: the first one drawn, now further west at the same latitude.
    kept = [c for c in moved if c in drawn]
    assert len(kept) == 2
    (old,) = [c for c in drawn if c not in moved]
    (new,) = [c for c in moved if c not in drawn]
    assert new[0] < old[0] and abs(new[1] - old[1]) < 1e-7
    metres = (old[0] - new[0]) * 111_320 * math.cos(math.radians(old[1]))
    assert abs(metres - int(spoken.group(1))) <= 1.5
    assert 3 < metres < 200  # a tenth of the map's size at zoom 17

    page.keyboard.press("Escape")
    expect_live(picker, "Punkt 1 släppt. Piltangenterna flyttar kartan.")
    page.keyboard.press("Control+z")
    expect_live(picker, "Ångrat. Området har 3 hörn. Området kan väljas med Klar.")
    assert _finish(page, picker) == drawn
