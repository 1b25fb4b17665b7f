"""A rolling upgrade: the previous release's read paths keep working on the upgraded schema.

Nodes are upgraded one by one (docs/operations.md, "Upgrading"): the first runs
``webmap db upgrade``, and until the last is done, nodes still running the previous release serve
from the new schema. So every migration must be *expand only* for one release (the rules in
docs/operations.md, "Writing migrations"). This test plays it through with real code:

1. the previous release (git commit :data:`PREVIOUS_RELEASE`, unpacked with ``git archive``)
   creates a scratch database and publishes a layer, as a node of that release would have;
2. the current code upgrades it and publishes the sample again (a new version, lookups);
3. the previous release's code, in a subprocess with ``PYTHONPATH`` on its tree, answers tiles,
   TileJSON, search, reverse, OGC API and ``/healthz`` from it (tests/old_release_reads.py).

Bump :data:`PREVIOUS_RELEASE` to the commit of each release when it is made.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from layers.lookup.sample import load_lookup_sample
from layers.sample import load_sample
from layers.schema import current_revision, newest_revision, upgrade
from tests.app_helpers import scratch_database

#: The last release nodes may still run while the database is upgraded under them.
PREVIOUS_RELEASE = "e02028e"
PROJECT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT / "data"
LAYER = "roads"  # a vector layer of the sample; z15 over Grev Turegatan has streets
PACKAGES = ("webmap", "tiles", "layers", "staff")
READS = Path(__file__).resolve().parent / "old_release_reads.py"


def _previous_release_tree(target: Path) -> Path:
    """The previous release's Python packages unpacked into ``target``, or a skip saying why."""
    git = shutil.which("git")
    if git is None or not (PROJECT / ".git").exists():
        pytest.skip("no git history (an exported tarball?): the previous release is not at hand")
    wanted = f"{PREVIOUS_RELEASE}^{{commit}}"
    commit = subprocess.run(
        [git, "-C", str(PROJECT), "rev-parse", "--verify", "--quiet", wanted],
        capture_output=True,
        text=True,
    )
    if commit.returncode != 0:
        pytest.skip(f"commit {PREVIOUS_RELEASE} is not in this clone's history (shallow clone?)")
    archive = subprocess.run(
        [git, "-C", str(PROJECT), "archive", "--format=tar", commit.stdout.strip(), *PACKAGES],
        capture_output=True,
        check=True,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def _old(tree: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the previous release's code (``python args…``) with only its tree on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBMAP_")}
    env.update(PYTHONPATH=str(tree), WEBMAP_DATABASE_URL=database_url)
    result = subprocess.run(
        [sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def old_answers(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """What the previous release's read paths answer from a database the current code upgraded."""
    tree = _previous_release_tree(tmp_path_factory.mktemp("previous-release"))
    with scratch_database(database_url, "rolling") as url:
        # 1. A database as the previous release left it, with a layer it published.
        _old(tree, url, "-m", "webmap.cli", "db", "init")
        _old(tree, url, "-m", "webmap.cli", "data", "load-sample", "--only", LAYER,
             "--data-dir", str(DATA_DIR))  # fmt: skip
        # 2. The current code migrates it and publishes (a new version of the layer, lookups).
        upgrade(url)
        with psycopg.connect(url) as conn:
            assert current_revision(conn) == newest_revision()
            load_sample(conn, DATA_DIR, only={LAYER}, force=True)
            load_lookup_sample(conn, DATA_DIR)
        # 3. The previous release reads it.
        answers = json.loads(_old(tree, url, str(READS), url, LAYER).stdout)
        yield answers


def test_the_reads_ran_the_previous_releases_code(old_answers: dict[str, Any]) -> None:
    assert not old_answers["webmap_file"].startswith(str(PROJECT))
    assert "previous-release" in old_answers["webmap_file"]


def test_healthz_answers_with_the_new_version(old_answers: dict[str, Any]) -> None:
    health = old_answers["healthz"]
    assert health["status"] == 200, health
    assert health["body"]["schema_revision"] == newest_revision()
    assert health["body"]["layers"][LAYER] == 2  # the version the current code published


def test_tilejson_and_a_vector_tile_with_features(old_answers: dict[str, Any]) -> None:
    assert old_answers["tilejson"]["status"] == 200
    assert old_answers["tilejson"]["tiles"][0].endswith("?v=2")
    tile = old_answers["tile"]
    assert tile["status"] == 200, tile
    assert tile["layers"].get(LAYER, 0) > 0, tile


def test_search_finds_a_sample_address(old_answers: dict[str, Any]) -> None:
    search = old_answers["search"]
    assert search["status"] == 200, search
    assert search["labels"][0].startswith("Grev Turegatan 3"), search


def test_reverse_finds_the_address_at_its_own_point(old_answers: dict[str, Any]) -> None:
    reverse = old_answers["reverse"]
    assert reverse["status"] == 200, reverse
    assert reverse["address"].startswith("Grev Turegatan 3"), reverse
    assert reverse["municipality"] == {"code": "0180", "name": "Stockholm"}


def test_ogc_collections_and_items(old_answers: dict[str, Any]) -> None:
    assert old_answers["ogc_collections"]["status"] == 200
    assert LAYER in old_answers["ogc_collections"]["ids"]
    assert old_answers["ogc_items"] == {"status": 200, "features": 5}
