"""The publishing facade on a real database: the lock every change takes, version numbers that are
never reused, the sample loader's skip, one writer for uploads and the sample, layer kinds."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from layers.errors import InvalidInput, LayerNotFound
from layers.ingest import LayerExists
from layers.kinds import RASTER, VECTOR
from layers.publishing import LayerChanges, Publishing, SourceFile
from layers.sample import SampleLayer, load_sample, publish_sample_layer
from layers.store import LayerSpec
from tests.conftest import DATA_DIR
from tests.raster_helpers import write_geotiff


@pytest.fixture
def conn(sample_database: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(sample_database) as connection:
        yield connection


@pytest.fixture
def publishing(tmp_path: Path) -> Publishing:
    return Publishing(raster_dir=tmp_path / "rasters", keep_versions=5)


def _circle(lon: float, lat: float, radius: float, n: int) -> list[list[float]]:
    ring = [
        [lon + radius * math.cos(2 * math.pi * i / n), lat + radius * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    return [*ring, ring[0]]


def _polygons(path: Path, count: int = 3) -> Path:
    """A GeoJSON of polygons in Stockholm: detailed ones, a simple block and a one-metre speck."""
    features = [
        {
            "type": "Feature",
            "properties": {"kind": "block"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [_circle(18.07, 59.338, 0.002, 4)],
            },
        },
        {
            "type": "Feature",
            "properties": {"kind": "speck"},
            "geometry": {"type": "Polygon", "coordinates": [_circle(18.08, 59.338, 0.000005, 4)]},
        },
    ]
    for i in range(count):
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": f"lake{i}"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [_circle(18.0 + 0.05 * i, 59.3, 0.02, 400)],
                },
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _live(conn: psycopg.Connection[Any], name: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT version, title, public FROM webmap.layers WHERE name = %s", [name]
    ).fetchone()
    assert row is not None
    return {"version": row[0], "title": row[1], "public": row[2]}


def test_a_metadata_change_waits_for_an_upload_and_is_not_lost(
    sample_database: str, publishing: Publishing, tmp_path: Path
) -> None:
    data = _polygons(tmp_path / "lakes.geojson")
    with psycopg.connect(sample_database) as conn:
        publishing.publish(conn, LayerSpec("race_meta", "First"), SourceFile(data, data.name))
    storing, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "storing" and not storing.is_set():
            storing.set()  # inside the upload's transaction, under the layer's lock
            release.wait(60)

    def upload() -> None:
        try:
            with psycopg.connect(sample_database) as conn:
                changes = LayerChanges(title="From the upload")
                publishing.replace(
                    conn, "race_meta", SourceFile(data, data.name), changes, progress
                )
        except BaseException as exc:
            errors.append(exc)

    def patch() -> None:
        try:
            with psycopg.connect(sample_database) as conn:
                publishing.update_metadata(conn, "race_meta", LayerChanges(title="From PATCH"))
        except BaseException as exc:
            errors.append(exc)

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert storing.wait(60), "the upload never reached its transaction"
    patcher = threading.Thread(target=patch)
    patcher.start()
    patcher.join(1.5)
    waited = patcher.is_alive()
    release.set()
    uploader.join(60)
    patcher.join(60)
    assert not errors, errors
    assert waited, "the metadata change did not wait for the upload's lock"
    with psycopg.connect(sample_database) as conn:
        live = _live(conn, "race_meta")
    assert live == {"version": 2, "title": "From PATCH", "public": True}


def test_a_new_version_keeps_metadata_changed_since_the_caller_read_it(
    conn: psycopg.Connection[Any], publishing: Publishing, tmp_path: Path
) -> None:
    data = _polygons(tmp_path / "lakes.geojson", 1)
    publishing.publish(conn, LayerSpec("keep_meta", "Old"), SourceFile(data, data.name))
    publishing.update_metadata(conn, "keep_meta", LayerChanges(title="New", attribution="© X"))
    publishing.replace(conn, "keep_meta", SourceFile(data, data.name))
    row = conn.execute(
        "SELECT title, attribution, version FROM webmap.layers WHERE name = 'keep_meta'"
    ).fetchone()
    assert row == ("New", "© X", 2)
    publishing.replace(conn, "keep_meta", SourceFile(data, data.name), LayerChanges(title="T"))
    assert _live(conn, "keep_meta")["title"] == "T"
    with pytest.raises(LayerNotFound):
        publishing.replace(conn, "no_such_layer", SourceFile(data, data.name))
    with pytest.raises(LayerExists):
        publishing.publish(conn, LayerSpec("keep_meta", "Again"), SourceFile(data, data.name))
    with pytest.raises(InvalidInput):
        publishing.update_metadata(conn, "keep_meta", LayerChanges(title="  "))


def test_update_metadata_fails_with_layer_busy_when_the_wait_times_out(
    sample_database: str, publishing: Publishing, tmp_path: Path
) -> None:
    data = _polygons(tmp_path / "lakes.geojson", 1)
    with psycopg.connect(sample_database) as conn:
        publishing.publish(conn, LayerSpec("busy_meta", "Busy"), SourceFile(data, data.name))
    from layers.versions import LayerBusy, lock_layer

    with psycopg.connect(sample_database) as holder, holder.transaction():
        lock_layer(holder, "busy_meta")
        with (
            psycopg.connect(sample_database, options="-c statement_timeout=300") as other,
            pytest.raises(LayerBusy),
        ):
            publishing.update_metadata(other, "busy_meta", LayerChanges(title="Lost?"))
    with psycopg.connect(sample_database) as conn:
        assert _live(conn, "busy_meta")["title"] == "Busy"


def test_loading_the_sample_twice_publishes_nothing_the_second_time(
    conn: psycopg.Connection[Any],
) -> None:
    before = _live(conn, "counties")
    outcome = load_sample(conn, DATA_DIR, only={"counties"})["counties"]
    assert not outcome.published
    assert outcome.version == before["version"]
    assert outcome.features == 21
    assert _live(conn, "counties") == before


def _probe_layer(name: str, path: str) -> SampleLayer:
    from layers.catalog import FieldInfo

    return SampleLayer(
        LayerSpec(name, f"Probe {name}"),
        path,
        4326,
        (FieldInfo("kind", "text"),),
        lambda a: {"kind": a["kind"]},
    )


def test_a_deleted_sample_layer_reloads_with_a_version_never_used_before(
    conn: psycopg.Connection[Any], publishing: Publishing, tmp_path: Path
) -> None:
    _polygons(tmp_path / "probe.geojson", 1)
    layer = _probe_layer("sample_probe", "probe.geojson")
    first = publish_sample_layer(conn, layer, tmp_path)
    assert first.published and first.version == 1
    assert not publish_sample_layer(conn, layer, tmp_path).published
    assert publish_sample_layer(conn, layer, tmp_path, force=True).version == 2
    # A changed source is published again without force.
    _polygons(tmp_path / "probe.geojson", 2)
    changed = publish_sample_layer(conn, layer, tmp_path)
    assert changed.published and changed.version == 3 and changed.features == 4
    assert publishing.delete(conn, "sample_probe") == [2, 3]  # the sample keeps one old version
    again = publish_sample_layer(conn, layer, tmp_path)
    assert again.published
    assert again.version == 4, "v1–v3 tile URLs are cached as immutable: never reuse them"


def _overview_states(conn: psycopg.Connection[Any], table: str) -> dict[tuple[str, int], Any]:
    states = {}
    for zoom in (3, 6, 9, 12):
        column = f"geom_z{zoom}"
        rows = conn.execute(
            f"SELECT kind, {column} IS NULL, ST_IsEmpty({column}), ST_NPoints({column}), "
            f"ST_AsBinary({column}) FROM layerdata.{table}"
        ).fetchall()
        for kind, is_null, is_empty, points, wkb in rows:
            state = "null" if is_null else "empty" if is_empty else "copy"
            states[kind, zoom] = (state, points, bytes(wkb) if wkb else None)
    return states


def test_sample_layers_and_uploads_get_the_same_overview_columns(
    conn: psycopg.Connection[Any], publishing: Publishing, tmp_path: Path
) -> None:
    _polygons(tmp_path / "same.geojson", 3)
    upload = SourceFile(tmp_path / "same.geojson", "same.geojson")
    uploaded = publishing.publish(conn, LayerSpec("same_upload", "Upload"), upload)
    sample = publish_sample_layer(conn, _probe_layer("same_sample", "same.geojson"), tmp_path)
    ours = _overview_states(conn, f"same_upload_v{uploaded.version}")
    theirs = _overview_states(conn, f"same_sample_v{sample.version}")
    assert ours.keys() == theirs.keys()
    assert ours[("block", 9)][0] == "null" and ours[("speck", 9)][0] == "empty"
    assert ours[("lake0", 3)][0] == "empty" and ours[("lake0", 9)][0] == "copy"
    for key, (state, points, wkb) in ours.items():
        assert theirs[key][:2] == (state, points), key
        if state == "copy":
            # pyproj (upload) and PostGIS (sample) transform: equal to well under a millimetre.
            distance = conn.execute(
                "SELECT ST_HausdorffDistance(ST_GeomFromWKB(%s), ST_GeomFromWKB(%s))",
                [wkb, theirs[key][2]],
            ).fetchone()
            assert distance is not None and distance[0] < 0.001, key


def test_making_a_public_layer_private_moves_it_to_a_new_version(
    conn: psycopg.Connection[Any], publishing: Publishing, tmp_path: Path
) -> None:
    data = _polygons(tmp_path / "lakes.geojson", 1)
    publishing.publish(conn, LayerSpec("vis_probe", "Visibility"), SourceFile(data, data.name))
    publishing.replace(conn, "vis_probe", SourceFile(data, data.name))
    assert publishing.set_visibility(conn, "vis_probe", False) == 3
    assert _live(conn, "vis_probe") == {"version": 3, "title": "Visibility", "public": False}
    stored = conn.execute(
        "SELECT version, table_name FROM webmap.layer_versions "
        "WHERE layer_name = 'vis_probe' ORDER BY version"
    ).fetchall()
    assert stored == [(1, "vis_probe_v1"), (3, "vis_probe_v2")]  # same table, no copy
    assert publishing.set_visibility(conn, "vis_probe", True) == 3  # publishing keeps it
    assert publishing.set_visibility(conn, "vis_probe", True) == 3
    assert publishing.rollback(conn, "vis_probe") == 1
    publishing.delete(conn, "vis_probe")
    again = publishing.publish(conn, LayerSpec("vis_probe", "Again"), SourceFile(data, data.name))
    assert again.version == 4


def test_kinds_decide_rollback_and_delete(
    conn: psycopg.Connection[Any], publishing: Publishing, tmp_path: Path
) -> None:
    tif = write_geotiff(tmp_path / "dem.tif", np.arange(64, dtype="float32").reshape(1, 8, 8))
    spec = LayerSpec("kind_raster", "Raster")
    first = publishing.publish(conn, spec, SourceFile(tif, tif.name))
    second = publishing.replace(conn, "kind_raster", SourceFile(tif, tif.name))
    assert (first.version, second.version) == (1, 2)
    assert publishing.kind_of(conn, "kind_raster").name == RASTER
    # The file of version 1 is gone: rolling back to it would serve nothing.
    (publishing.raster_dir / first.report["file"]).unlink()
    with pytest.raises(LayerNotFound, match="gone"):
        publishing.rollback(conn, "kind_raster", 1)
    assert publishing.delete(conn, "kind_raster") == [1, 2]
    assert not list(publishing.raster_dir.glob("kind_raster_*"))

    data = _polygons(tmp_path / "lakes.geojson", 1)
    publishing.publish(conn, LayerSpec("kind_vector", "Vector"), SourceFile(data, data.name))
    publishing.replace(conn, "kind_vector", SourceFile(data, data.name))
    assert publishing.kind_of(conn, "kind_vector").name == VECTOR
    with conn.transaction():
        conn.execute("DROP TABLE layerdata.kind_vector_v1")
    with pytest.raises(LayerNotFound, match="gone"):
        publishing.rollback(conn, "kind_vector", 1)
    with pytest.raises(InvalidInput, match="vector layer"):
        publishing.replace(conn, "kind_vector", SourceFile(tif, tif.name))
    assert publishing.delete(conn, "kind_vector") == [1, 2]
    with pytest.raises(LayerNotFound):
        publishing.delete(conn, "kind_vector")


def test_pruning_raster_versions_waits_for_the_layer_lock(
    sample_database: str, publishing: Publishing, tmp_path: Path
) -> None:
    """A prune that ran beside a rollback could delete the version being made live."""
    from layers.raster import prune_raster_versions
    from layers.versions import LayerBusy, lock_layer

    tif = write_geotiff(tmp_path / "dem.tif", np.arange(64, dtype="float32").reshape(1, 8, 8))
    with psycopg.connect(sample_database) as conn:
        publishing.publish(conn, LayerSpec("prune_lock", "Prune"), SourceFile(tif, tif.name))
        publishing.replace(conn, "prune_lock", SourceFile(tif, tif.name))
    with psycopg.connect(sample_database) as holder, holder.transaction():
        lock_layer(holder, "prune_lock")
        with (
            psycopg.connect(sample_database, options="-c statement_timeout=300") as other,
            pytest.raises(LayerBusy),
        ):
            prune_raster_versions(other, "prune_lock", 0, publishing.raster_dir)
    with psycopg.connect(sample_database) as conn:
        assert prune_raster_versions(conn, "prune_lock", 0, publishing.raster_dir) == [1]
