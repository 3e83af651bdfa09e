"""Who is asking: (platform, platform user id) → role, node, language; and the invite codes
that make a person a partner of a node.

A row is made at a person's first contact with no role (NULL): until someone grants one, the
effective role is the default the core computes from the platform's hints (a Slack workspace
member may default to staff), and a revoked person is a guest whatever the hints say. Invite
codes are stored only as their SHA-256, so a copy of the database redeems nothing.

The methods are synchronous (the core calls them through asyncio.to_thread) and safe when
several processes meet the same new person or the same code at once.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    UniqueConstraint,
    select,
)
from sqlalchemy.exc import IntegrityError

from knowledge.glossary import LANGUAGES, Glossary, cached_glossary, normalize
from knowledge.leads import DEFAULT_NODES
from knowledge.model import Role, parse_choice
from knowledge.sql import aware, metadata, utcnow

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(256), nullable=False),
    # NULL: never granted, the core's default for the platform applies.
    Column("role", String(16), nullable=True),
    Column("node", String(64), nullable=True),
    Column("language", String(8), nullable=True),
    Column("display_name", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("granted_by", String(300), nullable=False),
    UniqueConstraint("platform", "user_id", name="uq_identities_platform_user"),
)

invites = Table(
    "invites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("node", String(64), nullable=False),
    Column("created_by", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("redeemed_at", DateTime(timezone=True), nullable=True),
    Column("redeemed_by", String(300), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

Clock = Callable[[], dt.datetime]
InviteFailure = Literal["unknown", "used", "expired", "revoked"]
# token_urlsafe(15) gives 20 characters of [A-Za-z0-9_-]: 120 bits, and short enough for a
# Telegram deep link (`start` allows 64 characters of exactly that alphabet).
_CODE_BYTES = 15


def new_code() -> str:
    """A fresh invite code that starts with a letter or digit: one starting with "-" would be
    read as an option by `zbrain invite revoke CODE` (1 code in 32 did)."""
    while True:
        code = secrets.token_urlsafe(_CODE_BYTES)
        if code[0].isalnum():
            return code


@dataclass(frozen=True)
class Identity:
    """A person as the core sees them. `role` is the effective role: guest when revoked, the
    granted role when one was granted, else the default given to the registry call.
    `granted` says a role was granted explicitly (it stays True after a revocation, which
    `revoked` reports); `node` is the stored node, meaningful for partners."""

    platform: str
    user_id: str
    role: str
    node: str | None = None
    language: str | None = None
    display_name: str = ""
    revoked: bool = False
    granted: bool = False

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


class UnknownIdentityError(KeyError):
    """No person with that platform and user id has been seen or granted a role."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else "unknown identity"


class InviteError(ValueError):
    """An invite code that cannot be redeemed or revoked; `reason` says why."""

    def __init__(
        self, reason: InviteFailure, message: str, expires_at: dt.datetime | None = None
    ) -> None:
        super().__init__(message)
        self.reason: InviteFailure = reason
        self.expires_at = expires_at


@dataclass(frozen=True)
class NewInvite:
    """A code as created: the only time it exists in clear."""

    code: str
    node: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class InviteInfo:
    """An invite as listed: everything but the code, which is not kept."""

    id: int
    node: str
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    redeemed_at: dt.datetime | None
    redeemed_by: str | None
    revoked_at: dt.datetime | None

    def status(self, now: dt.datetime) -> InviteFailure | Literal["open"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.redeemed_at is not None:
            return "used"
        return "expired" if self.expires_at <= now else "open"


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


class NodeNames:
    """Node ids a person may be bound to: the lead store's nodes and the glossary's, written
    as the id or any glossary name (慕尼黑, München → munich)."""

    def __init__(self, nodes: Iterable[str] | None = None, glossary: Glossary | None = None):
        self._nodes = tuple(nodes) if nodes is not None else None
        self._glossary = glossary

    @property
    def glossary(self) -> Glossary:
        # Loaded on first use: resolving a person must not pay for reading the glossary.
        if self._glossary is None:
            self._glossary = cached_glossary()
        return self._glossary

    def known(self) -> tuple[str, ...]:
        if self._nodes is not None:
            return self._nodes
        found = dict.fromkeys(DEFAULT_NODES)
        found.update(dict.fromkeys(e.id for e in self.glossary.lists.get("nodes", []) if e.id))
        return tuple(found)

    def canonical(self, value: str) -> str:
        """The node id, or ValueError naming the accepted ones."""
        node = self.glossary.canonical("nodes", value) or normalize(value).replace(" ", "-")
        known = self.known()
        if node not in known:
            raise ValueError(f"node {value!r} is not one of: {', '.join(known)}")
        return node


def _insert_new(conn: Connection, values: dict[str, Any]) -> None:
    """Insert a person unless a concurrent writer already did (no error either way)."""
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        conn.execute(
            insert(identities)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["platform", "user_id"])
        )
    else:
        conn.execute(identities.insert().values(**values))


class IdentityRegistry:
    def __init__(
        self,
        engine: Engine,
        *,
        nodes: NodeNames | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.nodes = nodes or NodeNames()
        self.clock = clock

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC)

    # ------------------------------------------------------------------ reading
    def resolve(
        self, platform: str, user_id: str, *, default_role: str = "guest", display_name: str = ""
    ) -> Identity:
        """The person, recorded at first contact (with no role: `default_role` applies until
        one is granted); the display name is kept up to date when given."""
        default = parse_choice(Role, default_role, "role").value
        platform, user_id = _key(platform, user_id)
        row = self._row(platform, user_id)
        if row is None:
            now = self._now()
            try:
                with self.engine.begin() as conn:
                    _insert_new(conn, self._new(platform, user_id, display_name, now))
            except IntegrityError:
                pass  # another process inserted the same person first: theirs is as good
            row = self._row(platform, user_id)
            if row is None:  # pragma: no cover - the insert or the other process made it
                raise RuntimeError(f"could not record {platform}:{user_id}")
        elif display_name and row.display_name != display_name:
            with self.engine.begin() as conn:
                conn.execute(
                    identities.update()
                    .where(identities.c.id == row.id)
                    .values(display_name=display_name, updated_at=self._now())
                )
            row = self._row(platform, user_id)
        return _identity(row, default)

    def get(self, platform: str, user_id: str, *, default_role: str = "guest") -> Identity | None:
        row = self._row(*_key(platform, user_id))
        return _identity(row, default_role) if row is not None else None

    # ------------------------------------------------------------------ changing
    def grant(
        self, platform: str, user_id: str, role: str, *, node: str | None = None, by: str = ""
    ) -> Identity:
        """Give a person a role (and a partner their node); lifts a revocation. A person not
        seen yet is recorded, so an admin can grant before the first message."""
        parsed = parse_choice(Role, role, "role")
        canonical = self.nodes.canonical(node) if node is not None and node.strip() else None
        if parsed is Role.PARTNER and canonical is None:
            raise ValueError("a partner needs a node: pass one of " + ", ".join(self.nodes.known()))
        platform, user_id = _key(platform, user_id)
        with self.engine.begin() as conn:
            self._set_role(conn, platform, user_id, parsed.value, canonical, by)
        return self._require(platform, user_id)

    def revoke(self, platform: str, user_id: str, *, by: str = "") -> Identity:
        """Make a person a guest whatever their role or the platform's default; UnknownIdentity
        when nobody by that id is recorded."""
        platform, user_id = _key(platform, user_id)
        now = self._now()
        with self.engine.begin() as conn:
            updated = conn.execute(
                identities.update()
                .where(identities.c.platform == platform, identities.c.user_id == user_id)
                .values(revoked_at=now, updated_at=now, granted_by=by)
            ).rowcount
        if not updated:
            raise UnknownIdentityError(f"unknown user {platform}:{user_id}")
        return self._require(platform, user_id)

    def set_language(self, platform: str, user_id: str, language: str | None) -> Identity:
        """Remember the language a person chose (None forgets it)."""
        if language is not None:
            language = language.strip().lower()
            if language not in LANGUAGES:
                raise ValueError(f"language {language!r} is not one of: {', '.join(LANGUAGES)}")
        platform, user_id = _key(platform, user_id)
        now = self._now()
        with self.engine.begin() as conn:
            _insert_new(conn, self._new(platform, user_id, "", now))
            conn.execute(
                identities.update()
                .where(identities.c.platform == platform, identities.c.user_id == user_id)
                .values(language=language, updated_at=now)
            )
        return self._require(platform, user_id)

    def list(
        self,
        *,
        role: str | None = None,
        include_revoked: bool = True,
        default_role: str = "guest",
    ) -> builtins.list[Identity]:
        """Everyone recorded, by platform and user id; `role` filters on the effective role."""
        wanted = parse_choice(Role, role, "role").value if role is not None else None
        query = select(identities).order_by(identities.c.platform, identities.c.user_id)
        if not include_revoked:
            query = query.where(identities.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            found = [_identity(row, default_role) for row in conn.execute(query)]
        return [person for person in found if wanted is None or person.role == wanted]

    # ------------------------------------------------------------------ helpers
    def _row(self, platform: str, user_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                select(identities).where(
                    identities.c.platform == platform, identities.c.user_id == user_id
                )
            ).first()

    def _require(self, platform: str, user_id: str) -> Identity:
        row = self._row(platform, user_id)
        if row is None:  # pragma: no cover - called right after writing the row
            raise UnknownIdentityError(f"unknown user {platform}:{user_id}")
        return _identity(row, "guest")

    @staticmethod
    def _new(platform: str, user_id: str, display_name: str, now: dt.datetime) -> dict[str, Any]:
        return {
            "platform": platform,
            "user_id": user_id,
            "role": None,
            "display_name": display_name,
            "created_at": now,
            "updated_at": now,
            "granted_by": "",
        }

    def _set_role(
        self, conn: Connection, platform: str, user_id: str, role: str, node: str | None, by: str
    ) -> None:
        now = self._now()
        _insert_new(conn, self._new(platform, user_id, "", now))
        conn.execute(
            identities.update()
            .where(identities.c.platform == platform, identities.c.user_id == user_id)
            .values(role=role, node=node, revoked_at=None, updated_at=now, granted_by=by)
        )


def _key(platform: str, user_id: str) -> tuple[str, str]:
    platform, user_id = platform.strip().lower(), str(user_id).strip()
    if not platform or not user_id:
        raise ValueError("a person needs a platform and a user id")
    return platform, user_id


def _identity(row: Any, default_role: str) -> Identity:
    revoked = row.revoked_at is not None
    role = "guest" if revoked else (row.role or default_role)
    return Identity(
        platform=row.platform,
        user_id=row.user_id,
        role=role,
        node=row.node,
        language=row.language,
        display_name=row.display_name or "",
        revoked=revoked,
        granted=row.role is not None,
    )


class InviteStore:
    """Single-use, expiring invite codes bound to a node."""

    def __init__(
        self,
        engine: Engine,
        *,
        registry: IdentityRegistry | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.registry = registry or IdentityRegistry(engine, clock=clock)

    def _now(self) -> dt.datetime:
        # Stored and compared as UTC: SQLite keeps no offset, so every value must share one.
        return self.clock().astimezone(dt.UTC)

    def create(
        self, node: str, *, expires: dt.timedelta = dt.timedelta(days=7), created_by: str = ""
    ) -> NewInvite:
        canonical = self.registry.nodes.canonical(node)
        if expires <= dt.timedelta(0):
            raise ValueError("an invite must expire in the future")
        code = new_code()
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(
                invites.insert().values(
                    code_hash=_hash(code),
                    node=canonical,
                    created_by=created_by,
                    created_at=now,
                    expires_at=now + expires,
                )
            )
        return NewInvite(code, canonical, now + expires)

    def redeem(self, code: str, platform: str, user_id: str, *, display_name: str = "") -> Identity:
        """Make the person a partner of the code's node; InviteError when the code is unknown,
        used by someone else, expired or revoked. Only one of several people redeeming the same
        code at once succeeds: the claim is one conditional UPDATE."""
        platform, user_id = _key(platform, user_id)
        who = f"{platform}:{user_id}"
        digest = _hash(code)
        now = self._now()
        with self.engine.begin() as conn:
            claimed = conn.execute(
                invites.update()
                .where(
                    invites.c.code_hash == digest,
                    invites.c.redeemed_at.is_(None),
                    invites.c.revoked_at.is_(None),
                    invites.c.expires_at > now,
                )
                .values(redeemed_at=now, redeemed_by=who)
            ).rowcount
            row = conn.execute(select(invites).where(invites.c.code_hash == digest)).first()
            if claimed:
                self.registry._set_role(
                    conn, platform, user_id, Role.PARTNER.value, row.node, f"invite:{row.id}"
                )
        if not claimed:
            self._refuse(row, who)
        if display_name:
            return self.registry.resolve(platform, user_id, display_name=display_name)
        return self.registry._require(platform, user_id)

    def _refuse(self, row: Any, who: str) -> None:
        if row is None:
            raise InviteError("unknown", "unknown invite code")
        if row.revoked_at is not None:
            raise InviteError("revoked", "this invite code has been revoked")
        if row.redeemed_at is not None:
            if row.redeemed_by == who:
                return  # the same person following the link twice is already in
            raise InviteError("used", "this invite code has already been used")
        expires_at = aware(row.expires_at)
        raise InviteError(
            "expired", f"this invite code expired at {expires_at:%Y-%m-%d %H:%M} UTC", expires_at
        )

    def revoke(self, code: str) -> None:
        """Withdraw a code not yet redeemed. InviteError "unknown" for a code never made, "used"
        for one already redeemed: that person is a partner now (`users revoke` removes them)."""
        digest = _hash(code)
        with self.engine.begin() as conn:
            row = conn.execute(select(invites).where(invites.c.code_hash == digest)).first()
            if row is None:
                raise InviteError("unknown", "unknown invite code")
            if row.redeemed_at is not None:
                raise InviteError(
                    "used",
                    f"this invite code was already redeemed by {row.redeemed_by}: "
                    "revoke that user instead",
                )
            if row.revoked_at is None:
                conn.execute(
                    invites.update().where(invites.c.id == row.id).values(revoked_at=self._now())
                )

    def list(self) -> builtins.list[InviteInfo]:
        """Every invite, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(invites).order_by(invites.c.id.desc())).all()
        return [
            InviteInfo(
                id=row.id,
                node=row.node,
                created_by=row.created_by,
                created_at=aware(row.created_at),  # type: ignore[arg-type]
                expires_at=aware(row.expires_at),  # type: ignore[arg-type]
                redeemed_at=aware(row.redeemed_at),
                redeemed_by=row.redeemed_by,
                revoked_at=aware(row.revoked_at),
            )
            for row in rows
        ]
