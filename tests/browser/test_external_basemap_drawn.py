"""A municipality's external raster basemap (issue 12 §3): drawn under webmap's layers, its host
the only external one in the page's CSP. Real app, Debian's Chromium.

The "external" tile server is webmap itself, a second app on another port serving a raster
layer's tiles (a one-colour GeoTIFF over Sundsvall), addressed as ``http://localhost:<port>``:
another origin and another host than the page's ``http://127.0.0.1:<port>``. Plain http on a
loopback host is accepted only because the page's app runs with
``WEBMAP_INSECURE_BASEMAP_HOSTS=localhost`` (docs/layers.md: for tests and development only).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from layers.municipalities import get_municipality, update_settings
from layers.raster import publish_raster
from layers.store import LayerSpec
from layers.tenant_settings import SettingsChange
from tests.app_helpers import app_with
from tests.browser.conftest import Traffic
from tests.browser.picker_helpers import run_axe
from tests.raster_helpers import write_geotiff
from tests.server_helpers import serve_in_thread
from tests.tenant_helpers import SUNDSVALL, ensure_municipalities

pytestmark = [
    pytest.mark.browser,
    # rio-tiler silences this warning around each PNG it encodes with warnings.catch_warnings(),
    # which is process-wide, not per thread: with the tile server's threads encoding at once,
    # one thread's exit restores the filters under another, and under pytest's "error" filter
    # the warning it meant to silence becomes a 500. Ignoring it for the whole test keeps it
    # ignored whatever order the threads restore in (a real server only logs it).
    pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"),
]

LAYER = "ext_topo"
#: The raster's one colour: nothing in webmap's own basemap or overlays is this magenta.
COLOUR = (230, 0, 230)
ATTRIBUTION = "© Testkartan AB <b>"


@dataclass(frozen=True)
class Servers:
    page: str  # the app whose pages draw the picker: http://127.0.0.1:<port>
    tiles: str  # the stand-in external tile server: http://localhost:<port>
    database: str


@pytest.fixture(scope="module")
def servers(
    sample_database: str, frontend_built: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    rasters = tmp_path_factory.mktemp("external-basemap")
    with psycopg.connect(sample_database, autocommit=True) as conn:
        ensure_municipalities(conn)
        e0, n0, e1, n1 = get_municipality(conn, SUNDSVALL).bbox_sweref99tm
    # The picker opens on the whole municipality, so the map shows more than its bounding box:
    # the raster covers that box and as much again on every side.
    margin = max(e1 - e0, n1 - n0)
    e0, n0, e1, n1 = e0 - margin, n0 - margin, e1 + margin, n1 + margin
    pixel = 250.0
    size = (int((n1 - n0) / pixel) + 1, int((e1 - e0) / pixel) + 1)
    data = np.stack([np.full(size, c, dtype="uint8") for c in COLOUR])
    tif = write_geotiff(rasters / "topo.tif", data, origin=(e0, n1), pixel=pixel)
    with psycopg.connect(sample_database) as conn:
        publish_raster(conn, LayerSpec(LAYER, "Extern topografisk karta"), tif, rasters)
    with (
        app_with(sample_database, raster_dir=str(rasters)) as tile_app,
        app_with(sample_database, insecure_basemap_hosts="localhost") as page_app,
        serve_in_thread(tile_app) as tile_base,
        serve_in_thread(page_app) as page_base,
    ):
        yield Servers(page_base, tile_base.replace("127.0.0.1", "localhost"), sample_database)
    with psycopg.connect(sample_database, autocommit=True) as conn:
        update_settings(conn, SUNDSVALL, SettingsChange(basemap={}))


def _set_basemap(servers: Servers, kind: str, crs: int) -> str:
    """Give Sundsvall the stand-in basemap; returns its origin."""
    if kind == "xyz":
        url = f"{servers.tiles}/tiles/{LAYER}/{{z}}/{{x}}/{{y}}.png"
    else:  # the OGC API – Tiles path in WMTS RESTful names, in Lantmäteriet's grid
        url = (
            f"{servers.tiles}/ogc/collections/{LAYER}/tiles/SWEREF99TM/"
            "{TileMatrix}/{TileRow}/{TileCol}"
        )
    basemap = {"kind": kind, "url": url, "crs": crs, "attribution": ATTRIBUTION}
    with psycopg.connect(servers.database, autocommit=True) as conn:
        update_settings(conn, SUNDSVALL, SettingsChange(basemap=basemap), ("localhost",))
    return servers.tiles


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {d[0]: d[1:] for d in directives}


def _magenta_share(page: Page) -> float:
    """Share of the map's pixels (screenshot) in the stand-in basemap's colour.

    Decoded with Pillow, not rasterio: rasterio's decoding sets the process-wide warning
    filters (``warnings.catch_warnings``), which would race with the tile server's rendering in
    this same process's threads (rio-tiler does the same) and turn its warning into an error."""
    shot = Image.open(io.BytesIO(page.locator("webmap-picker .map-area").screenshot()))
    rgb = np.asarray(shot.convert("RGB")).astype(int)
    close = np.abs(rgb - np.array(COLOUR)).max(axis=2) <= 12
    return float(close.mean())


def _open(page: Page, servers: Servers, query: str) -> Any:
    response = page.goto(f"{servers.page}/demo?municipality={SUNDSVALL}{query}")
    assert response is not None and response.status == 200
    expect(page.locator("webmap-picker #map")).to_have_attribute(
        "data-state", "ready", timeout=20_000
    )
    return response


@pytest.mark.parametrize(
    ("kind", "crs", "query", "path"),
    [
        ("xyz", 3857, "", f"/tiles/{LAYER}/"),
        ("wmts", 3006, "&projection=EPSG:3006", f"/ogc/collections/{LAYER}/tiles/SWEREF99TM/"),
        # Web Mercator tiles under a SWEREF 99 TM map: reprojected by OpenLayers.
        ("xyz", 3857, "&projection=EPSG:3006", f"/tiles/{LAYER}/"),
        # SWEREF 99 TM tiles under a Web Mercator map, likewise.
        ("wmts", 3006, "", f"/ogc/collections/{LAYER}/tiles/SWEREF99TM/"),
    ],
    ids=["xyz-3857", "wmts-3006", "3857-on-3006", "3006-on-3857"],
)
def test_the_municipalitys_basemap_is_drawn_from_its_host(
    page: Page, traffic: Traffic, servers: Servers, kind: str, crs: int, query: str, path: str
) -> None:
    origin = _set_basemap(servers, kind, crs)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        response = _open(page, servers, query)
    except AssertionError as failed:
        raise AssertionError(f"{errors} {traffic.console_errors}") from failed

    # The page's CSP names the basemap's origin, in img-src and connect-src, and no other host.
    policy = _policy(response.headers["content-security-policy"])
    assert policy["img-src"] == ["'self'", "data:", "blob:", origin]
    assert policy["connect-src"] == ["'self'", origin]
    others = {
        source
        for name, sources in policy.items()
        if name not in ("img-src", "connect-src")
        for source in sources
    }
    assert others <= {"'self'", "'none'"}, others

    # Its tiles were asked for, from that host, and drawn.
    expect(page.locator("webmap-picker .ol-attribution")).to_contain_text(ATTRIBUTION)
    external = [u for u in traffic.urls if u.startswith(origin)]
    assert external and all(path in u for u in external), external[:5]
    # Drawn: most of the map is the raster's colour (the rest: the crosshair, the controls,
    # and the edges of a reprojected picture). Tiles arrive after "ready", so poll a while.
    share = 0.0
    for _ in range(40):
        share = _magenta_share(page)
        if share > 0.5:
            break
        page.wait_for_timeout(250)
    assert share > 0.5, f"only {share:.0%} of the map is in the basemap's colour"
    assert traffic.failures == [], traffic.failures
    assert {u.split("/")[2] for u in traffic.foreign()} <= {origin.split("/")[2]}


def test_any_other_host_is_refused_by_the_csp(
    page: Page, traffic: Traffic, servers: Servers
) -> None:
    origin = _set_basemap(servers, "xyz", 3857)
    _open(page, servers, "")
    other_port = servers.tiles.replace("localhost", "127.0.0.1")  # same server, other origin
    blocked: list[dict[str, str]] = page.evaluate(
        """async ([image, api]) => {
          const seen = [];
          document.addEventListener('securitypolicyviolation', (e) =>
            seen.push({uri: e.blockedURI, directive: e.effectiveDirective}));
          const img = new Image();
          const loaded = new Promise((resolve) => { img.onload = img.onerror = resolve; });
          img.src = image;
          await loaded;
          try { await fetch(api); } catch (error) { /* refused, as it must be */ }
          await new Promise((resolve) => setTimeout(resolve, 200));
          return seen;
        }""",
        [f"{other_port}/tiles/{LAYER}/0/0/0.png", "https://tiles.example.org/0/0/0.png"],
    )
    directives = sorted(b["directive"] for b in blocked)
    assert directives == ["connect-src", "img-src"], blocked
    # Chromium stopped both before they left the page: no answer came, only the refusal.
    refused = [f for f in traffic.failures if f.startswith(other_port)]
    assert refused and all(f.endswith(": csp") for f in refused), traffic.failures
    assert origin in {u[: len(origin)] for u in traffic.urls}


def test_without_a_basemap_the_page_names_no_other_host(
    page: Page, servers: Servers, traffic: Traffic
) -> None:
    with psycopg.connect(servers.database, autocommit=True) as conn:
        update_settings(conn, SUNDSVALL, SettingsChange(basemap={}))
    response = _open(page, servers, "")
    policy = _policy(response.headers["content-security-policy"])
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["connect-src"] == ["'self'"]
    assert traffic.foreign() == [] and _magenta_share(page) < 0.01


def test_a_basemap_host_that_fails_leaves_webmaps_own_map(
    page: Page, servers: Servers, traffic: Traffic
) -> None:
    """A host that answers no tile (here: a layer it does not have) is taken off the map and
    reported; the picker works on webmap's own basemap."""
    with psycopg.connect(servers.database, autocommit=True) as conn:
        update_settings(
            conn,
            SUNDSVALL,
            SettingsChange(
                basemap={
                    "kind": "xyz",
                    "url": f"{servers.tiles}/tiles/no_such_layer/{{z}}/{{x}}/{{y}}.png",
                    "crs": 3857,
                    "attribution": ATTRIBUTION,
                }
            ),
            ("localhost",),
        )
    page.add_init_script(
        "document.addEventListener('webmap:error', (e) =>"
        " (window.__errors = [...(window.__errors || []), e.detail.message]))"
    )
    _open(page, servers, "")
    page.wait_for_function("() => (window.__errors || []).some((m) => m.includes('basemap'))")
    expect(page.locator("webmap-picker .ol-attribution")).not_to_contain_text(ATTRIBUTION)
    assert _magenta_share(page) < 0.01


def test_the_picker_with_an_external_basemap_has_no_axe_violations(
    browser: Browser, servers: Servers
) -> None:
    _set_basemap(servers, "wmts", 3006)
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="sv-SE", bypass_csp=True
    )
    try:
        page = ctx.new_page()
        _open(page, servers, "&projection=EPSG:3006")
        expect(page.locator("webmap-picker .ol-attribution")).to_contain_text(ATTRIBUTION)
        assert run_axe(page) == []
    finally:
        ctx.close()


def test_the_embed_page_names_the_basemap_host_too(page: Page, servers: Servers) -> None:
    origin = _set_basemap(servers, "xyz", 3857)
    response = page.goto(f"{servers.page}/embed?municipality={SUNDSVALL}")
    assert response is not None and response.status == 200
    policy = _policy(response.headers["content-security-policy"])
    assert policy["img-src"][-1] == origin and policy["connect-src"] == ["'self'", origin]
    plain = page.goto(f"{servers.page}/embed")
    assert plain is not None
    assert origin not in plain.headers["content-security-policy"]


def test_the_viewer_opens_on_the_municipality_with_its_basemap(
    page: Page, servers: Servers, traffic: Traffic
) -> None:
    """``/?municipality=``: the viewer shows the municipality's whole extent on its external
    basemap, says so, and its home button returns there (issue 12: the viewer staff use to
    check a municipality's map did not draw its basemap)."""
    origin = _set_basemap(servers, "xyz", 3857)
    page.emulate_media(reduced_motion="reduce")
    response = page.goto(f"{servers.page}/?municipality={SUNDSVALL}")
    assert response is not None and response.status == 200
    policy = _policy(response.headers["content-security-policy"])
    assert policy["img-src"][-1] == origin and policy["connect-src"] == ["'self'", origin]
    viewer = page.locator("#map")
    expect(viewer).to_have_attribute("data-state", "ready", timeout=20_000)
    expect(viewer).to_have_attribute("data-external-basemap", "drawn", timeout=20_000)
    with psycopg.connect(servers.database) as conn:
        sundsvall = get_municipality(conn, SUNDSVALL)
    west, south, east, north = sundsvall.bbox_wgs84
    expect(page.locator("#map-status")).to_contain_text(f"Kartan visar {sundsvall.title}.")
    expect(page.locator("#map .ol-attribution")).to_contain_text(ATTRIBUTION)
    # Every basemap tile asked for lies over the municipality's box (± a tile): no Östermalm first.
    zooms_and_tiles = [
        tuple(int(part) for part in url.split("/tiles/basemap/")[1].split("?")[0][:-4].split("/"))
        for url in traffic.matching("/tiles/basemap/")
    ]
    assert zooms_and_tiles
    for z, x, y in zooms_and_tiles:
        lon = x / 2**z * 360 - 180  # the tile's west edge
        top = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / 2**z))))  # north edge
        bottom = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / 2**z))))
        # The window is wider than the box's shape, so the view reaches past it east and west.
        assert west - 2 * 360 / 2**z <= lon <= east + 360 / 2**z, (z, x, y)
        assert south - 1 <= bottom and top <= north + 1, (z, x, y)  # Östermalm: 59.3° N

    share = 0.0
    for _ in range(40):
        shot = Image.open(io.BytesIO(viewer.screenshot()))
        rgb = np.asarray(shot.convert("RGB")).astype(int)
        share = float((np.abs(rgb - np.array(COLOUR)).max(axis=2) <= 12).mean())
        if share > 0.4:
            break
        page.wait_for_timeout(250)
    assert share > 0.4, f"only {share:.0%} of the viewer is in the basemap's colour"

    page.get_by_role("button", name="Visa hela Sverige").click()
    expect(page.locator("#map-status")).to_have_text("Kartan visar hela Sverige.")
    page.get_by_role("button", name=f"Visa {sundsvall.title}").click()
    expect(page.locator("#map-status")).to_have_text(f"Kartan visar {sundsvall.title}.")
    assert traffic.failures == [], traffic.failures
    assert {u.split("/")[2] for u in traffic.foreign()} <= {origin.split("/")[2]}
