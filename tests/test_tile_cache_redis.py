"""The shared tile cache against a real Redis: the one scripts/install.sh starts on 6379, or one of
our own (tests/throwaway_redis.py); skipped only when redis-server is not installed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.throwaway_redis import redis_for_tests
from tiles.cache import CachedTile, LayeredTileCache, MemoryTileCache, RedisTileCache, TileKey
from webmap import create_app


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_for_tests() as url:
        yield url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    client.ping()
    yield client
    client.close()


def test_redis_cache_round_trip_and_expiry(redis_client: redis.Redis) -> None:
    prefix = f"webmap-test:{uuid.uuid4().hex}:"
    cache = RedisTileCache(redis_client, ttl=60, prefix=prefix)
    key = TileKey("basemap", "abc", 15, 18028, 9635)
    assert cache.get(key) is None
    cache.put(key, CachedTile(b"raw-bytes").with_gzip())
    found = cache.get(key)
    assert found is not None and found.body == b"raw-bytes" and found.gzipped
    assert 0 < redis_client.ttl(f"{prefix}basemap:abc:15:18028:9635:raw") <= 60
    redis_client.delete(*redis_client.keys(f"{prefix}*"))


def test_layered_cache_fills_the_near_cache_from_redis(redis_client: redis.Redis) -> None:
    far = RedisTileCache(redis_client, ttl=60, prefix=f"webmap-test:{uuid.uuid4().hex}:")
    key = TileKey("basemap", "v", 1, 0, 0)
    far.put(key, CachedTile(b"from another worker"))
    near = MemoryTileCache(1024)
    layered = LayeredTileCache(near, far)
    assert layered.get(key) == CachedTile(b"from another worker")
    assert near.get(key) == CachedTile(b"from another worker")


def test_unreachable_redis_is_a_miss_not_an_error() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    cache = RedisTileCache(client)
    key = TileKey("basemap", "v", 0, 0, 0)
    cache.put(key, CachedTile(b"x"))
    assert cache.get(key) is None


def test_app_serves_tiles_through_redis(
    redis_url: str, redis_client: redis.Redis, sample_database: str
) -> None:
    app = create_app({"database_url": sample_database, "redis_url": redis_url})
    client = app.test_client()
    first = client.get("/tiles/basemap/5/17/9.mvt")
    version = client.get("/tiles/basemap.json").get_json()["tiles"][0].rsplit("=", 1)[1]
    stored = redis_client.get(f"webmap:tile:basemap:{version}:5:17:9:raw")
    app.extensions["webmap.pool"].close()
    assert first.status_code == 200
    assert stored == first.data
