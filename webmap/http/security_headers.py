"""Security headers on every response, set in one place (an app-wide ``after_request`` hook).

- **Content-Security-Policy.** HTML pages get :data:`HTML_POLICY`: scripts, styles, fonts and
  fetches from this origin only, no inline script or style (the templates have none; pages load
  their code from ``/static`` and ``/widget``), images also from ``data:`` and ``blob:`` (map
  canvases and icons). Every other response (JSON, tiles, images, scripts) gets
  :data:`OTHER_POLICY`, which lets nothing run should a browser ever render one as a document.
- **Framing.** ``frame-ancestors 'none'`` plus ``X-Frame-Options: DENY`` (for browsers without
  CSP level 2) on everything, except a page whose view called :func:`allow_framing`: only
  ``/embed`` does, for origins on the allow-list (``WEBMAP_EMBED_ORIGINS``). X-Frame-Options
  cannot name several origins, so such a page sends no X-Frame-Options at all.
- **A municipality's external basemap.** A page that draws one (``/demo?municipality=…``,
  ``/embed?municipality=…``) calls :func:`allow_basemap`: that basemap's origin, and no other
  host, is added to ``img-src`` and ``connect-src`` of that page only. The origin is rebuilt
  from the stored URL by :func:`layers.basemaps.basemap_origin` on every page, so a value
  that is not a plain ``https://dns-name[:port]`` never reaches the header.
- **X-Content-Type-Options: nosniff** on every response: a tile, an upload's report or a problem
  JSON is never run as script or rendered as HTML because its bytes look like it.
- **Referrer-Policy: same-origin**: our own pages get the full referrer (logs, debugging); other
  sites get none. Our URLs carry what people typed (``/api/search?q=`` an address) and private
  layer names (``/admin/layers/<name>``); no page of ours needs to tell another site anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app, g
from werkzeug.wrappers import Response

from layers.basemaps import basemap_origin
from layers.errors import InvalidInput
from webmap.http.tenant_origins import tenant_origins

HTML_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)
OTHER_POLICY = "default-src 'none'"
REFERRER_POLICY = "same-origin"
_FRAMING_KEY = "webmap_frame_ancestors"
_BASEMAP_KEY = "webmap_basemap_origin"


def embed_origins(municipality: str | None = None) -> list[str]:
    """Allowed e-service origins: the ``embed_origins`` setting (``WEBMAP_EMBED_ORIGINS``,
    comma-separated), plus ``WEBMAP_EMBED_ORIGINS`` in the app config (tests set it there),
    plus, for ``municipality``'s widget, that municipality's own origins (only for it)."""
    config = current_app.config
    settings = config["WEBMAP_SETTINGS"]
    configured: list[str] = list(settings.embed_origins.split(","))
    extra = config.get("WEBMAP_EMBED_ORIGINS", [])
    configured += extra.split(",") if isinstance(extra, str) else list(extra)
    if municipality:
        configured += tenant_origins().get(municipality, ())
    return list(
        dict.fromkeys(origin.strip().rstrip("/") for origin in configured if origin.strip())
    )


def allow_framing(origins: Iterable[str]) -> None:
    """Let this request's page be framed by ``origins`` (none given: by no one)."""
    setattr(g, _FRAMING_KEY, tuple(origins))


def allow_basemap(basemap: dict[str, object] | None) -> str | None:
    """Let this request's page load the tiles of a municipality's external ``basemap`` (as
    stored: ``{"url": …}``): its origin joins ``img-src`` and ``connect-src``. Returns the
    origin, or None when there is no basemap or its URL is not one the validator accepts now
    (the widget then falls back to webmap's own basemap, see docs/widget.md)."""
    url = basemap.get("url") if basemap else None
    if not isinstance(url, str):
        return None
    insecure = current_app.config["WEBMAP_SETTINGS"].insecure_basemap_host_list
    try:
        origin = basemap_origin(url, insecure)
    except InvalidInput:
        return None
    setattr(g, _BASEMAP_KEY, origin)
    return origin


def html_policy() -> str:
    """:data:`HTML_POLICY`, with this request's external basemap origin if it has one."""
    origin: str | None = getattr(g, _BASEMAP_KEY, None)
    if origin is None:
        return HTML_POLICY
    return HTML_POLICY.replace(
        "img-src 'self' data: blob:;", f"img-src 'self' data: blob: {origin};"
    ).replace("connect-src 'self';", f"connect-src 'self' {origin};")


def frame_ancestors() -> str:
    """The ``frame-ancestors`` sources of this request's response: ``'none'`` unless allowed."""
    origins: tuple[str, ...] = getattr(g, _FRAMING_KEY, ())
    return " ".join(origins) if origins else "'none'"


def _secure(response: Response) -> Response:
    ancestors = frame_ancestors()
    policy = html_policy() if response.mimetype == "text/html" else OTHER_POLICY
    response.headers["Content-Security-Policy"] = f"{policy}; frame-ancestors {ancestors}"
    if ancestors == "'none'":
        response.headers["X-Frame-Options"] = "DENY"
    else:
        response.headers.pop("X-Frame-Options", None)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = REFERRER_POLICY
    return response


def init_app(app: Flask) -> None:
    """Send the headers on every response, error pages and static files included."""
    app.after_request(_secure)
