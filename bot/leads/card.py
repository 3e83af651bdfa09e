"""Leads in chat: "lead L-0042" shows its card, "match L-0042" ranks the divisions for it,
"what can we offer L-0042?" its offer sheet — each behind the one lead-access rule, so a
partner reaches only the leads they submitted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from bot import i18n
from bot.askers import Asker
from bot.divisions import Division
from bot.leads.access import LeadAccess
from bot.leads.labels import division_name, name
from bot.leads.matching import open_workload, rank_divisions, rationale
from bot.llm import LLMClient
from bot.messages import Reply
from bot.services import Services
from knowledge.leads import Lead

Hook = Callable[[str, Asker], Awaitable[Reply]]


def card_text(lead: Lead, language: str) -> str:
    def t(key: str, **values: object) -> str:
        return i18n.text(f"lead.card.{key}", language, **values)

    node = name("nodes", lead.node, language)
    lines = [f"{lead.id} · {lead.company} ({node})"]
    if lead.title:
        lines.append(lead.title)
    lines.append(f"{t('stage')}: {name('stages', lead.stage, language)}")
    if lead.sectors:
        sectors = i18n.list_of([name("sectors", s, language) for s in lead.sectors], language)
        lines.append(f"{t('sectors')}: {sectors}")
    if lead.needs:
        needs = i18n.list_of([name("needs", n, language) for n in lead.needs], language)
        lines.append(f"{t('needs')}: {needs}")
    if lead.investment_amount is not None and lead.investment_currency:
        money = i18n.money(lead.investment_amount, lead.investment_currency, language)
        lines.append(f"{t('investment')}: {money}")
    if lead.expected_jobs is not None:
        lines.append(f"{t('jobs')}: {i18n.number(lead.expected_jobs, language)}")
    division = lead.assigned_division or lead.suggested_division
    if division:
        key = "division" if lead.assigned_division else "suggested_division"
        lines.append(f"{t(key)}: {division_name(division, language)}")
    contact = ", ".join(v for v in (lead.contact_name, lead.contact_email, lead.contact_phone) if v)
    if contact:
        lines.append(f"{t('contact')}: {contact}")
    if lead.updated_at is not None:
        lines.append(f"{t('updated')}: {i18n.date(lead.updated_at.date(), language)}")
    if lead.summary:
        lines.append("")
        lines.append(lead.summary)
    return "\n".join(lines)


def _readable(services: Services, lead_id: str, asker: Asker) -> Lead:
    access = LeadAccess(asker.role, asker.actor)
    return access.shown(access.require(services, lead_id))


def lead_card_hook(services: Services) -> Hook:
    async def show(lead_id: str, asker: Asker) -> Reply:
        lead = await asyncio.to_thread(_readable, services, lead_id, asker)
        return Reply(card_text(lead, asker.language), language=asker.language)

    return show


def match_hook(services: Services, llm: LLMClient | None, divisions: Sequence[Division]) -> Hook:
    async def match(lead_id: str, asker: Asker) -> Reply:
        language = asker.language

        def ranked() -> tuple[Lead, list]:  # type: ignore[type-arg]
            lead = _readable(services, lead_id, asker)
            return lead, rank_divisions(lead, divisions, open_workload(services.leads.list()))

        lead, matches = await asyncio.to_thread(ranked)
        lines = [i18n.text("lead.match_heading", language, lead_id=lead.id, company=lead.company)]
        for rank, m in enumerate(matches, start=1):
            reasons = "; ".join(r.render(language) for r in m.reasons if r.points > 0)
            score = i18n.number(m.score, language, digits=2)
            lines.append(f"{rank}. {m.division.name(language)} ({score}) — {reasons}")
        if matches and llm is not None:
            sentence = await rationale(llm, lead, matches[0], language)
            if sentence:
                lines.append("")
                lines.append(sentence)
        return Reply("\n".join(lines), language=language, mode="llm" if llm else "extractive")

    return match


def offer_hook(services: Services, llm: LLMClient | None) -> Hook:
    from bot.leads.offer import lead_for_offer, offer_sheet

    async def offer(lead_id: str, asker: Asker) -> Reply:
        # Only what may be forwarded to the company: its name, not the park's notes on it.
        lead = await asyncio.to_thread(
            lead_for_offer, services, lead_id, asker.role, actor=asker.actor
        )
        return await offer_sheet(services, lead, role=asker.role, language=asker.language, llm=llm)

    return offer
