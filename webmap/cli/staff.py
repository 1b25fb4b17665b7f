"""``webmap tokens …`` and ``webmap staff …``: API tokens and staff logins (:mod:`staff`)."""

from __future__ import annotations

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup

from layers.errors import LayerError
from staff.accounts import disable_user, list_users, set_user
from staff.sessions import SessionPolicy, count_sessions
from staff.tokens import create_token, list_tokens, revoke_token
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


@tokens_group.command("create")
@click.option("--name", required=True, help="Who or what uses the token (shown in lists).")
@click.option(
    "--scope",
    type=click.Choice(["publish", "read"]),
    default="publish",
    show_default=True,
    help="read: see private layers only; publish: also upload, roll back and delete.",
)
def tokens_create(name: str, scope: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    try:
        with _connect() as conn:
            info, secret = create_token(conn, name, scope)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Token {info.id} ({info.name}, {info.scope}). Store it now, it is not shown again:")
    click.echo(secret)


@tokens_group.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    with _connect() as conn:
        tokens = list_tokens(conn)
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        click.echo(f"{t.id}\t{t.name}\t{t.scope}\t{t.prefix}…\t{state}\tlast used {used}")


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
def staff_set_password(username: str, password: str) -> None:
    """Create a staff login or change its password."""
    try:
        with _connect() as conn:
            set_user(conn, username, password)
    except LayerError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Login {username} saved; its open sessions (if any) have ended.")


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
    for name, disabled in users:
        state = "disabled" if disabled else "active"
        click.echo(f"{name}\t{state}\t{live.get(name, 0)} session(s)")
