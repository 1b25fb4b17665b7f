"""The /admin pages in Debian's Chromium: a keyboard-only upload with a real progress bar,
the report, the preview on the map, publish/unpublish, rollback, delete; axe-core on every page
at 1280 px, at 320 px (reflow) and with forced colours."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from layers.ingest import IngestOptions, publish_vector
from layers.store import LayerSpec
from staff.accounts import set_user
from tests.browser.conftest import Traffic, _record

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
USER, PASSWORD = "gis.browser", "browser test password"

# Reports what the page's status region says and how far the progress bar got to the test
# (through a binding, so what was said on the upload page survives the navigation to the report).
WATCH = """
new MutationObserver((changes) => {
  for (const change of changes) {
    const target = change.target;
    const element = target.nodeType === 1 ? target : target.parentElement;
    const region = element && element.closest('#status');
    if (region && region.textContent.trim()) window.webmapRecord('said', region.textContent.trim());
    if (element && element.id === 'upload-progress' && change.attributeName === 'value') {
      window.webmapRecord('progress', element.getAttribute('value'));
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                      attributeFilter: ['value']});
"""
# The deepest focused element: its id, else its text.
ACTIVE = """() => {
  const a = document.activeElement;
  return a ? (a.id || a.textContent.trim()) : null;
}"""


def parks_geojson(count: int, extra: bool = True) -> bytes:
    """``count`` squares in Stockholm (plus a bow tie to repair and one feature to reject)."""
    features: list[dict[str, Any]] = []
    for i in range(count):
        x, y = 18.05 + (i % 60) * 0.0004, 59.33 + (i // 60) * 0.0004
        ring = [[x, y], [x + 0.0003, y], [x + 0.0003, y + 0.0003], [x, y + 0.0003], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"namn": f"Park {i}", "beskrivning": "Gräsyta med träd " * 3},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    if extra:
        bowtie = [
            [18.08, 59.34],
            [18.082, 59.342],
            [18.082, 59.34],
            [18.08, 59.342],
            [18.08, 59.34],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"namn": "Fjäril"},
                "geometry": {"type": "Polygon", "coordinates": [bowtie]},
            }
        )
        features.append({"type": "Feature", "properties": {"namn": "Tom"}, "geometry": None})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture(scope="module")
def staff_login(sample_database: str) -> tuple[str, str]:
    with psycopg.connect(sample_database) as conn:
        set_user(conn, USER, PASSWORD, instance_admin=True)
    return USER, PASSWORD


@pytest.fixture(scope="module")
def axe_layer(sample_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A layer with two versions and a report with repaired and rejected features."""
    folder = tmp_path_factory.mktemp("axe-layer")
    name = "browser_axe"
    spec = LayerSpec(name=name, title="Parker för granskning", attribution="© Testkommun")
    with psycopg.connect(sample_database, autocommit=True) as conn:
        for count in (5, 8):
            path = folder / f"parker_{count}.geojson"
            path.write_bytes(parks_geojson(count))
            publish_vector(conn, spec, path, path.name, IngestOptions())
    return name


def sign_in(page: Page, live_server: str, target: str = "/admin") -> None:
    """From an admin page to the login form and back, with the keyboard only."""
    page.goto(f"{live_server}{target}")
    expect(page).to_have_url(f"{live_server}/login?next={target.replace('?', '%3F')}")
    tab_to(page, "username")
    page.keyboard.type(USER)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}{target}")


def tab_to(page: Page, target: str, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab until the element whose id (or text) is ``target`` has focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(ACTIVE) == target:
            return
    raise AssertionError(f"{target!r} never received focus by Tab")


def follow(page: Page, target: str) -> None:
    """Tab to a link or button and press Enter, waiting for the page it leads to."""
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def focus_ring(page: Page) -> str:
    return str(page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle"))


def choose_file_by_keyboard(page: Page, path: Path) -> None:
    tab_to(page, "file")
    with page.expect_file_chooser(timeout=20_000) as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))


def _intercept_file_choosers(page: Page) -> None:
    """Have Playwright catch file choosers from the start. Its first ``filechooser`` listener
    turns interception on without waiting for it, so a listener added just before the key press
    (``expect_file_chooser``) could lose the race: the dialog opened unseen and the test timed
    out (seen under load in CI). A listener added with the page is settled long before."""
    page.on("filechooser", lambda _chooser: None)


@pytest.fixture
def records() -> dict[str, list[str]]:
    return {"said": [], "progress": []}


@pytest.fixture
def watched_page(context: BrowserContext, traffic: Traffic, records: dict[str, list[str]]) -> Page:
    def record(kind: str, value: str | None) -> None:
        records[kind].append(value or "")

    context.expose_function("webmapRecord", record)
    context.add_init_script(WATCH)
    page = context.new_page()
    _intercept_file_choosers(page)
    _record(page, traffic)
    return page


def test_keyboard_only_upload_report_preview_publish_rollback_delete(
    watched_page: Page,
    live_server: str,
    traffic: Traffic,
    staff_login: tuple[str, str],
    tmp_path: Path,
    records: dict[str, list[str]],
) -> None:
    page = watched_page
    first = tmp_path / "parker.geojson"
    first.write_bytes(parks_geojson(3000))  # about 1 MB: the upload takes a while, throttled
    second = tmp_path / "parker_v2.geojson"
    second.write_bytes(parks_geojson(10, extra=False))
    sign_in(page, live_server)

    tab_to(page, "Ladda upp ett nytt lager")
    assert focus_ring(page) != "none"
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Ladda upp ett nytt lager")
    choose_file_by_keyboard(page, first)
    page.keyboard.press("Tab")
    page.keyboard.type("browser_parks")
    page.keyboard.press("Tab")
    page.keyboard.type("Parker i webbläsaren")
    tab_to(page, "attribution")
    page.keyboard.type("© Testkommun")
    tab_to(page, "public-true")
    page.keyboard.press("ArrowDown")  # radio group: arrow keys choose "staff only"
    expect(page.locator("#public-false")).to_be_checked()

    # Slow the upload so the progress events are observable (Chromium's network emulation).
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    tab_to(page, "Ladda upp och publicera")
    page.keyboard.press("Enter")
    expect(page.locator("#upload-progress")).to_be_visible()
    expect(page).to_have_url(
        f"{live_server}/admin/layers/browser_parks/versions/1/report", timeout=30_000
    )
    cdp.detach()  # ends the throttling (a second file chooser does not open while attached)
    expect(page.locator("#status")).to_have_text("Version 1 av browser_parks är publicerad.")
    summary = page.locator(".counts")
    expect(summary).to_contain_text("Lästa objekt3 002")
    expect(summary).to_contain_text("Lagade objekt1")
    expect(summary).to_contain_text("Avvisade objekt1")
    expect(page.locator("#rejected-caption")).to_be_visible()
    # What was said during the upload, in order, and a bar that really moved.
    said = records["said"]
    steps = [
        "Uppladdningen har börjat.",
        "25 procent uppladdat.",
        "Filen är uppladdad. Servern kontrollerar och publicerar lagret …",
        "Klart. Rapporten visas.",
        "Version 1 av browser_parks är publicerad.",
    ]
    assert [said.index(step) for step in steps] == sorted(said.index(step) for step in steps)
    values = [int(v) for v in records["progress"] if v]
    assert len({v for v in values if 0 < v < 100}) >= 3 and max(values) == 100

    # The preview: the private layer's own tiles over the basemap, and the page says so.
    follow(page, "Förhandsgranska på kartan")
    preview_map = page.locator("#map")
    expect(preview_map).to_have_attribute("data-state", "ready", timeout=20_000)
    expect(preview_map).to_have_attribute("data-overlay-state", "ready")
    expect(page.locator("#map-status")).to_have_text(
        "Kartan visar lagret Parker i webbläsaren. Använd piltangenterna för att flytta och + "
        "eller − för att zooma när kartan har fokus."
    )
    assert traffic.matching("/tiles/browser_parks/"), traffic.urls
    expect(page.get_by_role("button", name="Zooma in")).to_be_visible()

    # A new version from the layer page, then unpublish/publish and roll back, by keyboard.
    follow(page, "Tillbaka till Parker i webbläsaren")
    follow(page, "Ladda upp en ny version")
    expect(page.locator("h1")).to_have_text("Ny version av Parker i webbläsaren")
    choose_file_by_keyboard(page, second)
    tab_to(page, "Ladda upp och publicera")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/admin/layers/browser_parks/versions/2/report")
    expect(page.locator(".counts")).to_contain_text("Avvisade objekt0")
    follow(page, "Tillbaka till Parker i webbläsaren")
    expect(page.locator(".tag").first).to_have_text("Privat")
    follow(page, "Publicera (gör publikt)")
    expect(page.locator("#status")).to_have_text("browser_parks är nu publikt: alla kan se det.")
    expect(page.locator(".tag").first).to_have_text("Publikt")
    follow(page, "Gör version 1 live")
    expect(page.locator("#status")).to_have_text("Version 1 av browser_parks är nu live.")
    expect(page.locator("tr.live th")).to_have_text("1")

    # Delete, after the confirmation page.
    follow(page, "Ta bort lagret …")
    expect(page.locator("h1")).to_have_text("Ta bort Parker i webbläsaren?")
    follow(page, "Ja, ta bort browser_parks")
    expect(page).to_have_url(f"{live_server}/admin")
    expect(page.locator("#status")).to_have_text(
        "Lagret browser_parks och alla dess versioner är borttagna."
    )
    expect(page.get_by_role("link", name="browser_parks")).to_have_count(0)
    assert traffic.foreign() == []
    assert traffic.failures == [] and traffic.console_errors == []


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core from node_modules (no network), evaluated through the driver, not as a <script>:
    the admin pages' CSP forbids inline scripts, and the test keeps that CSP in force."""
    page.evaluate(AXE_SOURCE)
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


AXE_SOURCE = AXE.read_text(encoding="utf-8") if AXE.is_file() else ""

# Things smaller than 44 × 44 px that act as targets (radio buttons are excused: their label,
# 44 px high, is part of the target; links inside running text are excused by WCAG).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'main .button, main button, nav a, .site-name a, th a, td a, summary, select, textarea, ' +
    'input:not([type=radio]):not([type=hidden]), .radio label, .viewer-button')]
  .filter((el) => el.getClientRects().length)
  .map((el) => [el.id || el.textContent.trim(), el.getBoundingClientRect()])
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}×${Math.round(r.height)}`)"""


def admin_pages(name: str) -> list[str]:
    return [
        "/admin",
        "/admin/upload",
        f"/admin/layers/{name}",
        f"/admin/layers/{name}/versions/1/report",
        f"/admin/layers/{name}/versions/2/report",
        f"/admin/layers/{name}/upload",
        f"/admin/layers/{name}/delete",
        f"/admin/layers/{name}/preview",
        "/admin/layers/no_such_layer",
    ]


def api_login(context: BrowserContext, live_server: str) -> None:
    """Sign the context in through the login form's POST (the keyboard test does it by hand)."""
    form = context.request.get(f"{live_server}/login").text()
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    done = context.request.post(
        f"{live_server}/login",
        form={"username": USER, "password": PASSWORD, "csrf_token": csrf},
        max_redirects=0,
    )
    assert done.status == 303


@pytest.mark.parametrize(
    ("width", "forced"),
    [(1280, False), (320, False), (1280, True)],
    ids=["1280px", "320px", "forced-colors"],
)
def test_every_admin_page_passes_axe_reflows_and_has_large_targets(
    browser: Browser,
    live_server: str,
    staff_login: tuple[str, str],
    axe_layer: str,
    width: int,
    forced: bool,
) -> None:
    assert AXE_SOURCE, f"axe-core is missing at {AXE}: run npm ci in frontend/"
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="sv-SE")
    try:
        _check_pages(context, live_server, axe_layer, width, forced)
    finally:
        context.close()


def _check_pages(
    context: BrowserContext, live_server: str, name: str, width: int, forced: bool
) -> None:
    api_login(context, live_server)
    page = context.new_page()
    traffic = Traffic()
    _record(page, traffic)
    if forced:
        page.emulate_media(forced_colors="active")
    # Both languages once (at 1280 px); Swedish, the default, at every size.
    langs = ["sv", "en"] if width == 1280 and not forced else ["sv"]
    problems: dict[str, Any] = {}
    for lang in langs:
        for path in admin_pages(name):
            url = f"{live_server}{path}?lang={lang}"
            page.goto(url)
            if path.endswith("/preview"):
                expect(page.locator("#map")).to_have_attribute(
                    "data-state", "ready", timeout=20_000
                )
            found = run_axe(page)
            if found:
                problems[url] = found
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > width:  # the page scrolls sideways: no reflow
                problems[f"{url} reflow"] = wide
            small = page.evaluate(SMALL_TARGETS)
            if small:
                problems[f"{url} targets"] = small
        # The form with its error summary (sent empty: the script swaps the server's page in).
        page.goto(f"{live_server}/admin/upload?lang={lang}")
        page.locator("form[data-upload] button[type=submit]").focus()
        page.keyboard.press("Enter")
        summary = page.locator(".error-summary")
        expect(summary).to_be_focused()
        found = run_axe(page)
        if found:
            problems[f"{lang} form errors"] = found
    assert problems == {}
    assert traffic.foreign() == []


def test_upload_works_without_javascript(
    browser: Browser, live_server: str, staff_login: tuple[str, str], tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="sv-SE", java_script_enabled=False
    )
    try:
        api_login(context, live_server)
        page = context.new_page()
        page.goto(f"{live_server}/admin/upload?lang=en")
        # An empty form: the error summary is focused by its autofocus, with no script at all.
        with page.expect_navigation():
            page.get_by_role("button", name="Upload and publish").click()
        expect(page).to_have_title(re.compile(r"^Error: "))
        expect(page.locator(".error-summary")).to_be_focused()
        expect(page.locator(".error-summary a")).to_have_count(3)  # file, name, title
        expect(page.locator(".upload-progress")).to_be_hidden()
        data = tmp_path / "utan_js.geojson"
        data.write_bytes(parks_geojson(4))
        page.locator("#file").set_input_files(str(data))
        page.locator("#name").fill("browser_nojs")
        page.locator("#title").fill("Without script")
        with page.expect_navigation():
            page.get_by_role("button", name="Upload and publish").click()
        expect(page).to_have_url(f"{live_server}/admin/layers/browser_nojs/versions/1/report")
        expect(page.locator("#status")).to_have_text("Version 1 of browser_nojs is published.")
        expect(page.locator(".counts")).to_contain_text("Features stored5")
    finally:
        context.close()
