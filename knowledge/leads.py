"""Project leads as structured records: the tables, the Lead type and its validation.

A lead's sectors and needs are lists, stored as JSON. Investment is an amount plus an ISO
currency, never converted: the figures managers see are the ones the node reported.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, String, Table, Text

from knowledge.sql import metadata


class Stage(StrEnum):
    NEW = "new"
    QUALIFIED = "qualified"
    CONTACTED = "contacted"
    VISITING = "visiting"
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    LANDED = "landed"
    DROPPED = "dropped"


PIPELINE = [s for s in Stage if s is not Stage.DROPPED]
CLOSED = {Stage.LANDED, Stage.DROPPED}
DEFAULT_NODES = ("boston", "cambridge", "munich", "tel-aviv")
LEAD_ID = re.compile(r"^L-\d{4,}$")
# Who may read a lead's contact person: only roles that may read restricted material.
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")

leads = Table(
    "leads",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("title", Text, nullable=False),
    Column("company", String(300), nullable=False),
    Column("country", String(64), nullable=False, default=""),
    Column("city", String(200), nullable=False, default=""),
    Column("node", String(64), nullable=False, index=True),
    Column("sectors", JSON, nullable=False),
    Column("stage", String(32), nullable=False, index=True),
    Column("investment_amount", Float, nullable=True),
    Column("investment_currency", String(8), nullable=True),
    Column("expected_jobs", Integer, nullable=True),
    Column("needs", JSON, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("language", String(8), nullable=False, default="en"),
    Column("contact_name", String(300), nullable=True),
    Column("contact_email", String(300), nullable=True),
    Column("contact_phone", String(64), nullable=True),
    Column("submitted_by", String(300), nullable=False, default=""),
    Column("visibility", String(16), nullable=False, default="internal"),
    Column("suggested_division", String(64), nullable=True),
    Column("suggested_score", Float, nullable=True),
    Column("suggested_reasons", JSON, nullable=False),
    Column("assigned_division", String(64), nullable=True, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("stage_changed_at", DateTime(timezone=True), nullable=False),
)

lead_events = Table(
    "lead_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(16), ForeignKey("leads.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(300), nullable=False),
    Column("field", String(64), nullable=False),
    Column("old", JSON, nullable=True),
    Column("new", JSON, nullable=True),
)


class LeadError(ValueError):
    """A lead value is missing or malformed; the message names the field."""


@dataclass
class Lead:
    company: str
    node: str
    title: str = ""
    country: str = ""
    city: str = ""
    sectors: list[str] = field(default_factory=list)
    stage: str = Stage.NEW.value
    investment_amount: float | None = None
    investment_currency: str | None = None
    expected_jobs: int | None = None
    needs: list[str] = field(default_factory=list)
    summary: str = ""
    language: str = "en"
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    submitted_by: str = ""
    visibility: str = "internal"
    suggested_division: str | None = None
    suggested_score: float | None = None
    suggested_reasons: list[str] = field(default_factory=list)
    assigned_division: str | None = None
    id: str = ""
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    stage_changed_at: dt.datetime | None = None

    def display_title(self) -> str:
        return self.title or f"{self.company} ({self.node})"

    def as_row(self) -> dict[str, Any]:
        return asdict(self)

    def without_contact(self) -> Lead:
        return replace(self, contact_name=None, contact_email=None, contact_phone=None)


# Fields a person edits; the rest (id, timestamps, suggestion) the system keeps.
EDITABLE = tuple(
    f.name
    for f in fields(Lead)
    if f.name
    not in {
        "id",
        "created_at",
        "updated_at",
        "stage_changed_at",
        "suggested_division",
        "suggested_score",
        "suggested_reasons",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def validate(lead: Lead, nodes: tuple[str, ...] = DEFAULT_NODES) -> Lead:
    """The lead with values normalised, or LeadError naming the first bad field."""
    from knowledge.model import Visibility, parse_choice

    company = " ".join(lead.company.split())
    if not company:
        raise LeadError("company is required")
    node = lead.node.strip().lower().replace(" ", "-")
    if node not in nodes:
        raise LeadError(f"node {lead.node!r} is not one of: {', '.join(nodes)}")
    try:
        stage = Stage(lead.stage.strip().lower()).value
    except ValueError:
        raise LeadError(f"stage {lead.stage!r} is not one of: {', '.join(Stage)}") from None
    amount = lead.investment_amount
    if amount is not None and amount < 0:
        raise LeadError(f"investment amount {amount} is negative")
    currency = (lead.investment_currency or "").strip().upper() or None
    if currency is not None and not _CURRENCY.match(currency):
        raise LeadError(f"currency {lead.investment_currency!r} is not a 3-letter ISO code")
    if amount is not None and currency is None:
        raise LeadError("investment amount needs a currency (e.g. EUR, USD, CNY)")
    jobs = lead.expected_jobs
    if jobs is not None and jobs < 0:
        raise LeadError(f"expected jobs {jobs} is negative")
    email = (lead.contact_email or "").strip() or None
    if email is not None and not _EMAIL.match(email):
        raise LeadError(f"contact email {lead.contact_email!r} is not an e-mail address")
    try:
        visibility = parse_choice(Visibility, lead.visibility, "visibility").value
    except ValueError as exc:
        raise LeadError(str(exc)) from None
    if visibility == "public":
        raise LeadError("a lead cannot be public: leads are internal material")
    return replace(
        lead,
        company=company,
        node=node,
        stage=stage,
        investment_currency=currency,
        contact_email=email,
        visibility=visibility,
        title=" ".join(lead.title.split()) or f"{company} ({node})",
        country=_line(lead.country) or "",
        city=_line(lead.city) or "",
        contact_name=_line(lead.contact_name),
        contact_phone=_line(lead.contact_phone),
        submitted_by=_line(lead.submitted_by) or "",
        summary=multiline(lead.summary),
        sectors=_slugs(lead.sectors),
        needs=_slugs(lead.needs),
    )


def _line(value: str | None) -> str | None:
    """One line of text with its spaces collapsed; None when nothing is left."""
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def multiline(value: str | None) -> str:
    """Text whose line breaks and blank lines mean something (a summary's paragraphs): line
    endings unified, trailing spaces and surrounding blank lines dropped, nothing else."""
    lines = str(value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def same_value(old: Any, new: Any) -> bool:
    """Whether two stored values of a field say the same thing: what decides that a save
    changed the field (and writes history), so a file read back never counts as an edit."""
    if old in (None, "") and new in (None, ""):
        return True
    if isinstance(old, str) and isinstance(new, str):
        return multiline(old) == multiline(new)
    if isinstance(old, int | float) and isinstance(new, int | float):
        return math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-9)
    return bool(old == new)


def changed_fields(before: Lead, after: Lead, names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Field → (old, new) for each of the fields (default: the editable ones) whose value
    really differs."""
    return {
        name: (getattr(before, name), getattr(after, name))
        for name in names or EDITABLE
        if not same_value(getattr(before, name), getattr(after, name))
    }


def _slugs(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        slug = "-".join(str(value).strip().lower().replace("_", "-").split())
        if slug:
            seen[slug] = None
    return list(seen)
