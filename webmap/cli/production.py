"""The production entry point: nginx in front of the app server, started and stopped together.

``webmap serve --proxy`` (and ``scripts/start.sh``) run :class:`ProductionServer` in the
foreground; tests and benchmarks use it as a context manager::

    with ProductionServer(port=8080, env={"WEBMAP_DATABASE_URL": url}) as server:
        requests.get(f"{server.base_url}/healthz")

nginx's configuration is ``deploy/nginx/webmap.conf.template``, rendered here with the ports,
paths and upload limit into a runtime folder of its own (never ``/etc/nginx``); the app server
(granian, or gunicorn: :mod:`webmap.cli.app_server`) listens on a unix socket in that folder,
reachable only through nginx. See docs/deploy.md.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from webmap.cli.app_server import DEFAULT_SERVER
from webmap.cli.nginx_config import PROJECT, TEMPLATE, NginxConfig


def _die_with_parent() -> None:  # pragma: no cover (runs in the child between fork and exec)
    """Linux: the child gets SIGTERM when the process that started it dies, even by SIGKILL."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ServerError(RuntimeError):
    """nginx or the app server did not start (the message carries their error output)."""


@dataclass
class ProductionServer:
    """nginx on ``host:port`` in front of the app server (``app_server``: granian or gunicorn)
    on a unix socket in ``runtime_dir``.

    ``env`` adds ``WEBMAP_*`` settings for the app (e.g. ``WEBMAP_DATABASE_URL``) on top of this
    process's environment. ``WEBMAP_PROXY_HOPS`` is at least 1 (the app trusts nginx's
    X-Forwarded-For). Start it from the main thread: the children are told to exit when the
    thread that started them ends, so a killed parent leaves no orphans.

    ``prerender`` also runs ``webmap tiles prerender --worker`` beside them (``webmap serve
    --proxy`` does; tests leave it off): it renders the low zooms of each published version
    into PostgreSQL, and is started again if it exits (docs/architecture.md).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    runtime_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    workers: int = 2
    threads: int = 4
    app_server: str = DEFAULT_SERVER
    nginx: str = "nginx"
    error_log: str = ""
    access_log: str = ""
    read_timeout: str = "60s"
    template: Path = TEMPLATE
    prerender: bool = False
    prerender_process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    prerender_started: float = field(default=0.0, init=False)
    app_process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    nginx_process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.runtime_dir is None:
            self.runtime_dir = PROJECT / "var" / "run" / f"nginx-{self.port}"
        self.runtime_dir = self.runtime_dir.resolve()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def socket_path(self) -> Path:
        assert self.runtime_dir is not None
        return self.runtime_dir / "app.sock"

    @property
    def config_path(self) -> Path:
        assert self.runtime_dir is not None
        return self.runtime_dir / "nginx.conf"

    def app_env(self) -> dict[str, str]:
        """The environment the app server runs with."""
        env = {**os.environ, **self.env}
        hops = env.get("WEBMAP_PROXY_HOPS", "")
        env["WEBMAP_PROXY_HOPS"] = hops if hops.isdigit() and int(hops) >= 1 else "1"
        return env

    def nginx_config(self) -> NginxConfig:
        """The nginx settings: the upload limit is the app's ``WEBMAP_MAX_UPLOAD_BYTES``."""
        assert self.runtime_dir is not None
        limit = self.app_env().get("WEBMAP_MAX_UPLOAD_BYTES")
        config = NginxConfig(
            runtime_dir=self.runtime_dir,
            upstream=f"unix:{self.socket_path}",
            host=self.host,
            port=self.port,
            error_log=self.error_log,
            access_log=self.access_log,
            read_timeout=self.read_timeout,
            template=self.template,
        )
        if limit:
            config.max_body_bytes = int(limit)
        return config

    def prepare(self) -> None:
        """Create the runtime folder and write nginx.conf into it."""
        assert self.runtime_dir is not None
        if shutil.which(self.nginx) is None:
            raise ServerError("nginx is not installed: apt-get install nginx (scripts/install.sh)")
        for sub in ("", "client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
            (self.runtime_dir / sub).mkdir(parents=True, exist_ok=True)
        # nginx's workers (www-data when started as root) must reach the socket and temp dirs.
        self.runtime_dir.chmod(0o755)
        self.config_path.write_text(self.nginx_config().render(), encoding="utf-8")
        if not self.error_log:  # a fresh log, so a start failure shows this start's errors
            (self.runtime_dir / "error.log").write_text("", encoding="utf-8")

    def start(self) -> ProductionServer:
        """Render the configuration, start the app server, then nginx; wait until both answer."""
        self.prepare()
        if _listening(self.host, self.port):
            raise ServerError(f"something already listens on {self.listen()}")
        try:
            self.start_app_server()
            self.start_nginx()
            self.start_prerender()
        except BaseException:
            self.stop()
            raise
        return self

    def start_app_server(self, timeout: float = 60.0) -> None:
        """Start the app server on the socket and wait until a worker answers (any status)."""
        self.socket_path.unlink(missing_ok=True)
        command = [sys.executable, "-m", "webmap.cli", "serve", "--socket", str(self.socket_path)]
        command += ["--workers", str(self.workers), "--threads", str(self.threads)]
        command += ["--server", self.app_server]
        self.app_process = subprocess.Popen(  # noqa: S603 (our own interpreter and paths)
            command, env=self.app_env(), preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + timeout
        while not self._app_answers():
            if self.app_process.poll() is not None:
                raise ServerError(f"{self.app_server} exited with {self.app_process.returncode}")
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.app_server} did not answer on {self.socket_path} in {timeout} s"
                )
            time.sleep(0.1)

    def start_prerender(self) -> None:
        """Start the pre-render worker if asked for and not running (it needs no readiness
        check: it only talks to PostgreSQL, and retries while that is away)."""
        if not self.prerender:
            return
        if self.prerender_process is not None and self.prerender_process.poll() is None:
            return
        if self.prerender_process is not None:
            if time.monotonic() - self.prerender_started < 30:
                return  # one that keeps failing (say, an unmigrated database) is not a busy loop
            code = self.prerender_process.returncode
            print(f"webmap: pre-render worker exited ({code}); starting it again", file=sys.stderr)
        command = [sys.executable, "-m", "webmap.cli", "tiles", "prerender", "--worker"]
        self.prerender_started = time.monotonic()
        self.prerender_process = subprocess.Popen(  # noqa: S603 (our own interpreter)
            command, env=self.app_env(), preexec_fn=_die_with_parent
        )

    def _app_answers(self) -> bool:
        try:
            conn = UnixHTTPConnection(str(self.socket_path), timeout=5)
            try:
                conn.request("GET", "/openapi.json", headers={"Host": "localhost"})
                conn.getresponse().read()
            finally:
                conn.close()
        except OSError:
            return False
        return True

    def start_nginx(self, timeout: float = 20.0) -> None:
        """Start nginx on the rendered configuration and wait until it listens."""
        assert self.runtime_dir is not None
        command = [self.nginx, "-p", str(self.runtime_dir), "-c", str(self.config_path)]
        error_log = self.error_log or str(self.runtime_dir / "error.log")
        command += ["-e", error_log]
        if _listening(self.host, self.port):  # else we would mistake it for our nginx
            raise ServerError(f"something already listens on {self.listen()}")
        self.nginx_process = subprocess.Popen(  # noqa: S603 (nginx with our own config)
            command, preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.nginx_process.poll() is not None:
                raise ServerError(
                    f"nginx exited with {self.nginx_process.returncode}: {_tail(error_log)}"
                )
            if _listening(self.host, self.port):
                return
            if time.monotonic() > deadline:
                raise ServerError(f"nginx did not listen on {self.listen()}: {_tail(error_log)}")
            time.sleep(0.05)

    def listen(self) -> str:
        return self.nginx_config().listen()

    def app_workers(self) -> list[int]:
        """Pids of the app server's worker processes (Linux /proc), e.g. to kill one mid-load."""
        if self.app_process is None or self.app_process.poll() is not None:
            return []
        master = self.app_process.pid
        workers = []
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
            except OSError:
                continue  # exited meanwhile
            if stat and int(stat.rsplit(")", 1)[1].split()[1]) == master:
                workers.append(int(entry.name))
        return sorted(workers)

    def stop_app_server(self, timeout: float = 15.0) -> None:
        """Stop the app server gracefully (SIGTERM), killing it after ``timeout`` seconds."""
        _stop(self.app_process, timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop nginx (fast shutdown), the app server (graceful) and the pre-render worker
        (after the tile in hand); idempotent."""
        _stop(self.prerender_process, timeout)
        _stop(self.nginx_process, timeout)
        _stop(self.app_process, timeout)

    def __enter__(self) -> ProductionServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def reload(self) -> None:
        """Graceful reload (SIGHUP, ``systemctl reload webmap``): nginx.conf is rendered again
        from the template (a renewed certificate, a changed limit) and nginx re-reads it; the app
        server starts new workers and lets the old ones finish their requests (granian one worker
        after another, a few seconds apart). No request is dropped.

        Not for a new package version: gunicorn's master keeps the modules it imported and its
        new workers inherit them, so new code needs a restart (docs/operations.md); do the same
        under granian.
        """
        try:
            self.config_path.write_text(self.nginx_config().render(), encoding="utf-8")
        except (OSError, ValueError) as exc:
            print(f"webmap: nginx.conf not rendered, nginx keeps its own: {exc}", file=sys.stderr)
        else:
            _hangup(self.nginx_process)  # nginx checks the new file and keeps the old on error
        _hangup(self.app_process)

    def run_forever(self) -> int:
        """Run until SIGTERM or SIGINT (then stop both, exit 0) or until one child dies (1);
        SIGHUP reloads both (:meth:`reload`)."""
        stopping: list[int] = []
        reloading: list[int] = []

        def on_signal(number: int, _frame: object) -> None:
            stopping.append(number)

        def on_hangup(number: int, _frame: object) -> None:
            reloading.append(number)

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
        try:
            self.start()
            served = f"nginx on {self.base_url}, {self.app_server} on {self.socket_path}"
            print(f"webmap: {served}", flush=True)
            while not stopping:
                self.start_prerender()  # a worker that died (say, a bug) is not fatal: restart
                if reloading:
                    reloading.clear()
                    print(f"webmap: reloading nginx and {self.app_server}", flush=True)
                    self.reload()
                for name, process in (
                    ("nginx", self.nginx_process),
                    (self.app_server, self.app_process),
                ):
                    if process is not None and process.poll() is not None:
                        print(
                            f"webmap: {name} exited ({process.returncode}); stopping",
                            file=sys.stderr,
                        )
                        return 1
                time.sleep(0.5)
            return 0
        finally:
            self.stop()
            for number, handler in previous.items():
                signal.signal(number, handler)


def _hangup(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGHUP)


def _stop(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _tail(path: str, lines: int = 20) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no error log)"


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (the app server's), for the readiness check (and tests that talk to
    the app server behind nginx's back)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock
