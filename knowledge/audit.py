"""The audit trail: every exchange (who asked what as which role, which documents of which
visibility were retrieved, what was answered and how) and the 👍/👎 attached to its reply id.

E-mail addresses and phone numbers are removed from questions, answers and comments before
they are stored: the trail is read by admins and exported to spreadsheets, so a lead's contact
person must not travel with it. The methods are synchronous; the core calls them through
asyncio.to_thread.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO, Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from knowledge.sql import metadata, utcnow

exchanges = Table(
    "exchanges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reply_id", String(64), nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("conversation_id", String(300), nullable=False),
    Column("intent", String(32), nullable=False),
    Column("question", Text, nullable=False),
    Column("doc_ids", Text, nullable=False),  # JSON list
    Column("visibilities", Text, nullable=False),  # JSON list, one per doc id
    Column("answer", Text, nullable=False),
    Column("mode", String(16), nullable=False),  # llm | extractive | abstained | refused | error
    Column("latency_ms", Integer, nullable=False),
    Column("error_reference", String(64), nullable=True),
    # The reply's language, so a button pressed under it is answered in the same one.
    Column("language", String(8), nullable=False, server_default=""),
    Index("ix_exchanges_at", "at"),
    Index("ix_exchanges_user", "user_id"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reply_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("score", Integer, nullable=False),  # +1 or -1
    Column("comment", Text, nullable=True),
    # One vote per person and reply: a second one replaces the first.
    UniqueConstraint("reply_id", "platform", "user_id", name="uq_feedback_vote"),
)

MODES = ("llm", "extractive", "abstained", "refused", "error")
CSV_COLUMNS = (
    "at",
    "reply_id",
    "platform",
    "user_id",
    "role",
    "conversation_id",
    "intent",
    "mode",
    "latency_ms",
    "question",
    "answer",
    "doc_ids",
    "visibilities",
    "error_reference",
    "language",
    "thumbs_up",
    "thumbs_down",
    "comments",
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# Best effort, tuned not to eat what answers are full of: dates (2019-10-26), amounts
# (15,000,000 or 15 000 000), lead ids (L-0012) and years. A phone is an international number
# (+49 89 1234 5678), a Chinese mobile (138 0013 8000), a national one with its trunk 0
# (010-12345678, 089 1234567), an area code in brackets ((617) 555-0123) or 617-555-0123.
_PHONES = (
    r"\+\d[\d ()-]{5,20}\d",
    r"1[3-9]\d(?:[ -]?\d{4}){2}",
    r"0\d{1,4}[ /-]?\d{3,4}[ -]?\d{2,5}",
    r"\(\d{2,4}\)\s?\d{3,4}[ .-]?\d{3,4}",
    r"\d{3}[.-]\d{3}[.-]\d{4}",
)
# ASCII-only boundaries: Chinese characters are word characters, and "电话13800138000" must
# still lose its number; a decimal or thousands separator right after means an amount.
_PHONE = re.compile(r"(?<![0-9A-Za-z.,+])(?:" + "|".join(_PHONES) + r")(?![0-9A-Za-z]|[.,]\d)")
EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"


def redact(text: str) -> str:
    """The text with e-mail addresses and phone numbers replaced by [email] and [phone]."""
    text = _EMAIL.sub(EMAIL_MARK, text)
    return _PHONE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group(0))
    return PHONE_MARK if 7 <= digits <= 15 else match.group(0)


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes and keeps no offset: everything is stored in UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class Exchange:
    """One question and its reply. `up`/`down` count the votes when read back from the log
    (record ignores them)."""

    reply_id: str
    at: dt.datetime
    platform: str
    user_id: str
    role: str
    conversation_id: str
    intent: str
    question: str
    doc_ids: tuple[str, ...]
    visibilities: tuple[str, ...]
    answer: str
    mode: str
    latency_ms: int
    error_reference: str | None = None
    language: str = ""
    up: int = 0
    down: int = 0

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


class AuditLog:
    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def record(self, exchange: Exchange) -> None:
        """Store an exchange, contact details removed. Recording the same reply id again
        keeps the first record (a retried delivery must not count twice)."""
        if exchange.mode not in MODES:
            raise ValueError(f"mode {exchange.mode!r} is not one of: {', '.join(MODES)}")
        values = {
            "reply_id": exchange.reply_id,
            "at": _utc(exchange.at),
            "platform": exchange.platform,
            "user_id": exchange.user_id,
            "role": exchange.role,
            "conversation_id": exchange.conversation_id,
            "intent": exchange.intent,
            "question": redact(exchange.question),
            "doc_ids": json.dumps(list(exchange.doc_ids), ensure_ascii=False),
            "visibilities": json.dumps(list(exchange.visibilities), ensure_ascii=False),
            "answer": redact(exchange.answer),
            "mode": exchange.mode,
            "latency_ms": int(exchange.latency_ms),
            "error_reference": exchange.error_reference,
            "language": exchange.language,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(exchanges.insert().values(**values))
        except IntegrityError:
            if self.exchange(exchange.reply_id) is None:
                raise

    def feedback(
        self, reply_id: str, platform: str, user_id: str, score: int, comment: str | None = None
    ) -> bool:
        """Attach a vote (+1 or -1, with an optional comment) to a reply; False when no
        exchange has that reply id. A person's second vote on a reply replaces the first."""
        if score not in (1, -1):
            raise ValueError(f"a vote is +1 or -1, not {score!r}")
        if self.exchange(reply_id) is None:
            return False
        values = {
            "at": _utc(self.clock()),
            "score": score,
            "comment": redact(comment) if comment and comment.strip() else None,
        }
        vote = and_(
            feedback.c.reply_id == reply_id,
            feedback.c.platform == platform,
            feedback.c.user_id == user_id,
        )
        for _ in range(2):  # a concurrent first vote by the same person: update theirs
            try:
                with self.engine.begin() as conn:
                    if conn.execute(feedback.update().where(vote).values(**values)).rowcount:
                        return True
                    conn.execute(
                        feedback.insert().values(
                            reply_id=reply_id, platform=platform, user_id=user_id, **values
                        )
                    )
                return True
            except IntegrityError:
                continue
        return True

    # ------------------------------------------------------------------ reading
    def exchange(self, reply_id: str) -> Exchange | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(exchanges).where(exchanges.c.reply_id == reply_id)).first()
            if row is None:
                return None
            return self._with_votes(conn, [_exchange(row)])[0]

    def query(
        self,
        *,
        user: str | None = None,
        since: dt.datetime | dt.date | None = None,
        limit: int | None = None,
    ) -> list[Exchange]:
        """Exchanges, newest first; `user` is "platform:user_id" or a bare user id, `since`
        a time or a day (from its start, UTC)."""
        query = select(exchanges).order_by(exchanges.c.at.desc(), exchanges.c.id.desc())
        if user:
            query = query.where(_user_condition(user))
        if since is not None:
            query = query.where(exchanges.c.at >= _since(since))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return self._with_votes(conn, [_exchange(row) for row in conn.execute(query)])

    def export_csv(
        self,
        stream: IO[str] | IO[bytes],
        *,
        user: str | None = None,
        since: dt.datetime | dt.date | None = None,
    ) -> int:
        """Write the exchanges, oldest first, as CSV in UTF-8 with a byte-order mark (so Excel
        reads Chinese); returns how many rows. `stream` may be opened as text or binary."""
        found = list(reversed(self.query(user=user, since=since)))
        comments = self._comments([e.reply_id for e in found])
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for e in found:
            writer.writerow(
                (
                    e.at.isoformat(timespec="seconds"),
                    e.reply_id,
                    e.platform,
                    e.user_id,
                    e.role,
                    e.conversation_id,
                    e.intent,
                    e.mode,
                    e.latency_ms,
                    e.question,
                    e.answer,
                    ";".join(e.doc_ids),
                    ";".join(e.visibilities),
                    e.error_reference or "",
                    e.language,
                    e.up,
                    e.down,
                    " | ".join(comments.get(e.reply_id, ())),
                )
            )
        _write_with_bom(stream, buffer.getvalue())
        return len(found)

    # ------------------------------------------------------------------ retention
    def prune(self, older_than: dt.timedelta) -> int:
        """Remove exchanges older than that, with their feedback; returns how many exchanges."""
        cutoff = _utc(self.clock()) - older_than
        old = select(exchanges.c.reply_id).where(exchanges.c.at < cutoff)
        with self.engine.begin() as conn:
            conn.execute(
                delete(feedback).where(or_(feedback.c.reply_id.in_(old), feedback.c.at < cutoff))
            )
            return conn.execute(delete(exchanges).where(exchanges.c.at < cutoff)).rowcount

    # ------------------------------------------------------------------ helpers
    def _with_votes(self, conn: Any, found: list[Exchange]) -> list[Exchange]:
        if not found:
            return found
        ids = [e.reply_id for e in found]
        counts: dict[tuple[str, int], int] = {}
        for chunk in _chunks(ids):
            rows = conn.execute(
                select(feedback.c.reply_id, feedback.c.score, func.count())
                .where(feedback.c.reply_id.in_(chunk))
                .group_by(feedback.c.reply_id, feedback.c.score)
            )
            counts.update({(reply_id, score): n for reply_id, score, n in rows})
        return [
            replace(e, up=counts.get((e.reply_id, 1), 0), down=counts.get((e.reply_id, -1), 0))
            for e in found
        ]

    def _comments(self, ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                rows = conn.execute(
                    select(feedback.c.reply_id, feedback.c.comment)
                    .where(feedback.c.reply_id.in_(chunk), feedback.c.comment.is_not(None))
                    .order_by(feedback.c.at)
                )
                for reply_id, comment in rows:
                    found.setdefault(reply_id, []).append(comment)
        return found


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    # SQLite limits the number of bound parameters in one statement.
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _user_condition(user: str) -> Any:
    user = user.strip()
    platform, _, user_id = user.partition(":")
    bare = exchanges.c.user_id == user
    if not user_id:
        return bare
    return or_(and_(exchanges.c.platform == platform.lower(), exchanges.c.user_id == user_id), bare)


def _since(since: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(since, dt.datetime):
        return _utc(since)
    return dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)


def _exchange(row: Any) -> Exchange:
    return Exchange(
        reply_id=row.reply_id,
        at=_utc(row.at),
        platform=row.platform,
        user_id=row.user_id,
        role=row.role,
        conversation_id=row.conversation_id,
        intent=row.intent,
        question=row.question,
        doc_ids=tuple(json.loads(row.doc_ids or "[]")),
        visibilities=tuple(json.loads(row.visibilities or "[]")),
        answer=row.answer,
        mode=row.mode,
        latency_ms=row.latency_ms,
        error_reference=row.error_reference,
        language=row.language,
    )


def _write_with_bom(stream: IO[str] | IO[bytes], text: str) -> None:
    if isinstance(stream, io.TextIOBase) or hasattr(stream, "encoding"):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        # A stream opened as utf-8-sig writes the mark itself.
        stream.write(text if encoding == "utf-8-sig" else "\ufeff" + text)  # type: ignore[arg-type]
    else:
        stream.write(("\ufeff" + text).encode("utf-8"))  # type: ignore[arg-type]
