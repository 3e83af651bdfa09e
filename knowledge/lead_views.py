"""Leads as text in the index, so questions such as "which Munich leads are in hydrogen?" find
them. The contact person is never part of the text: the view carries what staff may read, and
its visibility is the lead's own."""

from __future__ import annotations

from pathlib import Path

from knowledge.leads import Lead
from knowledge.loaders import RawDocument
from knowledge.metadata import build_document
from knowledge.model import Document

LEADS_ROOT = "zbrain:leads"  # the index root that holds lead views, beside ingested folders

_LABELS = {
    "zh": {
        "company": "企业",
        "node": "来源节点",
        "location": "所在地",
        "sectors": "领域",
        "stage": "阶段",
        "investment": "投资额",
        "jobs": "预计就业",
        "needs": "需求",
        "submitted_by": "提交人",
        "division": "承接事业部",
        "suggested": "建议事业部",
    },
    "en": {
        "company": "Company",
        "node": "Node",
        "location": "Location",
        "sectors": "Sectors",
        "stage": "Stage",
        "investment": "Investment",
        "jobs": "Expected jobs",
        "needs": "Needs",
        "submitted_by": "Submitted by",
        "division": "Assigned division",
        "suggested": "Suggested division",
    },
}


def lead_text(lead: Lead) -> str:
    labels = _LABELS["zh" if lead.language == "zh" else "en"]
    lines = [f"# {lead.display_title()}", ""]
    facts = {
        "company": lead.company,
        "node": lead.node,
        "location": ", ".join(p for p in (lead.city, lead.country) if p),
        "sectors": ", ".join(lead.sectors),
        "stage": lead.stage,
        "investment": (
            f"{lead.investment_amount:,.0f} {lead.investment_currency}"
            if lead.investment_amount is not None
            else ""
        ),
        "jobs": str(lead.expected_jobs) if lead.expected_jobs is not None else "",
        "needs": ", ".join(lead.needs),
        "submitted_by": lead.submitted_by,
        "division": lead.assigned_division or "",
        "suggested": lead.suggested_division or "",
    }
    lines += [f"- {labels[key]}: {value}" for key, value in facts.items() if value]
    if lead.summary.strip():
        lines += ["", lead.summary.strip()]
    return "\n".join(lines) + "\n"


def lead_document(lead: Lead) -> Document:
    created = lead.created_at.date().isoformat() if lead.created_at else None
    updated = lead.updated_at.date().isoformat() if lead.updated_at else None
    metadata = {
        "id": lead.id,
        "title": lead.display_title(),
        "kind": "lead",
        "visibility": lead.visibility,
        "language": lead.language,
        "node": lead.node,
        "sectors": lead.sectors,
        "stage": lead.stage,
        "company": lead.company,
        "published": created,
        "updated": updated,
        "source": f"zbrain leads show {lead.id}",
    }
    if lead.assigned_division:
        metadata["assigned_division"] = lead.assigned_division
    raw = RawDocument(lead_text(lead), {k: v for k, v in metadata.items() if v is not None})
    return build_document(raw, path=Path("leads") / f"{lead.id}.md", root=Path("leads"))
