"""Buttons as Telegram callback data, which may hold at most 64 bytes.

The buttons the core shows most (feedback, route, a language) fit in a short text form that
survives a restart: `f:u:R-…`, `r:R-…`, `l:de`, and `a|<id>|<value>|<reply id>` for any
other button that fits. A longer one (an ingest choice naming its pending upload) is kept in
memory under a short random key; pressed after a restart it decodes to None and the person is
asked to try again.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict

from bot.messages import Action

MAX_CALLBACK_BYTES = 64
_VOTES = {"up": "u", "down": "d"}
# Between the fields of any other button ("lead:confirm" has a colon in its id).
_SEPARATOR = "|"
_VOTE_OF = {short: vote for vote, short in _VOTES.items()}


def _fits(data: str) -> bool:
    return len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES


class CallbackCodec:
    def __init__(self, capacity: int = 5000) -> None:
        self.capacity = capacity
        self._stored: OrderedDict[str, Action] = OrderedDict()

    def encode(self, action: Action) -> str:
        if action.id == "feedback" and action.value in _VOTES and _fits(f"f:u:{action.reply_id}"):
            return f"f:{_VOTES[action.value]}:{action.reply_id}"
        routed = action.id == "route" and action.value in ("", action.reply_id)
        if routed and _fits(f"r:{action.reply_id}"):
            return f"r:{action.reply_id}"
        if action.id == "language" and _fits(f"l:{action.value}"):
            return f"l:{action.value}"
        fields = (action.id, action.value, action.reply_id)
        if not any(_SEPARATOR in field for field in fields):
            compact = "a" + _SEPARATOR + _SEPARATOR.join(fields)
            if _fits(compact):
                return compact
        key = secrets.token_urlsafe(9)
        self._stored[key] = action
        while len(self._stored) > self.capacity:
            self._stored.popitem(last=False)
        return f"k:{key}"

    def decode(self, data: str) -> Action | None:
        """The button pressed; None for data this process cannot read (a stored button from
        before a restart, another bot's format)."""
        if (data or "").startswith("a" + _SEPARATOR):
            action_id, value, reply_id = (data[2:].split(_SEPARATOR) + ["", ""])[:3]
            return Action(action_id, value=value, reply_id=reply_id) if action_id else None
        kind, _, rest = (data or "").partition(":")
        if kind == "f":
            vote, _, reply_id = rest.partition(":")
            if vote in _VOTE_OF and reply_id:
                return Action("feedback", value=_VOTE_OF[vote], reply_id=reply_id)
        elif kind == "r" and rest:
            return Action("route", value=rest, reply_id=rest)
        elif kind == "l" and rest:
            return Action("language", value=rest)
        elif kind == "k":
            return self._stored.get(rest)
        return None
