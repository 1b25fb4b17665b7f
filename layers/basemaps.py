"""A municipality's external raster basemap: what may be stored, and the origin it is drawn from.

A tenant may have its picker draw a basemap from another server (Lantmäteriet's WMTS, a
regional XYZ service). Staff type its URL template, and that text reaches two places where a
mistake costs: the widget fetches tiles from it, and every page that draws it names its origin
in the Content-Security-Policy header. The rules for both live here, apart from the tenant
store (:mod:`layers.municipalities`), because the HTTP layer applies the origin rule on every
page (``webmap.http.security_headers``) and never needs the rest of the store for it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping
from typing import Any

from layers.errors import InvalidInput

#: The longest URL template accepted.
_URL_LIMIT = 2000
#: What an external basemap's URL template must name, by kind: XYZ tiles or a WMTS RESTful URL
#: (the matrix set and style are written out in the URL, not placeholders).
BASEMAP_PLACEHOLDERS: Mapping[str, tuple[str, ...]] = {
    "xyz": ("{z}", "{x}", "{y}"),
    "wmts": ("{TileMatrix}", "{TileRow}", "{TileCol}"),
}
#: Every placeholder each kind may use (``{-y}``: TMS rows, counted from the bottom).
_ALLOWED_PLACEHOLDERS: Mapping[str, re.Pattern[str]] = {
    "xyz": re.compile(r"\{(z|x|y|-y)\}"),
    "wmts": re.compile(r"\{(TileMatrix|TileRow|TileCol)\}"),
}
#: The tile grids an external basemap may be in: Web Mercator or SWEREF 99 TM.
BASEMAP_CRS = (3857, 3006)
#: A public DNS name in ASCII (an IDN in its xn-- form): labels of letters, digits and hyphens,
#: at least two of them, the last not all digits. Nothing else can reach the CSP header.
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)
#: What a basemap URL may contain at all: RFC 3986's characters and the placeholders' braces;
#: no space, quote, backslash, angle bracket or anything outside ASCII.
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%{}]+$")
_AUTHORITY = re.compile(
    r"^(?P<scheme>https?)://(?P<host>[^/:?#]+)(?::(?P<port>[0-9]{1,5}))?(?=[/?#]|$)"
)
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def basemap_origin(url: str, insecure_hosts: Collection[str] = ()) -> str:
    """The origin (``https://host[:port]``) an external basemap's tiles come from: the one
    source a page that draws it adds to its Content-Security-Policy.

    Strict on purpose, as the result goes into a header: https, a DNS name (no address, no
    wildcard, no user or password), an explicit port only as digits. ``insecure_hosts`` may
    name loopback hosts whose plain http is accepted too (``WEBMAP_INSECURE_BASEMAP_HOSTS``,
    for tests and development only; anything not loopback in it is ignored)."""
    if not _URL_CHARS.fullmatch(url):
        raise InvalidInput(
            "The basemap url has a character a URL cannot (a space, quote, backslash, or "
            "letters outside ASCII: write a host name in its xn-- form)."
        )
    found = _AUTHORITY.match(url)
    if found is None:
        raise InvalidInput(
            "The basemap url is https://host[:port]/path, without user, password or "
            "placeholders ({s} subdomains included) in the host."
        )
    scheme, host, port = found["scheme"], found["host"].lower(), found["port"]
    loopback = host in _LOOPBACK and host in {h.strip().lower() for h in insecure_hosts}
    if not loopback:
        if scheme != "https":
            raise InvalidInput("The basemap url is an https:// URL.")
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            pass
        else:
            raise InvalidInput("The basemap host is a DNS name, not an IP address.")
        if not _DNS_NAME.fullmatch(host):
            raise InvalidInput(f"The basemap host {host[:80]!r} is not a DNS name.")
    default = "443" if scheme == "https" else "80"
    if port is not None and not 1 <= int(port) <= 65535:
        raise InvalidInput("The basemap url's port is 1–65535.")
    shown = f":{int(port)}" if port is not None and str(int(port)) != default else ""
    return f"{scheme}://{host}{shown}"


def check_basemap(value: Mapping[str, Any], insecure_hosts: Collection[str] = ()) -> dict[str, Any]:
    """An external raster basemap: ``{"kind": "xyz"|"wmts", "url": https template, "crs":
    3857|3006, "attribution": text}``. The template must carry the kind's placeholders and no
    others, and its host must be a public DNS name (:func:`basemap_origin`: the widget's CSP
    names exactly this host)."""
    extra = set(value) - {"kind", "url", "crs", "attribution"}
    if extra:
        raise InvalidInput(f"A basemap has kind, url, crs and attribution, not {sorted(extra)}.")
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in BASEMAP_PLACEHOLDERS:
        raise InvalidInput("The basemap kind is xyz or wmts.")
    url = value.get("url")
    if not isinstance(url, str) or not 1 <= len(url) <= _URL_LIMIT:
        raise InvalidInput(f"The basemap url is a URL template of at most {_URL_LIMIT} characters.")
    basemap_origin(url, insecure_hosts)
    needed = BASEMAP_PLACEHOLDERS[kind]
    if kind == "xyz" and "{-y}" in url:
        needed = ("{z}", "{x}")
    missing = [p for p in needed if p not in url]
    if missing:
        raise InvalidInput(f"A {kind} basemap url needs the placeholders {', '.join(missing)}.")
    leftover = _ALLOWED_PLACEHOLDERS[kind].sub("", url)
    if "{" in leftover or "}" in leftover:
        raise InvalidInput(
            "The basemap url has an unknown placeholder; "
            f"{kind} uses {', '.join(BASEMAP_PLACEHOLDERS[kind])} (write the rest out)."
        )
    crs = value.get("crs")
    if isinstance(crs, str) and crs.upper().startswith("EPSG:"):
        crs = crs[5:]
    srid = 0
    if isinstance(crs, int) and not isinstance(crs, bool):
        srid = crs
    elif isinstance(crs, str) and crs.isascii() and crs.isdigit():
        srid = int(crs)
    if srid not in BASEMAP_CRS:
        raise InvalidInput("The basemap crs is 3857 (Web Mercator) or 3006 (SWEREF 99 TM).")
    attribution = value.get("attribution")
    if not isinstance(attribution, str) or not attribution.strip():
        raise InvalidInput("Give the basemap's attribution, e.g. © Lantmäteriet.")
    if len(attribution) > 500 or not attribution.isprintable():
        raise InvalidInput("The basemap attribution is at most 500 printable characters.")
    return {"kind": kind, "url": url, "crs": srid, "attribution": attribution.strip()}
