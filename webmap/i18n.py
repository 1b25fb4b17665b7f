"""Text and language: Flask-Babel, the locale of a request, and the words for domain facts.

Swedish first, English second. Everything a person reads comes from the gettext catalogues in
``webmap/translations/<lang>/LC_MESSAGES/messages.po`` (msgids are the English text; both
catalogues translate every msgid). Domain code below ``webmap/`` returns reason codes and data
(:class:`layers.lookup.reverse.NotFound`, :class:`tiles.alttext.MapDescription`); this module
words them. Numbers, dates and plural forms follow the locale through Babel; times shown to
staff are Swedish time and say which (CET or CEST).

The locale is ``?lang=`` (``sv`` or ``en``) when a page or endpoint offers it, else what the
view put in ``g.lang`` (the admin pages remember the choice in the session), else Swedish. The
browser's ``Accept-Language`` is deliberately not consulted: a municipality's pages are in
Swedish unless the reader picks English, and answers that vary by header would need
``Vary: Accept-Language`` on every cached tile and page.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import flask_babel
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, force_locale, format_datetime, format_decimal

from layers.lookup.reverse import NotFound, ReverseResult
from tiles.alttext import MapDescription

LANGS = ("sv", "en")
DEFAULT_LANG = "sv"
#: Staff work in Swedish municipalities: times are shown in Swedish time in both languages.
TIME_ZONE = "Europe/Stockholm"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
#: The Babel locale of each language: British English (its spelling is the catalogue's, and
#: its CLDR data names the time zone "CET"/"CEST" as Swedish does; plain ``en`` says "+0100").
#: Its catalogue is found under ``en`` (gettext falls back from en_GB to en).
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


def gettext(text: str, **values: object) -> str:
    """The translation of ``text`` in the request's language, ``%(name)s`` filled from values."""
    return str(flask_babel.gettext(text, **values))


def ngettext(singular: str, plural: str, num: int, **values: object) -> str:
    """The plural form for ``num`` (``%(num)d`` in the text), in the request's language."""
    return str(flask_babel.ngettext(singular, plural, num, **values))


def current_lang() -> str:
    """The request's language, ``sv`` or ``en`` (Swedish outside a request)."""
    if not has_request_context():
        return DEFAULT_LANG
    wanted = request.args.get("lang")
    if wanted in LANGS:
        return str(wanted)
    chosen = g.get("lang")
    return chosen if chosen in LANGS else DEFAULT_LANG


def _select_locale() -> str:
    return _LOCALES[current_lang()]


def init_app(app: Flask) -> None:
    """Flask-Babel with the packaged catalogues, Swedish and Swedish time by default."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", _LOCALES[DEFAULT_LANG])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIME_ZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=_select_locale)
    app.jinja_env.globals.update(number=number, when=when, size=size, current_lang=current_lang)


def in_lang(lang: str) -> force_locale:
    """A block in which gettext speaks ``lang`` (for answers that carry both languages)."""
    return force_locale(_LOCALES[lang])


# ---------------------------------------------------------------------------------------------
# Numbers, sizes, times


def number(value: float | None) -> str:
    """A count as the locale writes it ("12 345" in Swedish, "12,345" in English); – for none."""
    if value is None:
        return gettext("–")
    return str(format_decimal(value))


def when(value: str | datetime | None) -> str:
    """A timestamp in Swedish time with its zone, "2026-03-01 14:05 CET"; – for none."""
    if not value:
        return gettext("–")
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return str(format_datetime(moment, "yyyy-MM-dd HH:mm zzz"))


def size(count: int) -> str:
    """A byte count as MB or GB, with the locale's decimal sign."""
    if count >= 1024**3:
        return gettext("%(size)s GB", size=format_decimal(count / 1024**3, format="0.0"))
    return gettext("%(size)s MB", size=format_decimal(count / 1024**2, format="0"))


# ---------------------------------------------------------------------------------------------
# Words for domain facts


def reverse_message(result: ReverseResult) -> str | None:
    """Why part of a reverse lookup is missing, or that the point is outside the municipality
    asked about (``?municipality=``), in the current language (``None``: nothing to say)."""
    if result.asked is not None and result.municipality_name and not result.inside_asked:
        return gettext(
            "The point is in %(place)s, outside the municipality %(asked)s.",
            place=result.municipality_name,
            asked=result.asked[1],
        )
    if result.reason is NotFound.OUTSIDE_MUNICIPALITIES:
        return gettext("The point is outside every Swedish municipality (at sea or abroad).")
    if result.reason is NotFound.NO_ADDRESS_NEARBY:
        return gettext(
            "No address within %(radius)s m of the point.",
            radius=format_decimal(round(result.radius_m), format="#,##0"),
        )
    return None


def _degrees(lat: float, lon: float) -> str:
    places = "0.00000"
    north_south = (
        gettext("%(deg)s° N", deg=format_decimal(lat, format=places))
        if lat >= 0
        else gettext("%(deg)s° S", deg=format_decimal(-lat, format=places))
    )
    east_west = (
        gettext("%(deg)s° E", deg=format_decimal(lon, format=places))
        if lon >= 0
        else gettext("%(deg)s° W", deg=format_decimal(-lon, format=places))
    )
    return f"{north_south}, {east_west}"


def alt_text(facts: MapDescription) -> str:
    """The alternative text of a static map, in the current language."""
    parts: list[str] = []
    if facts.address:
        parts.append(gettext("near %(address)s", address=facts.address))
    if facts.designation:
        parts.append(
            gettext("on property %(designation)s (fictional)", designation=facts.designation)
            if facts.fictional
            else gettext("on property %(designation)s", designation=facts.designation)
        )
    if facts.municipality:
        parts.append(gettext("in %(municipality)s municipality", municipality=facts.municipality))
    if facts.sweref:
        n, e = facts.sweref
        parts.append(gettext("at N %(n)s, E %(e)s (SWEREF 99 TM)", n=n, e=e))
    if facts.wgs84:
        parts.append(gettext("at %(position)s (WGS 84)", position=_degrees(*facts.wgs84)))
    place = ", ".join(parts)
    width = format_decimal(facts.width_m, format="#,##0")
    height = format_decimal(facts.height_m, format="#,##0")
    if facts.shape is not None:
        kind, size = facts.shape
        measure = format_decimal(size, format="#,##0")
        if kind == "area":
            return gettext(
                "Map with the chosen area of about %(measure)s m² outlined, %(place)s. "
                "The map shows an area of about %(width)s × %(height)s m.",
                measure=measure,
                place=place,
                width=width,
                height=height,
            )
        return gettext(
            "Map with the chosen line of about %(measure)s m drawn, %(place)s. "
            "The map shows an area of about %(width)s × %(height)s m.",
            measure=measure,
            place=place,
            width=width,
            height=height,
        )
    return gettext(
        "Map with a marker %(place)s. The map shows an area of about %(width)s × %(height)s m.",
        place=place,
        width=width,
        height=height,
    )


def login_wait(seconds: int) -> str:
    """The login page's answer when too many logins failed, rounded up to whole minutes."""
    minutes = max(1, -(-seconds // 60))
    return ngettext(
        "Too many failed logins. Try again in %(num)d minute.",
        "Too many failed logins. Try again in %(num)d minutes.",
        minutes,
    )


def pick_lang(requested: str | None, remembered: object) -> str:
    """A page's language: ``?lang=`` when valid, else a remembered choice, else Swedish."""
    if requested in LANGS:
        return str(requested)
    if isinstance(remembered, str) and remembered in LANGS:
        return remembered
    return DEFAULT_LANG


def wrong_login() -> str:
    """The login page's answer to a wrong user name or password (never says which)."""
    return gettext("Wrong user name or password.")


def place_label(designation: str | None, address: str | None) -> str:
    """A chosen place in words, as the widget says it: "Fastighet X, nära Y"."""
    if designation and address:
        return gettext(
            "Property %(designation)s, near %(address)s", designation=designation, address=address
        )
    if designation:
        return gettext("Property %(designation)s", designation=designation)
    return address or ""


def with_place_label(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A resolved picker value with its label in words, as the widget writes it.

    "Fastighet X, nära Y" when a property and an address are known (``value.js``
    ``describePlace``), else the property or the address alone, else the search hit's label.
    """
    if value is None:
        return None
    properties = value["properties"]
    designation = (properties.get("property") or {}).get("designation")
    address = (properties.get("address") or {}).get("label")
    if designation or address:
        properties["label"] = place_label(designation, address)
    return value
