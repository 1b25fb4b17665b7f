"""Waiting for the servers tests start: on readiness (the server answers HTTP), with a bound
generous enough for a loaded machine, never a fixed sleep::

    from tests.server_helpers import serve_in_thread, wait_until_ready

    status, body = wait_until_ready(f"http://127.0.0.1:{port}/healthz", process=popen)
    with serve_in_thread(app) as base_url:   # answers HTTP when the block starts
        ...
"""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

READY_TIMEOUT = 60.0  # seconds: a cold gunicorn on a busy 2-core machine can take many
_ATTEMPT_TIMEOUT = 10.0  # one request; a server still starting may hold the connection


def wait_until_ready(
    url: str,
    timeout: float = READY_TIMEOUT,
    process: subprocess.Popen[Any] | None = None,
) -> tuple[int, bytes]:
    """Poll ``url`` until the server answers HTTP (any status); returns (status, body).

    Fails at once if ``process`` (the server, when the test started one) has exited, and after
    ``timeout`` seconds with the last error seen.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}) before {url} answered")
        attempt = max(0.5, min(_ATTEMPT_TIMEOUT, deadline - time.monotonic()))
        try:
            with urllib.request.urlopen(url, timeout=attempt) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as answered:
            with answered:
                return int(answered.code), answered.read()
        except (urllib.error.URLError, OSError) as error:
            last = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"{url} did not answer within {timeout:g} s: {last!r}")
        time.sleep(0.1)


@contextmanager
def serve_in_thread(app: Any, ready_path: str = "/healthz") -> Iterator[str]:
    """Serve the WSGI ``app`` on a free port of 127.0.0.1 in a background thread; yields the base
    URL once ``ready_path`` answers, and shuts the server down afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        wait_until_ready(base + ready_path)
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()
