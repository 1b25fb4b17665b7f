"""JSON request bodies that nest too deeply are malformed input, not a server error.

Python's JSON parser raises ``RecursionError`` (not ``ValueError``) for a body such as
``[[[[…`` thousands deep, and Flask's ``request.get_json`` only treats ``ValueError`` as bad
JSON, so such a body to ``POST /login`` was a 500. This provider turns it into the
``ValueError`` every caller already handles (400 problem JSON, or ``None`` when silent).
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class JSONProvider(DefaultJSONProvider):
    """Flask's default JSON, with too-deep nesting reported as invalid JSON."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("The JSON body is nested too deeply.") from exc
