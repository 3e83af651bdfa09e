"""Baseline: conversation turns, language statistics and the embedding cache.

Databases made before migrations existed (by `metadata.create_all`, with these same
definitions) already hold some or all of these tables and have no alembic_version: only what
is missing is created, and existing rows stay.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _existing_tables() -> set[str]:
    if context.is_offline_mode():
        return set()
    return set(sa.inspect(op.get_bind()).get_table_names())


def _existing_indexes(table: str) -> set[str]:
    if context.is_offline_mode():
        return set()
    return {str(ix["name"]) for ix in sa.inspect(op.get_bind()).get_indexes(table)}


def upgrade() -> None:
    existing = _existing_tables()
    if "conversation_turns" not in existing:
        op.create_table(
            "conversation_turns",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("platform", sa.String(32), nullable=False),
            sa.Column("conversation_id", sa.String(256), nullable=False),
            sa.Column("user_id", sa.String(256), nullable=False),
            sa.Column("speaker", sa.String(16), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "ix_conversation_turns_conversation_id" not in _existing_indexes("conversation_turns"):
        op.create_index(
            "ix_conversation_turns_conversation_id", "conversation_turns", ["conversation_id"]
        )
    if "language_stats" not in existing:
        op.create_table(
            "language_stats",
            sa.Column("collection", sa.String(512), primary_key=True),
            sa.Column("language", sa.String(32), primary_key=True),
            sa.Column("chunks", sa.Integer(), nullable=False),
            sa.Column("vector_sum", sa.LargeBinary(), nullable=False),
        )
    if "embedding_cache" not in existing:
        op.create_table(
            "embedding_cache",
            sa.Column("model", sa.String(200), primary_key=True),
            sa.Column("text_sha256", sa.String(64), primary_key=True),
            sa.Column("dim", sa.Integer(), nullable=False),
            sa.Column("vector", sa.LargeBinary(), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("embedding_cache")
    op.drop_table("language_stats")
    op.drop_index("ix_conversation_turns_conversation_id", table_name="conversation_turns")
    op.drop_table("conversation_turns")
