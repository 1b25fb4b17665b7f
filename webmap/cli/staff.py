"""``webmap tokens …`` and ``webmap staff …``: API tokens and staff logins (:mod:`staff`)."""

from __future__ import annotations

from typing import Any

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup

from layers.errors import LayerError
from staff.accounts import disable_user, list_users, set_user
from staff.sessions import SessionPolicy, count_sessions
from staff.tenancy import grant, revoke, set_instance_admin, token_roles, user_roles
from staff.tokens import ROLES, create_token, list_tokens, revoke_token
from webmap.settings import Settings


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    # Autocommit: the pipeline's own transaction blocks decide what is committed together.
    return psycopg.connect(_settings().database_url, autocommit=True, application_name="webmap-cli")


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """Create, list and revoke API tokens for staff tools."""


def _roles(values: tuple[str, ...]) -> dict[str, str]:
    """``CODE`` or ``CODE:ROLE`` (publisher by default) → {code: role}."""
    roles: dict[str, str] = {}
    for value in values:
        code, _, role = value.partition(":")
        roles[code.strip()] = role.strip() or "publisher"
    return roles


def _describe(admin: bool, roles: dict[str, str] | Any) -> str:
    parts = ["instance administrator"] if admin else []
    parts += [f"{code}:{role}" for code, role in sorted(roles.items())]
    return ", ".join(parts) or "no municipality"


_MUNICIPALITY_HELP = (
    "CODE or CODE:ROLE (role publisher or admin; publisher by default): act for this "
    "municipality. Repeat for several."
)


@tokens_group.command("create")
@click.option("--name", required=True, help="Who or what uses the token (shown in lists).")
@click.option(
    "--scope",
    type=click.Choice(["publish", "read"]),
    default="publish",
    show_default=True,
    help="read: see private layers only; publish: also upload, roll back and delete.",
)
@click.option("--municipality", "municipalities", multiple=True, help=_MUNICIPALITY_HELP)
@click.option(
    "--instance-admin",
    is_flag=True,
    help="The token may act for every municipality and for instance-wide layers.",
)
def tokens_create(
    name: str, scope: str, municipalities: tuple[str, ...], instance_admin: bool
) -> None:
    """Create a token and print it once; only its hash is stored. Say where it acts:
    --municipality (repeatable) or --instance-admin."""
    if not municipalities and not instance_admin:
        raise click.UsageError(
            "Say where the token acts: --municipality CODE[:ROLE] (repeatable) or --instance-admin."
        )
    try:
        with _connect() as conn:
            info, secret = create_token(
                conn, name, scope, instance_admin=instance_admin, roles=_roles(municipalities)
            )
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    where = _describe(instance_admin, _roles(municipalities))
    click.echo(
        f"Token {info.id} ({info.name}, {info.scope}; {where}). "
        "Store it now, it is not shown again:"
    )
    click.echo(secret)


@tokens_group.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    with _connect() as conn:
        tokens = list_tokens(conn)
        where = token_roles(conn)
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        admin, roles = where.get(t.id, (False, {}))
        click.echo(
            f"{t.id}\t{t.name}\t{t.scope}\t{t.prefix}…\t{state}\tlast used {used}\t"
            f"{_describe(admin, roles)}"
        )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    try:
        with _connect() as conn:
            revoke_token(conn, token_id)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Token {token_id} revoked.")


@click.group("staff", cls=AppGroup)
def staff_group() -> None:
    """Manage logins for the admin pages."""


@staff_group.command("set-password")
@click.argument("username")
@click.password_option()
@click.option(
    "--instance-admin/--no-instance-admin",
    default=None,
    help="Make the login an instance administrator (or not); unchanged when not given.",
)
@click.option("--municipality", "municipalities", multiple=True, help=_MUNICIPALITY_HELP)
def staff_set_password(
    username: str, password: str, instance_admin: bool | None, municipalities: tuple[str, ...]
) -> None:
    """Create a staff login or change its password (and grant it municipalities)."""
    try:
        with _connect() as conn:
            set_user(conn, username, password, instance_admin=instance_admin)
            for code, role in _roles(municipalities).items():
                grant(conn, username, code, role)
            admin, roles = user_roles(conn).get(username, (False, {}))
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Login {username} saved; its open sessions (if any) have ended.")
    click.echo(f"It acts as: {_describe(admin, roles)}.")
    if not admin and not roles:
        click.echo(
            "It can read only public layers until it gets a municipality "
            "(webmap staff grant) or --instance-admin."
        )


@staff_group.command("grant")
@click.argument("username")
@click.argument("municipality", metavar="CODE")
@click.option("--role", type=click.Choice(ROLES), default="publisher", show_default=True)
def staff_grant(username: str, municipality: str, role: str) -> None:
    """Give a login a role in a municipality (publisher: its layers; admin: also its settings)."""
    try:
        with _connect() as conn:
            grant(conn, username, municipality, role)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{username} is {role} of {municipality}.")


@staff_group.command("revoke")
@click.argument("username")
@click.argument("municipality", metavar="CODE")
def staff_revoke(username: str, municipality: str) -> None:
    """Take a login's role in a municipality away."""
    with _connect() as conn:
        found = revoke(conn, username, municipality)
    if not found:
        raise click.ClickException(f"{username} has no role in {municipality}.")
    click.echo(f"{username} no longer acts for {municipality}.")


@staff_group.command("instance-admin")
@click.argument("username")
@click.option("--yes/--no", "admin", default=True, help="Grant (default) or take away.")
def staff_instance_admin(username: str, admin: bool) -> None:
    """Make a login an instance administrator (every municipality, municipalities and staff)."""
    try:
        with _connect() as conn:
            set_instance_admin(conn, username, admin)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    state = "is" if admin else "is no longer"
    click.echo(f"{username} {state} an instance administrator.")


@staff_group.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Refuse a login from now on and end its sessions (set-password enables it again)."""
    try:
        with _connect() as conn:
            ended = disable_user(conn, username)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Login {username} disabled; {ended} session(s) ended.")


@staff_group.command("list")
def staff_list() -> None:
    """List logins, whether they are disabled, and how many live sessions each has."""
    settings = _settings()
    policy = SessionPolicy(settings.session_idle_seconds, settings.session_max_seconds)
    with _connect() as conn:
        users = list_users(conn)
        live = count_sessions(conn, policy)
        where = user_roles(conn)
    for name, disabled in users:
        state = "disabled" if disabled else "active"
        admin, roles = where.get(name, (False, {}))
        click.echo(f"{name}\t{state}\t{live.get(name, 0)} session(s)\t{_describe(admin, roles)}")
