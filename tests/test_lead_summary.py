from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.leads.summary import SummaryFilter, summarize
from knowledge.lead_store import LeadStore
from knowledge.sql import make_engine
from tests.lead_summary_data import TODAY, Clock, build_history, expected_summary


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LeadStore:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leads.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    store = LeadStore(make_engine(url), clock=Clock())
    build_history(store)
    return store


FILTERS = [
    SummaryFilter(),
    SummaryFilter(node="munich"),
    SummaryFilter(sector="hydrogen"),
    SummaryFilter(node="munich", sector="hydrogen"),
    SummaryFilter(stage="visiting"),
    SummaryFilter(division="bohai"),
    SummaryFilter(sector="ai", visibility=("internal",)),
    SummaryFilter(visibility=("internal",)),
    SummaryFilter(period="week"),
    SummaryFilter(period="quarter", stalled_days=60),
    SummaryFilter(since=dt.date(2026, 11, 12), stalled_days=10),
    SummaryFilter(node="paris"),
]


def test_every_figure_matches_the_records(store: LeadStore) -> None:
    for where in FILTERS:
        got = summarize(store.engine, where, TODAY).as_json()
        want = expected_summary(store, where)
        for key, value in want.items():
            assert got[key] == value, (where, key)
            if key.startswith("by_"):
                assert list(got[key]) == list(value), (where, key)  # the order shown, too


def test_the_figures_say_what_a_manager_expects(store: LeadStore) -> None:
    """The history's story, spelled out: a guard that the records-based reference itself
    counts what the issue means."""
    summary = summarize(store.engine, SummaryFilter(), TODAY)
    assert summary.total == 12
    assert summary.new == ["L-0003", "L-0006", "L-0010"]  # Lima, an hour before the period: no
    assert summary.advanced == [
        {"id": "L-0001", "from": "qualified", "to": "visiting"},
        {"id": "L-0008", "from": "qualified", "to": "contacted"},
        {"id": "L-0008", "from": "contacted", "to": "visiting"},
    ]
    assert summary.stalled == ["L-0002", "L-0012"]  # Kilo's edit on Nov 20 ended its stall
    # 50 bn KRW ≈ 260 m CNY > 18 m USD > 100 m CNY; Alpha and Hotel tie at 12 m EUR: id order
    assert [lead["id"] for lead in summary.largest] == [
        "L-0006",
        "L-0002",
        "L-0007",
        "L-0001",
        "L-0008",
    ]
    assert summary.unassigned == [
        {"id": "L-0002", "company": "Beacon Bio Inc.", "suggested_division": None},
        {"id": "L-0003", "company": "Cedar AI Ltd", "suggested_division": "bohai"},
        {"id": "L-0006", "company": "Foxtrot Hydrogen", "suggested_division": None},
        {"id": "L-0008", "company": "Hotel Fuel Cells", "suggested_division": "yangtze"},
        {"id": "L-0010", "company": "Juliet Sensors", "suggested_division": None},
        {"id": "L-0012", "company": "Lima Sensors", "suggested_division": None},
    ]


def test_staff_figures_leave_out_restricted_leads_entirely(store: LeadStore) -> None:
    everything = summarize(store.engine, SummaryFilter(), TODAY)
    staff = summarize(store.engine, SummaryFilter(visibility=("public", "internal")), TODAY)
    assert everything.total - staff.total == 2
    assert "biomedicine" in everything.by_sector and "biomedicine" not in staff.by_sector
    restricted = {"L-0002", "L-0007"}
    shown = {
        *staff.new,
        *staff.stalled,
        *(m["id"] for m in staff.advanced),
        *(lead["id"] for lead in staff.largest),
        *(lead["id"] for lead in staff.unassigned),
    }
    assert not shown & restricted


def test_a_bad_period_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="period 'fortnight'"):
        SummaryFilter(period="fortnight").period_start(TODAY)
