"""The production entry point: real nginx in front of real gunicorn on the session database.

What the proxy must do (issue 8, "Slow clients"): hold slow clients so the app keeps answering,
answer its own errors as problem JSON, cache immutable tiles and nothing private, pass the
client's address and scheme in headers the client cannot forge, and stop with no orphans.
Skipped only when nginx is not installed (scripts/install.sh installs it).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, request
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.app_helpers import app_with
from tests.layers_helpers import tile_of, token_headers
from webmap.cli.production import ProductionServer
from webmap.pages.widget import DIST

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed (scripts/install.sh installs it)"
)

SLOW_CLIENTS = 64
UPLOAD_LIMIT = 2 * 1024 * 1024
PROXY_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "X-Content-Type-Options",
    "Content-Security-Policy",
    "X-Frame-Options",
    "Referrer-Policy",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _runtime_dir() -> Path:
    # Not pytest's tmp_path: its parents are 0700, and nginx's workers (www-data) must reach it.
    return Path(tempfile.mkdtemp(prefix="webmap-proxy-test-"))


class Answer:
    """One HTTP answer and how long it took."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(
    base: str, path: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> Answer:
    """One request on a fresh connection (as a new client would make it)."""
    url = urlsplit(base)
    started = time.monotonic()
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        conn.request(
            method, path, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        response = conn.getresponse()
        data = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, found, data, time.monotonic() - started)
    finally:
        conn.close()


def raw(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes that are not (quite) HTTP; the status, headers and body nginx answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    return int(lines[0].split()[1]), headers, body


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    assert status == expected, body[:300]
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == expected
    assert problem["type"] == f"/problems/http-{expected}"
    assert problem["title"] and problem["detail"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


@pytest.fixture(scope="module")
def proxy(sample_database: str) -> Iterator[ProductionServer]:
    """nginx + gunicorn (one worker, four threads) on free ports and the session database."""
    runtime = _runtime_dir()
    server = ProductionServer(
        port=_free_port(),
        runtime_dir=runtime,
        workers=1,
        threads=4,
        env={
            "WEBMAP_DATABASE_URL": sample_database,
            "WEBMAP_POOL_MIN_SIZE": "0",
            "WEBMAP_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        },
    )
    with server:
        yield server
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="module")
def tile_path(proxy: ProductionServer) -> str:
    """Path and live ``?v=`` of a basemap tile, from the TileJSON served through nginx."""
    tilejson = fetch(proxy.base_url, "/tiles/basemap.json").json()
    template = urlsplit(tilejson["tiles"][0])
    path = template.path.replace("{z}", "5").replace("{x}", "17").replace("{y}", "9")
    return f"{path}?{template.query}"


def test_slow_header_clients_do_not_stop_answers(proxy: ProductionServer, tile_path: str) -> None:
    """64 clients trickling a header line every 2 s; /healthz and a cached tile within 1 s."""
    primed = fetch(proxy.base_url, tile_path, Accept_Encoding="gzip")
    assert primed.status == 200  # now in nginx's cache
    slow = [
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) for _ in range(SLOW_CLIENTS)
    ]
    stop = threading.Event()

    def trickle() -> None:
        line = 0
        for sock in slow:
            sock.sendall(b"GET / HTTP/1.1\r\n")
        while not stop.wait(2.0):
            line += 1
            for sock in slow:
                # Once nginx closed it (client_header_timeout), sending fails: the defence.
                with contextlib.suppress(OSError):
                    sock.sendall(f"X-Slow-{line}: {line}\r\n".encode())

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    started = time.monotonic()
    try:
        time.sleep(1.0)  # every slow client is connected and has begun its request
        answers = []
        while time.monotonic() - started < 6.0:  # three trickled lines
            answers.append(("healthz", fetch(proxy.base_url, "/healthz")))
            answers.append(("tile", fetch(proxy.base_url, tile_path, Accept_Encoding="gzip")))
            time.sleep(0.5)
        for name, answer in answers:
            assert answer.status == 200, (name, answer.body[:200])
            assert answer.seconds < 1.0, (name, answer.seconds)
            if name == "tile":
                assert answer.headers["x-cache-status"] == "HIT"
        # Still open (they were really holding connections), then dropped by nginx after its
        # 10 s client_header_timeout, as an attacker's would be.
        assert sum(_is_open(sock) for sock in slow) == SLOW_CLIENTS
        time.sleep(max(0.0, 12.0 - (time.monotonic() - started)))
        assert sum(_is_open(sock) for sock in slow) == 0
    finally:
        stop.set()
        trickler.join(timeout=5)
        for sock in slow:
            sock.close()


def _is_open(sock: socket.socket) -> bool:
    """True while the server keeps the connection without answering, False once it closed."""
    sock.setblocking(False)
    try:
        sock.recv(65536)  # b"" (closed) or an answer (a 408): either way, no longer held
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_immutable_tile_is_cached_and_revalidated(proxy: ProductionServer, tile_path: str) -> None:
    first = fetch(proxy.base_url, tile_path)
    second = fetch(proxy.base_url, tile_path)
    assert second.status == 200
    assert second.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert second.headers["x-cache-status"] == "HIT"
    assert second.body == first.body
    assert "gzip" not in second.headers.get("content-encoding", "")
    # The gzip variant is a variant of its own, not the plain one served with a gzip header.
    zipped = fetch(proxy.base_url, tile_path, Accept_Encoding="gzip, deflate, br")
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    again = fetch(proxy.base_url, tile_path, If_None_Match=second.headers["etag"])
    assert again.status == 304


def test_immutable_preview_image_is_cached_by_nginx(proxy: ProductionServer) -> None:
    version = fetch(proxy.base_url, "/healthz").json()["data_version"]
    path = (
        "/api/staticmap?lon=18.075&lat=59.338&zoom=15&width=400&height=210"
        f"&marker=false&format=webp&v={version}"
    )
    first = fetch(proxy.base_url, path)
    second = fetch(proxy.base_url, path)
    assert first.status == 200 and second.headers["content-type"] == "image/webp"
    assert second.headers["x-cache-status"] == "HIT"
    assert second.body == first.body
    unversioned = path.rsplit("&v=", 1)[0]
    fetch(proxy.base_url, unversioned)
    assert fetch(proxy.base_url, unversioned).headers["x-cache-status"] != "HIT"


def test_only_immutable_answers_are_cached(
    proxy: ProductionServer, tile_path: str, sample_database: str
) -> None:
    """A tile without ``?v=`` (public for a minute) and a private layer's tile stay uncached."""
    unversioned = tile_path.split("?")[0]
    for _ in range(2):
        answer = fetch(proxy.base_url, unversioned)
        assert answer.headers["cache-control"] == "public, max-age=60"
        assert answer.headers["x-cache-status"] == "MISS"

    token = token_headers(sample_database)
    features = [
        {
            "type": "Feature",
            "properties": {"namn": "Intern"},
            "geometry": {"type": "Point", "coordinates": c},
        }
        for c in ([18.07, 59.33], [18.08, 59.34])
    ]
    boundary, body = encode_multipart(
        {
            "name": "proxy_private",
            "title": "Intern",
            "public": "false",
            "file": FileStorage(
                BytesIO(json.dumps({"type": "FeatureCollection", "features": features}).encode()),
                "intern.geojson",
            ),
        }
    )
    created = fetch(
        proxy.base_url,
        "/api/layers",
        "POST",
        body,
        Content_Type=f"multipart/form-data; boundary={boundary}",
        **token,
    )
    assert created.status == 201, created.body[:500]
    tilejson = fetch(proxy.base_url, "/tiles/proxy_private.json", **token).json()
    template = urlsplit(tilejson["tiles"][0])
    tile = tile_of(18.075, 59.335, 14)
    path = template.path.replace("{z}", "14").replace("{x}", str(tile.x))
    path = path.replace("{y}", str(tile.y))
    private = f"{path}?{template.query}"
    for _ in range(2):
        answer = fetch(proxy.base_url, private, **token)
        assert answer.status == 200
        assert answer.headers["cache-control"] == "private, no-store"
        assert answer.headers["x-cache-status"] == "MISS"
    anonymous = fetch(proxy.base_url, private)
    assert anonymous.status == 404
    assert anonymous.headers["x-cache-status"] == "MISS"


def test_errors_nginx_answers_itself_are_problem_json(proxy: ProductionServer) -> None:
    long_url = "/api/search?q=" + "a" * 9000
    assert_problem(*raw(proxy.port, f"GET {long_url} HTTP/1.1\r\nHost: x\r\n\r\n".encode()), 414)
    assert_problem(*raw(proxy.port, b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n"), 400)
    big_header = f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {'b' * 9000}\r\n\r\n"
    assert_problem(*raw(proxy.port, big_header.encode()), 431)
    # Bodies: 1 MB outside the upload routes, WEBMAP_MAX_UPLOAD_BYTES on them.
    login = fetch(proxy.base_url, "/login", "POST", b"x" * (1024 * 1024 + 1))
    assert_problem(login.status, login.headers, login.body, 413)
    upload = fetch(proxy.base_url, "/api/layers", "POST", b"x" * (UPLOAD_LIMIT + 1))
    assert_problem(upload.status, upload.headers, upload.body, 413)
    # The app's own problems pass through untouched.
    missing = fetch(proxy.base_url, "/tiles/no_such_layer.json")
    assert missing.status == 404
    assert missing.json()["type"] == "/problems/not-found"


def test_static_files_come_from_nginx_with_the_apps_headers(
    proxy: ProductionServer, sample_database: str, tile_path: str
) -> None:
    served = fetch(proxy.base_url, "/static/demo.css", Accept_Encoding="gzip")
    assert served.status == 200
    assert served.headers["content-encoding"] == "gzip"
    assert "x-cache-status" not in served.headers  # from disk, not through the app
    with app_with(sample_database) as app:
        expected = app.test_client().get("/static/demo.css")
        expected.close()  # a static file's response holds the open file
    for name in PROXY_HEADERS:
        assert served.headers.get(name.lower()) == expected.headers.get(name), name
    missing = fetch(proxy.base_url, "/static/nothing-here.css")
    assert missing.status == 404
    assert missing.headers["content-type"] == "application/problem+json"
    widget = fetch(proxy.base_url, "/widget/webmap.js", Accept_Encoding="gzip")
    if widget.status == 200:  # built by scripts/install.sh; the browser tests build it too
        assert widget.headers["access-control-allow-origin"] == "*"
        assert widget.headers["content-encoding"] == "gzip"
        assert (
            fetch(proxy.base_url, "/widget/webmap.js", Accept_Encoding="gzip").headers[
                "x-cache-status"
            ]
            == "HIT"
        )
        # A browser that takes Brotli gets the build's Brotli copy, cached as a variant of its
        # own; the gzip variant above is not handed to it.
        browser = "gzip, deflate, br, zstd"
        brotli = fetch(proxy.base_url, "/widget/webmap.js", Accept_Encoding=browser)
        assert brotli.headers["content-encoding"] == "br"
        assert brotli.body == (DIST / "webmap.js.br").read_bytes()
        again = fetch(proxy.base_url, "/widget/webmap.js", Accept_Encoding=browser)
        assert again.headers["x-cache-status"] == "HIT" and again.body == brotli.body
        # Tiles are still answered in gzip to the same browser.
        tile = fetch(proxy.base_url, tile_path, Accept_Encoding=browser)
        assert tile.headers["content-encoding"] == "gzip"


def test_clients_cannot_forge_the_forwarded_headers(proxy: ProductionServer) -> None:
    """nginx overwrites X-Forwarded-Proto/-Host: absolute URLs name the real scheme and host."""
    tilejson = fetch(
        proxy.base_url,
        "/tiles/basemap.json",
        X_Forwarded_Proto="https",
        X_Forwarded_Host="evil.example",
    ).json()
    assert tilejson["tiles"][0].startswith(f"{proxy.base_url}/tiles/basemap/")


def test_app_trusts_exactly_the_configured_proxy_hops(sample_database: str) -> None:
    for hops, address, scheme in ((0, "127.0.0.1", "http"), (1, "10.0.0.7", "https")):
        with app_with(sample_database, proxy_hops=hops) as app:
            _echo_client_route(app)
            answer = app.test_client().get(
                "/_test/client",
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
                headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.7", "X-Forwarded-Proto": "https"},
            )
        assert answer.get_json() == {"address": address, "scheme": scheme}


def _echo_client_route(app: Flask) -> None:
    app.add_url_rule(
        "/_test/client",
        "test_client_echo",
        lambda: {"address": request.remote_addr, "scheme": request.scheme},
    )


def test_gateway_timeout_is_problem_json() -> None:
    """An app that accepts and never answers: 504 problem JSON after proxy_read_timeout."""
    runtime = _runtime_dir()
    server = ProductionServer(port=_free_port(), runtime_dir=runtime, read_timeout="1s")
    server.prepare()
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        mute.bind(str(server.socket_path))
        server.socket_path.chmod(0o777)  # nginx's workers run as www-data
        mute.listen(16)
        server.start_nginx()
        answer = fetch(server.base_url, "/healthz")
        assert_problem(answer.status, answer.headers, answer.body, 504)
        assert 0.9 < answer.seconds < 5
    finally:
        server.stop()
        mute.close()
        shutil.rmtree(runtime, ignore_errors=True)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_proxy_stops_nginx_and_gunicorn_on_sigterm(sample_database: str) -> None:
    """`webmap serve --proxy` (what scripts/start.sh runs): SIGTERM leaves no process behind."""
    runtime = _runtime_dir()
    port = _free_port()
    env = {**os.environ, "WEBMAP_DATABASE_URL": sample_database, "WEBMAP_POOL_MIN_SIZE": "0"}
    command = [sys.executable, "-m", "webmap.cli", "serve", "--proxy", "--port", str(port)]
    command += ["--runtime-dir", str(runtime), "--workers", "1", "--threads", "2"]
    serve = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(f"http://127.0.0.1:{port}", "/healthz").status == 200:
                    break
            except OSError:
                pass
            assert serve.poll() is None, serve.stderr.read() if serve.stderr else ""
            assert time.monotonic() < deadline, "webmap serve --proxy did not come up"
            time.sleep(0.2)
        children = _descendants(serve.pid)
        assert len(children) >= 4  # nginx master and worker(s), gunicorn master and worker
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0
        time.sleep(0.5)
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        if serve.stderr:
            serve.stderr.close()
        shutil.rmtree(runtime, ignore_errors=True)


def test_gateway_errors_are_problem_json_and_cached_tiles_survive(
    proxy: ProductionServer, tile_path: str
) -> None:
    """gunicorn stopped: 502 problem JSON with Retry-After, while cached tiles are still served.

    Last in this file: it leaves the module's gunicorn stopped (restarting it costs seconds).
    """
    assert fetch(proxy.base_url, tile_path).headers["x-cache-status"] == "HIT"
    assert len(proxy.app_workers()) == 1
    proxy.stop_app_server()
    assert proxy.app_workers() == []
    down = fetch(proxy.base_url, "/healthz")
    assert_problem(down.status, down.headers, down.body, 502)
    assert down.headers["retry-after"] == "5"
    cached = fetch(proxy.base_url, tile_path)
    assert cached.status == 200
    assert cached.headers["x-cache-status"] == "HIT"
