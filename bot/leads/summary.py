"""Lead summaries for managers: the figures come from SQL, exactly as stored.

`total` and the `by_*` counts cover every lead matching the filters. The period (default: the
last 30 days) decides which leads count as new (created in it), advanced (moved forward in the
pipeline in it) and stalled (open, and unchanged for `stalled_days`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, case, func, literal, select, text, true
from sqlalchemy.dialects.postgresql import JSONB

from knowledge.leads import CLOSED, PIPELINE, lead_events, leads

PERIOD_DAYS = {"week": 7, "month": 30, "quarter": 91}
DEFAULT_PERIOD_DAYS = 30
STALLED_DAYS = 30
LARGEST = 5
# Reference rates to CNY, used only to rank leads of different currencies by size; every
# figure shown stays in the currency the node reported.
RANKING_RATES_TO_CNY = {
    "CNY": 1.0,
    "USD": 7.1,
    "EUR": 7.7,
    "GBP": 9.0,
    "ILS": 1.9,
    "KRW": 0.0052,
    "JPY": 0.047,
    "CHF": 8.1,
    "HKD": 0.91,
}
_RANK = {stage.value: i for i, stage in enumerate(PIPELINE)}


@dataclass(frozen=True)
class SummaryFilter:
    node: str | None = None
    division: str | None = None  # assigned division
    sector: str | None = None
    stage: str | None = None
    since: dt.date | None = None  # period start; default today - 30 days
    period: str | None = None  # week | month | quarter
    stalled_days: int = STALLED_DAYS
    # Visibility levels the asker may read (None: all). Staff must not learn even the count of
    # restricted leads, so this applies to every figure, not only to the lists.
    visibility: tuple[str, ...] | None = None

    def period_start(self, today: dt.date) -> dt.date:
        if self.since is not None:
            return self.since
        if self.period is not None:
            if self.period not in PERIOD_DAYS:
                raise ValueError(f"period {self.period!r} is not one of: {', '.join(PERIOD_DAYS)}")
            return today - dt.timedelta(days=PERIOD_DAYS[self.period])
        return today - dt.timedelta(days=DEFAULT_PERIOD_DAYS)


@dataclass
class LeadSummary:
    total: int
    by_stage: dict[str, int]
    by_node: dict[str, int]
    by_sector: dict[str, int]
    by_division: dict[str, int]
    period_start: str
    period_end: str
    new: list[str] = field(default_factory=list)
    advanced: list[dict[str, str]] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)
    largest: list[dict[str, Any]] = field(default_factory=list)
    unassigned: list[dict[str, Any]] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False, indent=2)


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _has_sector(dialect: str, sector: str) -> Any:
    if dialect == "postgresql":
        return leads.c.sectors.cast(JSONB).contains([sector])
    return text(
        "EXISTS (SELECT 1 FROM json_each(leads.sectors) AS s WHERE s.value = :sector)"
    ).bindparams(sector=sector)


def _sector_counts(conn: Any, matching: Any) -> dict[str, int]:
    if conn.dialect.name == "postgresql":
        element = func.json_array_elements_text(leads.c.sectors).table_valued("value")
    else:
        element = func.json_each(leads.c.sectors).table_valued("value")
    rows = conn.execute(
        select(element.c.value, func.count())
        .select_from(leads)
        .join(element, true())
        .where(matching)
        .group_by(element.c.value)
    )
    return _ordered({str(value): int(n) for value, n in rows})


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(engine: Engine, where: SummaryFilter, today: dt.date | None = None) -> LeadSummary:
    today = today or dt.date.today()
    start = where.period_start(today)
    start_moment, end_moment = _moment(start), _moment(today + dt.timedelta(days=1))
    conditions: list[Any] = []
    if where.node:
        conditions.append(leads.c.node == where.node)
    if where.division:
        conditions.append(leads.c.assigned_division == where.division)
    if where.stage:
        conditions.append(leads.c.stage == where.stage)
    if where.sector:
        conditions.append(_has_sector(engine.dialect.name, where.sector))
    if where.visibility is not None:
        conditions.append(leads.c.visibility.in_(where.visibility))
    matching = and_(true(), *conditions)
    with engine.connect() as conn:

        def grouped(column: Any) -> dict[str, int]:
            rows = conn.execute(select(column, func.count()).where(matching).group_by(column))
            return _ordered({str(value or "unassigned"): int(n) for value, n in rows})

        by_stage_raw = grouped(leads.c.stage)
        by_stage = {s: by_stage_raw.get(s, 0) for s in [*_RANK, "dropped"]}
        by_node = grouped(leads.c.node)
        by_division = grouped(leads.c.assigned_division)
        by_sector = _sector_counts(conn, matching)
        total = sum(by_node.values())
        new = list(
            conn.execute(
                select(leads.c.id)
                .where(matching, leads.c.created_at >= start_moment)
                .where(leads.c.created_at < end_moment)
                .order_by(leads.c.created_at, leads.c.id)
            ).scalars()
        )
        advanced = [
            {"id": r.lead_id, "from": str(r.old), "to": str(r.new)}
            for r in conn.execute(
                select(lead_events.c.lead_id, lead_events.c.old, lead_events.c.new)
                .join(leads, leads.c.id == lead_events.c.lead_id)
                .where(matching, lead_events.c.field == "stage")
                .where(lead_events.c.at >= start_moment, lead_events.c.at < end_moment)
                .order_by(lead_events.c.at, lead_events.c.id)
            )
            if _RANK.get(str(r.new), -1) > _RANK.get(str(r.old), len(_RANK))
        ]
        cutoff = _moment(today - dt.timedelta(days=where.stalled_days))
        stalled = list(
            conn.execute(
                select(leads.c.id)
                .where(matching, leads.c.updated_at < cutoff)
                .where(leads.c.stage.not_in([s.value for s in CLOSED]))
                .order_by(leads.c.updated_at, leads.c.id)
            ).scalars()
        )
        # Ranked in SQL so only the few largest rows leave the database; id breaks ties so
        # the ranking is the same on every run and every dialect.
        in_cny = leads.c.investment_amount * case(
            *[
                (leads.c.investment_currency == code, literal(rate))
                for code, rate in RANKING_RATES_TO_CNY.items()
            ],
            else_=literal(1.0),
        )
        sized = conn.execute(
            select(
                leads.c.id, leads.c.company, leads.c.investment_amount, leads.c.investment_currency
            )
            .where(matching, leads.c.investment_amount.is_not(None))
            .order_by(in_cny.desc(), leads.c.id)
            .limit(LARGEST)
        ).all()
        unassigned = [
            {"id": r.id, "company": r.company, "suggested_division": r.suggested_division}
            for r in conn.execute(
                select(leads.c.id, leads.c.company, leads.c.suggested_division)
                .where(matching, leads.c.assigned_division.is_(None))
                .where(leads.c.stage != "dropped")
                .order_by(leads.c.id)
            )
        ]
    return LeadSummary(
        total=total,
        by_stage=by_stage,
        by_node=by_node,
        by_sector=by_sector,
        by_division=by_division,
        period_start=start.isoformat(),
        period_end=today.isoformat(),
        new=new,
        advanced=advanced,
        stalled=stalled,
        largest=[
            {
                "id": r.id,
                "company": r.company,
                "amount": r.investment_amount,
                "currency": r.investment_currency,
            }
            for r in sized
        ],
        unassigned=unassigned,
        filters={
            k: v
            for k, v in {
                "node": where.node,
                "division": where.division,
                "sector": where.sector,
                "stage": where.stage,
                "stalled_days": where.stalled_days,
            }.items()
            if v is not None
        },
    )
