"""Browser-test fixtures: the real app on a local port, and Debian's Chromium through Playwright.

Shared by every browser test (viewer, lookup, picker). The app is the production app factory on
the session's sample database, served by werkzeug in a thread; the browser is /usr/bin/chromium
(never a downloaded one). Each test gets a fresh context and a `page` that records every request,
so a test can assert that nothing left 127.0.0.1 and that no request failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.server_helpers import serve_in_thread
from webmap import create_app

# expect() retries until its condition holds; 5 s (Playwright's default) is short on a loaded
# 2-core machine that also builds and serves the tiles the assertion waits for.
expect.set_options(timeout=15_000)

PROJECT = Path(__file__).resolve().parents[2]
FRONTEND = PROJECT / "frontend"
DIST = PROJECT / "webmap" / "static" / "dist"
CHROMIUM = os.environ.get("WEBMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _newest_mtime(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


@pytest.fixture(scope="session")
def frontend_built() -> Path:
    """The built bundles, rebuilt first when missing or older than the sources.

    Why rebuild here: a stale bundle would test yesterday's code. The build takes about a second.
    """
    sources = [*FRONTEND.joinpath("src").rglob("*"), FRONTEND / "vite.config.js"]
    outputs = list(DIST.glob("*.js")) + list(DIST.glob("*.css"))
    if not outputs or _newest_mtime(sources) > min(p.stat().st_mtime for p in outputs):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("the frontend is not built and npm is missing: run scripts/install.sh")
        if not (FRONTEND / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        done = subprocess.run(
            [npm, "run", "--silent", "build"], cwd=FRONTEND, capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.fail(f"frontend build failed:\n{done.stdout}\n{done.stderr}")
    return DIST


@pytest.fixture(scope="session")
def live_app(sample_database: str, frontend_built: Path) -> Iterator[Flask]:
    """The real app on the sample database (one pool for the whole browser session)."""
    application = create_app({"database_url": sample_database, "pool_min_size": 0})
    yield application
    application.extensions["webmap.pool"].close()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:<free port>``) of the app served in a background thread,
    once it answers ``/healthz``."""
    with serve_in_thread(live_app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class Traffic:
    """Every request a page made, and the ones that failed (network error or HTTP ≥ 400)."""

    urls: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        """Requests that went to any host but this machine (data: and blob: URLs are local)."""
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme not in {"data", "blob"}
            and urlsplit(url).hostname not in LOCAL_HOSTS
        ]

    def matching(self, fragment: str) -> list[str]:
        return [url for url in self.urls if fragment in url]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test (1280 × 800, Swedish)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE")
    yield ctx
    ctx.close()


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(context: BrowserContext, traffic: Traffic) -> Page:
    """A page that records its traffic into ``traffic``."""
    page = context.new_page()
    _record(page, traffic)
    return page


def _record(page: Page, traffic: Traffic) -> None:
    def on_request(request: Any) -> None:
        traffic.urls.append(request.url)

    def on_failed(request: Any) -> None:
        # A request the page cancelled itself (a lookup overtaken by a newer one, a tile no
        # longer in view) is not a failure.
        if request.failure != "net::ERR_ABORTED":
            traffic.failures.append(f"{request.url}: {request.failure}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            traffic.failures.append(f"{response.url}: HTTP {response.status}")

    def on_console(message: Any) -> None:
        if message.type == "error":
            traffic.console_errors.append(message.text)

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("console", on_console)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A desktop page that lets axe in (bypass_csp)."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="sv-SE", bypass_csp=True
    )
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A touch phone (360 × 740) that lets axe in (bypass_csp)."""
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
        locale="sv-SE",
        bypass_csp=True,
    )
    yield ctx
    ctx.close()
