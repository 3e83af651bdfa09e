"""The audit log: exchanges stored without contact details, votes attached to reply ids (a
second vote replaces the first), retention, and a CSV export Excel reads in Chinese."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select

from knowledge.audit import AuditLog, Exchange, feedback, redact
from knowledge.ingest import SAMPLES_DIR
from tests.clock import Clock

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def log(engine: Engine, clock: Clock) -> AuditLog:
    return AuditLog(engine, clock=clock)


def _exchange(reply_id: str = "r1", **changes: object) -> Exchange:
    base = Exchange(
        reply_id=reply_id,
        at=T0,
        platform="telegram",
        user_id="1001",
        role="partner",
        conversation_id="c1",
        intent="ask",
        question="慕尼黑节点有哪些氢能政策？",
        doc_ids=("policy-h2", "munich-2024"),
        visibilities=("public", "partner"),
        answer="根据《氢能产业扶持办法》[1]……",
        mode="llm",
        latency_ms=1234,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_exchange_is_kept_as_recorded(log) -> None:  # type: ignore[no-untyped-def]
    log.record(_exchange())
    assert log.exchange("r1") == _exchange()
    assert log.exchange("nope") is None
    # A retried delivery of the same reply does not count twice.
    log.record(_exchange(answer="second copy"))
    assert log.exchange("r1").answer.startswith("根据") and len(log.query()) == 1


def test_contact_details_never_reach_the_log(log) -> None:  # type: ignore[no-untyped-def]
    log.record(
        _exchange(
            question="Who is the contact? Mail me at anna.berg@example.de or +49 170 1234567",
            answer="Contact: Dr. Li (li.wei@harborline.com, +1 617 555 0143; 手机 13800138000).",
        )
    )
    stored = log.exchange("r1")
    for detail in ("anna.berg", "1234567", "li.wei", "555 0143", "13800138000"):
        assert detail not in stored.question + stored.answer
    assert stored.answer == "Contact: Dr. Li ([email], [phone]; 手机 [phone])."


def test_every_sample_leads_contact_is_redacted() -> None:
    contacts = []
    for path in sorted((SAMPLES_DIR.parent / "leads").glob("L-*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        contact = front.get("contact") or {}
        contacts += [str(contact[k]) for k in ("email", "phone") if contact.get(k)]
    assert len(contacts) > 30
    for value in contacts:
        assert value not in redact(f"reach them at {value}, today"), value


def test_figures_answers_are_made_of_survive_redaction() -> None:
    text = (
        "Signed 2019-10-26; 15,000,000 EUR (15 000 000 €); lead L-0012; +15% from 2019-2024; "
        "2023年第12号; RMB 50000000; version 1.2.3; ID 12345678"
    )
    assert redact(text) == text


def test_a_second_vote_replaces_the_first(log, engine, clock) -> None:  # type: ignore[no-untyped-def]
    log.record(_exchange())
    assert log.feedback("r1", "telegram", "1001", 1) is True
    clock.now += dt.timedelta(minutes=1)
    assert log.feedback("r1", "telegram", "1001", -1, "wrong node; write to x@y.com") is True
    assert log.feedback("r1", "slack", "U7", -1) is True
    assert (log.exchange("r1").up, log.exchange("r1").down) == (0, 2)
    with engine.connect() as conn:
        comments = conn.execute(select(feedback.c.comment).where(feedback.c.comment.is_not(None)))
        assert comments.scalars().all() == ["wrong node; write to [email]"]
    assert log.feedback("unknown-reply", "telegram", "1001", 1) is False
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        log.feedback("r1", "telegram", "1001", 5)


def test_query_by_user_and_since(log) -> None:  # type: ignore[no-untyped-def]
    log.record(_exchange("r1", at=T0 - dt.timedelta(days=10)))
    log.record(_exchange("r2", at=T0 - dt.timedelta(days=1), platform="slack", user_id="U1"))
    log.record(_exchange("r3", at=T0))
    assert [e.reply_id for e in log.query()] == ["r3", "r2", "r1"]
    assert [e.reply_id for e in log.query(user="telegram:1001")] == ["r3", "r1"]
    assert [e.reply_id for e in log.query(user="U1")] == ["r2"]
    assert [e.reply_id for e in log.query(user="slack:1001")] == []
    assert [e.reply_id for e in log.query(since=T0 - dt.timedelta(days=2))] == ["r3", "r2"]
    assert [e.reply_id for e in log.query(since=(T0 - dt.timedelta(days=1)).date())] == [
        "r3",
        "r2",
    ]
    assert [e.reply_id for e in log.query(limit=1)] == ["r3"]


def test_prune_removes_old_exchanges_with_their_feedback(log, engine, clock) -> None:  # type: ignore[no-untyped-def]
    log.record(_exchange("old", at=T0 - dt.timedelta(days=200)))
    log.record(_exchange("new", at=T0 - dt.timedelta(days=2)))
    log.feedback("old", "telegram", "1001", 1)
    log.feedback("new", "telegram", "1001", -1)
    assert log.prune(dt.timedelta(days=180)) == 1
    assert [e.reply_id for e in log.query()] == ["new"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(feedback)).scalar_one() == 1
    assert log.prune(dt.timedelta(days=180)) == 0


def test_csv_export_opens_as_utf8_sig_with_feedback_columns(log, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log.record(_exchange("r1", at=T0 - dt.timedelta(hours=1)))
    log.record(_exchange("r2", question="Quels fonds pour l'hydrogène ?", mode="extractive"))
    log.feedback("r1", "telegram", "1001", -1, "节点不对")
    target = tmp_path / "audit.csv"
    with target.open("wb") as handle:
        assert log.export_csv(handle) == 2
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["reply_id"] for row in rows] == ["r1", "r2"]  # oldest first
    assert rows[0]["question"] == "慕尼黑节点有哪些氢能政策？"
    votes = (rows[0]["thumbs_up"], rows[0]["thumbs_down"], rows[0]["comments"])
    assert votes == ("0", "1", "节点不对")
    assert rows[0]["doc_ids"] == "policy-h2;munich-2024"
    assert rows[0]["visibilities"] == "public;partner"
    assert rows[1]["mode"] == "extractive"

    # A text stream works too, and one opened as utf-8-sig gets one mark, not two.
    text = io.StringIO()
    assert log.export_csv(text, user="telegram:1001", since=T0 - dt.timedelta(minutes=30)) == 1
    assert text.getvalue().startswith("\ufeffat,reply_id")
    with (tmp_path / "sig.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        log.export_csv(handle)
    assert (tmp_path / "sig.csv").read_bytes().count(b"\xef\xbb\xbf") == 1


def test_an_unknown_mode_is_refused(log) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="mode 'magic'"):
        log.record(_exchange(mode="magic"))
    assert log.query() == []
