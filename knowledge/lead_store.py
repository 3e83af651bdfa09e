"""The lead store: create, update, find and list leads, with a history of every change.

Every write goes through `save`, which validates, records one event per changed field (who,
when, old, new) and tells the listeners (the index of lead text views) what changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import Engine, and_, func, select

from knowledge.leads import (
    CLOSED,
    DEFAULT_NODES,
    EDITABLE,
    LEAD_ID,
    Lead,
    LeadError,
    Stage,
    changed_fields,
    lead_events,
    leads,
    validate,
)
from knowledge.sql import aware, utcnow

Listener = Callable[[list[Lead]], None]
# Fills in the suggested division of a lead about to be saved, given each division's open
# workload; wired by the core (bot/leads/matching.py), which knows the divisions.
Suggester = Callable[[Lead, dict[str, int]], Lead]


_QUIET = {"suggested_score", "suggested_reasons"}


@dataclass(frozen=True)
class LeadEvent:
    lead_id: str
    at: dt.datetime
    actor: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class LeadFilter:
    node: str | None = None
    stage: str | None = None
    division: str | None = None  # assigned division
    sector: str | None = None
    created_since: dt.datetime | None = None
    text: str | None = None  # company or title contains


def _from_row(row: Any) -> Lead:
    values = {f.name: getattr(row, f.name) for f in fields(Lead)}
    for name in ("created_at", "updated_at", "stage_changed_at"):
        values[name] = aware(values[name])
    values["sectors"] = list(values["sectors"] or [])
    values["needs"] = list(values["needs"] or [])
    values["suggested_reasons"] = list(values["suggested_reasons"] or [])
    return Lead(**values)


class LeadStore:
    def __init__(
        self,
        engine: Engine,
        nodes: Sequence[str] = DEFAULT_NODES,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.nodes = tuple(nodes)
        self.clock = clock
        self.listeners: list[Listener] = []
        self.suggester: Suggester | None = None

    # ------------------------------------------------------------------ reading
    def get(self, lead_id: str) -> Lead | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(leads).where(leads.c.id == lead_id.strip().upper())).first()
        return _from_row(row) if row is not None else None

    def require(self, lead_id: str) -> Lead:
        lead = self.get(lead_id)
        if lead is None:
            raise LeadError(f"no lead {lead_id!r} (ids look like L-0042; see `zbrain leads list`)")
        return lead

    def list(self, where: LeadFilter | None = None) -> list[Lead]:
        query = select(leads).where(and_(True, *self._conditions(where or LeadFilter())))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(leads.c.id)).all()
        found = [_from_row(r) for r in rows]
        if where is not None and where.sector:
            found = [lead for lead in found if where.sector in lead.sectors]
        return found

    @staticmethod
    def _conditions(where: LeadFilter) -> list[Any]:
        conditions: list[Any] = []
        if where.node:
            conditions.append(leads.c.node == where.node)
        if where.stage:
            conditions.append(leads.c.stage == where.stage)
        if where.division:
            conditions.append(leads.c.assigned_division == where.division)
        if where.created_since:
            conditions.append(leads.c.created_at >= where.created_since)
        if where.text:
            pattern = f"%{where.text.lower()}%"
            conditions.append(
                func.lower(leads.c.company).like(pattern) | func.lower(leads.c.title).like(pattern)
            )
        return conditions

    def history(self, lead_id: str) -> list[LeadEvent]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(lead_events)
                .where(lead_events.c.lead_id == lead_id)
                .order_by(lead_events.c.id)
            ).all()
        return [
            LeadEvent(r.lead_id, aware(r.at) or r.at, r.actor, r.field, r.old, r.new) for r in rows
        ]

    def workload(self) -> dict[str, int]:
        """Open (not landed or dropped) leads per assigned division."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(leads.c.assigned_division, func.count())
                .where(leads.c.assigned_division.is_not(None))
                .where(leads.c.stage.not_in([s.value for s in CLOSED]))
                .group_by(leads.c.assigned_division)
            ).all()
        return {str(division): int(n) for division, n in rows}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(leads)).scalar() or 0)

    # ------------------------------------------------------------------ writing
    def create(self, lead: Lead, actor: str, *, at: dt.datetime | None = None) -> Lead:
        """Save a new lead. An id is given unless the lead brings an unused one."""
        return self.save_many([lead], actor, at=at, create_only=True)[0][0]

    def update(self, lead_id: str, changes: dict[str, Any], actor: str) -> Lead:
        unknown = set(changes) - set(EDITABLE) - {"assigned_division"}
        if unknown:
            raise LeadError(f"cannot change {', '.join(sorted(unknown))}")
        current = self.require(lead_id)
        return self.save_many([replace(current, **changes)], actor)[0][0]

    def set_suggestion(
        self, lead_id: str, division: str | None, score: float | None, reasons: list[str]
    ) -> Lead:
        current = self.require(lead_id)
        updated = replace(
            current, suggested_division=division, suggested_score=score, suggested_reasons=reasons
        )
        return self.save_many([updated], "zbrain (division matching)", system=True)[0][0]

    def save_many(
        self,
        items: Iterable[Lead],
        actor: str,
        *,
        at: dt.datetime | None = None,
        create_only: bool = False,
        system: bool = False,
    ) -> list[tuple[Lead, str]]:
        """Create or update each lead in one transaction; returns (lead, "created" | "updated"
        | "unchanged"). A lead with an id updates that lead; one without gets the next id."""
        now = at or self.clock()
        results: list[tuple[Lead, str]] = []
        changed: list[Lead] = []
        workload = self.workload() if self.suggester is not None else {}
        with self.engine.begin() as conn:
            next_number = self._next_number(conn)
            for item in items:
                lead = validate(item, self.nodes)
                existing_row = None
                if lead.id:
                    lead = replace(lead, id=lead.id.strip().upper())
                    if not LEAD_ID.match(lead.id):
                        raise LeadError(f"lead id {lead.id!r} does not look like L-0042")
                    existing_row = conn.execute(select(leads).where(leads.c.id == lead.id)).first()
                if existing_row is not None and not system and not create_only:
                    before = _from_row(existing_row)
                    if not changed_fields(before, lead):
                        # Nothing a person edits differs (a file exported and imported back):
                        # no write, no history, and no re-suggested division either.
                        results.append((before, "unchanged"))
                        continue
                if self.suggester is not None and not system:
                    lead = self.suggester(lead, workload)
                if existing_row is None:
                    if not lead.id:
                        lead = replace(lead, id=f"L-{next_number:04d}")
                        next_number += 1
                    else:
                        next_number = max(next_number, int(lead.id[2:]) + 1)
                    created = lead.created_at or now
                    lead = replace(
                        lead,
                        created_at=created,
                        updated_at=lead.updated_at or created,
                        stage_changed_at=lead.stage_changed_at or lead.updated_at or created,
                    )
                    conn.execute(leads.insert().values(**lead.as_row()))
                    conn.execute(
                        lead_events.insert().values(
                            lead_id=lead.id,
                            at=created,
                            actor=actor,
                            field="created",
                            old=None,
                            new=lead.stage,
                        )
                    )
                    results.append((lead, "created"))
                    changed.append(lead)
                    continue
                if create_only:
                    raise LeadError(f"lead {lead.id} already exists")
                before = _from_row(existing_row)
                editable = set(EDITABLE) | (
                    {"suggested_division", "suggested_score", "suggested_reasons"}
                    if system or self.suggester is not None
                    else set()
                )
                names = tuple(f.name for f in fields(Lead) if f.name in editable)
                diffs = changed_fields(before, lead, names)
                if not diffs:
                    results.append((before, "unchanged"))
                    continue
                noted = {n: d for n, d in diffs.items() if n not in _QUIET}
                if not noted:
                    # Only the suggestion's score or wording moved (another lead was assigned,
                    # so workloads changed): kept current, but not a change anyone made.
                    quiet = replace(before, **{n: new for n, (_, new) in diffs.items()})
                    conn.execute(
                        leads.update().where(leads.c.id == quiet.id).values(**quiet.as_row())
                    )
                    results.append((quiet, "unchanged"))
                    continue
                after = replace(before, **{n: new for n, (_, new) in diffs.items()}, updated_at=now)
                if "stage" in diffs:
                    after = replace(after, stage_changed_at=now)
                values = after.as_row()
                conn.execute(leads.update().where(leads.c.id == after.id).values(**values))
                conn.execute(
                    lead_events.insert(),
                    [
                        {
                            "lead_id": after.id,
                            "at": now,
                            "actor": actor,
                            "field": n,
                            "old": _jsonable(old),
                            "new": _jsonable(new),
                        }
                        for n, (old, new) in noted.items()
                    ],
                )
                results.append((after, "updated"))
                changed.append(after)
        if changed:
            for listener in self.listeners:
                listener(changed)
        return results

    @staticmethod
    def _next_number(conn: Any) -> int:
        ids = conn.execute(select(leads.c.id)).scalars().all()
        numbers = [int(i[2:]) for i in ids if LEAD_ID.match(i)]
        return max(numbers, default=0) + 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def stage_rank(stage: str) -> int:
    """Position in the pipeline; dropped ranks below new."""
    order = [s.value for s in Stage if s is not Stage.DROPPED]
    return order.index(stage) if stage in order else -1
