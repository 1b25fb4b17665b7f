"""A municipality's widget settings, checked before they are stored.

What staff type in the admin pages, the API or the CLI (a display name, a theme colour, the
origins allowed to embed the widget, the default layers, an external basemap) is checked here
and comes back normalised, or raises :class:`InvalidInput` naming the rule. Nothing here reads
the database: :func:`layers.municipalities.update_settings` stores what passes and checks what
only the database knows (that each default layer exists, is public and is this
municipality's or instance-wide). The basemap's own rules are :mod:`layers.basemaps`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from layers.basemaps import check_basemap
from layers.errors import InvalidInput
from layers.schema import LAYER_NAME_PATTERN

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)
_LAYER = re.compile(LAYER_NAME_PATTERN)
_MAX_ORIGINS = 20
_MAX_DEFAULT_LAYERS = 20
_TEXT_LIMIT = 100


@dataclass(frozen=True)
class SettingsChange:
    """What a settings update sets; ``None`` keeps the current value. Empty text or an empty
    basemap dict clears the optional ones."""

    display_name: str | None = None
    theme_colour: str | None = None
    embed_origins: tuple[str, ...] | None = None
    default_layers: tuple[str, ...] | None = None
    basemap: dict[str, Any] | None = None


def check_text(what: str, value: str) -> str:
    """A name as shown to citizens: stripped, 1–100 printable characters; ``what`` names it
    in the error."""
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


def check_layer_names(names: Iterable[str]) -> list[str]:
    """Default layer names, blank ones and repeats dropped, each a valid layer name (whether
    such a layer exists, is public and may be used is the store's question)."""
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(wanted) > _MAX_DEFAULT_LAYERS:
        raise InvalidInput(f"At most {_MAX_DEFAULT_LAYERS} default layers.")
    bad = [n for n in wanted if not _LAYER.fullmatch(n)]
    if bad:
        raise InvalidInput(f"Not layer names: {', '.join(b[:50] for b in bad)}.")
    return wanted


def checked_columns(
    change: SettingsChange, insecure_basemap_hosts: Collection[str] = ()
) -> dict[str, Any]:
    """Column → checked value for what ``change`` sets, except the default layers (they need
    the database); ``None`` clears an optional column. ``insecure_basemap_hosts``: loopback
    hosts allowed in a plain-http basemap (tests only, :func:`layers.basemaps.basemap_origin`)."""
    sets: dict[str, Any] = {}
    if change.display_name is not None:
        blank = not change.display_name.strip()
        sets["display_name"] = None if blank else check_text("display name", change.display_name)
    if change.theme_colour is not None:
        sets["theme_colour"] = check_colour(change.theme_colour) if change.theme_colour else None
    if change.embed_origins is not None:
        origins = list(dict.fromkeys(check_origin(o) for o in change.embed_origins if o.strip()))
        if len(origins) > _MAX_ORIGINS:
            raise InvalidInput(f"At most {_MAX_ORIGINS} embedding origins per municipality.")
        sets["embed_origins"] = origins
    if change.basemap is not None:
        sets["basemap"] = (
            check_basemap(change.basemap, insecure_basemap_hosts) if change.basemap else None
        )
    return sets
