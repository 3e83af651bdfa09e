"""What a message asks for: an explicit command (a slash command or a button the adapter maps)
or a message in natural language, recognised by whole words in the six working languages.

Recognition is deterministic, with or without a language model: the words it knows are listed
in `bot.leads.requests` (lead requests) and here (help, cancel); intake triggers in
`bot.leads.intake_text`. Anything it does not recognise is a question ("ask").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from bot.leads.intake import starts_intake
from bot.leads.requests import (
    SummaryRequest,
    lead_id_in,
    lead_request,
    match_request,
    offer_request,
    summary_filters,
    summary_request,
)
from bot.words import Lexicon, Text, only
from knowledge.glossary import Glossary

IntentName = Literal[
    "ask",
    "summary",
    "offer",
    "lead",
    "match",
    "new_lead",
    "feedback",
    "route",
    "help",
    "cancel",
    "my_leads",
    "privacy",
    "invite",
    "start",
    "report",
    "ingest",
]
COMMANDS: tuple[IntentName, ...] = get_args(IntentName)
FEEDBACK_VALUES = ("up", "down")

_HELP = Lexicon(("help", "帮助", "使用帮助", "hilfe", "aide", "도움말", "עזרה", "please", "bitte"))
_HELP_WORDS = Lexicon(("help", "帮助", "使用帮助", "hilfe", "aide", "도움말", "עזרה"))
_CANCEL = Lexicon(("cancel", "取消", "abbrechen", "annuler", "취소", "ביטול"))
_FEEDBACK_ALIASES = {"👍": "up", "+1": "up", "👎": "down", "-1": "down"}
# "/lead 42" as well as "/lead L-0042".
_COMMAND_LEAD_ID = re.compile(r"^\s*(?:L-?)?(\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Intent:
    """One thing the person wants. `text` is the question (ask) or the new lead's description
    (new_lead); `lead_id` names the lead of lead/offer/match; `summary` holds the filters of a
    summary; `value` and `reply_id` carry a button's value ("up", "down") and the Reply it was
    shown under (feedback, route)."""

    name: IntentName
    text: str = ""
    lead_id: str | None = None
    summary: SummaryRequest | None = None
    value: str = ""
    reply_id: str = ""


def _command_lead_id(name: str, argument: str) -> str:
    lead_id = lead_id_in(argument)
    if lead_id is None:
        short = _COMMAND_LEAD_ID.match(argument)
        if short is None:
            raise ValueError(f"the {name} command needs a lead id, e.g. L-0042")
        lead_id = f"L-{int(short.group(1)):04d}"
    return lead_id


def _feedback(value: str, reply_id: str) -> Intent:
    vote = _FEEDBACK_ALIASES.get(value.strip(), value.strip().lower())
    if vote not in FEEDBACK_VALUES:
        raise ValueError(f"feedback {value!r} is not one of: {', '.join(FEEDBACK_VALUES)}")
    if not reply_id:
        raise ValueError("feedback needs the id of the reply it is about")
    return Intent("feedback", value=vote, reply_id=reply_id)


def command_intent(
    name: str,
    argument: str = "",
    glossary: Glossary | None = None,
    divisions: dict[str, str] | None = None,
    *,
    reply_id: str = "",
) -> Intent:
    """The intent of an explicit command: `name` is one of COMMANDS ("/summary" and "new-lead"
    are accepted too), `argument` what followed it. ValueError names an unknown command, or
    what a known one is missing.

    summary: filters in any language ("本月 慕尼黑", "month munich"; needs the glossary);
    lead / offer / match: a lead id ("L-0042", "42"); ask: the question; new_lead: an
    optional description; feedback: "up" or "down" (and the reply id, as `reply_id` or after
    the vote); route: the reply id (as the argument or `reply_id`); invite: a node; start: an
    optional invite code; report / ingest: a pending upload's choice (bot.uploads); my_leads
    and privacy take nothing."""
    command = name.strip().lstrip("/").lower().replace("-", "_")
    argument = argument.strip()
    if command not in COMMANDS:
        raise ValueError(f"unknown command {name!r}; known commands: {', '.join(COMMANDS)}")
    if command == "ask":
        if not argument:
            raise ValueError("the ask command needs a question")
        return Intent("ask", text=argument)
    if command == "summary":
        if glossary is None:
            raise ValueError("the summary command needs the glossary to read its filters")
        wanted = summary_filters(argument, glossary, divisions)
        return Intent("summary", text=argument, summary=wanted)
    if command in ("lead", "offer", "match"):
        return Intent(command, lead_id=_command_lead_id(command, argument))
    if command == "new_lead":
        return Intent("new_lead", text=argument)
    if command == "feedback":
        vote, _, rest = argument.partition(" ")
        return _feedback(vote, reply_id or rest.strip())
    if command == "route":
        target = argument or reply_id
        if not target:
            raise ValueError("the route command needs the id of the reply to route")
        return Intent("route", reply_id=target)
    if command == "invite":
        return Intent("invite", text=argument)
    if command in ("start", "report", "ingest"):
        return Intent(command, value=argument)  # type: ignore[arg-type]
    return Intent(command)  # help, cancel, my_leads, privacy


def action_intent(action_id: str, value: str = "", reply_id: str = "") -> Intent:
    """The intent of a button press (`bot.messages.Action`): "feedback" with value "up" or
    "down", "route" (to a person), or "lead" / "offer" / "match" with a lead id as the value.
    ValueError for any other button."""
    action = action_id.strip().lower()
    if action == "feedback":
        return _feedback(value, reply_id)
    if action == "route":
        if not reply_id:
            raise ValueError("the route button needs the id of the reply it was shown under")
        return Intent("route", value=value, reply_id=reply_id)
    if action in ("lead", "offer", "match"):
        return Intent(action, lead_id=_command_lead_id(action, value), reply_id=reply_id)
    if action in ("help", "cancel"):
        return Intent(action, reply_id=reply_id)  # type: ignore[arg-type]
    known = "feedback, route, lead, offer, match, help, cancel"
    raise ValueError(f"unknown button {action_id!r}; known buttons: {known}")


def recognize(text: str, glossary: Glossary, divisions: dict[str, str] | None = None) -> Intent:
    """The intent of a message in natural language, by whole words, in this order: help,
    cancel, a new lead (intake trigger), an offer, match or lead request naming a lead id, a
    lead summary; anything else is a question."""
    stripped = text.strip()
    words = Text(stripped.lstrip("/"))
    if _HELP_WORDS.found_in(words) and only(words, _HELP):
        return Intent("help", text=stripped)
    if only(words, _CANCEL) and _CANCEL.found_in(words):
        return Intent("cancel", text=stripped)
    description = starts_intake(stripped)
    if description is not None:
        return Intent("new_lead", text=description)
    for name, request in (("offer", offer_request), ("match", match_request)):
        lead_id = request(stripped)
        if lead_id is not None:
            return Intent(name, text=stripped, lead_id=lead_id)  # type: ignore[arg-type]
    lead_id = lead_request(stripped)
    if lead_id is not None:
        return Intent("lead", text=stripped, lead_id=lead_id)
    wanted = summary_request(stripped, glossary, divisions)
    if wanted is not None:
        return Intent("summary", text=stripped, summary=wanted)
    return Intent("ask", text=stripped)
