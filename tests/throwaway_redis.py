"""A Redis for tests: the one ``scripts/install.sh`` starts on 127.0.0.1:6379, or else one of our
own on a free port (Debian's ``redis-server``), so the Redis tests run whenever Redis can run::

    from tests.throwaway_redis import redis_for_tests

    with redis_for_tests() as url:   # redis://127.0.0.1:PORT/0, or pytest.skip when not installed
        ...

Our own server keeps nothing on disk (``--save ""``), lives in a temporary folder and is killed
when the ``with`` block ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.throwaway_pg import free_port

SHARED_PORT = 6379
START_TIMEOUT = 60.0  # seconds; generous, the machine is shared


def answers(port: int) -> bool:
    """True when a Redis on 127.0.0.1:``port`` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_for_tests() -> Iterator[str]:
    """The URL of a Redis that answers; skips only when none runs and none can be started."""
    if answers(SHARED_PORT):
        yield f"redis://127.0.0.1:{SHARED_PORT}/0"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "needs Redis: none answers on 127.0.0.1:6379 and redis-server is not installed "
            "(bash scripts/install.sh installs and starts it)"
        )
    port = free_port()
    folder = tempfile.mkdtemp(prefix="webmap-test-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(port):
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"redis-server exited with {process.returncode}: {error}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT:.0f} s")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)
