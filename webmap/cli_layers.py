"""``webmap layers …``, ``webmap tokens …`` and ``webmap staff …``: the staff commands.

``layers import`` runs the same pipeline as ``POST /api/layers``, with a progress bar, for files
too large for a browser upload and for scheduled scripts.
"""

from __future__ import annotations

import click
import psycopg
from flask import current_app
from flask.cli import AppGroup

from layers.auth import create_token, list_tokens, revoke_token, set_user
from layers.errors import LayerError
from webmap.settings import Settings


def _settings() -> Settings:
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    return settings


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(_settings().database_url)


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
    click.echo(f"Login {username} saved.")


@click.group("layers", cls=AppGroup)
def layers_group() -> None:
    """Publish, list and roll back staff layers."""
