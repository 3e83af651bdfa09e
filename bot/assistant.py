"""The handler chat adapters drive: who is asking, what they want, the reply — and a record.

Each message is resolved to an asker (identity, role capped by the audience, language), then
to an intent: a button press (feedback, route to a person, an invite, a language choice), an
open lead draft of this person, or what the text asks for (bot.intents). Questions and intake
are rate-limited per identity (not the local CLI). Every exchange is written to the audit log
before its final Reply is yielded, and any failure ends in a localized error Reply.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from bot import account, i18n
from bot.answer import AnswerService
from bot.askers import Asker, AskerResolver
from bot.boundary import guarded
from bot.channels import PosterRegistry
from bot.divisions import Division, closest_division
from bot.handoff import division_for, hand_off, handoff_post
from bot.intents import Intent, action_intent, command_intent, recognize
from bot.leads.intake import Intake, holds_contact
from bot.leads.requests import SummaryRequest
from bot.messages import Action, IncomingMessage, Reply, ReplyUpdate
from bot.ratelimit import RateLimiter
from bot.services import Services
from bot.streaming import failure_reply
from bot.uploads import UploadDesk
from knowledge.audit import AuditLog, Exchange
from knowledge.identities import InviteError
from knowledge.leads import LeadError
from retrieval.index import Hit

log = logging.getLogger(__name__)

Summarise = Callable[[SummaryRequest, str, str], Awaitable[Reply]]  # request, role, language
Offer = Callable[[str, Asker], Awaitable[Reply]]  # lead id, asker
LeadCard = Callable[[str, Asker], Awaitable[Reply]]  # lead id, asker (show, match)
UNLIMITED_PLATFORMS = frozenset({"cli"})
# The buttons bot.leads.intake puts under a draft; their values are the words they stand for.
INTAKE_BUTTONS = frozenset({"lead:confirm", "lead:cancel", "lead:add", "lead:new"})
# Which rate-limit bucket each intent draws on; the rest (feedback, help) are free.
_RATE_KIND = {
    "ask": "question",
    "summary": "question",
    "offer": "question",
    "lead": "question",
    "match": "question",
    "new_lead": "intake",
    "intake": "intake",
}


@dataclass
class _Exchange:
    """What one exchange is recorded with, filled in as it goes."""

    intent: str = "ask"
    hits: list[Hit] = field(default_factory=list)
    question: str = ""
    # An intake reply that shows the draft's contact person is not copied into the log.
    withhold_answer: bool = False


def _feedback_actions(reply: Reply) -> tuple[Action, ...]:
    language = reply.language
    return (
        Action("feedback", i18n.text("button.helpful", language), "up", reply.id),
        Action("feedback", i18n.text("button.not_helpful", language), "down", reply.id),
        Action("route", i18n.text("button.route", language), reply.id, reply.id),
    )


class Assistant:
    def __init__(
        self,
        services: Services,
        answers: AnswerService,
        intake: Intake | None,
        *,
        askers: AskerResolver,
        audit: AuditLog,
        limiter: RateLimiter | None = None,
        summarise: Summarise | None = None,
        offer: Offer | None = None,
        show_lead: LeadCard | None = None,
        match_lead: LeadCard | None = None,
        divisions: Sequence[Division] = (),
        division_names: Mapping[str, str] | None = None,
        posters: PosterRegistry | None = None,
    ) -> None:
        self.services = services
        self.answers = answers
        self.intake = intake
        self.askers = askers
        self.audit = audit
        self.limiter = limiter
        self.summarise = summarise
        self.offer = offer
        self.show_lead = show_lead
        self.match_lead = match_lead
        self.divisions = list(divisions)
        self.division_names = dict(division_names or {})
        self.posters = posters
        self.uploads = UploadDesk(services, posters, self.divisions)

    def suggested_prompts(self, language: str) -> list[str]:
        """What an app offers to ask when a conversation starts (Slack's suggested prompts)."""
        return account.suggested_prompts(i18n.supported(language))

    async def __call__(self, message: IncomingMessage) -> AsyncIterator[ReplyUpdate]:
        language = [i18n.supported(message.locale)]
        async for update in guarded(self._handle(message, language), message, lambda: language[0]):
            yield update

    # ------------------------------------------------------------------ one exchange
    async def _handle(
        self, message: IncomingMessage, language: list[str]
    ) -> AsyncIterator[ReplyUpdate]:
        started = time.perf_counter()
        asker = await self.askers.resolve(message)
        asker = await self._language_of_pressed_reply(message, asker)
        language[0] = asker.language
        record = _Exchange(question=message.text.strip())
        try:
            answered = False
            async with aclosing(self._dispatch(message, asker, record)) as updates:
                async for update in updates:
                    if answered:
                        continue  # read to the end: see bot.boundary
                    if isinstance(update, Reply):
                        await self._record(message, asker, record, update, started)
                        answered = True
                    yield update
        except Exception:
            reply = failure_reply(asker.language)
            log.exception(
                "reference %s: %s failed for %s in %s",
                reply.id,
                record.intent,
                asker.identity.key,
                message.conversation_id,
            )
            await self._record(message, asker, record, reply, started)
            yield reply

    async def _language_of_pressed_reply(self, message: IncomingMessage, asker: Asker) -> Asker:
        """A button carries no text to read a language from: answer in the language of the
        reply it was shown under, unless the person chose one."""
        action = message.action
        if action is None or not action.reply_id or message.text.strip():
            return asker
        if asker.identity.language or self.askers.language_override:
            return asker
        exchange = await asyncio.to_thread(self.audit.exchange, action.reply_id)
        if exchange is None or not exchange.language:
            return asker
        return dataclasses.replace(asker, language=i18n.supported(exchange.language))

    async def _record(
        self,
        message: IncomingMessage,
        asker: Asker,
        record: _Exchange,
        reply: Reply,
        started: float,
    ) -> None:
        if reply.error:
            mode = "error"
        elif reply.abstained:
            mode = "abstained"
        else:
            mode = reply.mode
        cited = [c.doc_id for c in reply.citations]
        retrieved = [str(h.metadata.get("doc_id") or "") for h in record.hits]
        doc_ids = tuple(dict.fromkeys([*cited, *retrieved]))
        visibility = {c.doc_id: c.visibility for c in reply.citations}
        for hit in record.hits:
            visibility.setdefault(
                str(hit.metadata.get("doc_id") or ""), str(hit.metadata.get("visibility") or "")
            )
        exchange = Exchange(
            reply_id=reply.id,
            at=dt.datetime.now(dt.UTC),
            platform=message.platform,
            user_id=message.user_id,
            role=asker.role,
            conversation_id=message.conversation_id,
            intent=record.intent,
            question=record.question,
            doc_ids=doc_ids,
            visibilities=tuple(visibility.get(d, "") for d in doc_ids),
            answer="[draft with contact withheld]" if record.withhold_answer else reply.text,
            mode=mode,
            latency_ms=round((time.perf_counter() - started) * 1000),
            error_reference=reply.id if reply.error else None,
            language=reply.language,
        )
        try:
            await asyncio.to_thread(self.audit.record, exchange)
        except Exception:  # noqa: BLE001 - a full disk must not cost the person their answer
            log.exception("exchange %s not recorded in the audit log", reply.id)

    # ------------------------------------------------------------------ what is wanted
    async def _intent(self, message: IncomingMessage, asker: Asker) -> Intent:
        if message.action is not None:
            action = message.action
            try:
                return action_intent(action.id, action.value, action.reply_id)
            except ValueError:
                return command_intent(
                    action.id, action.value, self.services.glossary, self.division_names
                )
        # In a thread: jieba's segmenter and the glossary load on first use (about a second).
        return await asyncio.to_thread(
            recognize, message.text, self.services.glossary, self.division_names
        )

    async def _dispatch(
        self, message: IncomingMessage, asker: Asker, record: _Exchange
    ) -> AsyncIterator[ReplyUpdate]:
        language = asker.language
        action = message.action
        if action is not None and action.id == "redeem":
            record.intent, record.question = "redeem", "[invite code]"
            yield await self._redeem(action.value, message, asker)
            return
        if action is not None and action.id == "language":
            record.intent = "language"
            yield await self._set_language(action.value, message)
            return
        if message.attachments:
            record.intent, record.question = "upload", message.attachments[0].filename
            report = action is not None and action.id == "report"
            yield await self.uploads.receive(message, asker, report=report)
            return
        draft = None
        answer = message.text.strip()
        # The intake's own buttons (save, cancel, add to the twin) and a cancel command answer
        # the open draft as if their value had been typed.
        intake_button = action is not None and (
            action.id == "cancel" or action.id in INTAKE_BUTTONS
        )
        if self.intake is not None and (action is None or intake_button):
            draft = await self.intake.active(_conversation(message), message.user_id)
            if action is not None:
                answer = action.value or "cancel"
        if draft is None and action is not None and action.id in INTAKE_BUTTONS:
            record.intent = "intake"
            yield Reply(i18n.text("core.nothing_to_cancel", language), language=language)
            return
        if draft is not None:
            record.intent = "intake"
            if holds_contact(draft, answer):
                record.question = "[contact withheld]"
            record.withhold_answer = draft.step == "contact" or any(
                draft.values.get("contact") or ()
            )
            if (wait := self._limited(message, asker, "intake")) is not None:
                yield wait
                return
            yield await self.intake.handle(draft, answer, asker.role, asker.actor)
            return
        try:
            intent = await self._intent(message, asker)
        except ValueError as exc:  # an unknown command or button, or one missing its argument
            record.intent = "command"
            yield Reply(
                i18n.text("core.bad_command", language, problem=str(exc))
                + "\n\n"
                + i18n.text("core.help", language),
                language=language,
                abstained=True,
            )
            return
        record.intent = intent.name
        if (wait := self._limited(message, asker, intent.name)) is not None:
            yield wait
            return
        async for update in self._serve(intent, message, asker, record):
            yield update

    def _limited(self, message: IncomingMessage, asker: Asker, intent: str) -> Reply | None:
        kind = _RATE_KIND.get(intent)
        if self.limiter is None or kind is None or message.platform in UNLIMITED_PLATFORMS:
            return None
        wait = self.limiter.check(asker.identity.key, kind)
        if wait <= 0:
            return None
        seconds = max(1, round(wait))
        return Reply(
            i18n.plural("core.rate_limited", seconds, asker.language),
            language=asker.language,
            abstained=True,
        )

    async def _serve(
        self, intent: Intent, message: IncomingMessage, asker: Asker, record: _Exchange
    ) -> AsyncIterator[ReplyUpdate]:
        language = asker.language
        name = intent.name
        if name == "help":
            yield Reply(i18n.text("core.help", language), language=language)
        elif name == "feedback":
            yield await self._feedback(intent, message, asker)
        elif name == "route":
            yield await self._route(intent.reply_id or intent.value, message, asker)
        elif name == "new_lead" and self.intake is not None:
            yield await self.intake.start(
                _conversation(message), message.user_id, language, intent.text
            )
        elif name == "cancel":
            yield Reply(i18n.text("core.nothing_to_cancel", language), language=language)
        elif name == "start":
            if intent.value.strip():
                yield await self._redeem(intent.value, message, asker)
            else:
                yield account.welcome(asker)
        elif name == "my_leads":
            yield await account.my_leads(self.services, asker)
        elif name == "privacy":
            yield account.privacy(asker, self.services.settings)
        elif name == "invite":
            yield await account.invite(self.services, asker, intent.text)
        elif name == "ingest":
            yield await self.uploads.choose(intent.value, message, asker)
        elif name == "report":
            yield await self.uploads.report(intent.value, message, asker)
        elif name == "summary" and self.summarise is not None and intent.summary is not None:
            yield await self.summarise(intent.summary, asker.role, language)
        elif name in ("offer", "lead", "match") and intent.lead_id:
            hook = {"offer": self.offer, "lead": self.show_lead, "match": self.match_lead}[name]
            if hook is None:
                async for update in self._ask(intent.text or message.text, message, asker, record):
                    yield update
                return
            try:
                yield await hook(intent.lead_id, asker)
            except LeadError as exc:
                yield Reply(_lead_refusal(exc, intent.lead_id, language), language=language)
        else:
            question = intent.text or message.text
            async for update in self._ask(question, message, asker, record):
                yield update

    async def _ask(
        self, question: str, message: IncomingMessage, asker: Asker, record: _Exchange
    ) -> AsyncIterator[ReplyUpdate]:
        question = question.strip()
        language = asker.language
        if not question:
            yield Reply(i18n.text("core.empty", language), language=language)
            return
        record.question = question
        async for update in self.answers.respond(
            question,
            role=asker.role,
            language=language,
            platform=message.platform,
            conversation_id=message.conversation_id,
            user_id=message.user_id,
            trace=record.hits,
        ):
            if isinstance(update, Reply):
                update = dataclasses.replace(update, actions=_feedback_actions(update))
            yield update

    # ------------------------------------------------------------------ buttons
    async def _feedback(self, intent: Intent, message: IncomingMessage, asker: Asker) -> Reply:
        language = asker.language
        score = 1 if intent.value in ("up", "+1", "1", "👍") else -1
        found = await asyncio.to_thread(
            self.audit.feedback,
            intent.reply_id,
            message.platform,
            message.user_id,
            score,
            intent.text or None,
        )
        key = "core.feedback_thanks" if found else "core.feedback_unknown"
        return Reply(i18n.text(key, language), language=language)

    async def _route(self, reply_id: str, message: IncomingMessage, asker: Asker) -> Reply:
        language = asker.language
        exchange = await asyncio.to_thread(self.audit.exchange, reply_id) if reply_id else None
        if exchange is None:
            return Reply(i18n.text("core.route_nothing", language), language=language)
        closest = None
        if not asker.identity.node:
            hits = await asyncio.to_thread(
                self.services.search, exchange.question, role=asker.role, k=5
            )
            closest = closest_division(self.divisions, hits)
        division = division_for(self.divisions, asker, closest)
        if division is None:
            return Reply(i18n.text("core.route_nothing", language), language=language)
        post = handoff_post(exchange, asker, message.link, division)
        return await hand_off(self.posters, division, post, language)

    async def _redeem(self, code: str, message: IncomingMessage, asker: Asker) -> Reply:
        language = asker.language
        try:
            identity = await asyncio.to_thread(
                self.services.invites.redeem,
                code.strip(),
                message.platform,
                message.user_id,
                display_name=message.display_name,
            )
        except InviteError as exc:
            values = {}
            if exc.reason == "expired" and exc.expires_at is not None:
                values["date"] = i18n.date(exc.expires_at.date(), language)
            return Reply(
                i18n.text(f"invite.{exc.reason}", language, **values),
                language=language,
                abstained=True,
            )
        node = identity.node or ""
        from bot.leads.labels import name as localized

        return Reply(
            i18n.text("invite.redeemed", language, node=localized("nodes", node, language)),
            language=language,
        )

    async def _set_language(self, value: str, message: IncomingMessage) -> Reply:
        language = i18n.supported(value)
        await asyncio.to_thread(
            self.services.identities.set_language, message.platform, message.user_id, language
        )
        return Reply(i18n.text("core.language_set", language), language=language)


def _conversation(message: IncomingMessage) -> str:
    return f"{message.platform}:{message.conversation_id}"


def _lead_refusal(exc: LeadError, lead_id: str, language: str) -> str:
    from bot.leads.access import LeadForbidden, LeadNotFound

    key = "lead.forbidden"
    if isinstance(exc, LeadNotFound):
        key = "lead.not_found"
    elif isinstance(exc, LeadForbidden) and i18n.has(f"lead.forbidden_{exc.reason}"):
        key = f"lead.forbidden_{exc.reason}"
    return i18n.text(key, language, lead_id=lead_id)
