"""One rule for who sees which leads, walked with every role."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.leads.access import LeadAccess, LeadForbidden, LeadNotFound
from knowledge.lead_store import LeadStore
from knowledge.leads import Lead, LeadError
from knowledge.sql import make_engine

PARTNER = "telegram:4711"


@pytest.fixture
def store(tmp_path: Path) -> LeadStore:
    store = LeadStore(make_engine(f"sqlite:///{tmp_path / 'leads.db'}"))
    contact = {"contact_name": "Anna Berg", "contact_email": "anna@example.com"}
    for company, by, visibility in (
        ("Own Internal GmbH", PARTNER, "internal"),  # L-0001
        ("Someone Else AG", "slack:U2", "internal"),  # L-0002
        ("Own Restricted GmbH", PARTNER, "restricted"),  # L-0003
        ("Nobody's Ltd", "", "internal"),  # L-0004
    ):
        lead = Lead(company, "munich", submitted_by=by, visibility=visibility, **contact)
        store.create(lead, by or "import")
    return store


def _readable(access: LeadAccess, store: LeadStore) -> list[str]:
    return [lead.id for lead in access.filter(store.list())]


def test_guests_see_no_lead_and_learn_no_id(store: LeadStore) -> None:
    guest = LeadAccess("guest", "telegram:9")
    assert _readable(guest, store) == [] and guest.levels == ()
    for lead_id in ("L-0001", "L-9999"):
        with pytest.raises(LeadForbidden, match="guests may not see leads") as refused:
            guest.require(store, lead_id)
        assert refused.value.reason == "guest"


def test_partners_see_their_own_unrestricted_leads_with_their_contacts(store: LeadStore) -> None:
    partner = LeadAccess("partner", PARTNER)
    assert _readable(partner, store) == ["L-0001"]
    own = partner.require(store, "l-0001")
    assert partner.shown(own).contact_email == "anna@example.com"
    with pytest.raises(LeadForbidden, match="partners see only the leads they submitted") as other:
        partner.require(store, "L-0002")
    assert other.value.reason == "not_own"
    with pytest.raises(LeadForbidden, match="only managers") as restricted:
        partner.require(store, "L-0003")
    assert restricted.value.reason == "restricted"
    # No figures: a summary would count other people's leads.
    assert partner.levels == ()
    with pytest.raises(LeadForbidden, match="may not see lead summaries"):
        partner.require_figures()


def test_a_partner_without_an_actor_owns_nothing(store: LeadStore) -> None:
    assert _readable(LeadAccess("partner"), store) == []  # not even L-0004, submitted by ""


def test_staff_see_unrestricted_leads_without_contacts(store: LeadStore) -> None:
    staff = LeadAccess("staff", "slack:U9")
    assert _readable(staff, store) == ["L-0001", "L-0002", "L-0004"]
    assert all(lead.contact_email is None for lead in staff.filter(store.list()))
    assert staff.shown(staff.require(store, "L-0002")).contact_name is None
    with pytest.raises(LeadForbidden, match="it is restricted, only managers may see it"):
        staff.require(store, "L-0003")
    assert set(staff.require_figures()) == {"public", "partner", "internal"}


@pytest.mark.parametrize("role", ["manager", "admin", "Manager"])
def test_managers_and_admins_see_everything(store: LeadStore, role: str) -> None:
    access = LeadAccess(role, "slack:U1")
    assert _readable(access, store) == ["L-0001", "L-0002", "L-0003", "L-0004"]
    assert access.shown(access.require(store, "L-0003")).contact_email == "anna@example.com"
    assert set(access.levels) == {"public", "partner", "internal", "restricted"}


def test_a_missing_lead_is_told_apart_from_a_forbidden_one(store: LeadStore) -> None:
    staff = LeadAccess("staff")
    services = SimpleNamespace(leads=store)  # Services or the store itself
    with pytest.raises(LeadNotFound, match="no lead 'L-9999'") as missing:
        staff.require(services, "L-9999")  # type: ignore[arg-type]
    with pytest.raises(LeadForbidden) as forbidden:
        staff.require(services, "L-0003")  # type: ignore[arg-type]
    assert isinstance(missing.value, LeadError) and isinstance(forbidden.value, LeadError)
    assert not isinstance(missing.value, LeadForbidden)


def test_an_unknown_role_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="role 'owner' is not one of: guest, partner, staff"):
        LeadAccess("owner")
