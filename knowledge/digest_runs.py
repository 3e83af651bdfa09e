"""Digest runs: one row per scheduled digest and period, so no period is posted twice (see
bot/leads/digest.py). Kept apart from the scheduler so migrations import only the table."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text, UniqueConstraint

from knowledge.sql import metadata

digest_runs = Table(
    "digest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule", String(200), nullable=False),
    Column("period", String(40), nullable=False),
    Column("status", String(16), nullable=False),  # running | posted | failed
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("message_id", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("schedule", "period", name="uq_digest_runs_schedule_period"),
)
