"""Feedback that is shown as well as spoken (issue 10 §3, later items): the chosen place names its
municipality, also where no address is near. Debian's Chromium, the real app, axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Locator, Page, expect

from tests.browser.picker_helpers import expect_live, open_demo, reverse, run_axe

pytestmark = pytest.mark.browser

NOTHING = "Ingen plats vald ännu."
# Solna, more than 2 km from every sample address: the lookup knows the municipality only.
NO_ADDRESS = (17.995, 59.372)


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


TOUCH_HINT = "Använd två fingrar för att flytta kartan."


def _swipe(cdp: CDPSession, picker: Locator, fingers: int) -> None:
    """Chrome's touch events as a phone sends them: `fingers` fingers moving up over the map."""
    box = picker.locator("#map").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def points(shift: float) -> list[dict[str, float]]:
        return [{"x": x - 40 + 80 * i, "y": y - shift, "id": i + 1} for i in range(fingers)]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(0)})
    for step in range(1, 9):
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points(step * 12)}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _touch_hint_shown(page: Page, picker: Locator) -> Locator:
    hint = picker.locator(".gesture-hint")
    expect(hint).to_be_visible()
    expect(hint.locator(".text")).to_have_text(TOUCH_HINT)
    # Available to screen readers: not hidden from them, and spoken politely once.
    assert hint.evaluate("el => el.closest('[aria-hidden]')") is None
    expect(picker.locator("[role=status]")).to_have_text(TOUCH_HINT, timeout=10_000)
    assert picker.locator("[role=status]").get_attribute("aria-live") in (None, "polite")
    return hint


def test_the_touch_hint_is_spoken_and_stays_until_closed(
    phone: BrowserContext, live_server: str
) -> None:
    page = phone.new_page()
    picker = open_demo(page, live_server)
    picker.locator(".map-area").scroll_into_view_if_needed()
    cdp = phone.new_cdp_session(page)
    _swipe(cdp, picker, 1)
    hint = _touch_hint_shown(page, picker)
    close = hint.locator("[data-action=hint-close]")
    expect(close).to_have_accessible_name("Stäng tipset")
    box = close.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    # Still there well after a passing hint (the wheel's, 1.8 s) would have gone.
    shown_at = page.evaluate("performance.now()")
    page.wait_for_function("t => performance.now() - t > 3000", arg=shown_at)
    expect(hint).to_be_visible()
    assert run_axe(page) == []
    close.tap()
    expect(hint).to_be_hidden()
    # Dismissed: another one-finger swipe does not bring it back.
    picker.locator(".map-area").scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    _swipe(cdp, picker, 1)
    page.wait_for_function("y => window.scrollY > y", arg=scrolled)
    expect(hint).to_be_hidden()


def test_the_touch_hint_goes_with_the_first_two_finger_pan(
    phone: BrowserContext, live_server: str
) -> None:
    page = phone.new_page()
    picker = open_demo(page, live_server)
    picker.locator(".map-area").scroll_into_view_if_needed()
    cdp = phone.new_cdp_session(page)
    _swipe(cdp, picker, 1)
    hint = _touch_hint_shown(page, picker)
    picker.locator(".map-area").scroll_into_view_if_needed()
    _swipe(cdp, picker, 2)
    expect(hint).to_be_hidden(timeout=10_000)


def test_fictional_properties_say_so_everywhere_they_are_shown(
    desktop: Page, live_server: str
) -> None:
    page = desktop
    picker = open_demo(page, live_server)  # over the sample's invented property register
    picker.locator("[data-action=choose]").click()
    chosen = picker.locator("#chosen-text")
    expect(chosen).not_to_have_text(NOTHING, timeout=10_000)
    value = picker.evaluate("el => el.value")
    prop = value["properties"]["property"]
    assert prop and prop["fictional"] is True, value
    shown = f"Fastighet {prop['designation']} (fiktiv)"
    label = value["properties"]["label"]
    assert label.startswith(f"{shown}, "), label  # the value's label
    expect(chosen).to_contain_text(shown)  # "Vald plats"
    expect_live(picker, f"{label}.")  # spoken
    assert run_axe(page) == []

    page.locator("#submit").click()
    expect(page.locator("h1")).to_have_text("Tack, vi har tagit emot ditt ärende")
    expect(page.locator("#received-label")).to_contain_text(shown)
    expect(page.locator("#received-property")).to_have_text(f"{prop['designation']} (fiktiv)")
    alt = page.locator("#received-map").get_attribute("alt") or ""
    assert "(fiktiv)" in alt, alt  # the static map's alt text
    assert run_axe(page) == []


def _examples(placeholder: str, lead: str, joiner: str) -> list[str]:
    assert placeholder.startswith(lead), placeholder
    return [part.strip() for part in placeholder.removeprefix(lead).split(joiner)]


@pytest.mark.parametrize(
    ("query", "lead", "joiner"), [("", "T.ex. ", " eller "), ("?lang=en", "E.g. ", " or ")]
)
def test_the_placeholder_examples_find_something(
    desktop: Page, live_server: str, query: str, lead: str, joiner: str
) -> None:
    page = desktop
    picker = open_demo(page, live_server, query)
    search = picker.locator("#q")
    examples = _examples(search.get_attribute("placeholder") or "", lead, joiner)
    assert len(examples) == 2, examples
    for example in examples:
        search.fill(example)
        expect(picker.locator("[role=option]").first).to_be_visible(timeout=10_000)
        labels = picker.locator("[role=option] .option-label").all_inner_texts()
        first_word = example.split()[0].lower()
        assert any(first_word in label.lower() for label in labels), (example, labels)
        search.press("Escape")


def test_an_e_service_gives_its_own_placeholder(desktop: Page, live_server: str) -> None:
    page = desktop
    picker = open_demo(page, live_server)
    picker.evaluate(
        """el => { const copy = el.cloneNode(true);
        copy.setAttribute('search-placeholder', 'T.ex. Storgatan 1');
        el.replaceWith(copy); }"""
    )
    fresh = page.locator("webmap-picker")
    expect(fresh.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    expect(fresh.locator("#q")).to_have_attribute("placeholder", "T.ex. Storgatan 1")
