"""A tileset served from its exported PMTiles archive (``WEBMAP_TILE_ARCHIVES``): the same
answers, byte for byte, as rendered from the database, with no database at all; the archive
file itself answers HTTP Range requests, so a PMTiles client reads tiles out of it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import morecantile
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pmtiles.reader import Reader
from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from tests.app_helpers import app_with
from tests.server_helpers import serve_in_thread
from webmap.cli import main

BBOX = "18.075,59.335,18.09,59.342"
#: A database that does not exist: any attempt to use it would answer 503.
NO_DATABASE = "postgresql://postgres@127.0.0.1:5432/webmap_no_such_database"
TMS = morecantile.tms.get("WebMercatorQuad")
HEADERS = ("Content-Type", "Content-Encoding", "ETag", "Cache-Control", "Vary")


@pytest.fixture(scope="module")
def live(sample_database: str) -> Iterator[Flask]:
    with app_with(sample_database) as application:
        yield application


@pytest.fixture(scope="module")
def archive(live: Flask, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "basemap.pmtiles"
    done = live.test_cli_runner().invoke(
        main,
        ["tiles", "export", "basemap", "--maxzoom", "13", "--bbox", BBOX, "-o", str(path)],
    )
    assert done.exit_code == 0, done.output
    return path


@pytest.fixture(scope="module")
def served(archive: Path) -> Iterator[FlaskClient]:
    """The app with no database, serving the basemap from the archive."""
    with app_with(NO_DATABASE, tile_archives=f"basemap={archive}") as application:
        yield application.test_client()


def _addresses() -> Iterator[tuple[int, int, int]]:
    west, south, east, north = (float(v) for v in BBOX.split(","))
    for z in range(0, 14):
        first, last = TMS.tile(west, north, z), TMS.tile(east, south, z)
        for x in range(first.x, last.x + 1):
            for y in range(first.y, last.y + 1):
                yield z, x, y


def test_tiles_are_the_live_bytes_without_a_database(live: Flask, served: FlaskClient) -> None:
    database = live.test_client()
    version = database.get("/tiles/basemap.json").get_json()["tiles"][0].split("?v=")[1]
    drawn = 0
    for z, x, y in _addresses():
        url = f"/tiles/basemap/{z}/{x}/{y}.mvt?v={version}"
        for encoding in ({"Accept-Encoding": "gzip"}, {}):
            want, got = database.get(url, headers=encoding), served.get(url, headers=encoding)
            assert (got.status_code, got.data) == (want.status_code, want.data), (z, x, y)
            assert [got.headers.get(h) for h in HEADERS] == [want.headers.get(h) for h in HEADERS]
        drawn += bool(want.data)
    assert drawn >= 14  # every zoom has a tile with features: not a comparison of empties
    # Past the archive's maxzoom (13, in its TileJSON) clients overzoom; asked anyway: empty.
    deeper = served.get(f"/tiles/basemap/14/9014/4817.mvt?v={version}")
    assert deeper.status_code == 200 and deeper.data == b""
    old = served.get("/tiles/basemap/0/0/0.mvt?v=old")
    assert old.status_code == 302 and old.location.endswith(f"?v={version}")
    etag = served.get(f"/tiles/basemap/0/0/0.mvt?v={version}").headers["ETag"]
    again = served.get(f"/tiles/basemap/0/0/0.mvt?v={version}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert served.get("/tiles/roads/0/0/0.mvt").status_code == 503  # roads needs the database


def test_tilejson_points_at_this_server(live: Flask, served: FlaskClient) -> None:
    want = live.test_client().get("/tiles/basemap.json").get_json()
    got = served.get("/tiles/basemap.json").get_json()
    assert got["tiles"] == want["tiles"]  # same URLs, same ?v=
    for key in ("vector_layers", "attribution", "name", "webmap:max_tile_bytes"):
        assert got[key] == want[key]
    assert got["maxzoom"] == 13 and got["bounds"] == [float(v) for v in BBOX.split(",")]


def test_the_basemap_styles_need_no_database(live: Flask, served: FlaskClient) -> None:
    for style in ("/styles/basemap.json", "/styles/basemap-dark.json"):
        want, got = live.test_client().get(style), served.get(style)
        assert got.status_code == 200 and got.get_json() == want.get_json()


def test_archive_file_answers_range_requests(served: FlaskClient, archive: Path) -> None:
    with served.get("/tiles/basemap.pmtiles") as whole:  # closes the file send_file opened
        assert whole.status_code == 200 and whole.data == archive.read_bytes()
        assert whole.headers["Accept-Ranges"] == "bytes"
    size = archive.stat().st_size

    def get_bytes(offset: int, length: int) -> bytes:
        asked = {"Range": f"bytes={offset}-{offset + length - 1}"}
        with served.get("/tiles/basemap.pmtiles", headers=asked) as part:
            assert part.status_code == 206, part.status_code
            assert part.headers["Content-Range"] == f"bytes {offset}-{offset + length - 1}/{size}"
            return part.data

    # A PMTiles client over HTTP: header, directory, tile, each one Range request.
    tile = Reader(get_bytes).get(13, 4507, 2408)
    assert (
        tile
        and tile
        == served.get("/tiles/basemap/13/4507/2408.mvt", headers={"Accept-Encoding": "gzip"}).data
    )
    with served.get("/tiles/basemap.pmtiles", headers={"Range": f"bytes={size + 10}-"}) as beyond:
        assert beyond.status_code == 416 and beyond.is_json
    assert served.get("/tiles/roads.pmtiles").status_code == 404


def test_an_unreadable_archive_is_a_503(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pmtiles"
    junk.write_bytes(b"not an archive")
    with app_with(NO_DATABASE, tile_archives=f"basemap={junk}") as application:
        answer = application.test_client().get("/tiles/basemap/0/0/0.mvt")
    assert answer.status_code == 503 and answer.get_json()["type"].endswith("archive-unavailable")


def test_a_new_export_is_picked_up(live: Flask, archive: Path, tmp_path: Path) -> None:
    path = tmp_path / "basemap.pmtiles"
    path.write_bytes(archive.read_bytes())
    with app_with(NO_DATABASE, tile_archives=f"basemap={path}") as application:
        client = application.test_client()
        assert client.get("/tiles/basemap.json").get_json()["maxzoom"] == 13
        done = live.test_cli_runner().invoke(
            main, ["tiles", "export", "basemap", "--maxzoom", "2", "-o", str(path)]
        )
        assert done.exit_code == 0, done.output
        assert client.get("/tiles/basemap.json").get_json()["maxzoom"] == 2


def _static_host(folder: Path) -> Any:
    """A plain static web server for ``folder`` (as a CDN or nginx would be: Range, ETag)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        target = folder / Request(environ).path.lstrip("/")
        if not target.is_file():
            return Response(status=404)(environ, start_response)
        return send_file(target, environ, conditional=True)(environ, start_response)

    return app


def test_an_archive_on_a_static_host(
    live: Flask, served: FlaskClient, archive: Path, tmp_path: Path
) -> None:
    (tmp_path / "basemap.pmtiles").write_bytes(archive.read_bytes())
    with (
        serve_in_thread(_static_host(tmp_path), "/basemap.pmtiles") as host,
        app_with(NO_DATABASE, tile_archives=f"basemap={host}/basemap.pmtiles") as application,
    ):
        remote = application.test_client()
        gzip_only = {"Accept-Encoding": "gzip"}
        for z, x, y in _addresses():
            url = f"/tiles/basemap/{z}/{x}/{y}.mvt"
            assert (
                remote.get(url, headers=gzip_only).data == served.get(url, headers=gzip_only).data
            )
        assert (
            remote.get("/tiles/basemap.json").get_json()
            == served.get("/tiles/basemap.json").get_json()
        )
        moved = remote.get("/tiles/basemap.pmtiles")
        assert moved.status_code == 302 and moved.location == f"{host}/basemap.pmtiles"
        # Re-exported on the host: the first read sees a new ETag (503, never a mix of the
        # two archives' directories and tiles), the next request opens the new archive.
        done = live.test_cli_runner().invoke(
            main,
            [
                "tiles",
                "export",
                "basemap",
                "--maxzoom",
                "2",
                "-o",
                str(tmp_path / "basemap.pmtiles"),
            ],
        )
        assert done.exit_code == 0, done.output
        assert remote.get("/tiles/basemap/0/0/0.mvt").status_code == 503
        assert remote.get("/tiles/basemap.json").get_json()["maxzoom"] == 2
    gone = application.test_client().get("/tiles/basemap/1/1/0.mvt")  # the host is down
    assert gone.status_code == 503 and gone.get_json()["type"].endswith("archive-unavailable")
