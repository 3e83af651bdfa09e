from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.lead_seed import sample_leads
from knowledge.lead_store import LeadFilter, LeadStore
from knowledge.leads import Lead, LeadError
from knowledge.sql import make_engine
from tests.clock import Clock

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LeadStore:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leads.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    return LeadStore(make_engine(url), clock=Clock(T0))


def hydrogen_lead(**changes: object) -> Lead:
    values: dict[str, object] = {
        "company": "  H2 Motion  GmbH ",
        "node": "Munich",
        "sectors": ["Hydrogen", "clean tech"],
        "stage": "New",
        "investment_amount": 12_000_000,
        "investment_currency": "eur",
        "expected_jobs": 60,
        "needs": ["land", "talent"],
        "contact_name": "Dr. Anna Weber",
        "contact_email": "anna.weber@example.de",
        "submitted_by": "munich-node",
    }
    values.update(changes)
    return Lead(**values)  # type: ignore[arg-type]


def test_new_leads_get_the_next_id_and_clean_values(store: LeadStore) -> None:
    first = store.create(hydrogen_lead(), "munich-node")
    second = store.create(hydrogen_lead(company="Other AG"), "munich-node")
    assert (first.id, second.id) == ("L-0001", "L-0002")
    stored = store.require("l-0001")
    assert stored.company == "H2 Motion GmbH"
    assert stored.node == "munich" and stored.stage == "new"
    assert stored.sectors == ["hydrogen", "clean-tech"]
    assert stored.investment_currency == "EUR" and stored.investment_amount == 12_000_000
    assert stored.created_at == T0 and stored.contact_email == "anna.weber@example.de"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"company": " "}, "company"),
        ({"node": "paris"}, "node 'paris'"),
        ({"stage": "dreaming"}, "stage 'dreaming'"),
        ({"investment_currency": None}, "currency"),
        ({"contact_email": "not-an-address"}, "contact email"),
        ({"visibility": "public"}, "public"),
    ],
)
def test_bad_values_are_refused_by_name_and_nothing_is_stored(
    store: LeadStore, change: dict[str, object], named: str
) -> None:
    store.create(hydrogen_lead(), "munich-node")
    with pytest.raises(LeadError, match=named):
        store.create(hydrogen_lead(**change), "munich-node")
    with pytest.raises(LeadError, match=named):
        store.update("L-0001", change, "someone")
    assert store.count() == 1
    assert store.require("L-0001").company == "H2 Motion GmbH"


def test_every_change_is_in_the_history_with_who_and_when(store: LeadStore) -> None:
    lead = store.create(hydrogen_lead(), "munich-node")
    clock = store.clock
    assert isinstance(clock, Clock)
    clock.now = T0 + dt.timedelta(days=3)
    store.update(lead.id, {"stage": "contacted", "expected_jobs": 80}, "wang.liqun")
    clock.now = T0 + dt.timedelta(days=5)
    store.update(lead.id, {"expected_jobs": 80}, "wang.liqun")  # no change, no event
    events = store.history(lead.id)
    assert [(e.field, e.old, e.new, e.actor) for e in events] == [
        ("created", None, "new", "munich-node"),
        ("stage", "new", "contacted", "wang.liqun"),
        ("expected_jobs", 60, 80, "wang.liqun"),
    ]
    assert events[1].at == T0 + dt.timedelta(days=3)
    updated = store.require(lead.id)
    assert updated.stage_changed_at == T0 + dt.timedelta(days=3)
    assert updated.updated_at == T0 + dt.timedelta(days=3)


def test_an_update_cannot_touch_system_fields(store: LeadStore) -> None:
    lead = store.create(hydrogen_lead(), "munich-node")
    with pytest.raises(LeadError, match="created_at"):
        store.update(lead.id, {"created_at": T0}, "someone")


def test_the_sample_leads_load_as_records(store: LeadStore) -> None:
    results = store.save_many(sample_leads(), "samples")
    assert len(results) == 35 and {status for _, status in results} == {"created"}
    lead = store.require("L-0013")
    assert lead.company == "Cam Photonic Sensors Ltd" and lead.node == "cambridge"
    assert lead.investment_amount == 5_000_000 and lead.investment_currency == "GBP"
    assert lead.contact_name == "Dr. Rupert Hale" and lead.assigned_division == "bohai"
    assert lead.created_at == dt.datetime(2019, 9, 27, 9, 0, tzinfo=dt.UTC)
    again = store.save_many(sample_leads(), "samples")
    assert {status for _, status in again} == {"unchanged"} and store.count() == 35
    munich = store.list(LeadFilter(node="munich", sector="hydrogen"))
    assert munich and all(m.node == "munich" and "hydrogen" in m.sectors for m in munich)
