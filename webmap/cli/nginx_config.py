"""nginx's configuration for ``webmap serve --proxy``: the template in ``deploy/nginx/`` filled
in with the ports, paths, limits and the problem-JSON answers nginx gives itself.

Apart from :mod:`webmap.cli.production`, which starts nginx and the app server with it, so that each
module has one job (docs/deploy.md).
"""

from __future__ import annotations

import json
import os
import re
import resource
from dataclasses import dataclass
from pathlib import Path

from webmap.http.security_headers import OTHER_POLICY, REFERRER_POLICY
from webmap.settings import Settings

APP_DIR = Path(__file__).resolve().parents[1]  # webmap/, whose static/ nginx serves
PROJECT = APP_DIR.parent
TEMPLATE = PROJECT / "deploy" / "nginx" / "webmap.conf.template"
MB = 1024 * 1024

# What the app's security-headers hook sends on a non-HTML answer; nginx repeats it on what it
# answers itself (static files, its own errors). tests/test_proxy.py compares the two.
SECURITY_HEADERS = {
    "Content-Security-Policy": f"{OTHER_POLICY}; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": REFERRER_POLICY,
}

# The errors nginx answers itself: status -> (title, detail). Details may not contain ' or $
# (they are nginx string literals).
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("Bad Request", "The request could not be read as HTTP."),
    408: ("Request Timeout", "The request did not arrive in time; send it again."),
    413: ("Content Too Large", "The request body is larger than this address accepts."),
    414: ("URI Too Long", "The URL is longer than 8 KB; send long input in a POST body."),
    431: ("Request Header Fields Too Large", "A request header is longer than 8 KB."),
    500: ("Internal Server Error", "The proxy failed to handle the request."),
    502: ("Bad Gateway", "The map service is not answering right now; try again in a moment."),
    503: ("Service Unavailable", "The map service is unavailable right now; try again soon."),
    504: ("Gateway Timeout", "The map service took too long to answer; try again in a moment."),
}
RETRY_AFTER_SECONDS = 5


def _problem_locations() -> str:
    blocks = []
    headers = {"Cache-Control": "no-store", **SECURITY_HEADERS}
    for status, (title, detail) in PROBLEMS.items():
        body = json.dumps(
            {"type": f"/problems/http-{status}", "title": title, "status": status, "detail": detail}
        )
        if "'" in body or "$" in body or "\\" in body:
            raise ValueError(f"problem {status} cannot be an nginx string literal")
        lines = [f"        location = /_problem/{status} {{", "            internal;"]
        lines.append("            default_type application/problem+json;")
        sent = dict(headers)
        if status in (502, 503, 504):
            sent["Retry-After"] = str(RETRY_AFTER_SECONDS)
        lines += [f'            add_header {k} "{v}" always;' for k, v in sent.items()]
        lines += [f"            return {status} '{body}';", "        }"]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _static_headers() -> str:
    headers = {"Cache-Control": "no-cache", **SECURITY_HEADERS}
    return "\n".join(f'            add_header {k} "{v}";' for k, v in headers.items())


@dataclass
class NginxConfig:
    """Everything the nginx template needs; :meth:`render` fills it in."""

    runtime_dir: Path
    upstream: str  # "unix:/path/to/app.sock" or "127.0.0.1:9000"
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Settings.model_fields["max_upload_bytes"].default
    read_timeout: str = "60s"
    upload_timeout: str = "600s"
    worker_processes: str = "auto"
    worker_connections: int = 4096
    cache_max_size: str = "1g"
    error_log: str = ""  # default: <runtime>/error.log; "stderr" also works
    access_log: str = ""  # default: <runtime>/access.log; "off" turns it off
    template: Path = TEMPLATE  # an operator's copy, e.g. with TLS (docs/deploy.md)

    def listen(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def render(self) -> str:
        """The complete nginx.conf text."""
        runtime = self.runtime_dir.resolve()
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 2 * self.worker_connections + 64
        root = os.geteuid() == 0
        # As a normal user nginx cannot raise its file limit past the hard limit.
        rlimit = wanted if root or hard == resource.RLIM_INFINITY else min(wanted, hard)
        connections = min(self.worker_connections, max(64, (rlimit - 64) // 2))
        values = {
            # As root, workers drop to www-data (Debian's nginx user) or nobody; otherwise the
            # directive only earns a warning, so it is left out.
            "USER": f"user {_worker_user()};" if root else "",
            "WORKER_PROCESSES": self.worker_processes,
            "RLIMIT_NOFILE": str(rlimit),
            "WORKER_CONNECTIONS": str(connections),
            "RUNTIME": str(runtime),
            "ERROR_LOG": self.error_log or str(runtime / "error.log"),
            "ACCESS_LOG": self.access_log or str(runtime / "access.log"),
            "CACHE_MAX_SIZE": self.cache_max_size,
            "UPSTREAM": self.upstream,
            "LISTEN": self.listen(),
            "READ_TIMEOUT": self.read_timeout,
            "UPLOAD_TIMEOUT": self.upload_timeout,
            "MAX_BODY": str(self.max_body_bytes),
            "APP_DIR": str(APP_DIR),
            "PROBLEM_LOCATIONS": _problem_locations(),
            "STATIC_HEADERS": _static_headers(),
        }
        text = self.template.read_text(encoding="utf-8")
        for name, value in values.items():
            text = text.replace(f"@{name}@", value)
        unfilled = re.findall(r"@[A-Z_]+@", text)
        if unfilled:
            raise ValueError(f"the nginx template has placeholders left: {unfilled}")
        return text


def _worker_user() -> str:
    try:
        import pwd

        pwd.getpwnam("www-data")
        return "www-data"
    except KeyError:
        return "nobody"
