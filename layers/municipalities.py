"""The municipalities a deployment serves (its tenants) and their widget settings.

A tenant is a Swedish municipality named by its SCB kommunkod (four digits: 2281 Sundsvall,
2280 Härnösand). Its name and boundary come from Lantmäteriet's municipality polygons that ship
with the sample (``data/lantmateriet/ak_riks.zip``, Sverigekartan 1:1 miljon); the tenant keeps
its own copy of the boundary, so reloading the lookup register (``webmap data load-sample``,
address imports) never touches a tenant, its layers or its staff.

Per tenant: the origins allowed to embed its widget (added to the global
``WEBMAP_EMBED_ORIGINS`` for that municipality only), the layers its picker shows by default, a
display name and theme colour for ``/demo``, and an optional external raster basemap (stored and
validated here; drawing it is the widget's job). Who may change what is :mod:`staff.tenancy`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from layers.errors import InvalidInput, LayerError, LayerNotFound
from layers.schema import LAYER_NAME_PATTERN
from layers.sources import read_features

#: The sample's municipality polygons (relative to the data folder), as ``layers.lookup`` loads.
BOUNDARY_FILE = "lantmateriet/ak_riks.zip"
_CODE = re.compile(r"^[0-9]{4}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)
_LAYER = re.compile(LAYER_NAME_PATTERN)
_MAX_ORIGINS = 20
_MAX_DEFAULT_LAYERS = 20
_TEXT_LIMIT = 100
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


class MunicipalityExists(LayerError):
    """``add`` of a municipality this deployment already serves (HTTP 409)."""


@dataclass(frozen=True)
class Municipality:
    """One tenant as the API, CLI and pages see it (the boundary only as its bounding boxes)."""

    code: str
    name: str
    display_name: str | None
    theme_colour: str | None
    embed_origins: tuple[str, ...]
    default_layers: tuple[str, ...]
    basemap: dict[str, Any] | None
    #: west, south, east, north in WGS 84 (lon/lat).
    bbox_wgs84: tuple[float, float, float, float]
    #: min E, min N, max E, max N in SWEREF 99 TM (EPSG:3006).
    bbox_sweref99tm: tuple[float, float, float, float]

    @property
    def title(self) -> str:
        """What ``/demo`` and the widget call the municipality."""
        return self.display_name or self.name


def check_code(code: str) -> str:
    """A four-digit SCB kommunkod, or :class:`InvalidInput`."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput("A municipality code is four digits (SCB kommunkod), e.g. 2281.")
    return code


def read_boundaries(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """``(code, name, wkb)`` of every polygon in Lantmäteriet's ``ak_riks`` (a municipality
    with islands has several rows; ``add`` unions them)."""
    for feature in read_features(path, None, "ISO-8859-1"):
        a = feature.attributes
        code = str(a.get("KOM_KOD") or "").zfill(4)
        yield code, str(a.get("KOMMUNNAMN") or ""), feature.wkb


def available_in(path: Path) -> dict[str, str]:
    """Code → name of every municipality the boundary file holds."""
    return {code: name for code, name, _wkb in read_boundaries(path)}


def add_municipality(
    conn: psycopg.Connection[Any], code: str, boundaries: Path, name: str | None = None
) -> Municipality:
    """Serve municipality ``code``: its name and boundary from ``boundaries`` (the sample's
    ``ak_riks``); ``name`` overrides the file's spelling."""
    check_code(code)
    parts = [(n, wkb) for c, n, wkb in read_boundaries(boundaries) if c == code]
    if not parts:
        raise InvalidInput(f"{boundaries.name} has no municipality with code {code}.")
    title = _text("name", name) if name is not None else parts[0][0]
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE tenant_parts (wkb bytea) ON COMMIT DROP",
        )
        with conn.cursor().copy("COPY tenant_parts FROM STDIN") as copy:
            for _n, wkb in parts:
                copy.write_row((wkb,))
        try:
            conn.execute(
                """
                INSERT INTO webmap.tenants (code, name, boundary)
                SELECT %s, %s, ST_Multi(ST_CollectionExtract(ST_Union(
                    ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(wkb), 3006))), 3))
                FROM tenant_parts
                """,
                [code, title],
            )
        except psycopg.errors.UniqueViolation as exc:
            raise MunicipalityExists(f"Municipality {code} is already served.") from exc
    return get_municipality(conn, code)


_SELECT = """
SELECT code, name, display_name, theme_colour, embed_origins, basemap,
       -- Only those still public and this municipality's or instance-wide: a default layer
       -- made private or given away since is left out rather than named to everyone.
       ARRAY(SELECT d FROM unnest(default_layers) WITH ORDINALITY u(d, i)
             JOIN webmap.layers l ON l.name = u.d AND l.public
                  AND (l.municipality IS NULL OR l.municipality = code)
             ORDER BY u.i) AS default_layers,
       ARRAY[ST_XMin(w), ST_YMin(w), ST_XMax(w), ST_YMax(w)] AS wgs84,
       ARRAY[ST_XMin(boundary), ST_YMin(boundary), ST_XMax(boundary), ST_YMax(boundary)] AS tm
FROM webmap.tenants, LATERAL (SELECT ST_Transform(boundary, 4326) AS w) t
"""


def _row(row: Mapping[str, Any]) -> Municipality:
    return Municipality(
        code=row["code"],
        name=row["name"],
        display_name=row["display_name"],
        theme_colour=row["theme_colour"],
        embed_origins=tuple(row["embed_origins"]),
        default_layers=tuple(row["default_layers"]),
        basemap=row["basemap"],
        bbox_wgs84=_box(row["wgs84"], 6),
        bbox_sweref99tm=_box(row["tm"], 1),
    )


def _box(values: list[float], digits: int) -> tuple[float, float, float, float]:
    west, south, east, north = (round(float(v), digits) for v in values)
    return (west, south, east, north)


def get_municipality(conn: psycopg.Connection[Any], code: str) -> Municipality:
    """The tenant ``code``, or :class:`LayerNotFound`."""
    check_code(code)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE code = %s", [code]).fetchone()
    if row is None:
        raise LayerNotFound(f"Municipality {code} is not served here.")
    return _row(row)


def list_municipalities(conn: psycopg.Connection[Any]) -> list[Municipality]:
    """Every tenant, by code."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_SELECT + " ORDER BY code").fetchall()
    return [_row(r) for r in rows]


def exists(conn: psycopg.Connection[Any], code: str) -> bool:
    """Whether ``code`` is a tenant (no error for a malformed code: it is simply not one)."""
    if not _CODE.fullmatch(code):
        return False
    return (
        conn.execute("SELECT 1 FROM webmap.tenants WHERE code = %s", [code]).fetchone() is not None
    )


def embed_origins_of(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, ...]]:
    """Code → allowed embedding origins, for every tenant that has any."""
    rows = conn.execute(
        "SELECT code, embed_origins FROM webmap.tenants WHERE cardinality(embed_origins) > 0"
    ).fetchall()
    return {str(code): tuple(origins) for code, origins in rows}


# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsChange:
    """What a settings update sets; ``None`` keeps the current value. Empty text or an empty
    basemap dict clears the optional ones."""

    display_name: str | None = None
    theme_colour: str | None = None
    embed_origins: tuple[str, ...] | None = None
    default_layers: tuple[str, ...] | None = None
    basemap: dict[str, Any] | None = None


def _text(what: str, value: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= _TEXT_LIMIT or not value.isprintable():
        raise InvalidInput(f"The {what} is 1–{_TEXT_LIMIT} printable characters.")
    return value


def check_origin(origin: str) -> str:
    """An origin as browsers send it (``https://e-tjanst.example.se``, no path, no wildcard);
    plain http only for localhost."""
    origin = origin.strip().rstrip("/")
    if not _ORIGIN.fullmatch(origin):
        raise InvalidInput(
            f"{origin[:80]!r} is not an origin: write scheme://host[:port], e.g. "
            "https://e-tjanst.example.se (no path, no wildcard)."
        )
    host = urlsplit(origin).hostname or ""
    if origin.startswith("http://") and host not in ("localhost", "127.0.0.1", "::1"):
        raise InvalidInput(f"{origin!r}: an e-service on the internet is an https:// origin.")
    return origin


def check_colour(colour: str) -> str:
    """A ``#rrggbb`` colour, stored in lower case."""
    if not _COLOUR.fullmatch(colour):
        raise InvalidInput("A theme colour is #rrggbb, e.g. #005a9c.")
    return colour.lower()


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


def _layer_names(conn: psycopg.Connection[Any], names: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(wanted) > _MAX_DEFAULT_LAYERS:
        raise InvalidInput(f"At most {_MAX_DEFAULT_LAYERS} default layers.")
    bad = [n for n in wanted if not _LAYER.fullmatch(n)]
    if bad:
        raise InvalidInput(f"Not layer names: {', '.join(b[:50] for b in bad)}.")
    return wanted


def update_settings(
    conn: psycopg.Connection[Any],
    code: str,
    change: SettingsChange,
    insecure_basemap_hosts: Collection[str] = (),
) -> Municipality:
    """Validate and store ``change`` for tenant ``code``; returns the tenant as it is now.

    Default layers must be public layers of this municipality or instance-wide ones: a picker
    on a citizen's phone cannot show another municipality's or a private layer.
    ``insecure_basemap_hosts``: loopback hosts allowed in a plain-http basemap (tests only,
    :func:`basemap_origin`)."""
    check_code(code)
    sets: dict[str, Any] = {}
    if change.display_name is not None:
        blank = not change.display_name.strip()
        sets["display_name"] = None if blank else _text("display name", change.display_name)
    if change.theme_colour is not None:
        sets["theme_colour"] = check_colour(change.theme_colour) if change.theme_colour else None
    if change.embed_origins is not None:
        origins = list(dict.fromkeys(check_origin(o) for o in change.embed_origins if o.strip()))
        if len(origins) > _MAX_ORIGINS:
            raise InvalidInput(f"At most {_MAX_ORIGINS} embedding origins per municipality.")
        sets["embed_origins"] = origins
    if change.basemap is not None:
        sets["basemap"] = (
            Jsonb(check_basemap(change.basemap, insecure_basemap_hosts)) if change.basemap else None
        )
    with conn.transaction():
        if change.default_layers is not None:
            names = _layer_names(conn, change.default_layers)
            rows = conn.execute(
                "SELECT name FROM webmap.layers WHERE name = ANY(%s) AND public "
                "AND (municipality IS NULL OR municipality = %s)",
                [names, code],
            ).fetchall()
            usable = {str(r[0]) for r in rows}
            unusable = [n for n in names if n not in usable]
            if unusable:
                raise InvalidInput(
                    "Default layers are public layers of this municipality or instance-wide "
                    f"ones; not: {', '.join(unusable)}."
                )
            sets["default_layers"] = names
        if sets:
            assignments = ", ".join(f"{column} = %({column})s" for column in sets)
            found = conn.execute(
                f"UPDATE webmap.tenants SET {assignments}, updated_at = now() "  # noqa: S608 (fixed column names)
                "WHERE code = %(code)s RETURNING 1",
                {**sets, "code": code},
            ).fetchone()
            if found is None:
                raise LayerNotFound(f"Municipality {code} is not served here.")
    return get_municipality(conn, code)


def public_view(municipality: Municipality) -> dict[str, Any]:
    """What ``GET /api/municipalities/{code}`` shows anyone: no staff, no origins."""
    return {
        "code": municipality.code,
        "name": municipality.name,
        "display_name": municipality.title,
        "bbox": list(municipality.bbox_wgs84),
        "bbox_crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "bbox_sweref99tm": list(municipality.bbox_sweref99tm),
        "default_layers": list(municipality.default_layers),
        "theme_colour": municipality.theme_colour,
        "basemap": municipality.basemap,
    }
