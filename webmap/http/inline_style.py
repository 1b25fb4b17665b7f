"""The demo pages' style sheet inlined in their ``<head>``, allowed by its CSP hash.

Why: a linked style sheet blocks the page's first paint for one more round trip (≈ 0.56 s on
Fast 3G, bench/widget.py), and with it the picker's preview picture, which should show within
1.5 s. ``demo.css`` is small (3 KB, 1 KB gzipped), so the pages carry it inline; the page policy
allows exactly that text by its SHA-256 (``style-src 'self' 'sha256-…'``), never
``'unsafe-inline'``. The file stays the one source (``/static/demo.css`` is still served for the
pages that link it).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

from markupsafe import Markup

STATIC = Path(__file__).resolve().parent.parent / "static"
#: Style sheets a template may inline with ``{{ inline_style("demo.css") }}``.
INLINE_STYLES = ("demo.css",)


@cache
def _text(name: str) -> str:
    if name not in INLINE_STYLES:
        raise ValueError(f"{name} is not an inline style sheet")
    return (STATIC / name).read_text(encoding="utf-8")


def inline_style(name: str) -> Markup:
    """A ``<style>`` element with the sheet's exact text (what its hash is computed over)."""
    return Markup("<style>") + Markup(_text(name)) + Markup("</style>")


def csp_hash(text: str) -> str:
    """The CSP source expression allowing an inline element whose content is ``text``."""
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def style_hashes() -> str:
    """The ``style-src`` hash sources of every inline style sheet."""
    return " ".join(csp_hash(_text(name)) for name in INLINE_STYLES)
