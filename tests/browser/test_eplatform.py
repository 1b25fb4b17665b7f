"""<webmap-picker fields="open-eplatform"> in a form step shaped like Open ePlatform's property
map query (/demo/eplatform): what the form posts, with and without JavaScript, and what the
platform's own checks make of it. Real app, real lookups, Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from pyproj import Transformer

from tests.browser.conftest import Traffic
from tests.browser.picker_helpers import reverse, run_axe, tab_to

pytestmark = pytest.mark.browser

SUFFIXES = ("propertyUnitDesignation", "xCoordinate", "yCoordinate", "extent", "epsg", "baseLayer")
# The demo step opens here, over a property of the sample's (invented) register.
CENTER = (18.075, 59.338)
TO_SWEREF = Transformer.from_crs(4326, 3006, always_xy=True)


def _open(page: Page, live_server: str, query: str = "") -> Locator:
    page.goto(f"{live_server}/demo/eplatform{query}")
    picker = page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    return picker


def _posted(page: Page) -> list[tuple[str, str]]:
    """Every name=value the browser sent, in order (the receipt lists them)."""
    names = page.locator("#posted dt").all_inner_texts()
    values = page.locator("#posted dd").all_inner_texts()
    return list(zip(names, values, strict=True))


def _field(page: Page, suffix: str) -> str:
    return page.locator(f"#field-{suffix}").inner_text()


def _check_accepted_fields(page: Page, lon: float, lat: float, designation: str) -> None:
    """The receipt of a submit with JavaScript: accepted, each field once, SWEREF 99 TM right."""
    expect(page.locator("h1")).to_have_text("Det här tog Open ePlatform emot")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "accepted")
    posted = _posted(page)
    assert sorted(name for name, _ in posted) == sorted(f"q12_{s}" for s in SUFFIXES), posted
    assert _field(page, "propertyUnitDesignation") == designation
    assert _field(page, "epsg") == "EPSG:3006"
    e, n = TO_SWEREF.transform(lon, lat)
    x, y = float(_field(page, "xCoordinate")), float(_field(page, "yCoordinate"))
    # x is the easting (Open ePlatform reads POINT(x y)); within 2 cm of PROJ's answer.
    assert abs(x - e) < 0.02 and abs(y - n) < 0.02, (x, y, e, n)
    min_e, min_n, max_e, max_n = (float(v) for v in _field(page, "extent").split(","))
    assert min_e < x < max_e and min_n < y < max_n
    assert 50 < max_e - min_e < 5000 and 50 < max_n - min_n < 5000, "about the visible map"
    assert _field(page, "baseLayer") == "webmap#webmap"


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="sv-SE", bypass_csp=True
    )
    yield ctx.new_page()
    ctx.close()


def test_choosing_on_the_map_fills_the_platforms_own_fields(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    picker = _open(page, live_server)
    tab_to(page, "map")
    page.keyboard.press("Enter")  # choose the place under the crosshair
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    value = picker.evaluate("el => el.value")
    lon, lat = value["geometry"]["coordinates"]
    assert abs(lon - CENTER[0]) < 1e-6 and abs(lat - CENTER[1]) < 1e-6
    truth = reverse(live_server, lon, lat)
    assert truth["property"], "the demo step opens over a property"
    # The platform's hidden inputs (outside the picker) carry the answer before submit.
    hidden = page.locator("#q12_propertyUnitDesignation")
    expect(hidden).to_have_value(truth["property"]["designation"])
    expect(page.locator("#q12_epsg")).to_have_value("EPSG:3006")
    page.locator("#submit").click()
    _check_accepted_fields(page, lon, lat, truth["property"]["designation"])
    assert traffic.foreign() == [] and traffic.failures == []


def test_search_result_posted_by_the_picker_itself(page: Page, live_server: str) -> None:
    """Without the platform's hidden inputs in the form, the picker posts the six fields."""
    here = reverse(live_server, *CENTER)["property"]["designation"]
    picker = _open(page, live_server, "?platform-inputs=0")
    assert page.locator("input[type=hidden]:not(webmap-picker *)").count() == 0
    tab_to(page, "q")
    page.keyboard.type(here)
    option = picker.locator("[role=option]").first
    expect(option).to_be_visible(timeout=10_000)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    value = picker.evaluate("el => el.value")
    assert value["properties"]["property"]["designation"] == here
    lon, lat = value["geometry"]["coordinates"]
    page.locator("#submit").click()
    _check_accepted_fields(page, lon, lat, here)


def test_nothing_chosen_is_refused_by_the_picker_first(page: Page, live_server: str) -> None:
    picker = _open(page, live_server)
    page.locator("#submit").click()
    expect(page.locator("h1")).to_have_text("Anmälan om installation av eldstad")
    expect(picker.locator("#error")).to_be_visible()
    assert picker.evaluate("el => el.validity.valueMissing") is True


def test_without_javascript_the_designation_reaches_the_platform(
    browser: Browser, live_server: str
) -> None:
    found = reverse(live_server, *CENTER)
    designation = found["property"]["designation"]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/demo/eplatform")
        field = page.get_by_label("Fastighetsbeteckning")
        expect(field).to_be_visible()
        field.fill(designation)
        page.locator("#submit").click()
        expect(page.locator("h1")).to_have_text("Det här tog Open ePlatform emot")
        # The platform reads the first value of each name: the typed designation and the
        # fallback's CRS, base layer and extent, not its own (empty) hidden inputs after them.
        assert _field(page, "propertyUnitDesignation") == designation
        assert _field(page, "epsg") == "EPSG:3006"
        assert _field(page, "baseLayer") == "webmap#webmap"
        assert _field(page, "xCoordinate") == "" and _field(page, "yCoordinate") == ""
        # Only the map can give coordinates: the platform would ask again, and says why.
        expect(page.locator("#verdict")).to_have_attribute(
            "data-verdict", "InCompleteMapQuerySubmit"
        )
        # webmap's server-side resolve finds the property and its SWEREF 99 TM point.
        expect(page.locator("#resolved-property")).to_have_text(designation)
        e, n = (float(v) for v in page.locator("#resolved-sweref").inner_text().split(","))
        assert e > 600_000 and n > 6_500_000
    finally:
        context.close()


@pytest.mark.parametrize("query", ["", "?query=area"])
def test_the_step_has_no_axe_violations(axe_page: Page, live_server: str, query: str) -> None:
    _open(axe_page, live_server, query)
    assert run_axe(axe_page) == []


def test_an_area_drawn_by_keyboard_reaches_the_drawing_query(
    page: Page, live_server: str, traffic: Traffic
) -> None:
    """``?query=area``: Open ePlatform's drawing query (GeneralMapQuery). The area is drawn by
    keyboard, posted as WKT in SWEREF 99 TM under ``q12_geometry`` (and ``q12_polygon``), and
    the platform's checks accept it; the map's extent, CRS and base layer fill its own inputs."""
    picker = _open(page, live_server, "?query=area")
    page.locator("#submit").click()  # nothing drawn: the picker refuses first (required)
    expect(picker.locator("#error")).to_be_visible()
    tab_to(page, "map")
    for key in ("Enter", "ArrowRight", "Enter", "ArrowDown", "Enter"):
        page.keyboard.press(key)
        page.wait_for_timeout(350 if key.startswith("Arrow") else 50)
    tab_to(page, "finish")
    page.keyboard.press("Enter")
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    value = picker.evaluate("el => el.value")
    assert value["geometry"]["type"] == "Polygon"
    expect(page.locator("#q12_epsg")).to_have_value("EPSG:3006")
    assert page.locator("#q12_extent").input_value().count(",") == 3
    page.locator("#submit").click()

    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "accepted")
    posted = _posted(page)
    names = sorted(name for name, _ in posted)
    assert names.count("q12_geometry") == 1 and names.count("q12_polygon") == 1, posted
    wkt = dict(posted)["q12_geometry"]
    assert dict(posted)["q12_polygon"] == wkt and wkt.startswith("POLYGON((")
    corners = [tuple(map(float, pair.split())) for pair in wkt[9:-2].split(",")]
    ring = value["geometry"]["coordinates"][0]
    assert len(corners) == len(ring) == 4
    for (e, n), (lon, lat) in zip(corners, ring, strict=True):
        want_e, want_n = TO_SWEREF.transform(lon, lat)  # x is the easting
        assert abs(e - want_e) < 0.02 and abs(n - want_n) < 0.02, (e, n, want_e, want_n)
    shape = page.locator("#shapes li")
    expect(shape).to_have_attribute("data-kind", "Polygon")
    # The platform's shape, measured in SWEREF 99 TM, is the area the picker reported.
    area = float(shape.get_attribute("data-area") or 0)
    assert abs(area - value["properties"]["area_m2"]) / area < 0.01, (area, value["properties"])
    assert traffic.foreign() == [] and traffic.failures == []
