"""Feedback that is shown as well as spoken (issue 10 §3, later items): the chosen place names its
municipality, also where no address is near. Debian's Chromium, the real app, axe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.picker_helpers import expect_live, open_demo, reverse, run_axe

pytestmark = pytest.mark.browser

NOTHING = "Ingen plats vald ännu."
# Solna, more than 2 km from every sample address: the lookup knows the municipality only.
NO_ADDRESS = (17.995, 59.372)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A desktop page that lets axe in (bypass_csp)."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="sv-SE", bypass_csp=True
    )
    yield ctx.new_page()
    ctx.close()


def _recentre(page: Page, picker: Locator, lon: float, lat: float) -> Locator:
    """The demo's picker again, centred elsewhere (a fresh element, as an e-service would write)."""
    picker.evaluate(
        """(el, c) => { const copy = el.cloneNode(true); copy.setAttribute('center', c);
        el.replaceWith(copy); }""",
        f"{lon},{lat}",
    )
    fresh = page.locator("webmap-picker")
    expect(fresh.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    return fresh


def test_the_chosen_place_names_its_municipality(desktop: Page, live_server: str) -> None:
    page = desktop
    picker = open_demo(page, live_server)
    picker.locator("[data-action=choose]").click()
    chosen = picker.locator("#chosen-text")
    expect(chosen).not_to_have_text(NOTHING, timeout=10_000)
    label = picker.evaluate("el => el.value.properties.label")
    assert label.endswith(", i Stockholms kommun"), label
    expect(chosen).to_have_text(label)
    expect_live(picker, f"{label}.")


def test_a_place_without_a_near_address_still_names_its_municipality(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    truth = reverse(live_server, *NO_ADDRESS)
    assert truth["address"] is None and truth["property"] is None, truth
    name = truth["municipality"]["name"]
    assert name == "Solna", truth
    picker = _recentre(page, open_demo(page, live_server), *NO_ADDRESS)
    picker.locator("[data-action=choose]").click()
    chosen = picker.locator("#chosen-text")
    words = re.compile(r"^Punkt 59,37\d+ N, 17,99\d+ E, i Solna kommun$")
    expect(chosen).to_have_text(words, timeout=10_000)
    expect(picker.locator("[role=status]")).to_have_text(
        re.compile(r"^Punkt 59,37\d+ N, 17,99\d+ E, i Solna kommun\.$"), timeout=10_000
    )
    assert run_axe(page) == []


def test_forced_colours_outline_the_active_suggestion_on_every_side(
    browser: Browser, live_server: str
) -> None:
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="sv-SE", bypass_csp=True
    )
    page = ctx.new_page()
    page.emulate_media(forced_colors="active")
    picker = open_demo(page, live_server)
    picker.locator("#q").fill("Karlavägen")
    expect(picker.locator("[role=option]").first).to_be_visible(timeout=10_000)
    picker.locator("#q").press("ArrowDown")
    active = picker.locator("[role=option][aria-selected=true]")
    expect(active).to_have_count(1)
    look = active.evaluate(
        """el => {
          const s = getComputedStyle(el);
          const probe = document.createElement('span');
          probe.style.color = 'Highlight';
          el.getRootNode().appendChild(probe);
          const highlight = getComputedStyle(probe).color;
          probe.remove();
          const list = el.closest('[role=listbox]');
          const box = el.getBoundingClientRect();
          const lb = list.getBoundingClientRect();
          return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                  offset: parseFloat(s.outlineOffset), color: s.outlineColor, highlight,
                  // the list's visible (clipping) box: inside its borders
                  inside: box.left >= lb.left + list.clientLeft - 0.5
                    && box.right <= lb.left + list.clientLeft + list.clientWidth + 0.5
                    && box.top >= lb.top + list.clientTop - 0.5};
        }"""
    )
    assert look["style"] == "solid" and look["width"] >= 2, look
    assert look["color"] == look["highlight"], look  # a system colour
    # The whole outline is drawn inside the option, which lies inside the list's clip box.
    assert look["offset"] + look["width"] <= 0, look
    assert look["inside"], look
    assert run_axe(page) == []
    ctx.close()
