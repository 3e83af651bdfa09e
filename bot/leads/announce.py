"""A new lead is announced to its suggested division's channel (divisions.yaml
`slack_channel`), through whichever adapter in this process serves that channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.channels import PosterRegistry, UnknownChannelError
from bot.divisions import Division
from bot.leads.matching import Reason
from bot.messages import Reply
from knowledge.leads import Lead

log = logging.getLogger(__name__)

Announce = Callable[[Lead], Awaitable[None]]


def announcement(lead: Lead, division: Division) -> Reply:
    """Staff channels work in Chinese; the reasons are the scorer's own."""
    money = (
        f"，投资额 {lead.investment_amount:,.0f} {lead.investment_currency}"
        if lead.investment_amount is not None
        else ""
    )
    lines = [
        f"新线索 {lead.id}：{lead.company}（{lead.node}）{money}",
        f"建议由{division.name_zh}承接（评分 {lead.suggested_score or 0:.2f}）：",
        *(f"· {Reason.from_json(r).render('zh')}" for r in lead.suggested_reasons),
        f"详情：zbrain leads show {lead.id}",
    ]
    return Reply("\n".join(lines), language="zh")


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
