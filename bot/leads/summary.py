"""Lead summaries for managers: the figures come from SQL, exactly as stored.

`total` and the `by_*` counts cover every lead matching the filters. The period (default: the
last 30 days) decides which leads count as new (created in it), advanced (moved forward in the
pipeline in it) and stalled (open, and unchanged for `stalled_days`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    Table,
    Text,
    and_,
    case,
    func,
    literal,
    select,
    text,
    true,
)
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
_SLUG = re.compile(r"[a-z0-9-]+")


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
    exact = text(
        "EXISTS (SELECT 1 FROM json_each(leads.sectors) AS s WHERE s.value = :sector)"
    ).bindparams(sector=sector)
    if not _SLUG.fullmatch(sector):
        return exact
    # A plain substring test first, so json_each runs only on the few rows that can match
    # (a slug is stored verbatim in the JSON text); json_each keeps the answer exact.
    return and_(leads.c.sectors.cast(Text).like(f'%"{sector}"%'), exact)


def _sector_counts(conn: Any, source: Table) -> dict[str, int]:
    """Counted per distinct sector list, then spread over its sectors: a few hundred groups
    instead of one row per (lead, sector). A lead's list holds each sector once (validate)."""
    as_text = source.c.sectors.cast(Text)
    counts: Counter[str] = Counter()
    rows = conn.execute(select(as_text, func.count()).group_by(as_text)).all()
    for sectors, n in rows:
        for sector in json.loads(sectors):
            counts[str(sector)] += int(n)
    return _ordered(dict(counts))


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# The matching leads' narrow columns, copied once per summary. Leads are wide rows (a summary
# of a few kB each); scanning them once instead of once per figure is what keeps a summary
# of 100k leads under a second. A temporary table lives and dies with its connection, so
# concurrent summaries never see each other's; its own MetaData keeps it out of migrations.
_SNAPSHOT = Table(
    "lead_summary_snapshot",
    MetaData(),
    *[
        Column(name, leads.c[name].type, primary_key=name == "id")
        for name in (
            "id",
            "company",
            "node",
            "sectors",
            "stage",
            "investment_amount",
            "investment_currency",
            "suggested_division",
            "assigned_division",
            "created_at",
            "updated_at",
        )
    ],
    prefixes=["TEMPORARY"],
)
_DROP_SNAPSHOT = text(f"DROP TABLE IF EXISTS {_SNAPSHOT.name}")


def _conditions(dialect: str, where: SummaryFilter) -> Any:
    conditions: list[Any] = []
    if where.node:
        conditions.append(leads.c.node == where.node)
    if where.division:
        conditions.append(leads.c.assigned_division == where.division)
    if where.stage:
        conditions.append(leads.c.stage == where.stage)
    if where.sector:
        conditions.append(_has_sector(dialect, where.sector))
    if where.visibility is not None:
        conditions.append(leads.c.visibility.in_(where.visibility))
    return and_(true(), *conditions)


def summarize(engine: Engine, where: SummaryFilter, today: dt.date | None = None) -> LeadSummary:
    today = today or dt.date.today()
    start = where.period_start(today)
    with engine.connect() as conn:
        # SQLite creates the table outside the read transaction, so it is dropped explicitly
        # (the pooled connection is reused); PostgreSQL's rollback alone would remove it.
        conn.execute(_DROP_SNAPSHOT)
        try:
            _SNAPSHOT.create(conn)
            conn.execute(
                _SNAPSHOT.insert().from_select(
                    [c.name for c in _SNAPSHOT.c],
                    select(*[leads.c[c.name] for c in _SNAPSHOT.c]).where(
                        _conditions(engine.dialect.name, where)
                    ),
                )
            )
            return _figures(conn, _SNAPSHOT, where, start, today)
        finally:
            conn.rollback()
            conn.execute(_DROP_SNAPSHOT)
            conn.commit()


def _figures(
    conn: Any, source: Table, where: SummaryFilter, start: dt.date, today: dt.date
) -> LeadSummary:
    """Every figure, from `source`: the snapshot, which holds only the matching leads."""
    start_moment, end_moment = _moment(start), _moment(today + dt.timedelta(days=1))

    # One grouping for all three counts: a single sort of the rows, not one per column.
    stages: Counter[str] = Counter()
    nodes: Counter[str] = Counter()
    divisions: Counter[str] = Counter()
    columns = (source.c.stage, source.c.node, source.c.assigned_division)
    for stage, node, division, n in conn.execute(
        select(*columns, func.count()).group_by(*columns)
    ).all():
        stages[str(stage)] += n
        nodes[str(node)] += n
        divisions[str(division or "unassigned")] += n
    by_stage = {s: stages[s] for s in [*_RANK, "dropped"]}
    by_node = _ordered(dict(nodes))
    by_division = _ordered(dict(divisions))
    by_sector = _sector_counts(conn, source)
    total = sum(by_node.values())
    new = list(
        conn.execute(
            select(source.c.id)
            .where(source.c.created_at >= start_moment, source.c.created_at < end_moment)
            .order_by(source.c.created_at, source.c.id)
        )
        .scalars()
        .all()
    )
    advanced = [
        {"id": lead_id, "from": str(old), "to": str(new)}
        for lead_id, old, new in conn.execute(
            select(lead_events.c.lead_id, lead_events.c.old, lead_events.c.new)
            .join(source, source.c.id == lead_events.c.lead_id)
            .where(lead_events.c.field == "stage")
            .where(lead_events.c.at >= start_moment, lead_events.c.at < end_moment)
            .order_by(lead_events.c.at, lead_events.c.id)
        ).all()
        if _RANK.get(str(new), -1) > _RANK.get(str(old), len(_RANK))
    ]
    cutoff = _moment(today - dt.timedelta(days=where.stalled_days))
    stalled = list(
        conn.execute(
            select(source.c.id)
            .where(source.c.updated_at < cutoff)
            .where(source.c.stage.not_in([s.value for s in CLOSED]))
            .order_by(source.c.updated_at, source.c.id)
        )
        .scalars()
        .all()
    )
    # Ranked in SQL so only the few largest rows come back; id breaks ties so the ranking is
    # the same on every run and every dialect.
    in_cny = source.c.investment_amount * case(
        *[
            (source.c.investment_currency == code, literal(rate))
            for code, rate in RANKING_RATES_TO_CNY.items()
        ],
        else_=literal(1.0),
    )
    sized = conn.execute(
        select(
            source.c.id,
            source.c.company,
            source.c.investment_amount,
            source.c.investment_currency,
        )
        .where(source.c.investment_amount.is_not(None))
        .order_by(in_cny.desc(), source.c.id)
        .limit(LARGEST)
    ).all()
    unassigned = [
        {"id": lead_id, "company": company, "suggested_division": suggested}
        for lead_id, company, suggested in conn.execute(
            select(source.c.id, source.c.company, source.c.suggested_division)
            .where(source.c.assigned_division.is_(None), source.c.stage != "dropped")
            .order_by(source.c.id)
        ).all()
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
