"""Who may see which leads: the one rule the command line, chat summaries, offer sheets and
lead views share.

- guests see no leads;
- partners see only the leads they submitted (`Lead.submitted_by` equals their actor key,
  "platform:user_id"), contact persons included (they gave them), never a restricted lead,
  and no figures: summaries count other people's leads;
- staff see public, partner and internal leads, without contact persons;
- managers and admins see everything, restricted leads and contacts included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from knowledge.lead_store import LeadStore
from knowledge.leads import Lead, LeadError
from knowledge.model import Role, Visibility, visible_to

ROLES = ("guest", "partner", "staff", "manager", "admin")
_MANAGERS = ("manager", "admin")  # "admin" by name: it need not be a Role member yet


class LeadNotFound(LeadError):
    """No lead has that id."""


class LeadForbidden(LeadError):
    """The asker may not see the lead (or lead figures). `reason` is "guest", "not_own",
    "restricted" or "figures", for callers that word the refusal in the asker's language."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class _HasLeads(Protocol):
    leads: LeadStore


class LeadAccess:
    def __init__(self, role: str, actor: str = "") -> None:
        role = str(role).strip().lower()
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of: {', '.join(ROLES)}")
        self.role = role
        self.actor = actor
        if role in _MANAGERS:
            readable: tuple[str, ...] = tuple(v.value for v in Visibility)
        elif role == "staff":
            readable = tuple(v.value for v in visible_to(Role.STAFF))
        elif role == "partner":
            readable = tuple(v.value for v in visible_to(Role.STAFF))  # their own only
        else:
            readable = ()
        self._readable = frozenset(readable)
        # The levels counted in lead figures: none for partners, whose figures would count
        # other people's leads.
        self.levels: tuple[str, ...] = readable if role not in ("guest", "partner") else ()
        # Whether the contact persons of the leads this role reads are shown.
        self.contacts = role in (*_MANAGERS, "partner")

    def _own(self, lead: Lead) -> bool:
        return bool(self.actor) and lead.submitted_by == self.actor

    def may_read(self, lead: Lead) -> bool:
        if lead.visibility not in self._readable:
            return False
        return self._own(lead) if self.role == "partner" else True

    def refusal(self, lead: Lead) -> LeadForbidden | None:
        """Why the role may not read the lead, or None when it may."""
        if self.role == "guest":
            return LeadForbidden("guests may not see leads: they are internal material", "guest")
        if self.role == "partner" and not self._own(lead):
            return LeadForbidden(
                f"you may not see lead {lead.id}: partners see only the leads they submitted",
                "not_own",
            )
        if not self.may_read(lead):
            return LeadForbidden(
                f"you may not see lead {lead.id}: it is restricted, only managers may see it",
                "restricted",
            )
        return None

    def require(self, source: LeadStore | _HasLeads, lead_id: str) -> Lead:
        """The lead; LeadNotFound when no lead has the id, LeadForbidden when the role may
        not see it (guests are refused before the store is asked: they would learn which ids
        exist)."""
        if self.role == "guest":
            raise LeadForbidden("guests may not see leads: they are internal material", "guest")
        store = source if isinstance(source, LeadStore) else source.leads
        lead = store.get(lead_id)
        if lead is None:
            raise LeadNotFound(
                f"no lead {lead_id!r} (ids look like L-0042; see `zbrain leads list`)"
            )
        refused = self.refusal(lead)
        if refused is not None:
            raise refused
        return lead

    def require_figures(self) -> tuple[str, ...]:
        """The levels to count in a summary; LeadForbidden for roles that get no figures."""
        if not self.levels:
            raise LeadForbidden(
                f"role '{self.role}' may not see lead summaries: they count internal leads",
                "figures",
            )
        return self.levels

    def shown(self, lead: Lead) -> Lead:
        """The lead as this role sees it: contact persons only for managers, admins and the
        partner who submitted it."""
        if self.role in _MANAGERS or (self.role == "partner" and self._own(lead)):
            return lead
        return lead.without_contact()

    def filter(self, leads: Iterable[Lead]) -> list[Lead]:
        """The leads the role may read, as it sees them."""
        return [self.shown(lead) for lead in leads if self.may_read(lead)]
