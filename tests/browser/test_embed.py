"""Embedding on an e-service's own origin: the /embed iframe posting its value to an allow-listed
parent, and the widget script used directly on another origin with CORS for allow-listed origins."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.server_helpers import wait_until_ready

pytestmark = pytest.mark.browser

PARENT_PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8">
<title>E-tjänst</title></head><body><h1>E-tjänst</h1>
<iframe title="Välj plats" width="400" height="760" src="{src}"></iframe>
<script>
  window.received = [];
  addEventListener('message', (e) => window.received.push({{origin: e.origin, data: e.data}}));
</script></body></html>"""


WIDGET_PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8">
<title>E-tjänst</title><script type="module" src="{live}/widget/webmap.js"></script></head>
<body><main><h1>E-tjänst</h1><form method="post" action="{live}/demo">
<webmap-picker name="location" server="{live}/" center="18.075,59.338" zoom="16">
  <label for="t">Adress</label><input id="t" name="location_text">
</webmap-picker></form></main></body></html>"""


@pytest.fixture
def parent_site(live_server: str) -> Iterator[tuple[str, list[str]]]:
    """An e-service on another origin of this machine (its own port).

    Yields its origin and a list the test fills with the iframe URL (or a whole page, when it
    starts with "<") before loading the page.
    """
    frame_src: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = frame_src[0] if frame_src else "<!doctype html><title>ready</title>"
            html = page if page.startswith("<") else PARENT_PAGE.format(src=page)
            body = html.encode()
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
    origin = f"http://127.0.0.1:{server.server_port}"
    wait_until_ready(f"{origin}/")
    yield origin, frame_src
    server.shutdown()
    server.server_close()


def test_embed_posts_the_value_to_its_allow_listed_parent(
    page: Page,
    live_server: str,
    live_app: Flask,
    parent_site: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent, frame_src = parent_site
    monkeypatch.setitem(live_app.config, "WEBMAP_EMBED_ORIGINS", [parent])
    frame_src.append(f"{live_server}/embed?origin={parent}")
    page.goto(f"{parent}/")
    frame = page.frame_locator("iframe")
    expect(frame.locator("webmap-picker #map")).to_have_attribute(
        "data-state", "ready", timeout=20_000
    )
    frame.locator("webmap-picker [data-action=choose]").click()
    page.wait_for_function("() => window.received.length > 0", timeout=10_000)
    message = page.evaluate("() => window.received[0]")
    assert message["origin"] == live_server
    assert message["data"]["type"] == "webmap:change"
    value = message["data"]["value"]
    assert value["type"] == "Feature"
    assert value["properties"]["municipality"]["code"] == "0180"


def test_embed_refuses_to_be_framed_by_others(
    page: Page, live_server: str, parent_site: tuple[str, list[str]]
) -> None:
    parent, frame_src = parent_site
    frame_src.append(f"{live_server}/embed")  # no origin: frame-ancestors 'self' only
    page.goto(f"{parent}/")
    # Wait for Chromium's verdict on the frame (a bounded wait: a frame that is let in never
    # gets there, and the assertions below fail).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
        len(page.frames) > 1 and page.frames[1].url.startswith("chrome-error://")
    ):
        page.wait_for_timeout(100)
    child = page.frames[1]
    # Chromium replaces a frame its CSP forbids with its own error page.
    assert child.url.startswith("chrome-error://"), child.url
    assert child.locator("webmap-picker").count() == 0


def test_widget_on_an_allow_listed_origin_uses_the_service_by_cors(
    page: Page,
    live_server: str,
    live_app: Flask,
    parent_site: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent, content = parent_site
    monkeypatch.setitem(live_app.config, "WEBMAP_EMBED_ORIGINS", [parent])
    content.append(WIDGET_PAGE.format(live=live_server))
    page.goto(f"{parent}/")
    picker = page.locator("webmap-picker")
    expect(picker.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)
    picker.locator("#q").fill("Karlavägen")
    expect(picker.locator("[role=option]").first).to_be_visible(timeout=10_000)
    picker.locator("#q").press("Escape")
    picker.locator("[data-action=choose]").click()
    expect(picker.locator("#chosen-text")).to_contain_text("Fastighet", timeout=10_000)


def test_widget_on_another_origin_is_refused_and_falls_back(
    page: Page, live_server: str, parent_site: tuple[str, list[str]]
) -> None:
    parent, content = parent_site
    content.append(WIDGET_PAGE.format(live=live_server))
    page.goto(f"{parent}/")
    picker = page.locator("webmap-picker")
    # No CORS for this origin: no style, so no map; the plain field is there at once.
    expect(picker.locator("#map")).to_have_attribute("data-state", "error", timeout=20_000)
    field = page.locator("#t")
    expect(field).to_be_enabled(timeout=10_000)
    expect(field).to_be_visible()
