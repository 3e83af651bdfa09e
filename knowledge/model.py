"""The knowledge model: document kinds, visibility levels, roles, documents and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    POLICY = "policy"
    NODE_REPORT = "node_report"
    LEAD = "lead"
    NEWS = "news"
    OTHER = "other"


class Visibility(StrEnum):
    """Ordered from most to least open: public < partner < internal < restricted."""

    PUBLIC = "public"
    PARTNER = "partner"
    INTERNAL = "internal"
    RESTRICTED = "restricted"


class Role(StrEnum):
    GUEST = "guest"
    PARTNER = "partner"
    STAFF = "staff"
    MANAGER = "manager"
    ADMIN = "admin"  # reads like a manager; also grants roles and invites (zbrain users, invite)


ROLE_VISIBILITY: dict[Role, tuple[Visibility, ...]] = {
    Role.GUEST: (Visibility.PUBLIC,),
    Role.PARTNER: (Visibility.PUBLIC, Visibility.PARTNER),
    Role.STAFF: (Visibility.PUBLIC, Visibility.PARTNER, Visibility.INTERNAL),
    Role.MANAGER: tuple(Visibility),
    Role.ADMIN: tuple(Visibility),
}


def visible_to(role: Role | str) -> tuple[Visibility, ...]:
    """The visibility levels a role may read."""
    return ROLE_VISIBILITY[Role(role)]


def parse_choice(enum: type[StrEnum], value: str, what: str) -> Any:
    """Parse a user-given enum value or raise ValueError listing the accepted ones."""
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        accepted = ", ".join(member.value for member in enum)
        raise ValueError(f"{what} {value!r} is not one of: {accepted}") from None


@dataclass(frozen=True)
class Document:
    """A loaded source file: Markdown-shaped text plus normalised metadata."""

    doc_id: str
    text: str
    metadata: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A piece of a document sized for the embedding model."""

    text: str
    heading_path: tuple[str, ...] = ()
    position: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)
