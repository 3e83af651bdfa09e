"""A small lead history on chosen dates, and the summary figures computed the slow, obvious way
from the records (`store.list()` + `store.history()`), to check the SQL against."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from bot.leads.summary import RANKING_RATES_TO_CNY, SummaryFilter
from knowledge.lead_store import LeadStore
from knowledge.leads import PIPELINE, Lead
from tests.clock import Clock

TODAY = dt.date(2026, 12, 1)


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


# The synthetic history starts here.
START = at("2026-01-01")


def build_history(store: LeadStore) -> None:
    """Eleven leads across nodes, sectors, stages, currencies and visibilities, created and
    changed on dates before, inside and at the edges of the default period (Nov 1 – Dec 1)."""
    clock = store.clock
    assert isinstance(clock, Clock)

    def create(day: str, hour: int = 9, **values: Any) -> str:
        clock.now = at(day, hour)
        values.setdefault("submitted_by", f"{values['node']}-node")
        return store.create(Lead(**values), "node").id

    def change(lead_id: str, day: str, hour: int = 9, **changes: Any) -> None:
        clock.now = at(day, hour)
        store.update(lead_id, changes, "manager")

    a = create(
        "2026-08-01",
        company="Alpha H2 GmbH",
        node="munich",
        sectors=["hydrogen", "clean-tech"],
        investment_amount=12e6,
        investment_currency="EUR",
        assigned_division="yangtze",
    )
    change(a, "2026-08-20", stage="qualified")
    change(a, "2026-11-10", stage="visiting")  # advanced in the period
    create(
        "2026-09-05",
        company="Beacon Bio Inc.",
        node="boston",
        sectors=["biomedicine"],
        investment_amount=18e6,
        investment_currency="USD",
        visibility="restricted",
    )  # untouched since September: stalled
    c = create(
        "2026-11-20",
        company="Cedar AI Ltd",
        node="tel-aviv",
        sectors=["ai", "semiconductors"],
        investment_amount=40e6,
        investment_currency="ILS",
    )
    clock.now = at("2026-11-21")
    store.set_suggestion(c, "bohai", 0.8, ["sector ai"])
    d = create(
        "2026-10-01",
        company="Delta Photonics",
        node="cambridge",
        sectors=["ai"],
        stage="negotiating",
        investment_amount=5e6,
        investment_currency="GBP",
        assigned_division="pearl",
    )
    change(d, "2026-11-15", stage="dropped")  # a move, but not forward
    create(
        "2026-07-01",
        company="Echo Robotics",
        node="munich",
        sectors=["ai"],
        stage="landed",
        assigned_division="yangtze",
    )  # old but closed: not stalled
    create(
        "2026-11-25",
        company="Foxtrot Hydrogen",
        node="boston",
        sectors=["hydrogen"],
        stage="contacted",
        investment_amount=50e9,
        investment_currency="KRW",
    )
    g = create(
        "2026-06-01",
        company="Gimel Pharma",
        node="tel-aviv",
        sectors=["biomedicine"],
        stage="signed",
        investment_amount=100e6,
        investment_currency="CNY",
        assigned_division="bohai",
        visibility="restricted",
    )
    change(g, "2026-11-12", stage="negotiating")  # backwards: not advanced
    h = create(
        "2026-10-20",
        company="Hotel Fuel Cells",
        node="munich",
        sectors=["hydrogen"],
        stage="qualified",
        investment_amount=12e6,
        investment_currency="EUR",
    )  # ties with Alpha on size: the id decides
    clock.now = at("2026-10-21")
    store.set_suggestion(h, "yangtze", 0.9, ["sector hydrogen", "node munich"])
    change(h, "2026-11-28", stage="contacted")
    change(h, "2026-11-29", stage="visiting")  # two steps forward in the period
    create(
        "2026-09-15",
        company="India Optics",
        node="cambridge",
        sectors=["semiconductors"],
        stage="dropped",
    )  # unassigned but dropped: not waiting for a division
    create(
        "2026-12-01",
        hour=8,
        company="Juliet Sensors",
        node="boston",
        sectors=["semiconductors", "ai"],
    )  # created on the last day of the period
    k = create(
        "2026-09-01",
        company="Kilo Materials",
        node="cambridge",
        sectors=["new-materials"],
        stage="contacted",
        expected_jobs=20,
        assigned_division="bohai",
    )
    change(k, "2026-11-20", expected_jobs=40)  # any change ends a stall, not only a stage move
    create(
        "2026-10-31",
        hour=23,
        company="Lima Sensors",
        node="boston",
        sectors=["semiconductors"],
    )  # one hour before the default period starts: not new


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def expected_summary(
    store: LeadStore, where: SummaryFilter, today: dt.date = TODAY
) -> dict[str, Any]:
    """The figures `summarize` should give, from the records alone."""
    start = _midnight(where.period_start(today))
    end = _midnight(today + dt.timedelta(days=1))
    rank = {stage.value: i for i, stage in enumerate(PIPELINE)}

    def matches(lead: Lead) -> bool:
        return (
            (where.node is None or lead.node == where.node)
            and (where.division is None or lead.assigned_division == where.division)
            and (where.stage is None or lead.stage == where.stage)
            and (where.sector is None or where.sector in lead.sectors)
            and (where.visibility is None or lead.visibility in where.visibility)
        )

    chosen = [lead for lead in store.list() if matches(lead)]

    def created(lead: Lead) -> dt.datetime:
        assert lead.created_at is not None
        return lead.created_at

    def updated(lead: Lead) -> dt.datetime:
        assert lead.updated_at is not None
        return lead.updated_at

    moves = []
    for lead in chosen:
        for event in store.history(lead.id):
            if (
                event.field == "stage"
                and start <= event.at < end
                and event.old in rank
                and event.new in rank
                and rank[event.new] > rank[event.old]
            ):
                moves.append((event.at, {"id": lead.id, "from": event.old, "to": event.new}))
    cutoff = _midnight(today - dt.timedelta(days=where.stalled_days))

    def in_cny(lead: Lead) -> float:
        assert lead.investment_amount is not None
        return lead.investment_amount * RANKING_RATES_TO_CNY[lead.investment_currency or "CNY"]

    sized = sorted(
        (lead for lead in chosen if lead.investment_amount is not None),
        key=lambda lead: (-in_cny(lead), lead.id),
    )
    by_stage = Counter(lead.stage for lead in chosen)
    ordered: Callable[[Counter[str]], dict[str, int]] = lambda c: dict(  # noqa: E731
        sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return {
        "total": len(chosen),
        "by_stage": {s: by_stage[s] for s in [*rank, "dropped"]},
        "by_node": ordered(Counter(lead.node for lead in chosen)),
        "by_sector": ordered(Counter(s for lead in chosen for s in lead.sectors)),
        "by_division": ordered(Counter(lead.assigned_division or "unassigned" for lead in chosen)),
        "period_start": where.period_start(today).isoformat(),
        "period_end": today.isoformat(),
        "new": [
            lead.id
            for lead in sorted(chosen, key=lambda lead: (created(lead), lead.id))
            if start <= created(lead) < end
        ],
        "advanced": [move for _, move in sorted(moves, key=lambda m: m[0])],
        "stalled": [
            lead.id
            for lead in sorted(chosen, key=lambda lead: (updated(lead), lead.id))
            if lead.stage not in ("landed", "dropped") and updated(lead) < cutoff
        ],
        "largest": [
            {
                "id": lead.id,
                "company": lead.company,
                "amount": lead.investment_amount,
                "currency": lead.investment_currency,
            }
            for lead in sized[:5]
        ],
        "unassigned": [
            {"id": lead.id, "company": lead.company, "suggested_division": lead.suggested_division}
            for lead in chosen
            if lead.assigned_division is None and lead.stage != "dropped"
        ],
    }
