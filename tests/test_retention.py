"""Audit retention in `zbrain serve`: old exchanges are pruned at start and again at each
interval, the count is logged, a failure is logged without stopping the service."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.retention import AuditRetention, audit_retention
from bot.settings import load_settings
from knowledge.audit import AuditLog, Exchange
from knowledge.sql import make_engine


def _exchange(reply_id: str, age_days: int) -> Exchange:
    return Exchange(
        reply_id=reply_id,
        at=dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days),
        platform="slack",
        user_id="U1",
        role="staff",
        conversation_id="c",
        intent="ask",
        question="q",
        doc_ids=(),
        visibilities=(),
        answer="a",
        mode="extractive",
        latency_ms=5,
    )


def test_prunes_at_start_and_then_every_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit = AuditLog(make_engine(f"sqlite:///{tmp_path / 'zbrain.db'}"))
    audit.record(_exchange("old", 200))
    audit.record(_exchange("recent", 3))
    service = AuditRetention(audit, dt.timedelta(days=180), every_seconds=0.05)

    async def serve() -> None:
        await service.start()
        assert [e.reply_id for e in audit.query()] == ["recent"]
        audit.record(_exchange("old-too", 365))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(audit.query()) == 1:
                break
        await service.stop()

    with caplog.at_level(logging.INFO, logger="bot.retention"):
        asyncio.run(serve())
    assert [e.reply_id for e in audit.query()] == ["recent"]
    assert "removed 1 exchange(s) older than 180 days" in caplog.text


def test_a_failure_is_logged_and_the_service_keeps_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(AuditLog):
        def __init__(self) -> None:
            pass

        def prune(self, older_than: dt.timedelta) -> int:
            raise OSError("disk gone")

    service = AuditRetention(Broken(), dt.timedelta(days=1), every_seconds=3600)

    async def serve() -> None:
        await service.start()
        await service.stop()

    with caplog.at_level(logging.INFO, logger="bot.retention"):
        asyncio.run(serve())
    assert "audit retention failed: OSError: disk gone" in caplog.text


def test_built_from_settings(tmp_path: Path) -> None:
    settings = load_settings(ZBRAIN_AUDIT_RETENTION_DAYS="30")
    service = audit_retention(settings, make_engine(f"sqlite:///{tmp_path / 'z.db'}"))
    assert service.older_than == dt.timedelta(days=30) and service.name == "audit retention"
