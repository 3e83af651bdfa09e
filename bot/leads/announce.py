"""A new lead is announced to its suggested division's channel (divisions.yaml
`slack_channel`), through whichever adapter in this process serves that channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot import i18n
from bot.channels import PosterRegistry, UnknownChannelError
from bot.divisions import Division
from bot.leads.labels import name
from bot.leads.matching import Reason
from bot.messages import Reply
from knowledge.leads import Lead

TellManagers = Callable[[Lead, Lead], Awaitable[None]]

log = logging.getLogger(__name__)

Announce = Callable[[Lead], Awaitable[None]]
# Staff channels work in Chinese.
CHANNEL_LANGUAGE = "zh"


def announcement(lead: Lead, division: Division, language: str = CHANNEL_LANGUAGE) -> Reply:
    """The post for the division's channel; the reasons are the scorer's own."""
    values = {
        "lead": lead.id,
        "company": lead.company,
        "node": name("nodes", lead.node, language),
    }
    if lead.investment_amount is None:
        first = i18n.text("announce.new_lead", language, **values)
    else:
        amount = (
            i18n.money(lead.investment_amount, lead.investment_currency, language)
            if lead.investment_currency
            else i18n.number(lead.investment_amount, language)
        )
        first = i18n.text("announce.new_lead_investment", language, amount=amount, **values)
    score = i18n.number(lead.suggested_score or 0, language, digits=2)
    lines = [
        first,
        i18n.text("announce.suggested", language, division=division.name(language), score=score),
        *(f"· {Reason.from_json(r).render(language)}" for r in lead.suggested_reasons),
        i18n.text("announce.details", language, command=f"zbrain leads show {lead.id}"),
    ]
    return Reply("\n".join(lines), language=language)


def announcer(posters: PosterRegistry, divisions: Sequence[Division]) -> Announce:
    by_key = {d.key: d for d in divisions}

    async def announce(lead: Lead) -> None:
        division = by_key.get(lead.suggested_division or "")
        if division is None or not division.slack_channel:
            return
        try:
            await posters.post(division.slack_channel, announcement(lead, division))
        except UnknownChannelError as exc:
            # Until the Slack adapter runs in this process the channel has no poster.
            log.info("%s not announced: %s", lead.id, exc)

    return announce


def managers_notice(posters: PosterRegistry, channel: str | None) -> TellManagers:
    """Tell managers (on the digest's channel, which is theirs) that a new lead may duplicate
    one its submitter may not see: only managers may name the restricted twin."""

    async def tell(lead: Lead, twin: Lead) -> None:
        if not channel:
            return  # the intake's log line is then the only record
        text = i18n.text(
            "announce.hidden_duplicate",
            CHANNEL_LANGUAGE,
            lead=lead.id,
            company=lead.company,
            twin=twin.id,
            twin_company=twin.company,
        )
        await posters.post(channel, Reply(text, language=CHANNEL_LANGUAGE))

    return tell
