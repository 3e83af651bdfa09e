""" "Route to a person": the question, the answer and a link to the conversation go to the
division that should follow up, through the posting seam; the asker is told who will.

A partner goes to a division that serves their node; anyone else to the division closest to
what the question was about (the documents it retrieved). Staff channels work in Chinese.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot import i18n
from bot.askers import Asker
from bot.channels import PosterRegistry
from bot.divisions import Division
from bot.messages import Reply
from knowledge.audit import Exchange

log = logging.getLogger(__name__)

STAFF_LANGUAGE = "zh"
_ANSWER_CHARS = 1500


def division_for(
    divisions: Sequence[Division], asker: Asker, closest: Division | None
) -> Division | None:
    node = asker.identity.node
    if node:
        serving = [d for d in divisions if node in d.nodes]
        if serving:
            return serving[0]
    return closest or (divisions[0] if divisions else None)


def handoff_post(
    exchange: Exchange, asker: Asker, link: str, division: Division | None = None
) -> Reply:
    identity = asker.identity
    who = identity.role if not identity.node else f"{identity.role}, {identity.node}"
    answer = exchange.answer
    if len(answer) > _ANSWER_CHARS:
        answer = answer[:_ANSWER_CHARS].rstrip() + "…"
    text = i18n.text(
        "core.route_post",
        STAFF_LANGUAGE,
        asker=identity.display_name or identity.key,
        who=f"{identity.platform} · {who}",
        question=exchange.question,
        answer=answer,
        link=link,
    )
    mentions = division.contact_handles() if division is not None else ()
    return Reply(text.rstrip(), language=STAFF_LANGUAGE, mentions=mentions)


async def hand_off(
    posters: PosterRegistry | None,
    division: Division,
    post: Reply,
    language: str,
) -> Reply:
    """Post to the division's channel; the asker's confirmation, or the division's contact
    when the channel cannot be reached (never silence)."""
    name = division.name(language)
    if posters is not None and division.slack_channel:
        try:
            await posters.post(division.slack_channel, post)
            return Reply(i18n.text("core.route_sent", language, division=name), language=language)
        except Exception:  # noqa: BLE001 - any platform failure ends in the contact line
            log.warning("hand-off to %s failed", division.slack_channel, exc_info=True)
    return Reply(
        i18n.text("core.route_failed", language, division=name, contact=division.contact_line()),
        language=language,
    )
