from __future__ import annotations

from knowledge.lead_views import lead_text
from knowledge.leads import Lead

LEAD = Lead(
    company="H2 Motion GmbH",
    node="munich",
    title="Munich: H2 Motion – fuel-cell truck drivetrains",
    sectors=["hydrogen"],
    stage="qualified",
    investment_amount=12_000_000,
    investment_currency="EUR",
    expected_jobs=60,
    needs=["land", "talent"],
    summary="Builds fuel-cell drivetrains for heavy trucks; wants a pilot line in Zhengzhou.",
    contact_name="Dr. Anna Weber",
    contact_email="anna.weber@example.de",
    contact_phone="+49 89 5550 1234",
    submitted_by="munich-node",
)


def test_the_text_view_leaves_the_contact_out() -> None:
    text = lead_text(LEAD)
    assert "H2 Motion GmbH" in text and "12,000,000 EUR" in text and "hydrogen" in text
    for secret in ("Anna Weber", "anna.weber@example.de", "5550 1234"):
        assert secret not in text


def test_leads_are_searchable_by_staff_only_and_follow_each_change(services_factory) -> None:  # type: ignore[no-untyped-def]
    services = services_factory()
    lead = services.leads.create(LEAD, "munich-node")
    assert services.flush_indexing(timeout=120)  # the text view is indexed in the background
    hits = services.search("Munich hydrogen leads", role="staff", k=3, kind="lead")
    assert hits and hits[0].metadata["doc_id"] == lead.id
    assert not any(
        h.metadata.get("kind") == "lead"
        for h in services.search("Munich hydrogen leads", role="partner", k=10)
    )
    assert all("Anna Weber" not in h.text for h in hits)
    services.leads.update(lead.id, {"stage": "negotiating"}, "zhou.mu")
    assert services.flush_indexing(timeout=120)
    texts = [h.text for h in services.search("H2 Motion stage", role="staff", k=5, kind="lead")]
    assert any("negotiating" in t for t in texts)
    assert not any("qualified" in t for t in texts)
