"""The Content-Security-Policy in Debian's Chromium: every page works under it without a single
violation, and an uploaded attribution with markup is shown as text, never as a link or image
(issue 8: admin preview, admin layer page, and the picker on an e-service's page)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from layers.ingest import IngestOptions, publish_vector
from layers.store import LayerSpec
from staff.accounts import set_user
from tests.browser.conftest import Traffic, _record
from webmap.services import services

pytestmark = pytest.mark.browser

USER, PASSWORD = "gis.csp", "csp browser test password"
EVIL = '<a href="https://evil.example">x</a><img src=x onerror=alert(1)>'
PRIVATE_LAYER, PUBLIC_LAYER = "csp_evil_private", "csp_evil_public"
# Records every CSP violation of every frame (init scripts run before the page's own).
WATCH = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push(`${event.violatedDirective}: ${event.blockedURI} ` +
                            `(${event.sourceFile}:${event.lineNumber})`);
});
"""
# What the attribution markup would have created, in the document and in open shadow roots.
INJECTED = """() => {
  const roots = [document, ...[...document.querySelectorAll('*')]
    .filter((el) => el.shadowRoot).map((el) => el.shadowRoot)];
  return roots.flatMap((root) => [
    ...root.querySelectorAll('a[href="https://evil.example"], a[href^="https://evil"]'),
    ...root.querySelectorAll('img[src="x"], .ol-attribution img'),
  ]).map((el) => el.outerHTML);
}"""


def _parks() -> bytes:
    ring = [[18.05, 59.33], [18.06, 59.33], [18.06, 59.34], [18.05, 59.34], [18.05, 59.33]]
    feature = {
        "type": "Feature",
        "properties": {"namn": "Park"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


@pytest.fixture(scope="module")
def evil_layers(
    sample_database: str, live_app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A private and a public layer whose attribution is markup, and a staff login."""
    path = tmp_path_factory.mktemp("csp") / "parker.geojson"
    path.write_bytes(_parks())
    with psycopg.connect(sample_database, autocommit=True) as conn:
        set_user(conn, USER, PASSWORD, instance_admin=True)
        for name, public in ((PRIVATE_LAYER, False), (PUBLIC_LAYER, True)):
            spec = LayerSpec(name=name, title="Parker", attribution=EVIL, public=public)
            publish_vector(conn, spec, path, path.name, IngestOptions())
    with live_app.app_context():
        services().catalog.invalidate()  # published behind the app's back
    yield
    from layers.versions import delete_layer

    with psycopg.connect(sample_database, autocommit=True) as conn:
        for name in (PRIVATE_LAYER, PUBLIC_LAYER):
            delete_layer(conn, name)
    with live_app.app_context():
        services().catalog.invalidate()


@pytest.fixture
def watched(context: BrowserContext, traffic: Traffic) -> tuple[Page, list[str]]:
    """A page with the violation watcher in every frame, and the dialogs it opened."""
    context.add_init_script(WATCH)
    page = context.new_page()
    _record(page, traffic)
    dialogs: list[str] = []

    def on_dialog(dialog: object) -> None:
        dialogs.append(str(getattr(dialog, "message", "")))
        dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", on_dialog)
    return page, dialogs


def sign_in(context: BrowserContext, live_server: str) -> None:
    form = context.request.get(f"{live_server}/login").text()
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    done = context.request.post(
        f"{live_server}/login",
        form={"username": USER, "password": PASSWORD, "csrf_token": csrf},
        max_redirects=0,
    )
    assert done.status == 303


def violations(page: Page, traffic: Traffic) -> list[str]:
    found = [v for frame in page.frames for v in frame.evaluate("window.cspViolations || []")]
    logged = [m for m in traffic.console_errors if "Content Security Policy" in m]
    return found + logged


@pytest.fixture
def parent_site() -> Iterator[tuple[str, list[str]]]:
    """An e-service on another origin of this machine; the test puts its page in the list."""
    content: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = content[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", content
    server.shutdown()
    server.server_close()


def _ready(page: Page, selector: str) -> None:
    expect(page.locator(selector)).to_have_attribute("data-state", "ready", timeout=30_000)


def test_public_pages_run_under_the_csp_without_violations(
    watched: tuple[Page, list[str]], live_server: str, traffic: Traffic
) -> None:
    page, dialogs = watched
    for path, map_selector in (
        ("/", "#map"),
        ("/demo", "webmap-picker #map"),
        ("/demo/bygglov", "webmap-picker #map"),
        ("/embed", "webmap-picker #map"),
        ("/login", None),
    ):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.ok, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        if map_selector:
            _ready(page, map_selector)
        page.wait_for_timeout(300)  # late violations (tiles, fonts) are reported too
        assert violations(page, traffic) == [], path
    # The demo's picker still does its job under the policy: choose a place, submit, receipt.
    page.goto(f"{live_server}/demo")
    _ready(page, "webmap-picker #map")
    page.locator("webmap-picker [data-action=choose]").click()
    expect(page.locator("webmap-picker #chosen-text")).to_contain_text("Fastighet", timeout=15_000)
    page.locator("#submit").click()
    expect(page.locator("#received-municipality")).to_contain_text("Stockholm", timeout=15_000)
    assert violations(page, traffic) == [] and dialogs == []
    assert traffic.failures == [] and traffic.console_errors == []


def test_framed_embed_runs_under_the_csp_without_violations(
    watched: tuple[Page, list[str]],
    live_server: str,
    live_app: Flask,
    traffic: Traffic,
    parent_site: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page, _ = watched
    parent, content = parent_site
    monkeypatch.setitem(live_app.config, "WEBMAP_EMBED_ORIGINS", [parent])
    content.append(
        '<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>E-tjänst</title>'
        f'</head><body><iframe title="Välj plats" width="400" height="760" '
        f'src="{live_server}/embed?origin={parent}"></iframe></body></html>'
    )
    page.goto(f"{parent}/")
    frame = page.frame_locator("iframe")
    expect(frame.locator("webmap-picker #map")).to_have_attribute(
        "data-state", "ready", timeout=30_000
    )
    page.wait_for_timeout(300)
    assert violations(page, traffic) == []


def test_admin_pages_run_under_the_csp_and_show_the_attribution_as_text(
    watched: tuple[Page, list[str]],
    context: BrowserContext,
    live_server: str,
    traffic: Traffic,
    evil_layers: None,
) -> None:
    page, dialogs = watched
    sign_in(context, live_server)
    for path in ("/admin", "/admin/upload", f"/admin/layers/{PRIVATE_LAYER}"):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.ok, path
        expect(page.locator("h1")).to_be_visible()
        assert violations(page, traffic) == [], path
    # The layer page names the attribution as text.
    expect(page.locator("dd", has_text="evil.example")).to_have_text(EVIL)
    assert page.evaluate(INJECTED) == []
    # The preview draws the private layer over the basemap with its attribution as text.
    page.goto(f"{live_server}/admin/layers/{PRIVATE_LAYER}/preview")
    _ready(page, "#map")
    expect(page.locator("#map")).to_have_attribute("data-overlay-state", "ready")
    attribution = page.locator(".ol-attribution li", has_text="evil.example")
    expect(attribution).to_have_text(EVIL, timeout=15_000)
    assert page.evaluate(INJECTED) == []
    page.wait_for_timeout(300)
    assert violations(page, traffic) == [] and dialogs == []
    assert traffic.failures == [] and traffic.console_errors == []


def test_picker_overlay_shows_the_attribution_as_text_on_a_page_without_csp(
    watched: tuple[Page, list[str]],
    live_server: str,
    live_app: Flask,
    traffic: Traffic,
    parent_site: tuple[str, list[str]],
    evil_layers: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On an e-service page without a CSP nothing would stop ``onerror``: the text must be
    escaped before OpenLayers inserts it."""
    page, dialogs = watched
    parent, content = parent_site
    monkeypatch.setitem(live_app.config, "WEBMAP_EMBED_ORIGINS", [parent])
    content.append(
        '<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>E-tjänst</title>'
        f'<script type="module" src="{live_server}/widget/webmap.js"></script></head><body><main>'
        f'<webmap-picker name="location" server="{live_server}/" center="18.055,59.335" '
        f'zoom="15" layers="{PUBLIC_LAYER}"><label for="t">Adress</label>'
        '<input id="t" name="location_text"></webmap-picker></main></body></html>'
    )
    page.goto(f"{parent}/")
    _ready(page, "webmap-picker #map")
    attribution = page.locator("webmap-picker .ol-attribution li", has_text="evil.example")
    expect(attribution).to_have_text(EVIL, timeout=15_000)
    page.wait_for_timeout(500)
    assert page.evaluate(INJECTED) == [] and dialogs == []
    assert traffic.failures == []


def test_the_login_page_cannot_be_framed(
    page: Page, live_server: str, parent_site: tuple[str, list[str]]
) -> None:
    parent, content = parent_site
    content.append(
        '<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Ram</title></head>'
        f'<body><iframe title="Inloggning" src="{live_server}/login"></iframe></body></html>'
    )
    page.goto(f"{parent}/")
    page.wait_for_timeout(1500)
    child = page.frames[1]
    # Chromium replaces a frame its CSP forbids with its own error page.
    assert child.url.startswith("chrome-error://"), child.url
    assert child.locator("#password").count() == 0
