"""Drawing an area by keyboard on the building-permit demo (<webmap-picker mode="polygon">):
Enter adds a corner at the crosshair, Delete removes, Ctrl+Z undoes, Done only when valid."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.picker_helpers import expect_live, open_demo, tab_to

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
    expect_live(picker, "An area needs at least 3 corners.")
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
