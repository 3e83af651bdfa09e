"""`zbrain invite`, `zbrain users`, `zbrain audit`: administering who may ask what, and reading
what was asked. These open only the SQL database (no index, no model), so they answer at once.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from bot import i18n
from bot.account import invite_link
from bot.database import database_engine
from bot.settings import ConfigError, Settings, load_settings
from knowledge.audit import AuditLog, Exchange
from knowledge.identities import (
    Identity,
    IdentityRegistry,
    InviteError,
    InviteStore,
    UnknownIdentityError,
)
from knowledge.migrations import DatabaseSchemaError

out = Console(soft_wrap=True)
err = Console(stderr=True)
# The admin commands speak English for now; every label still comes from the catalogue.
LANG = "en"

invite_app = typer.Typer(
    help="Invite codes that make a person a partner of a node: create, list, revoke.",
    invoke_without_command=True,
)
users_app = typer.Typer(
    help="People who talked to the assistant, and their roles: list, grant, revoke.",
    no_args_is_help=True,
)

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(app: typer.Typer) -> None:
    """Add `invite`, `users` and `audit` to the `zbrain` app."""
    app.add_typer(invite_app, name="invite")
    app.add_typer(users_app, name="users")
    app.command("audit")(audit)


# ---------------------------------------------------------------------- shared helpers
def _t(key: str, **values: object) -> str:
    return i18n.text(key, LANG, **values)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


# OSError: an export path that cannot be written.
_EXPECTED = (
    ConfigError,
    DatabaseSchemaError,
    InviteError,
    UnknownIdentityError,
    ValueError,
    OSError,
)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Bad input and known failures become one line naming the problem, exit code 2."""
    try:
        yield
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None


def _settings_and_engine() -> tuple[Settings, Engine]:
    settings = load_settings()
    return settings, database_engine(settings)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def parse_duration(text: str, what: str) -> dt.timedelta:
    """'3d', '12h', '2w', '90m', '30s' → a timedelta longer than zero; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"{what} {text!r}: expected a duration such as 3d, 12h or 2w")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """A day (2026-03-01, from its start in UTC) or a duration back from now (7d)."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        try:
            return now - parse_duration(text, "--since")
        except ValueError:
            raise ValueError(
                f"--since {text!r}: expected a day (YYYY-MM-DD) or a duration such as 7d"
            ) from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def parse_user(text: str) -> tuple[str, str]:
    platform, _, user_id = text.strip().partition(":")
    if not platform or not user_id:
        raise ValueError(f"user {text!r}: expected PLATFORM:USER_ID such as telegram:123456789")
    return platform, user_id


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------------- zbrain invite
@invite_app.callback()
def invite(
    ctx: typer.Context,
    node: Annotated[
        str | None, typer.Option("--node", help="The node the partner belongs to, e.g. munich.")
    ] = None,
    expires: Annotated[
        str, typer.Option("--expires", help="How long the code works: 3d, 12h, 2w.")
    ] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a single-use invite code: `zbrain invite --node munich [--expires 3d]`."""
    if ctx.invoked_subcommand is not None:
        return
    with _user_errors():
        if node is None:
            raise ValueError("--node is required, e.g. zbrain invite --node munich")
        lifetime = parse_duration(expires, "--expires")
        settings, engine = _settings_and_engine()
        made = InviteStore(engine).create(node, expires=lifetime, created_by=_actor())
    link = invite_link(settings, made.code)
    if as_json:
        shown = {
            "code": made.code,
            "node": made.node,
            "expires": made.expires_at.isoformat(timespec="seconds"),
            "link": link,
        }
        typer.echo(json.dumps(shown, ensure_ascii=False))
        return
    rows = [
        (_t("admin.code"), made.code),
        (_t("admin.node"), made.node),
        (_t("admin.expires"), _when(made.expires_at)),
    ]
    if link:
        rows.append((_t("admin.link"), link))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.print(f"[bold]{escape(label.ljust(width))}[/]  {escape(value)}")
    out.print(f"[dim]{escape(_t('admin.invite_once'))}[/]")


@invite_app.command("revoke")
def invite_revoke(code: Annotated[str, typer.Argument(help="The invite code.")]) -> None:
    """Withdraw an invite code that has not been redeemed."""
    with _user_errors():
        _, engine = _settings_and_engine()
        InviteStore(engine).revoke(code)
    out.print(escape(_t("admin.invite_revoked")))


@invite_app.command("list")
def invite_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Invites made so far (the codes themselves are not kept)."""
    with _user_errors():
        _, engine = _settings_and_engine()
        found = InviteStore(engine).list()
    now = dt.datetime.now(dt.UTC)
    if as_json:
        shown = [
            {
                "id": info.id,
                "node": info.node,
                "status": info.status(now),
                "created_by": info.created_by,
                "created": info.created_at.isoformat(timespec="seconds"),
                "expires": info.expires_at.isoformat(timespec="seconds"),
                "redeemed_by": info.redeemed_by,
            }
            for info in found
        ]
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    table = Table(title=i18n.plural("admin.invites_count", len(found), LANG))
    for key in ("admin.node", "admin.status", "admin.created", "admin.expires", "admin.user"):
        table.add_column(_t(key))
    for info in found:
        table.add_row(
            escape(info.node),
            _t(f"admin.invite_status_{info.status(now)}"),
            _when(info.created_at),
            _when(info.expires_at),
            escape(info.redeemed_by or ""),
        )
    out.print(table)


# ---------------------------------------------------------------------- zbrain users
def _status(person: Identity) -> str:
    if person.revoked:
        return _t("admin.status_revoked")
    return _t("admin.status_granted" if person.granted else "admin.status_default")


def _person_json(person: Identity) -> dict[str, Any]:
    return {
        "user": person.key,
        "platform": person.platform,
        "user_id": person.user_id,
        "display_name": person.display_name,
        # Null: never granted, the platform's default applies when the person writes.
        "role": person.role if person.granted or person.revoked else None,
        "node": person.node,
        "language": person.language,
        "revoked": person.revoked,
    }


@users_app.command("list")
def users_list(
    role: Annotated[
        str | None,
        typer.Option("--role", help="Only people with this role (revoked people are guests)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Everyone recorded, with their role, node and language."""
    with _user_errors():
        _, engine = _settings_and_engine()
        found = IdentityRegistry(engine).list(role=role)
    if as_json:
        typer.echo(json.dumps([_person_json(p) for p in found], ensure_ascii=False, indent=2))
        return
    table = Table(title=i18n.plural("admin.users_count", len(found), LANG))
    for key in (
        "admin.user",
        "admin.name",
        "admin.role",
        "admin.node",
        "admin.language",
        "admin.status",
    ):
        table.add_column(_t(key))
    for person in found:
        shown = _person_json(person)
        table.add_row(
            escape(person.key),
            escape(person.display_name),
            shown["role"] or "—",
            escape(person.node or ""),
            person.language or "",
            _status(person),
        )
    out.print(table)


@users_app.command("grant")
def users_grant(
    user: Annotated[str, typer.Argument(help="PLATFORM:USER_ID, e.g. telegram:123456789.")],
    role: Annotated[str, typer.Argument(help="guest, partner, staff, manager or admin.")],
    node: Annotated[
        str | None, typer.Option("--node", help="The partner's node, e.g. munich.")
    ] = None,
) -> None:
    """Give a person a role (a partner also needs a node); lifts a revocation."""
    with _user_errors():
        platform, user_id = parse_user(user)
        _, engine = _settings_and_engine()
        person = IdentityRegistry(engine).grant(platform, user_id, role, node=node, by=_actor())
    if person.node and person.role == "partner":
        out.print(
            escape(_t("admin.granted_node", user=person.key, role=person.role, node=person.node))
        )
    else:
        out.print(escape(_t("admin.granted", user=person.key, role=person.role)))


@users_app.command("revoke")
def users_revoke(
    user: Annotated[str, typer.Argument(help="PLATFORM:USER_ID, e.g. telegram:123456789.")],
) -> None:
    """Make a person a guest, whatever role they had or their platform suggests."""
    with _user_errors():
        platform, user_id = parse_user(user)
        _, engine = _settings_and_engine()
        person = IdentityRegistry(engine).revoke(platform, user_id, by=_actor())
    out.print(escape(_t("admin.revoked", user=person.key)))


# ---------------------------------------------------------------------- zbrain audit
def _exchange_json(e: Exchange) -> dict[str, Any]:
    return {
        "reply_id": e.reply_id,
        "at": e.at.isoformat(timespec="seconds"),
        "user": e.key,
        "role": e.role,
        "conversation_id": e.conversation_id,
        "intent": e.intent,
        "mode": e.mode,
        "latency_ms": e.latency_ms,
        "question": e.question,
        "answer": e.answer,
        "doc_ids": list(e.doc_ids),
        "visibilities": list(e.visibilities),
        "error_reference": e.error_reference,
        "language": e.language,
        "thumbs_up": e.up,
        "thumbs_down": e.down,
    }


def _short(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def audit(
    user: Annotated[
        str | None, typer.Option("--user", help="PLATFORM:USER_ID or a bare user id.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="A day (YYYY-MM-DD) or a duration back (7d).")
    ] = None,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write a CSV file (UTF-8, opens in Excel).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="How many of the latest exchanges to show.")
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What was asked and answered: who, as which role, which documents, 👍/👎."""
    with _user_errors():
        start = parse_since(since, dt.datetime.now(dt.UTC)) if since else None
        if export is not None and export.is_dir():
            raise ValueError(f"--export {export}: is a folder; name a .csv file")
        _, engine = _settings_and_engine()
        log = AuditLog(engine)
        if export is not None:
            export.parent.mkdir(parents=True, exist_ok=True)
            with export.open("wb") as handle:
                count = log.export_csv(handle, user=user, since=start)
            out.print(escape(i18n.plural("admin.exported", count, LANG, path=str(export))))
            return
        found = log.query(user=user, since=start, limit=limit)
    if as_json:
        typer.echo(json.dumps([_exchange_json(e) for e in found], ensure_ascii=False, indent=2))
        return
    table = Table(title=i18n.plural("admin.exchanges_count", len(found), LANG))
    for key in (
        "admin.when",
        "admin.user",
        "admin.role",
        "admin.intent",
        "admin.mode",
        "admin.latency",
        "admin.votes",
        "admin.question",
    ):
        table.add_column(
            _t(key),
            justify="right" if key == "admin.latency" else "left",
            no_wrap=key in ("admin.when", "admin.latency"),
            overflow="fold" if key == "admin.user" else "ellipsis",
            # The question is what a reader scans for: it keeps room on a narrow terminal.
            min_width=24 if key == "admin.question" else None,
        )
    for e in found:
        table.add_row(
            e.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            escape(e.key),
            e.role,
            e.intent,
            e.mode,
            f"{e.latency_ms} ms",
            f"👍{e.up} 👎{e.down}" if e.up or e.down else "",
            escape(_short(e.question)),
        )
    out.print(table)
