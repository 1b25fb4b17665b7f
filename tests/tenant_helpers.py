"""Two municipalities with a publisher each, an instance administrator, and layers of both, for
the tenancy tests (tests/test_tenants*.py): real PostGIS, real uploads through the API."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import psycopg
from flask.testing import FlaskClient

from layers.municipalities import MunicipalityExists, add_municipality
from staff.accounts import set_user
from staff.tenancy import grant
from staff.tokens import create_token
from tests.layers_helpers import upload

DATA = Path(__file__).resolve().parent.parent / "data"
BOUNDARIES = DATA / "lantmateriet" / "ak_riks.zip"
SUNDSVALL, HARNOSAND = "2281", "2280"
PASSWORD = "a long enough password 12"
# A point in central Sundsvall and one in Härnösand (WGS 84).
SUNDSVALL_POINT = (17.3069, 62.3908)
HARNOSAND_POINT = (17.9379, 62.6323)


@dataclass(frozen=True)
class Tenants:
    """Bearer headers of each actor and the names of each municipality's layers."""

    sundsvall: dict[str, str]  # publisher of 2281
    harnosand: dict[str, str]  # publisher of 2280
    admin: dict[str, str]  # instance administrator
    sundsvall_reader: dict[str, str]  # read-only token of 2281
    sundsvall_private: str
    sundsvall_public: str
    harnosand_private: str
    sundsvall_user: str
    harnosand_user: str


def ensure_municipalities(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    for code in (SUNDSVALL, HARNOSAND):
        with contextlib.suppress(MunicipalityExists):  # another module of this run added it
            add_municipality(conn, code, BOUNDARIES)


def points(lon: float, lat: float, label: str) -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon + i * 0.001, lat]},
            "properties": {"label": f"{label} {i}"},
        }
        for i in range(3)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def bearer(
    database_url: str, name: str, scope: str = "publish", **rights: object
) -> dict[str, str]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        _info, secret = create_token(conn, name, scope, **rights)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {secret}"}


def set_up(database_url: str, client: FlaskClient, prefix: str) -> Tenants:
    """Municipalities, logins, tokens, and layers named ``{prefix}_…`` published by their own
    municipality's publisher (two versions each, so rollback has somewhere to go)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_municipalities(conn)
        users = (f"{prefix}.sundsvall", f"{prefix}.harnosand")
        for user, code in zip(users, (SUNDSVALL, HARNOSAND), strict=True):
            set_user(conn, user, PASSWORD)
            grant(conn, user, code, "publisher")
    tenants = Tenants(
        sundsvall=bearer(database_url, f"{prefix}-s", roles={SUNDSVALL: "publisher"}),
        harnosand=bearer(database_url, f"{prefix}-h", roles={HARNOSAND: "publisher"}),
        admin=bearer(database_url, f"{prefix}-admin", instance_admin=True),
        sundsvall_reader=bearer(database_url, f"{prefix}-sr", "read", roles={SUNDSVALL: "admin"}),
        sundsvall_private=f"{prefix}_s_private",
        sundsvall_public=f"{prefix}_s_public",
        harnosand_private=f"{prefix}_h_private",
        sundsvall_user=users[0],
        harnosand_user=users[1],
    )
    layers = (
        (tenants.sundsvall, tenants.sundsvall_private, "false", SUNDSVALL_POINT),
        (tenants.sundsvall, tenants.sundsvall_public, "true", SUNDSVALL_POINT),
        (tenants.harnosand, tenants.harnosand_private, "false", HARNOSAND_POINT),
    )
    for headers, name, public, (lon, lat) in layers:
        first = upload(client, headers, points(lon, lat, "v1"), "p.geojson", name, public=public)
        assert first.status_code == 201, first.get_json()
        second = upload(client, headers, points(lon, lat, "v2"), "p.geojson", name, method="PUT")
        assert second.status_code == 200, second.get_json()
    return tenants
