"""Who may see and change what when one deployment serves several municipalities.

The rules (docs/security.md, "Who can do what"):

- An **instance administrator** (a login or token with ``instance_admin``) may do everything:
  create municipalities and staff, and read and change every layer, instance-wide ones included.
- A **publisher** of a municipality reads that municipality's private layers and publishes,
  versions, rolls back, edits and deletes its layers; an **admin** of a municipality may also
  change the municipality's settings (origins, default layers, theme, basemap).
- Everyone, anonymous callers included, reads **public** layers, whoever owns them.
- Another municipality's **private** layer does not exist for a caller (404, as for anonymous
  callers: its name is not disclosed by reads); **writing** to another municipality's layer, or
  to an instance-wide one without being an instance administrator, is refused (403).
- A read-only credential (token scope ``read``) never writes, whatever its roles.

Layer names stay unique in the deployment, so creating a layer whose name another municipality
uses still answers "exists" (409): that says the name is taken, not what the layer holds.

These functions raise the domain's errors (:class:`LayerNotFound`, :class:`PermissionDenied`);
``webmap`` maps them to HTTP in one place, and the API, ``/admin`` and the CLI share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from layers.errors import InvalidInput, LayerNotFound
from layers.municipalities import check_code
from staff.accounts import Principal
from staff.errors import PermissionDenied
from staff.tokens import ROLES, check_roles

ADMIN = "admin"
PUBLISHER = "publisher"


@dataclass(frozen=True)
class Ownership:
    """What the rules need to know about a layer: who owns it and whether it is public."""

    name: str
    public: bool
    municipality: str | None


# -- the rules (no database) -------------------------------------------------------------------


def may_read(principal: Principal | None, public: bool, municipality: str | None) -> bool:
    """Whether ``principal`` (None: anonymous) may read a layer."""
    if public:
        return True
    if principal is None:
        return False
    if principal.instance_admin:
        return True
    return municipality is not None and municipality in principal.roles


def may_write(principal: Principal, municipality: str | None) -> bool:
    """Whether ``principal`` may change a layer owned by ``municipality`` (None: instance-wide)."""
    if not principal.can_publish:
        return False
    if principal.instance_admin:
        return True
    return municipality is not None and principal.roles.get(municipality) in ROLES


def check_write(principal: Principal, layer: Ownership) -> None:
    """Raise :class:`PermissionDenied` unless ``principal`` may change ``layer``."""
    if may_write(principal, layer.municipality):
        return
    if not principal.can_publish:
        raise PermissionDenied(f"The token {principal.name!r} may only read.")
    if layer.municipality is None:
        raise PermissionDenied(
            f"The layer {layer.name!r} belongs to the whole instance: only an instance "
            "administrator may change it."
        )
    raise PermissionDenied(
        f"The layer {layer.name!r} belongs to another municipality than {principal.name!r}'s."
    )


def owner_for_new_layer(principal: Principal, requested: str | None) -> str | None:
    """The municipality a new layer from ``principal`` belongs to.

    ``requested`` (a code, or ``""``/``"instance"`` for an instance-wide layer) must be one the
    principal publishes for; without it, a principal of exactly one municipality publishes for
    that one and an instance administrator publishes instance-wide."""
    if not principal.can_publish:
        raise PermissionDenied(f"The token {principal.name!r} may only read.")
    if requested is not None and requested.strip().lower() in ("", "instance"):
        if not principal.instance_admin:
            raise PermissionDenied("Only an instance administrator publishes instance-wide layers.")
        return None
    if requested is not None:
        code = check_code(requested.strip())
        if not may_write(principal, code):
            raise PermissionDenied(f"{principal.name!r} does not publish for municipality {code}.")
        return code
    if principal.instance_admin:
        return None
    if len(principal.roles) == 1:
        return next(iter(principal.roles))
    if not principal.roles:
        raise PermissionDenied(f"{principal.name!r} publishes for no municipality yet.")
    raise InvalidInput(
        "Say which municipality the layer belongs to (field municipality): one of "
        f"{', '.join(sorted(principal.roles))}."
    )


def may_manage(principal: Principal, code: str) -> bool:
    """Whether ``principal`` may change municipality ``code``'s settings."""
    return principal.can_publish and (
        principal.instance_admin or principal.roles.get(code) == ADMIN
    )


def check_manage(principal: Principal, code: str) -> None:
    """Raise :class:`PermissionDenied` unless ``principal`` may change ``code``'s settings."""
    if not may_manage(principal, code):
        raise PermissionDenied(
            f"Only an admin of municipality {code} or an instance administrator changes its "
            "settings."
        )


def check_instance_admin(principal: Principal) -> None:
    """Raise :class:`PermissionDenied` unless ``principal`` is an instance administrator."""
    if not (principal.instance_admin and principal.can_publish):
        raise PermissionDenied("Only an instance administrator may do this.")


def visible_municipalities(principal: Principal) -> frozenset[str] | None:
    """The municipalities whose private layers ``principal`` reads; None: all of them."""
    return None if principal.instance_admin else frozenset(principal.roles)


# -- with the database -------------------------------------------------------------------------


def ownership(conn: psycopg.Connection[Any], name: str) -> Ownership | None:
    """Owner and visibility of layer ``name``, or None when there is no such layer."""
    row = conn.execute(
        "SELECT public, municipality FROM webmap.layers WHERE name = %s", [name]
    ).fetchone()
    return None if row is None else Ownership(name, bool(row[0]), row[1])


def authorize_read(conn: psycopg.Connection[Any], principal: Principal | None, name: str) -> None:
    """Raise :class:`LayerNotFound` unless layer ``name`` exists and ``principal`` may read it
    (a layer the caller may not read does not exist for it)."""
    layer = ownership(conn, name)
    if layer is None or not may_read(principal, layer.public, layer.municipality):
        raise LayerNotFound(f"There is no layer named {name!r}.")


def authorize_write(conn: psycopg.Connection[Any], principal: Principal, name: str) -> Ownership:
    """The layer ``name`` if ``principal`` may change it; :class:`LayerNotFound` when it does
    not exist, :class:`PermissionDenied` when it belongs to someone else."""
    layer = ownership(conn, name)
    if layer is None:
        raise LayerNotFound(f"There is no layer named {name!r}.")
    check_write(principal, layer)
    return layer


def principal_for_user(conn: psycopg.Connection[Any], username: str) -> Principal:
    """The principal of an (enabled) staff login with its instance role and memberships."""
    row = conn.execute(
        "SELECT instance_admin FROM webmap.staff_users WHERE username = %s", [username]
    ).fetchone()
    roles = conn.execute(
        "SELECT municipality, role FROM webmap.staff_memberships WHERE username = %s", [username]
    ).fetchall()
    return Principal(
        name=username,
        scope="publish",
        via="session",
        instance_admin=bool(row and row[0]),
        roles={str(code): str(role) for code, role in roles},
    )


def grant(conn: psycopg.Connection[Any], username: str, code: str, role: str) -> None:
    """Give login ``username`` ``role`` in municipality ``code`` (replacing its role there)."""
    check_roles({code: role})
    try:
        row = conn.execute(
            """
            INSERT INTO webmap.staff_memberships (username, municipality, role)
            VALUES (%s, %s, %s)
            ON CONFLICT (username, municipality) DO UPDATE SET role = EXCLUDED.role
            RETURNING 1
            """,
            [username, code, role],
        ).fetchone()
    except psycopg.errors.ForeignKeyViolation as exc:
        raise LayerNotFound(
            f"There is no login {username!r} or municipality {code} is not served here."
        ) from exc
    assert row is not None


def revoke(conn: psycopg.Connection[Any], username: str, code: str) -> bool:
    """Take login ``username``'s role in ``code`` away; False when it had none."""
    cursor = conn.execute(
        "DELETE FROM webmap.staff_memberships WHERE username = %s AND municipality = %s",
        [username, code],
    )
    return cursor.rowcount > 0


def set_instance_admin(conn: psycopg.Connection[Any], username: str, admin: bool) -> None:
    """Make login ``username`` an instance administrator or take that away."""
    row = conn.execute(
        "UPDATE webmap.staff_users SET instance_admin = %s WHERE username = %s RETURNING 1",
        [admin, username],
    ).fetchone()
    if row is None:
        raise LayerNotFound(f"There is no login named {username!r}.")


def user_roles(conn: psycopg.Connection[Any]) -> dict[str, tuple[bool, Mapping[str, str]]]:
    """Login → (instance administrator, municipality → role), for ``webmap staff list``."""
    users = conn.execute("SELECT username, instance_admin FROM webmap.staff_users").fetchall()
    out: dict[str, tuple[bool, dict[str, str]]] = {str(u): (bool(a), {}) for u, a in users}
    for user, code, role in conn.execute(
        "SELECT username, municipality, role FROM webmap.staff_memberships ORDER BY municipality"
    ).fetchall():
        out[str(user)][1][str(code)] = str(role)
    return dict(out)


def token_roles(conn: psycopg.Connection[Any]) -> dict[int, tuple[bool, Mapping[str, str]]]:
    """Token id → (instance administrator, municipality → role), for ``webmap tokens list``."""
    tokens = conn.execute("SELECT id, instance_admin FROM webmap.api_tokens").fetchall()
    out: dict[int, tuple[bool, dict[str, str]]] = {int(i): (bool(a), {}) for i, a in tokens}
    for token_id, code, role in conn.execute(
        "SELECT token_id, municipality, role FROM webmap.token_memberships ORDER BY municipality"
    ).fetchall():
        out[int(token_id)][1][str(code)] = str(role)
    return dict(out)


def assign_layer(conn: psycopg.Connection[Any], name: str, code: str | None) -> None:
    """Give layer ``name`` to municipality ``code`` (None: make it instance-wide); the
    operator's move (``webmap layers assign``), not a publisher's."""
    if code is not None:
        check_code(code)
    try:
        row = conn.execute(
            "UPDATE webmap.layers SET municipality = %s, updated_at = now() WHERE name = %s "
            "RETURNING 1",
            [code, name],
        ).fetchone()
    except psycopg.errors.ForeignKeyViolation as exc:
        raise InvalidInput(f"Municipality {code} is not served here.") from exc
    if row is None:
        raise LayerNotFound(f"There is no layer named {name!r}.")
