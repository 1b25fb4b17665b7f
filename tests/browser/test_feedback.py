"""Feedback that is shown as well as spoken (issue 10 §3): refusals appear as text beside the map,
described on the map and the choose/Done buttons, name what to do, and go away when the next
choice succeeds; required-field errors in area mode say what is missing; the combobox says it
is required and the warning glyph is not read out. Debian's Chromium, the real app, axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.picker_helpers import expect_live, open_demo, run_axe, tab_to

pytestmark = pytest.mark.browser

NOTHING = "Ingen plats vald ännu."


def _expect_refusal(picker: Locator, text: str) -> None:
    """Spoken, shown beside the map, and the description of the map and the choose button."""
    expect_live(picker, text)
    refusal = picker.locator("#refusal")
    expect(refusal).to_be_visible()
    expect(refusal.locator(".text")).to_have_text(text)
    # The glyph is decoration: hidden from screen readers, so the description is the words.
    expect(refusal.locator(".glyph")).to_have_attribute("aria-hidden", "true")
    expect(picker.locator("[part=choose]")).to_have_accessible_description(text)
    map_element = picker.locator("#map")
    assert "refusal" in (map_element.get_attribute("aria-describedby") or "").split()
    # Beside the map: just below it, before the map's buttons.
    map_box = picker.locator(".map-area").bounding_box()
    box = refusal.bounding_box()
    assert map_box is not None and box is not None
    assert 0 <= box["y"] - (map_box["y"] + map_box["height"]) < 40, (map_box, box)


def test_zoom_refusal_is_shown_names_the_level_and_clears_on_the_next_choice(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    picker = open_demo(page, live_server)  # zoom 16
    picker.evaluate("el => el.setAttribute('min-zoom-to-choose', '18')")
    picker.locator("[data-action=choose]").click()
    _expect_refusal(picker, "Zooma in för att välja en plats: zooma till nivå 18 (nu 16).")
    assert picker.evaluate("el => el.value") is None
    assert run_axe(page) == []

    # The next choice that succeeds takes the refusal away.
    picker.evaluate("el => el.setAttribute('min-zoom-to-choose', '15')")
    picker.locator("[data-action=choose]").click()
    expect(picker.locator("#chosen-text")).not_to_have_text(NOTHING, timeout=10_000)
    expect(picker.locator("#refusal")).to_be_hidden()
    expect(picker.locator("[part=choose]")).to_have_accessible_description("")


def test_zooming_in_far_enough_takes_the_zoom_refusal_away(desktop: Page, live_server: str) -> None:
    picker = open_demo(desktop, live_server)
    picker.evaluate("el => el.setAttribute('min-zoom-to-choose', '17')")
    picker.locator("[data-action=choose]").click()
    _expect_refusal(picker, "Zooma in för att välja en plats: zooma till nivå 17 (nu 16).")
    picker.locator("[data-action=zoom-in]").click()
    expect(picker.locator("#refusal")).to_be_hidden(timeout=10_000)


def test_outside_refusal_names_both_municipalities(desktop: Page, live_server: str) -> None:
    page = desktop
    picker = open_demo(page, live_server)
    picker.evaluate(
        """el => { el.setAttribute('allowed-area', '1480');
                   el.setAttribute('allowed-area-name', 'Göteborg'); }"""
    )
    picker.locator("[data-action=choose]").click()
    _expect_refusal(
        picker,
        "Platsen ligger utanför kommunen. Den ligger i Stockholms kommun. "
        "Välj en plats i Göteborgs kommun.",
    )
    assert picker.evaluate("el => el.value") is None
    # A refusal is not a field error: nothing is marked invalid.
    assert picker.locator("#q").get_attribute("aria-invalid") is None
    expect(picker.locator("#error")).to_be_hidden()
    assert run_axe(page) == []


def test_outside_refusal_in_english(desktop: Page, live_server: str) -> None:
    picker = open_demo(desktop, live_server, "?lang=en")
    picker.evaluate(
        """el => { el.setAttribute('allowed-area', '1480');
                   el.setAttribute('allowed-area-name', 'Göteborg'); }"""
    )
    picker.locator("[data-action=choose]").click()
    _expect_refusal(
        picker,
        "The place is outside the municipality. It is in Stockholm municipality. "
        "Choose a place in Göteborg municipality.",
    )


def test_area_refusals_say_how_many_corners_are_missing(desktop: Page, live_server: str) -> None:
    page = desktop
    picker = open_demo(page, live_server, "/bygglov")
    done = picker.locator("[data-action=finish]")
    tab_to(page, "map")
    page.keyboard.press("Enter")
    expect_live(picker, "Punkt 1 tillagd. Området har 1 hörn. Ett område behöver minst 3 hörn.")
    # aria-disabled, not disabled: it still answers, with what is missing (Playwright's
    # actionability check counts aria-disabled as disabled, hence force).
    done.click(force=True)
    text = "Ett område behöver minst 3 hörn. Lägg till 2 hörn till."
    _expect_refusal(picker, text)
    expect(done).to_have_accessible_description(text)
    assert run_axe(page) == []

    # The next corner is a step that succeeds: the refusal goes.
    box = picker.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2)
    expect_live(picker, "Punkt 2 tillagd. Området har 2 hörn. Ett område behöver minst 3 hörn.")
    expect(picker.locator("#refusal")).to_be_hidden()
    done.click(force=True)
    _expect_refusal(picker, "Ett område behöver minst 3 hörn. Lägg till ett hörn till.")


def test_required_area_says_to_press_done_and_search_only_moves_the_map(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    picker = open_demo(page, live_server, "/bygglov")  # mode="polygon" required
    missing = "Rita området på kartan och tryck Klar när området är ritat."
    assert picker.evaluate("el => el.validationMessage") == missing
    page.locator("#submit").click()
    error = picker.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator(".text")).to_have_text(missing)
    assert run_axe(page) == []

    # A search result moves the map there and says to draw; it is not the area's value.
    tab_to(page, "q")
    page.keyboard.type("Karlavägen")
    option = picker.locator("[role=option]").first
    expect(option).to_be_visible(timeout=10_000)
    page.keyboard.press("ArrowDown")
    label = option.locator(".option-label").inner_text()
    page.keyboard.press("Enter")
    text = (
        f"Kartan visar nu {label}. Rita området där: lägg till hörn och tryck Klar "
        "när området är ritat."
    )
    _expect_refusal(picker, text)
    assert picker.evaluate("el => el.value") is None
    assert picker.evaluate("el => el.validity.valueMissing") is True
    # The map went to the result: the crosshair's news is about Karlavägen now.
    expect(picker.locator("[role=status]")).to_contain_text("Karlavägen", timeout=15_000)
    assert run_axe(page) == []


def test_required_line_and_english_area_say_what_is_missing(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    open_demo(page, live_server)
    page.evaluate(
        """() => {
          const line = document.createElement('webmap-picker');
          line.setAttribute('mode', 'line');
          line.setAttribute('required', '');
          line.id = 'route';
          document.querySelector('form').append(line);
        }"""
    )
    line = page.locator("#route")
    expect(line.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    assert (
        line.evaluate("el => el.validationMessage")
        == "Rita linjen på kartan och tryck Klar när linjen är ritad."
    )
    english = open_demo(page, live_server, "/bygglov?lang=en")
    assert (
        english.evaluate("el => el.validationMessage")
        == "Draw the area on the map and press Done when the area is drawn."
    )


def test_combobox_says_required_and_the_warning_glyph_is_not_read(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    picker = open_demo(page, live_server)  # required
    search = picker.locator("#q")
    expect(search).to_have_attribute("role", "combobox")
    expect(search).to_have_attribute("aria-required", "true")
    page.locator("#submit").click()
    error = picker.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("⚠")  # seen
    expect(error.locator(".glyph")).to_have_attribute("aria-hidden", "true")
    # … and not heard: the field's description has the words without the glyph.
    expect(search).to_have_accessible_description(
        re.compile(r"Välj en plats på kartan eller sök på en adress eller fastighet\.$")
    )
    expect(search).not_to_have_accessible_description(re.compile("⚠"))
    description = page.evaluate(
        """() => {
          const input = document.querySelector('webmap-picker').shadowRoot.getElementById('q');
          return input.getAttribute('aria-describedby');
        }"""
    )
    # The refusal too: a search result outside the allowed area is refused while focus is here.
    assert description == "q-hint error refusal"
    assert run_axe(page) == []

    picker.evaluate("el => el.removeAttribute('required')")
    expect(search).not_to_have_attribute("aria-required", "true")
    picker.evaluate("el => el.setAttribute('required', '')")
    expect(search).to_have_attribute("aria-required", "true")


def test_chosen_place_in_swedish_numbers_and_spoken_without_the_zoom_level(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    picker = open_demo(page, live_server)
    picker.locator("[data-action=choose]").click()
    chosen = picker.locator("#chosen-text")
    expect(chosen).not_to_have_text(NOTHING, timeout=10_000)
    label = chosen.inner_text()
    expect_live(picker, f"{label}.")
    # "Vald plats": SWEREF 99 TM with Swedish thousands spacing (no-break spaces).
    detail = picker.locator(".chosen-detail")
    expect(detail).to_have_text(
        re.compile(r"^SWEREF 99 TM: N \d\u00a0\d{3}\u00a0\d{3}, E \d{3}\u00a0\d{3}")
    )
    sweref = picker.evaluate("el => el.value.properties.sweref99tm")
    n = f"{round(sweref['n']):,}".replace(",", "\u00a0")
    expect(detail).to_contain_text(f"N {n},")
    assert run_axe(page) == []

    english = open_demo(page, live_server, "?lang=en")
    english.locator("[data-action=choose]").click()
    expect(english.locator(".chosen-detail")).to_have_text(
        re.compile(r"^SWEREF 99 TM: N \d{7}, E \d{6}"), timeout=10_000
    )
