"""`/zbrain …`: the slash command's subcommands as the core's commands.

`/zbrain ask …`, `summary …` (filters in any language), `lead L-0042`, `match L-0042`,
`offer L-0042`, `newlead` (the intake, in a DM with the bot), `invite NODE`, `myleads`,
`privacy`, `ingest` and `help`; anything else is a question. Answers go back ephemerally (only
the caller sees them) — except a lead summary with its chart, which Slack can only show as a
message: it is posted in the channel, with the chart in its thread.
"""

from __future__ import annotations

from bot.messages import Action

SUBCOMMANDS = {
    "ask": "ask",
    "summary": "summary",
    "lead": "lead",
    "match": "match",
    "offer": "offer",
    "newlead": "new_lead",
    "new_lead": "new_lead",
    "new-lead": "new_lead",
    "invite": "invite",
    "help": "help",
    "privacy": "privacy",
    "myleads": "my_leads",
    "my_leads": "my_leads",
    "cancel": "cancel",
    "ingest": "ingest",
    "start": "start",
}


def command_action(text: str) -> Action:
    """The core command a `/zbrain` line asks for; bare text is a question, nothing is help."""
    stripped = text.strip()
    if not stripped:
        return Action("help")
    word, _, rest = stripped.partition(" ")
    name = SUBCOMMANDS.get(word.lower())
    if name is None:
        return Action("ask", value=stripped)
    return Action(name, value=rest.strip())
