"""Leads written as Markdown with front matter (the sample leads), read into Lead records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from knowledge.ingest import SAMPLES_DIR
from knowledge.leads import Lead, LeadError
from knowledge.loaders import LoadError, load_raw
from knowledge.metadata import parse_date

SAMPLE_LEADS_DIR = SAMPLES_DIR.parent / "leads"


def _moment(value: Any) -> dt.datetime | None:
    day = parse_date(value) if value not in (None, "") else None
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC) if day else None


def _number(value: Any, what: str, path: Path) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise LeadError(f"{path.name}: {what} {value!r} is not a number") from None


def lead_from_markdown(path: Path) -> Lead:
    try:
        raw = load_raw(path)
    except LoadError as exc:
        raise LeadError(f"{path.name}: {exc}") from None
    meta = raw.metadata
    contact = meta.get("contact") or {}
    jobs = _number(meta.get("expected_jobs"), "expected_jobs", path)
    created = _moment(meta.get("submitted") or meta.get("published"))
    updated = _moment(meta.get("updated")) or created
    body = raw.text.strip()
    if body.startswith("#"):
        body = body.split("\n", 1)[1].strip() if "\n" in body else ""
    return Lead(
        id=str(meta.get("id") or ""),
        title=str(meta.get("title") or ""),
        company=str(meta.get("company") or ""),
        country=str(meta.get("country") or ""),
        city=str(meta.get("city") or ""),
        node=str(meta.get("node") or ""),
        sectors=[str(s) for s in meta.get("sectors") or []],
        stage=str(meta.get("stage") or "new"),
        investment_amount=_number(meta.get("investment_amount"), "investment_amount", path),
        investment_currency=meta.get("investment_currency"),
        expected_jobs=int(jobs) if jobs is not None else None,
        needs=[str(n) for n in meta.get("needs") or []],
        summary=body,
        language=str(meta.get("language") or "en"),
        contact_name=contact.get("name"),
        contact_email=contact.get("email"),
        contact_phone=str(contact["phone"]) if contact.get("phone") else None,
        submitted_by=str(meta.get("submitted_by") or ""),
        visibility=str(meta.get("visibility") or "internal"),
        assigned_division=meta.get("assigned_division"),
        created_at=created,
        updated_at=updated,
        stage_changed_at=updated,
    )


def sample_leads(folder: Path = SAMPLE_LEADS_DIR) -> list[Lead]:
    return [lead_from_markdown(p) for p in sorted(folder.glob("L-*.md"))]
