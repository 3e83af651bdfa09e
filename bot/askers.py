"""Who is asking: the identity behind an IncomingMessage, the role the answer may use, and the
language to answer in.

The core never trusts a role an adapter invents. The registry decides (a granted or revoked
identity); otherwise the platform's hints map to a role by the runtime's configuration (a Slack
workspace member may be `staff`); otherwise the person is a guest. A conversation's audience
(a shared channel, a Telegram group) caps the role, so an answer never shows more than every
reader may see.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot import i18n
from bot.messages import IncomingMessage
from knowledge.identities import Identity, IdentityRegistry
from knowledge.language import detect_language
from knowledge.model import Role

# Roles are declared least privileged first.
ROLE_RANK = {role.value: rank for rank, role in enumerate(Role)}
# Shorter texts ("yes", "ok", "/help") say nothing reliable about their language.
_DETECTABLE_LETTERS = 4


def lower_role(a: str, b: str | None) -> str:
    if b is None:
        return a
    return a if ROLE_RANK.get(a, 0) <= ROLE_RANK.get(b, 0) else b


@dataclass(frozen=True)
class Asker:
    identity: Identity
    role: str  # what this answer may use: the identity's role capped by the audience
    language: str

    @property
    def actor(self) -> str:
        """How the person is named on what they create (a lead's submitted_by)."""
        return self.identity.key


def _letters(text: str) -> int:
    return len(re.findall(r"\w", text))


class AskerResolver:
    def __init__(
        self,
        registry: IdentityRegistry,
        hint_roles: Mapping[str, str] | None = None,
        *,
        language_override: str | None = None,
    ) -> None:
        self.registry = registry
        self.hint_roles = dict(hint_roles or {})
        self.language_override = language_override

    def default_role(self, message: IncomingMessage) -> str:
        roles = [self.hint_roles[h] for h in message.hints if h in self.hint_roles]
        return max(roles, key=lambda r: ROLE_RANK.get(r, 0), default="guest")

    def language(self, message: IncomingMessage, identity: Identity | None) -> str:
        """An explicit choice (--lang, /lang) first, then the language the person writes in,
        then what their client says."""
        if self.language_override:
            return i18n.supported(self.language_override)
        if identity is not None and identity.language:
            return i18n.supported(identity.language)
        if _letters(message.text) >= _DETECTABLE_LETTERS:
            return i18n.supported(detect_language(message.text))
        return i18n.supported(message.locale)

    async def resolve(self, message: IncomingMessage) -> Asker:
        # In a thread: SQL, and the language detector's model loads on first use.
        return await asyncio.to_thread(self._resolve, message)

    def _resolve(self, message: IncomingMessage) -> Asker:
        identity = self.registry.resolve(
            message.platform,
            message.user_id,
            default_role=self.default_role(message),
            display_name=message.display_name,
        )
        if message.node and not identity.node:
            identity = dataclasses.replace(identity, node=message.node)
        role = lower_role(identity.role, message.audience)
        return Asker(identity, role, self.language(message, identity))
