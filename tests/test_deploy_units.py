"""What the systemd unit relies on (deploy/systemd/webmap.service, docs/operations.md).

systemd itself does not run here, so: the unit and the logrotate file must parse
(``systemd-analyze verify``, ``logrotate --debug``; skipped with the reason when the tool is
missing), and the behaviour the unit counts on is played through with the real
``webmap serve --proxy``: SIGHUP (``ExecReload``) replaces gunicorn's workers without dropping a
request, and a dead gunicorn master ends the command with status 1 at once (``Restart=``) while
its orphaned workers notice and go (``KillMode=mixed`` kills any that linger).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server_helpers import wait_until_ready
from tests.throwaway_pg import free_port

PROJECT = Path(__file__).resolve().parent.parent
UNIT = PROJECT / "deploy" / "systemd" / "webmap.service"
LOGROTATE = PROJECT / "deploy" / "logrotate" / "webmap"


def _directives(text: str) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit (continuation lines joined), by key."""
    found: dict[str, list[str]] = {}
    for line in re.sub(r"\\\n\s*", " ", text).splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_file_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package has it)")
    # verify insists that ExecStart's program exists: point it at this checkout's webmap.
    text = UNIT.read_text(encoding="utf-8")
    assert "/opt/webmap/bin/webmap" in text
    copy = tmp_path / "webmap.service"
    copy.write_text(
        text.replace("/opt/webmap/bin/webmap", str(Path(sys.executable).parent / "webmap"))
    )
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    # Unknown or misspelt keys are only warnings with status 0: any output is a defect.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), result


def test_the_unit_says_what_production_needs() -> None:
    unit = _directives(UNIT.read_text(encoding="utf-8"))
    assert unit["Restart"] == ["on-failure"]
    assert unit["KillMode"] == ["mixed"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["EnvironmentFile"] == ["/etc/webmap/webmap.env"]
    assert unit["User"] == ["webmap"] and unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"] and unit["PrivateTmp"] == ["yes"]
    assert "/var/lib/webmap/rasters" in unit["ReadWritePaths"][0]
    start = unit["ExecStart"][0].split()
    assert start[:3] == ["/opt/webmap/bin/webmap", "serve", "--proxy"]
    # The runtime folder of nginx (cache, logs) is the state directory logrotate looks in.
    runtime = start[start.index("--runtime-dir") + 1]
    assert runtime.startswith(f"/var/lib/{unit['StateDirectory'][0]}/")
    assert f"{runtime}/access.log" in LOGROTATE.read_text(encoding="utf-8")
    # serve --proxy stops each child within 15 s: systemd must wait for both.
    assert int(unit["TimeoutStopSec"][0].rstrip("s")) > 2 * 15


def test_the_logrotate_file_parses(tmp_path: Path) -> None:
    logrotate = shutil.which("logrotate")
    if logrotate is None:
        pytest.skip("logrotate is not installed")
    logs = tmp_path / "nginx"
    logs.mkdir()
    for name in ("access.log", "error.log"):
        (logs / name).write_text("a line\n")
    user = os.environ.get("USER") or "root"
    text = LOGROTATE.read_text(encoding="utf-8").replace("/var/lib/webmap/nginx", str(logs))
    copy = tmp_path / "webmap"
    copy.write_text(text.replace("webmap webmap", f"{user} {user}"))
    result = subprocess.run(
        [logrotate, "--debug", "--state", str(tmp_path / "state"), str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower().replace("error.log", ""), result.stderr
    assert f"considering log {logs}/access.log" in result.stderr


# --- what systemd counts on, with the real `webmap serve --proxy` --------------------------


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    runtime: Path

    def gunicorn_master(self) -> int:
        masters = [p for p in _children(self.process.pid) if "serve --socket" in _cmdline(p)]
        assert len(masters) == 1, masters
        return masters[0]

    def nginx_master(self) -> int:
        masters = [p for p in _children(self.process.pid) if "nginx" in _cmdline(p)]
        assert len(masters) == 1, masters
        return masters[0]


def _until(condition: object, timeout: float, what: str) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() - started < timeout, f"{what} not within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[Served]:
    """``webmap serve --proxy`` as the unit runs it (2 workers), on the session database."""
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed (scripts/install.sh installs it)")
    # nginx's workers must be able to enter it (pytest's tmp_path is 0700).
    runtime = Path(tempfile.mkdtemp(prefix="webmap-unit-"))
    port = free_port()
    env = {**os.environ, "WEBMAP_DATABASE_URL": database_url, "WEBMAP_POOL_MIN_SIZE": "0"}
    command = [sys.executable, "-m", "webmap.cli", "serve", "--proxy", "--port", str(port)]
    command += ["--runtime-dir", str(runtime), "--workers", "2", "--threads", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{base_url}/healthz", process=process)
        yield Served(process, base_url, runtime)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(runtime, ignore_errors=True)


def test_sighup_replaces_the_workers_without_dropping_a_request(served: Served) -> None:
    master, nginx = served.gunicorn_master(), served.nginx_master()
    old_workers = _children(master)
    assert len(old_workers) == 2
    config = served.runtime / "nginx.conf"
    config.write_text(config.read_text() + "# stale\n")  # reload renders it again
    statuses: list[int | str] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            try:
                with urllib.request.urlopen(f"{served.base_url}/healthz", timeout=10) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
            except OSError as error:
                statuses.append(repr(error))

    client = threading.Thread(target=traffic)
    client.start()
    try:
        time.sleep(0.3)
        served.process.send_signal(signal.SIGHUP)
        _until(
            lambda: not any(map(_alive, old_workers)) and len(_children(master)) == 2,
            timeout=45,
            what="new gunicorn workers in place of the old",
        )
        time.sleep(0.3)
    finally:
        stop.set()
        client.join()
    assert served.process.poll() is None  # still running: a reload is not a restart
    assert served.gunicorn_master() == master and served.nginx_master() == nginx
    assert set(_children(master)).isdisjoint(old_workers)
    assert "# stale" not in config.read_text()
    assert len(statuses) > 5 and set(statuses) == {200}, statuses


def test_a_dead_gunicorn_master_ends_serve_and_its_workers(served: Served) -> None:
    """Last in this module: it ends the server. The background of issue 14: the master died and
    its workers served on for 28 s. serve --proxy must exit non-zero at once, so systemd
    restarts it; idle orphaned workers see their parent change and exit on their own."""
    master = served.gunicorn_master()
    workers = _children(master)
    assert workers
    os.kill(master, signal.SIGKILL)
    took = _until(lambda: served.process.poll() is not None, 5, "serve --proxy exiting")
    assert served.process.returncode == 1
    assert took < 3
    _until(lambda: not any(map(_alive, workers)), 10, "the orphaned workers exiting")
