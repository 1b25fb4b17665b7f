"""axe-core (WCAG 2.2 A/AA and best practices) on every page a citizen sees, at desktop and phone
widths and in forced-colours mode, with the map drawn and after a place is chosen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.picker_helpers import run_axe

pytestmark = pytest.mark.browser

WIDTHS = [1280, 320]


@pytest.fixture(params=["light", "forced-colors"])
def axe_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A page whose CSP allows axe to be injected; optionally in forced-colours mode."""
    context = browser.new_context(bypass_csp=True, locale="sv-SE")
    page = context.new_page()
    if request.param == "forced-colors":
        page.emulate_media(forced_colors="active")
    yield page
    context.close()


def _ready(page: Page, selector: str) -> None:
    expect(page.locator(selector)).to_have_attribute("data-state", "ready", timeout=20_000)


@pytest.mark.parametrize("width", WIDTHS)
def test_viewer_has_no_axe_violations(axe_page: Page, live_server: str, width: int) -> None:
    axe_page.set_viewport_size({"width": width, "height": 800})
    axe_page.goto(f"{live_server}/")
    _ready(axe_page, "#map")
    assert run_axe(axe_page) == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ["/demo", "/demo?lang=en", "/embed"])
def test_picker_pages_have_no_axe_violations(
    axe_page: Page, live_server: str, width: int, path: str
) -> None:
    axe_page.set_viewport_size({"width": width, "height": 800})
    axe_page.goto(f"{live_server}{path}")
    picker = axe_page.locator("webmap-picker")
    _ready(axe_page, "webmap-picker #map")
    assert run_axe(axe_page) == []
    # Again with everything the picker can show: results, a chosen place, the help.
    picker.locator("#q").fill("Karlavägen")
    expect(picker.locator("[role=option]").first).to_be_visible(timeout=10_000)
    assert run_axe(axe_page) == []
    picker.locator("#q").press("Escape")
    picker.locator("[data-action=choose]").click()
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    picker.locator("[data-action=help]").click()
    expect(picker.locator("#help")).to_be_visible()
    assert run_axe(axe_page) == []


def test_demo_receipt_has_no_axe_violations(axe_page: Page, live_server: str) -> None:
    axe_page.goto(f"{live_server}/demo")
    picker = axe_page.locator("webmap-picker")
    _ready(axe_page, "webmap-picker #map")
    picker.locator("[data-action=choose]").click()
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    axe_page.locator("#submit").click()
    expect(axe_page.locator("h1")).to_have_text("Tack, vi har tagit emot ditt ärende")
    assert run_axe(axe_page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_polygon_picker_has_no_axe_violations(axe_page: Page, live_server: str, width: int) -> None:
    axe_page.set_viewport_size({"width": width, "height": 800})
    axe_page.goto(f"{live_server}/demo/bygglov")
    picker = axe_page.locator("webmap-picker")
    _ready(axe_page, "webmap-picker #map")
    assert run_axe(axe_page) == []
    for _ in range(2):
        picker.locator("[data-action=add-vertex]").click()
        picker.locator("[data-action=pan-east]").click()
        axe_page.wait_for_timeout(300)
    picker.locator("[data-action=help]").click()
    expect(picker.locator("#help")).to_be_visible()
    assert run_axe(axe_page) == []
