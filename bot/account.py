"""What a person asks about their own standing: the welcome, what is stored about them
(/privacy), the leads they submitted (/myleads), invites staff hand out, and the prompts an
app suggests in a new conversation. Every platform shows the same replies."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot import i18n
from bot.askers import ROLE_RANK, Asker
from bot.leads.labels import division_name, name
from bot.messages import Reply
from bot.services import Services
from bot.settings import Settings
from knowledge.lead_store import LeadFilter
from knowledge.leads import Lead

INVITE_LIFETIME = dt.timedelta(days=7)
SUGGESTED_PROMPTS = ("prompt.policy", "prompt.hydrogen", "prompt.nodes", "prompt.submit")
MY_LEADS_SHOWN = 20


def invite_link(settings: Settings, code: str) -> str | None:
    """The Telegram deep link that redeems the code, once the bot's name is configured."""
    if not settings.telegram_bot_name:
        return None
    return f"https://t.me/{settings.telegram_bot_name}?start={code}"


def suggested_prompts(language: str) -> list[str]:
    return [i18n.text(key, language) for key in SUGGESTED_PROMPTS]


def welcome(asker: Asker) -> Reply:
    language = asker.language
    partner = ROLE_RANK[asker.role] >= ROLE_RANK["partner"]
    key = "account.welcome_partner" if partner else "account.welcome_guest"
    return Reply(i18n.text(key, language), language=language)


def privacy(asker: Asker, settings: Settings) -> Reply:
    language = asker.language
    days = settings.audit_retention_days
    return Reply(
        i18n.text("account.privacy", language, days=i18n.number(days, language)),
        language=language,
    )


def _lead_line(lead: Lead, language: str) -> str:
    changed = lead.stage_changed_at or lead.updated_at or lead.created_at
    return i18n.text(
        "account.my_lead_line",
        language,
        lead_id=lead.id,
        title=lead.display_title(),
        stage=name("stages", lead.stage, language),
        division=division_name(
            lead.assigned_division or lead.suggested_division or "unassigned", language
        ),
        date=i18n.date(changed.date(), language) if changed else "—",
    )


async def my_leads(services: Services, asker: Asker) -> Reply:
    """The leads this person submitted, newest change first: stage, division, last change."""
    language = asker.language
    if asker.role == "guest":
        return Reply(i18n.text("account.my_leads_guest", language), language=language)

    def own() -> list[Lead]:
        leads = services.leads.list(LeadFilter())
        mine = [lead for lead in leads if lead.submitted_by == asker.actor]
        return sorted(
            mine,
            key=lambda lead: (
                lead.updated_at or lead.created_at or dt.datetime.min.replace(tzinfo=dt.UTC)
            ),
            reverse=True,
        )

    mine = await asyncio.to_thread(own)
    if not mine:
        return Reply(i18n.text("account.my_leads_none", language), language=language)
    lines = [i18n.plural("account.my_leads_title", len(mine), language)]
    lines += [_lead_line(lead, language) for lead in mine[:MY_LEADS_SHOWN]]
    return Reply("\n".join(lines), language=language)


async def invite(services: Services, asker: Asker, node: str) -> Reply:
    """A single-use invite for a partner of `node` (staff and above)."""
    language = asker.language
    if ROLE_RANK[asker.role] < ROLE_RANK["staff"]:
        return Reply(
            i18n.text("account.invite_not_allowed", language), language=language, abstained=True
        )
    if not node.strip():
        return Reply(
            i18n.text("account.invite_needs_node", language), language=language, abstained=True
        )
    try:
        made = await asyncio.to_thread(
            services.invites.create, node.strip(), expires=INVITE_LIFETIME, created_by=asker.actor
        )
    except ValueError as exc:
        return Reply(
            i18n.text("account.invite_bad_node", language, problem=str(exc)),
            language=language,
            abstained=True,
        )
    link = invite_link(services.settings, made.code)
    text = i18n.text(
        "account.invite_made",
        language,
        code=made.code,
        node=name("nodes", made.node, language),
        date=i18n.date(made.expires_at.date(), language),
    )
    if link:
        text += "\n" + link
    return Reply(text, language=language)
