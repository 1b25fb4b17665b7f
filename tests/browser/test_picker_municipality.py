"""``<webmap-picker municipality="2281">`` (issue 12 §2) on the demo e-service, in Chromium.

Sundsvall (2281) is served here (its boundary from the sample's ``ak_riks``); the sample's
addresses are Östermalm's, in Stockholm. So the picker must open on Sundsvall, not on the
sample's Östermalm; a search still finds Stockholm's streets, each marked as outside Sundsvall
(seen and heard); choosing one is refused in words that name both municipalities, with the
refusal visible beside the map and described on the controls; a place in Sundsvall is accepted;
Sundsvall's default layers are drawn. Swedish and English, axe-core in each new state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from layers.municipalities import get_municipality, update_settings
from layers.tenant_settings import SettingsChange
from tests.browser.conftest import Traffic
from tests.browser.picker_helpers import expect_live, open_demo, run_axe
from tests.tenant_helpers import (
    HARNOSAND_POINT,
    SUNDSVALL,
    SUNDSVALL_POINT,
    ensure_municipalities,
)

pytestmark = pytest.mark.browser

REFUSED_SV = (
    "Platsen ligger utanför kommunen. Den ligger i Stockholms kommun. "
    "Välj en plats i Sundsvalls kommun."
)
REFUSED_EN = (
    "The place is outside the municipality. It is in Stockholm municipality. "
    "Choose a place in Sundsvall municipality."
)
TILE = re.compile(r"/tiles/basemap/(\d+)/(\d+)/(\d+)\.mvt")


@pytest.fixture(scope="module")
def sundsvall(sample_database: str) -> Iterator[tuple[float, float, float, float]]:
    """Sundsvall served, with the sample's instance-wide ``municipalities`` layer as its default
    layer (restored afterwards); yields its bounding box (WGS 84)."""
    with psycopg.connect(sample_database, autocommit=True) as conn:
        ensure_municipalities(conn)
        before = get_municipality(conn, SUNDSVALL).default_layers
        update_settings(conn, SUNDSVALL, SettingsChange(default_layers=("municipalities",)))
        box = get_municipality(conn, SUNDSVALL).bbox_wgs84
    yield box
    with psycopg.connect(sample_database, autocommit=True) as conn:
        update_settings(conn, SUNDSVALL, SettingsChange(default_layers=before))


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """West, south, east, north (WGS 84) of a Web Mercator tile."""

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / 2**z))))

    return x / 2**z * 360 - 180, lat(y + 1), (x + 1) / 2**z * 360 - 180, lat(y)


def _search(picker: Locator, text: str) -> Locator:
    picker.locator("#q").fill(text)
    options = picker.locator("[role=option]")
    expect(options.first).to_be_visible(timeout=10_000)
    return options


def test_it_opens_on_the_municipality_and_draws_its_layers(
    page: Page, live_server: str, traffic: Traffic, sundsvall: tuple[float, float, float, float]
) -> None:
    open_demo(page, live_server, f"?municipality={SUNDSVALL}")
    west, south, east, north = sundsvall
    tiles = [tuple(int(v) for v in m.groups()) for u in traffic.urls if (m := TILE.search(u))]
    assert tiles, traffic.urls
    # The first view: tiles of one zoom that cover Sundsvall and nothing near Stockholm.
    zoom = tiles[0][0]
    assert 6 <= zoom <= 11, tiles
    for z, x, y in tiles:
        w, s, e, n = _tile_bounds(z, x, y)
        assert w < east + 2 and e > west - 2 and s < north + 1 and n > south - 1, (z, x, y)
    covered = [_tile_bounds(*t) for t in tiles if t[0] == zoom]
    assert min(b[0] for b in covered) <= west and max(b[2] for b in covered) >= east
    assert min(b[1] for b in covered) <= south and max(b[3] for b in covered) >= north
    # Sundsvall's default layer, from its description.
    assert traffic.matching("/api/municipalities/2281")
    page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".some(r => r.name.includes('/tiles/municipalities.json'))",
        timeout=10_000,
    )
    assert traffic.failures == [] and traffic.foreign() == []


@pytest.mark.parametrize(
    ("where", "refused"),
    [
        (SUNDSVALL_POINT, None),
        (
            HARNOSAND_POINT,
            "Platsen ligger utanför kommunen. Den ligger i Härnösands kommun. "
            "Välj en plats i Sundsvalls kommun.",
        ),
    ],
    ids=["inside", "outside"],
)
def test_a_place_on_the_map_inside_is_chosen_outside_refused(
    browser: Browser,
    live_server: str,
    sundsvall: tuple[float, float, float, float],
    where: tuple[float, float],
    refused: str | None,
) -> None:
    """The map's own route (here the person's position): the same rule as search's."""
    lon, lat = where
    context = browser.new_context(
        geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"]
    )
    try:
        page = context.new_page()
        picker = open_demo(page, live_server, f"?municipality={SUNDSVALL}")
        picker.locator("[data-action=locate]").click()
        if refused is None:
            expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
            value = picker.evaluate("el => el.value")
            assert value["properties"]["municipality"] == {"code": SUNDSVALL, "name": "Sundsvall"}
            assert value["geometry"]["coordinates"] == [lon, lat]
            expect(picker.locator("#chosen-text")).to_contain_text("Sundsvalls kommun")
            expect(picker.locator("#refusal")).to_be_hidden()
        else:
            expect_live(picker, refused)
            expect(picker.locator("#refusal .text")).to_have_text(refused)
            assert picker.evaluate("el => el.value") is None
    finally:
        context.close()


def test_search_marks_places_outside_and_choosing_one_is_refused(
    desktop: Page, live_server: str, sundsvall: tuple[float, float, float, float]
) -> None:
    page = desktop
    picker = open_demo(page, live_server, f"?municipality={SUNDSVALL}")
    assert run_axe(page) == []
    options = _search(picker, "Karlavägen")
    count = options.count()
    marks = picker.locator("[role=option] .option-mark")
    expect(marks).to_have_count(count)
    expect(marks.first).to_have_text("I Stockholms kommun, utanför Sundsvalls kommun")
    expect(marks.first).to_be_visible()
    # Spoken: the option's own text carries the mark, and the count says how many are outside.
    assert "utanför Sundsvalls kommun" in options.first.inner_text()
    expect_live(
        picker,
        f"{count} förslag. Välj med pil ned och Enter. Alla ligger utanför Sundsvalls kommun."
        if count > 1
        else "1 förslag. Välj med pil ned och Enter. Det ligger utanför Sundsvalls kommun.",
    )
    assert run_axe(page) == []
    picker.locator("#q").press("ArrowDown")
    picker.locator("#q").press("Enter")
    expect_live(picker, REFUSED_SV)
    expect(picker.locator("#refusal .text")).to_have_text(REFUSED_SV)
    expect(picker.locator("#refusal")).to_be_visible()
    for control in ("#q", "#map", "[data-action=choose]"):
        described = picker.locator(control).get_attribute("aria-describedby") or ""
        assert "refusal" in described.split(), control
    assert picker.evaluate("el => el.value") is None
    assert run_axe(page) == []


def test_english_marks_and_refusal(
    desktop: Page, live_server: str, sundsvall: tuple[float, float, float, float]
) -> None:
    page = desktop
    picker = open_demo(page, live_server, f"?municipality={SUNDSVALL}&lang=en")
    _search(picker, "Karlavägen")
    expect(picker.locator("[role=option] .option-mark").first).to_have_text(
        "In Stockholm municipality, outside Sundsvall municipality"
    )
    picker.locator("#q").press("Enter")
    expect(picker.locator("#refusal .text")).to_have_text(REFUSED_EN)
    expect_live(picker, REFUSED_EN)
    assert run_axe(page) == []


@pytest.mark.parametrize("width", [320, 1280])
def test_no_axe_violations_at_phone_width_and_forced_colours(
    browser: Browser, live_server: str, sundsvall: tuple[float, float, float, float], width: int
) -> None:
    context = browser.new_context(
        bypass_csp=True, locale="sv-SE", viewport={"width": width, "height": 800}
    )
    try:
        page = context.new_page()
        page.emulate_media(forced_colors="active" if width == 320 else "none")
        picker = open_demo(page, live_server, f"?municipality={SUNDSVALL}")
        _search(picker, "Karlavägen")
        assert run_axe(page) == []
        picker.locator("#q").press("Enter")
        expect(picker.locator("#refusal .text")).to_have_text(REFUSED_SV)
        assert run_axe(page) == []
    finally:
        context.close()


def test_allowed_area_still_wins(
    page: Page, live_server: str, sundsvall: tuple[float, float, float, float]
) -> None:
    """With ``allowed-area`` the author's area decides: Stockholm's street is then accepted."""
    picker = open_demo(page, live_server, f"?municipality={SUNDSVALL}")
    picker.evaluate("el => el.setAttribute('allowed-area', '0180')")
    _search(picker, "Karlavägen")
    picker.locator("#q").press("Enter")
    expect(picker.locator("[data-action=clear]")).to_be_visible(timeout=10_000)
    assert picker.evaluate("el => el.value")["properties"]["municipality"]["code"] == "0180"


def test_the_embed_page_opens_on_the_municipality(
    page: Page, live_server: str, traffic: Traffic, sundsvall: tuple[float, float, float, float]
) -> None:
    page.goto(f"{live_server}/embed?municipality={SUNDSVALL}")
    picker = page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    assert picker.get_attribute("center") is None
    west, south, east, north = sundsvall
    tiles = [tuple(int(v) for v in m.groups()) for u in traffic.urls if (m := TILE.search(u))]
    # The start view's tiles (fetched together, in grid order, shared/first-tiles.js) are
    # centred on the municipality.
    first = [t for t in tiles if t[0] == tiles[0][0]]
    bounds = [_tile_bounds(*t) for t in first]  # type: ignore[arg-type]
    middle_lon = (min(b[0] for b in bounds) + max(b[2] for b in bounds)) / 2
    middle_lat = (min(b[1] for b in bounds) + max(b[3] for b in bounds)) / 2
    assert west < middle_lon < east and south < middle_lat < north, (middle_lon, middle_lat)


def test_in_sweref_99_tm_it_opens_on_the_municipality_too(
    page: Page, live_server: str, traffic: Traffic, sundsvall: tuple[float, float, float, float]
) -> None:
    """``projection="EPSG:3006"``: the same start, in Lantmäteriet's grid (origin E −1 200 000,
    N 8 500 000; 4096 m cells at level 0, 256-px tiles)."""
    open_demo(page, live_server, f"?municipality={SUNDSVALL}&projection=EPSG:3006")
    urls = traffic.matching("/ogc/collections/basemap/tiles/SWEREF99TM/")
    assert urls
    tiles = [
        tuple(int(v) for v in u.split("/SWEREF99TM/")[1].split("?")[0].split("/")) for u in urls
    ]
    level = min(t[0] for t in tiles)
    size = 4096 / 2**level * 256

    # Central Sundsvall (SWEREF 99 TM) is in one of the first level's tiles; Stockholm is not.
    def covers(e: float, n: float) -> bool:
        return any(
            z == level
            and -1_200_000 + col * size <= e < -1_200_000 + (col + 1) * size
            and 8_500_000 - (row + 1) * size < n <= 8_500_000 - row * size
            for z, row, col in tiles
        )

    assert covers(617_300, 6_919_900), tiles
    assert not covers(674_900, 6_581_500), tiles
