"""Checks of the settings alone: names, secret key, cookies, proxy hops, embed origins, basemap
hosts."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from webmap.settings import Settings
from webmap.setup_checks.findings import Deployment, Finding, ok

DEV_SECRET_KEY = Settings.model_fields["secret_key"].default
#: WEBMAP_* variables read by the tests and tools, not settings: no typo warning for them.
NOT_SETTINGS = {"WEBMAP_TEST_DATABASE_URL", "WEBMAP_FUZZ_EXAMPLES", "WEBMAP_PG_BINDIR"}
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)


def unknown_variables(d: Deployment) -> Finding:
    known = {f"WEBMAP_{name.upper()}" for name in Settings.model_fields}
    stray = sorted(
        k for k in d.environ if k.startswith("WEBMAP_") and k not in known | NOT_SETTINGS
    )
    if stray:
        return Finding(
            "settings",
            "warning",
            f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not a setting and "
            "ignored (misspelt?).",
            "Compare with the names in webmap/settings.py or the README's table.",
        )
    return ok("settings", "every WEBMAP_* variable is a known setting")


def secret_key(d: Deployment) -> Finding:
    key = d.settings.secret_key
    if key == DEV_SECRET_KEY:
        return Finding(
            "secret-key",
            "error",
            "WEBMAP_SECRET_KEY is the development value: anyone can forge the login form's cookie.",
            "Set WEBMAP_SECRET_KEY to a long random value, the same on every node: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'.",
        )
    if len(key) < 32:
        return Finding(
            "secret-key",
            "warning",
            f"WEBMAP_SECRET_KEY has only {len(key)} characters.",
            "Use at least 32 random characters (secrets.token_urlsafe(48)).",
        )
    return ok("secret-key", "WEBMAP_SECRET_KEY is set")


def _template_has_tls(template: Path) -> bool:
    text = template.read_text(encoding="utf-8") if template.is_file() else ""
    return any(re.match(r"\s*listen\s[^;#]*\bssl\b", line) for line in text.splitlines())


def secure_cookies(d: Deployment) -> Finding:
    tls = _template_has_tls(d.nginx_template)
    if tls and not d.settings.secure_cookies:
        return Finding(
            "cookies",
            "error",
            f"nginx terminates TLS ({d.nginx_template}) but WEBMAP_SECURE_COOKIES is off: the "
            "staff session cookie would also be sent over plain HTTP.",
            "Set WEBMAP_SECURE_COOKIES=true.",
        )
    if not d.settings.secure_cookies:
        return Finding(
            "cookies",
            "warning",
            "WEBMAP_SECURE_COOKIES is off and the nginx template has no TLS listener.",
            "Terminate TLS in nginx or a balancer (docs/deploy.md, TLS) and set "
            "WEBMAP_SECURE_COOKIES=true; only a test installation runs on plain HTTP.",
        )
    return ok("cookies", "staff cookies are HTTPS-only (WEBMAP_SECURE_COOKIES)")


def proxy(d: Deployment) -> Finding:
    hops = d.settings.proxy_hops
    text = d.nginx_template.read_text(encoding="utf-8") if d.nginx_template.is_file() else ""
    passes = re.search(
        r"proxy_set_header\s+X-Forwarded-For\s+\$(proxy_add_x_forwarded_for|remote_addr)\s*;", text
    )
    if text and not passes:
        return Finding(
            "proxy",
            "error",
            f"{d.nginx_template} does not pass the client's address to the app "
            "(no proxy_set_header X-Forwarded-For): every client looks like nginx, so the "
            "per-address login limit locks everyone out at once.",
            "Keep `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;` from "
            "deploy/nginx/webmap.conf.template in your copy.",
        )
    if hops > 1:
        return Finding(
            "proxy",
            "warning",
            f"WEBMAP_PROXY_HOPS={hops}: the app trusts {hops} X-Forwarded-For entries. Behind "
            "nginx alone a client can then choose its own address (login limits, "
            "WEBMAP_METRICS_ALLOW).",
            "Keep WEBMAP_PROXY_HOPS=1; behind a balancer let nginx trust it with the realip "
            "module instead (docs/deploy.md, TLS).",
        )
    if hops == 0 and d.settings.metrics and d.settings.metrics_allow.strip():
        return Finding(
            "proxy",
            "warning",
            "WEBMAP_PROXY_HOPS=0 with WEBMAP_METRICS_ALLOW: unless `webmap serve --proxy` runs "
            "the app (it trusts nginx, one hop), every request through a proxy carries the "
            "proxy's address and may read /metrics.",
            "Set WEBMAP_PROXY_HOPS=1 when a proxy is in front of the app server.",
        )
    return ok(
        "proxy",
        f"the app trusts {max(hops, 1)} proxy hop (nginx passes the client's address)"
        if passes
        else f"WEBMAP_PROXY_HOPS={hops}",
    )


def embed_origins(d: Deployment) -> Finding:
    origins = [o.strip() for o in d.settings.embed_origins.split(",") if o.strip()]
    bad = [o for o in origins if not _ORIGIN.match(o.rstrip("/"))]
    if bad:
        return Finding(
            "embed-origins",
            "error",
            f"WEBMAP_EMBED_ORIGINS has entries that are not origins: {', '.join(bad)}. Browsers "
            "send Origin as scheme://host[:port], so these never match and the e-service's "
            "widget is refused.",
            "List origins only, comma-separated, e.g. "
            "WEBMAP_EMBED_ORIGINS=https://e-tjanst.example.se,https://other.example.se "
            "(no path, no wildcard, no quotes).",
        )
    plain = [o for o in origins if o.startswith("http://") and not _local(o)]
    if plain:
        return Finding(
            "embed-origins",
            "warning",
            f"WEBMAP_EMBED_ORIGINS allows plain-HTTP origins: {', '.join(plain)}.",
            "E-services on the internet should be https:// origins.",
        )
    return ok("embed-origins", f"{len(origins)} e-service origin(s), all well-formed")


def insecure_basemap_hosts(d: Deployment) -> Finding:
    hosts = d.settings.insecure_basemap_host_list
    if hosts:
        return Finding(
            "basemap-hosts",
            "error",
            f"WEBMAP_INSECURE_BASEMAP_HOSTS={','.join(hosts)} is for tests and development: "
            "a municipality's external basemap may then be plain http on this machine.",
            "Leave WEBMAP_INSECURE_BASEMAP_HOSTS empty in production (docs/layers.md).",
        )
    return ok("basemap-hosts", "external basemaps only over https on public DNS names")


def _local(origin: str) -> bool:
    return (urlsplit(origin).hostname or "") in ("localhost", "127.0.0.1", "::1")
