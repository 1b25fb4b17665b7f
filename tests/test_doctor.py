"""``webmap doctor`` against a good configuration (exit 0, nothing to fix) and broken ones (exit 1,
the problem named): real PostgreSQL, a throwaway Redis, real folders and the shipped nginx
template, through the CLI as an operator runs it."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from layers.schema import newest_revision
from tests.app_helpers import scratch_database
from tests.throwaway_pg import free_port
from tests.throwaway_redis import redis_for_tests
from webmap.cli import main
from webmap.cli.nginx_config import TEMPLATE


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_for_tests() as url:
        yield url


@pytest.fixture(scope="module")
def tls_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An operator's copy of the template with a TLS listener (docs/deploy.md, TLS)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    listen = "        listen @LISTEN@"
    assert listen in text
    copy = tmp_path_factory.mktemp("etc") / "nginx.conf.template"
    copy.write_text(
        text.replace(listen, "        listen 0.0.0.0:443 ssl http2;\n" + listen, 1),
        encoding="utf-8",
    )
    return copy


@pytest.fixture
def good(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """A production-like configuration with nothing to fix."""
    return {
        "WEBMAP_DATABASE_URL": database_url,
        "WEBMAP_SECRET_KEY": secrets.token_urlsafe(48),
        "WEBMAP_SECURE_COOKIES": "true",
        "WEBMAP_PROXY_HOPS": "1",
        "WEBMAP_REDIS_URL": redis_url,
        "WEBMAP_RASTER_DIR": str(tmp_path / "rasters"),
        "WEBMAP_EMBED_ORIGINS": "https://e-tjanst.example.se, http://localhost:5173",
    }


def doctor(env: dict[str, str], *args: str) -> Result:
    """``webmap doctor`` with exactly these WEBMAP_* variables in the environment."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("WEBMAP_")}
    return CliRunner().invoke(main, ["doctor", *args], env={**clean, **env})


def _findings(result: Result) -> dict[str, dict[str, Any]]:
    return {f["check"]: f for f in json.loads(result.output)["findings"]}


def test_a_good_configuration_passes(good: dict[str, str], tls_template: Path) -> None:
    result = doctor(good, "--nginx-template", str(tls_template), "--strict")
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output
    for check in ("database", "postgresql", "postgis", "migrations", "secret-key", "cookies",
                  "proxy", "embed-origins", "redis", "raster-folder", "nginx", "gdal"):  # fmt: skip
        assert f"ok       {check}" in result.output, result.output
    assert newest_revision() in result.output


def test_json_output(good: dict[str, str], tls_template: Path) -> None:
    result = doctor(good, "--json", "--nginx-template", str(tls_template))
    assert result.exit_code == 0, result.output
    findings = _findings(result)
    assert json.loads(result.output)["ok"] is True
    assert findings["redis"] == {
        "check": "redis",
        "level": "ok",
        "message": "Redis answers",
        "fix": "",
    }


def _broken(tmp_path: Path) -> dict[str, tuple[dict[str, str], str, str]]:
    """name → (settings changed from the good ones, failing check, words of its message)."""
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    return {
        "dev secret key": (
            {"WEBMAP_SECRET_KEY": "dev-only-change-me"},
            "secret-key",
            "WEBMAP_SECRET_KEY is the development value",
        ),
        "unreachable redis": (
            {"WEBMAP_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
            "redis",
            "Redis at WEBMAP_REDIS_URL does not answer",
        ),
        "unwritable raster folder": (
            {"WEBMAP_RASTER_DIR": str(a_file / "rasters")},
            "raster-folder",
            f"cannot write in the raster folder {a_file / 'rasters'}",
        ),
        "malformed origin": (
            {"WEBMAP_EMBED_ORIGINS": "https://ok.example.se,e-tjanst.example.se/ansokan"},
            "embed-origins",
            "entries that are not origins: e-tjanst.example.se/ansokan",
        ),
        "plain-http basemap hosts": (
            {"WEBMAP_INSECURE_BASEMAP_HOSTS": "localhost"},
            "basemap-hosts",
            "is for tests and development",
        ),
        "unreachable database": (
            {"WEBMAP_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/webmap"},
            "database",
            "cannot connect to 127.0.0.1:",
        ),
        "insecure cookies behind TLS": (
            {"WEBMAP_SECURE_COOKIES": "false"},
            "cookies",
            "nginx terminates TLS",
        ),
        "invalid setting": (
            {"WEBMAP_PROXY_HOPS": "9"},
            "settings",
            "WEBMAP_PROXY_HOPS: Input should be less than or equal to 5",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "dev secret key",
        "unreachable redis",
        "unwritable raster folder",
        "malformed origin",
        "plain-http basemap hosts",
        "unreachable database",
        "insecure cookies behind TLS",
        "invalid setting",
    ],
)
def test_a_broken_configuration_fails_naming_the_problem(
    case: str, good: dict[str, str], tls_template: Path, tmp_path: Path
) -> None:
    change, check, words = _broken(tmp_path)[case]
    result = doctor({**good, **change}, "--json", "--nginx-template", str(tls_template))
    assert result.exit_code == 1, result.output
    findings = _findings(result)
    assert findings[check]["level"] == "error", findings[check]
    assert words in findings[check]["message"], findings[check]
    assert findings[check]["fix"]
    errors = [name for name, f in findings.items() if f["level"] == "error"]
    assert errors == [check], errors  # nothing else is blamed


def test_an_unmigrated_database(
    good: dict[str, str], tls_template: Path, database_url: str
) -> None:
    with scratch_database(database_url, "doctor") as url:
        result = doctor({**good, "WEBMAP_DATABASE_URL": url}, "--nginx-template", str(tls_template))
    assert result.exit_code == 1
    assert "ERROR    migrations" in result.output
    assert f"the schema is at nothing (never migrated); this code needs {newest_revision()}" in (
        result.output
    )
    assert "fix: Run `webmap db upgrade`" in result.output
    assert "ERROR    postgis" in result.output  # the extensions come with the migrations


def test_warnings_alone_exit_0_unless_strict(good: dict[str, str]) -> None:
    """The shipped template has no TLS listener: secure cookies then only earn a warning, as does
    a misspelt variable."""
    env = {**good, "WEBMAP_SECURE_COOKIES": "false", "WEBMAP_SECRET_KEYS": "x"}
    relaxed = doctor(env)
    assert relaxed.exit_code == 0, relaxed.output
    assert "WARNING  cookies" in relaxed.output
    assert "WEBMAP_SECRET_KEYS is not a setting" in relaxed.output
    assert doctor(env, "--strict").exit_code == 2
