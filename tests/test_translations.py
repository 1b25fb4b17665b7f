"""The gettext catalogues: complete in both languages, compiled, and used by the pages.

Swedish is the default; English when asked (``?lang=en``). Every msgid has a translation in
both catalogues, placeholders survive translation, the committed ``.mo`` files are what the
``.po`` files compile to, and the source holds no msgid the catalogues lack.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask

from layers.lookup.reverse import NearestAddress, ReverseResult
from tiles.alttext import PlaceWords, describe
from webmap import i18n

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "webmap" / "translations"
LANGS = ("sv", "en")


def _catalog(lang: str) -> Catalog:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _table(catalog: Catalog) -> dict[object, object]:
    def flat(value: object) -> object:
        return value if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]

    return {(m.context, flat(m.id)): flat(m.string) for m in catalog if m.id}


def _strings(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("lang", LANGS)
def test_every_msgid_is_translated_and_keeps_its_placeholders(lang: str) -> None:
    catalog = _catalog(lang)
    messages = [m for m in catalog if m.id]
    assert len(messages) > 100
    for message in messages:
        strings = _strings(message.string)
        assert strings and all(s.strip() for s in strings), f"{lang}: {message.id!r} untranslated"
        assert not message.fuzzy, f"{lang}: {message.id!r} is fuzzy"
    assert not list(catalog.check()), f"{lang}: placeholders or plural forms do not match"


def test_both_catalogues_have_the_same_msgids() -> None:
    assert _table(_catalog("sv")).keys() == _table(_catalog("en")).keys()


@pytest.mark.parametrize("lang", LANGS)
def test_committed_mo_is_the_compiled_po(lang: str) -> None:
    """The ``.mo`` files are committed (pip installs them as package data); never stale."""
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(lang))
    compiled.seek(0)
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        committed = read_mo(f)
    fresh = read_mo(compiled)
    assert _table(fresh) == _table(committed), (
        "run: .venv/bin/pybabel compile -d webmap/translations"
    )


def test_pybabel_compiles_the_catalogues(tmp_path: Path) -> None:
    for lang in LANGS:
        out = tmp_path / f"{lang}.mo"
        source = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        done = subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "compile", "-i", str(source),
             "-o", str(out), "-l", lang, "--statistics"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 1000


def test_the_source_has_no_msgid_the_catalogues_lack() -> None:
    """What ``pybabel extract -F babel.cfg`` would find is in the catalogue (run update if not)."""
    method_map = [("webmap/**.py", "python"), ("webmap/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), method_map):
        key = message if isinstance(message, str) else message[0]
        found.add((context, key))
    known = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _catalog("sv") if m.id
    }
    assert found - known == set(), "run pybabel extract and update (docs/architecture.md)"


@pytest.fixture()
def app() -> Flask:
    app = Flask(__name__)
    i18n.init_app(app)
    return app


def _place(app: Flask, lang: str) -> str:
    facts = describe(
        PlaceWords(address="Brahegatan 1, 114 37 Stockholm", designation="Stockholm Rosen 1",
                   fictional=True, municipality="Stockholm"),
        1234.0, 856.0,
    )  # fmt: skip
    with app.test_request_context(f"/?lang={lang}"):
        return i18n.alt_text(facts)


def test_alt_text_in_both_languages_with_their_number_formats(app: Flask) -> None:
    assert _place(app, "sv") == (
        "Karta med en markering vid Brahegatan 1, 114 37 Stockholm, på fastigheten Stockholm "
        "Rosen 1 (fiktiv), i Stockholm kommun. Kartan visar ett område på ungefär "
        "1\u00a0200 × 860 m."
    )
    assert _place(app, "en") == (
        "Map with a marker near Brahegatan 1, 114 37 Stockholm, on property Stockholm Rosen 1 "
        "(fictional), in Stockholm municipality. The map shows an area of about 1,200 × 860 m."
    )
    with app.test_request_context("/"):  # Swedish unless asked
        assert i18n.current_lang() == "sv"
        assert i18n.alt_text(describe(PlaceWords(lon=96.0, lat=0.0), 50, 50)).startswith(
            "Karta med en markering vid 0,00000° N, 96,00000° E (WGS 84)."
        )


def test_reverse_messages_and_plural_forms(app: Flask) -> None:
    outside = ReverseResult(18.0, 59.0, 0.0, 0.0, None, None, None, None, None, 1500.0)
    address = NearestAddress("Brahegatan 1", "Brahegatan", 1, None, None, None, None, 2.0)
    found = ReverseResult(18.0, 59.0, 0.0, 0.0, address, None, None, "0180", "Stockholm")
    no_address = ReverseResult(18.0, 59.0, 0.0, 0.0, None, None, None, "0180", "Stockholm", 1500)
    with app.test_request_context("/"):
        assert i18n.reverse_message(found) is None
        assert "utanför Sveriges kommuner" in str(i18n.reverse_message(outside))
        assert i18n.reverse_message(no_address) == "Ingen adress inom 1\u00a0500 m från platsen."
        assert i18n.login_wait(30) == (
            "För många misslyckade inloggningar. Försök igen om 1 minut."
        )
        assert i18n.login_wait(61).endswith("om 2 minuter.")
        with i18n.in_lang("en"):
            assert i18n.reverse_message(no_address) == "No address within 1,500 m of the point."
            assert i18n.login_wait(900).endswith("Try again in 15 minutes.")
            assert i18n.login_wait(60).endswith("Try again in 1 minute.")


def test_times_shown_to_staff_are_swedish_time_with_their_zone(app: Flask) -> None:
    winter = datetime(2026, 1, 15, 11, 5, tzinfo=UTC)
    summer = "2026-07-15T11:05:00+00:00"
    with app.test_request_context("/"):
        assert i18n.when(winter) == "2026-01-15 12:05 CET"
        assert i18n.when(summer) == "2026-07-15 13:05 CEST"
        assert i18n.number(1234567) == "1\u00a0234\u00a0567"
        assert i18n.number(None) == "–"
        assert i18n.size(200 * 1024**2) == "200 MB"
        assert i18n.size(3 * 1024**3 // 2) == "1,5 GB"
    with app.test_request_context("/?lang=en"):
        assert i18n.when(summer) == "2026-07-15 13:05 CEST"
        assert i18n.number(1234567) == "1,234,567"
        assert i18n.size(3 * 1024**3 // 2) == "1.5 GB"
