"""The tile fast path (webmap/http/tile_fast_path.py) answers as Flask's tile route would.

Two apps on the session's sample database, one with the fast path and one without; every
request is asked of both and the answers must match in status, body and headers (Server-Timing
by its entry names, its durations differ). A ``before_request`` hook counts which requests
reached Flask, so each case also shows who answered it: plain public tile requests the fast
path, everything unusual Flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY

from tests.app_helpers import app_with
from tests.tile_helpers import tile_of

ORIGIN = "https://e-tjanst.example"
Z14 = tile_of(18.0705, 59.3382, 14)
Z6 = tile_of(18.0705, 59.3382, 6)


def _counting(application: Flask) -> list[str]:
    seen: list[str] = []

    @application.before_request
    def _count() -> None:
        from flask import request

        seen.append(request.full_path)

    return seen


@pytest.fixture
def pair(sample_database: str) -> Iterator[tuple[Flask, Flask, list[str], list[str]]]:
    settings = {"embed_origins": ORIGIN, "catalog_ttl": 60}
    with (
        app_with(sample_database, tile_fast_path=True, **settings) as fast,
        app_with(sample_database, tile_fast_path=False, **settings) as flask_only,
    ):
        yield fast, flask_only, _counting(fast), _counting(flask_only)


def _timing_names(value: str) -> list[str]:
    return [re.split(r"[;=]", part.strip())[0] for part in value.split(",")]


def _comparable(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        (name, ",".join(_timing_names(value)) if name == "Server-Timing" else value)
        for name, value in headers
    ]


def _ask(application: Flask, path: str, headers: dict[str, str]) -> Any:
    client = application.test_client()
    if "Cookie" in headers:  # the test client sends its own cookie jar, not this header
        name, _, value = headers.pop("Cookie").partition("=")
        client.set_cookie(name, value)
    return client.get(path, headers=headers)


def _version(application: Flask, name: str) -> str:
    tiles = application.test_client().get(f"/tiles/{name}.json").get_json()["tiles"]
    return str(tiles[0]).split("?v=")[1]


def test_fast_path_answers_as_flask_would(
    pair: tuple[Flask, Flask, list[str], list[str]],
) -> None:
    fast, flask_only, reached_fast, reached_flask = pair
    roads, basemap = _version(fast, "roads"), _version(fast, "basemap")
    reached_fast.clear()
    plain = [
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt?v={roads}", {}),
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt?v={roads}", {"Accept-Encoding": "gzip"}),
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt", {"Accept-Encoding": "br, GZIP"}),
        (f"/tiles/basemap/6/{Z6.x}/{Z6.y}.mvt?v={basemap}", {"Accept-Encoding": "gzip"}),
        (f"/tiles/basemap/14/{Z14.x}/{Z14.y}.mvt?v={basemap}", {"Origin": ORIGIN}),
        (f"/tiles/basemap/14/{Z14.x}/{Z14.y}.mvt", {"Origin": "https://other.example/"}),
        ("/tiles/roads/3/4/2.mvt", {}),  # below the layer's zooms: an empty tile
    ]
    unusual = [
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt?v=0", {}),  # an old version: 302
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt?v={roads}&x=1", {}),
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt?v={roads}", {"If-None-Match": "*"}),
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt?v={roads}", {"Cookie": "session=x"}),
        (f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt?v={roads}", {"Authorization": "Bearer wm_x"}),
        ("/tiles/roads/2/4/0.mvt", {}),  # x beyond the matrix: 400
        ("/tiles/roads/99/0/0.mvt", {}),
        ("/tiles/nosuchlayer/3/4/2.mvt", {}),  # 404
        ("/tiles/roads/3/4/2.png", {}),
    ]
    for path, headers in plain + unusual:
        ours, theirs = _ask(fast, path, dict(headers)), _ask(flask_only, path, dict(headers))
        assert ours.status_code == theirs.status_code, path
        assert ours.data == theirs.data, path
        assert _comparable(ours.headers.to_wsgi_list()) == _comparable(
            theirs.headers.to_wsgi_list()
        ), (path, headers)
    # Flask saw every request of the app without the fast path, and only the unusual ones of
    # the app with it.
    assert len(reached_flask) == len(plain) + len(unusual)
    assert len(reached_fast) == len(unusual), "\n".join(reached_fast)


def test_fast_path_counts_its_tiles(pair: tuple[Flask, Flask, list[str], list[str]]) -> None:
    fast, _, reached, _ = pair
    labels = {"family": "tiles", "layer": "roads", "zoom": "z11-14", "status": "200"}
    before = REGISTRY.get_sample_value("webmap_http_requests_total", labels) or 0.0
    answer = fast.test_client().get(f"/tiles/roads/14/{Z14.x}/{Z14.y}.mvt")
    assert answer.status_code == 200 and reached == []
    assert REGISTRY.get_sample_value("webmap_http_requests_total", labels) == before + 1
    assert _timing_names(answer.headers["Server-Timing"])[-1] == "total"
