"""The handler chat adapters drive: it picks the intent of each message.

A conversation with a lead draft open continues the intake; "new lead: …" starts one; a
request for a lead summary or a policy offer for a lead goes to those; anything else is a
question for the answer pipeline. Leads are internal: guests and partners may submit a lead,
and ask for an offer sheet to forward, but never see lead figures.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from bot import i18n
from bot.answer import AnswerService
from bot.channels import PosterRegistry
from bot.leads.intake import Intake, conversation_key, starts_intake
from bot.leads.requests import SummaryRequest, offer_request, summary_request
from bot.messages import IncomingMessage, Reply, ReplyUpdate
from bot.services import Services
from knowledge.language import detect_language
from knowledge.leads import LeadError

log = logging.getLogger(__name__)

Summarise = Callable[[SummaryRequest, str, str], Awaitable[Reply]]  # request, role, language
Offer = Callable[[str, str, str], Awaitable[Reply]]  # lead id, role, language


class Assistant:
    def __init__(
        self,
        answers: AnswerService,
        intake: Intake | None,
        *,
        summarise: Summarise | None = None,
        offer: Offer | None = None,
        divisions: dict[str, str] | None = None,
    ) -> None:
        self.answers = answers
        self.intake = intake
        self.summarise = summarise
        self.offer = offer
        self.divisions = divisions or {}

    async def __call__(self, message: IncomingMessage) -> AsyncIterator[ReplyUpdate]:
        text = message.text.strip()
        role = self.answers.role_of(message)
        language = i18n.supported(self.answers.language_of(message) or detect_language(text))
        key = conversation_key(message.platform, message.conversation_id)
        actor = f"{message.platform}:{message.user_id}"
        if self.intake is not None:
            draft = self.intake.active(key)
            if draft is not None:
                yield await self.intake.handle(draft, text, role, actor)
                return
            description = starts_intake(text)
            if description is not None:
                yield await self.intake.start(key, message.user_id, language, description)
                return
        glossary = self.answers.services.glossary
        wanted = summary_request(text, glossary, self.divisions)
        if wanted is not None and self.summarise is not None:
            # The summary refuses roles that may not see leads itself, where the figures are.
            yield await self.summarise(wanted, role, language)
            return
        lead_id = offer_request(text)
        if lead_id is not None and self.offer is not None:
            try:
                yield await self.offer(lead_id, role, language)
            except LeadError as exc:
                yield Reply(str(exc), language=language)
            return
        async for update in self.answers(message):
            yield update


def build_assistant(
    services: Services,
    *,
    role_of: Callable[[IncomingMessage], str],
    language_of: Callable[[IncomingMessage], str | None] = lambda message: None,
    intake: bool = True,
    posters: PosterRegistry | None = None,
) -> Assistant:
    """The assistant on the configured LLM (if any), divisions and posting channels."""
    from bot.answer import answer_service
    from bot.divisions import load_divisions
    from bot.leads.announce import announcer
    from bot.leads.offer import chat_offer
    from bot.leads.reports import summary_reply
    from bot.leads.summary import SummaryFilter
    from bot.llm import make_llm
    from knowledge.lead_sheets import division_names

    llm = make_llm(services.settings)
    answers = answer_service(services, role_of=role_of, language_of=language_of)
    answers.llm = llm
    divisions = load_divisions()

    async def summarise(request: SummaryRequest, role: str, language: str) -> Reply:
        where = SummaryFilter(
            node=request.node,
            division=request.division,
            sector=request.sector,
            since=request.since,
            period=request.period,
        )
        return await summary_reply(services, where, language, llm=llm, role=role)

    announce = announcer(posters, divisions) if posters is not None else None
    return Assistant(
        answers,
        Intake(services, llm=llm, announce=announce) if intake else None,
        summarise=summarise,
        offer=chat_offer(services, llm),
        divisions=division_names(),
    )
