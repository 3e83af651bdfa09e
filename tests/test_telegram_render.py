"""Telegram's text rules: HTML escaped, messages of at most 4096 characters after entity
parsing and never broken inside a tag, buttons in 64 bytes of callback data."""

from __future__ import annotations

import re

from adapters.telegram.callbacks import MAX_CALLBACK_BYTES, CallbackCodec
from adapters.telegram.render import keyboard, render_html
from adapters.telegram.split import (
    MAX_MESSAGE,
    clip_partial,
    plain_from_html,
    split_html,
    visible_length,
)
from bot.messages import Action, Citation, Reply

_TAG = re.compile(r"<[^>]*>")


def _balanced(chunk: str) -> bool:
    stack = []
    for tag in re.findall(r"</?([a-z]+)[^>]*>", chunk):
        stack.append(tag)
    opened = re.findall(r"<([a-z]+)[\s>]", chunk)
    closed = re.findall(r"</([a-z]+)>", chunk)
    return sorted(opened) == sorted(closed)


def test_text_is_escaped_and_sources_are_linked_where_they_have_an_address() -> None:
    reply = Reply(
        "Grants <30% & more> for R&D [1].",
        citations=(
            Citation(
                1,
                "Förderung <2026>",
                "policy",
                "2026-01-01",
                "public",
                url="https://x.cn/p?a=1&b=2",
            ),
            Citation(2, "Internal note", "node_report", None, "partner"),
        ),
        language="de",
    )
    markup = render_html(reply)
    assert "Grants &lt;30% &amp; more&gt; for R&amp;D [1]." in markup
    assert '<a href="https://x.cn/p?a=1&amp;b=2">Förderung &lt;2026&gt;</a>' in markup
    assert "[2] Internal note (" in markup and "<a" not in markup.split("[2]")[1]
    assert "<b>Quellen</b>" in markup


def test_a_5000_character_answer_is_split_at_4096_after_entity_parsing_never_inside_a_tag() -> None:
    sentence = "Die Förderung & Beratung für <Wasserstoff> läuft über 3 Jahre. "
    reply = Reply(
        (sentence * 80).strip(),  # 5,040 characters; each & and < is 5 or 4 in the markup
        citations=(Citation(1, "Programm", "policy", None, "public", url="https://a.de/x"),),
        language="de",
    )
    markup = render_html(reply)
    assert len(markup) > 5000 and visible_length(markup) > MAX_MESSAGE
    chunks = split_html(markup)
    assert len(chunks) == 2
    for chunk in chunks:
        assert visible_length(chunk) <= MAX_MESSAGE
        assert _balanced(chunk)
        assert not re.search(r"<[^>]*$", chunk) and not re.search(r"&[a-z]*$", chunk)
    # Nothing lost, nothing added: the visible text is the same, give or take the break.
    joined = " ".join(plain_from_html(c) for c in chunks)
    assert " ".join(joined.split()) == " ".join(plain_from_html(markup).split())
    assert chunks[0].endswith("Jahre."), "broken after a sentence, not inside a word"


def test_a_tag_open_at_a_break_is_closed_and_reopened() -> None:
    markup = "<b>" + "x" * 5000 + "</b>"
    first, second = split_html(markup)
    assert first.startswith("<b>") and first.endswith("</b>") and visible_length(first) == 4096
    assert second == "<b>" + "x" * 904 + "</b>"


def test_emoji_count_twice_as_telegram_counts_utf16() -> None:
    chunks = split_html("😀" * 3000)
    assert [visible_length(c) for c in chunks] == [4096, 1904]
    assert (
        clip_partial("😀" * 3000).startswith("…")
        and visible_length(clip_partial("😀" * 3000)) <= 4096
    )


def test_plain_text_keeps_link_addresses() -> None:
    markup = '<b>Quellen</b>\n[1] <a href="https://a.de/?x=1&amp;y=2">A &amp; B</a> (Richtlinie)'
    assert plain_from_html(markup) == "Quellen\n[1] A & B (https://a.de/?x=1&y=2) (Richtlinie)"


def test_every_button_fits_callback_data_and_decodes_to_itself() -> None:
    codec = CallbackCodec()
    reply_id = "R-0123456789ab"
    actions = [
        Action("feedback", "👍", "up", reply_id),
        Action("feedback", "👎", "down", reply_id),
        Action("route", "Mit einer Person sprechen", reply_id, reply_id),
        Action("language", "Deutsch", "de"),
        Action("lead:confirm", "Speichern", "yes"),
        Action("ingest", "Richtlinie", "P-" + "9" * 40 + " kind=policy visibility=partner"),
    ]
    markup = keyboard(actions, codec)
    assert markup is not None
    buttons = [b for row in markup.inline_keyboard for b in row]
    assert [b.text for b in buttons[:2]] == ["👍", "👎"]
    assert len(markup.inline_keyboard[0]) == 2, "the votes side by side"
    for action, button in zip(actions, buttons, strict=True):
        assert len(button.callback_data.encode()) <= MAX_CALLBACK_BYTES
        decoded = codec.decode(button.callback_data)
        assert decoded is not None
        assert (decoded.id, decoded.value, decoded.reply_id) == (
            action.id, action.value, action.reply_id,
        )  # fmt: skip
    assert CallbackCodec().decode(buttons[-1].callback_data) is None, "a restart forgets long ones"
    assert CallbackCodec().decode(buttons[0].callback_data) is not None, "short ones survive it"


def test_a_retry_after_on_a_draft_pauses_the_drafts_for_as_long_as_telegram_asks() -> None:
    import asyncio

    from telegram.error import RetryAfter

    from adapters.telegram.sinks import DraftSink

    class Bot:
        def __init__(self) -> None:
            self.drafts: list[str] = []
            self.refuse = True

        async def send_message_draft(self, chat_id: int, draft_id: int, text: str, **_: object):  # type: ignore[no-untyped-def]
            if self.refuse:
                self.refuse = False
                raise RetryAfter(5)
            self.drafts.append(text)
            return True

    now = [0.0]
    bot = Bot()
    sink = DraftSink(bot, 42, CallbackCodec(), clock=lambda: now[0])  # type: ignore[arg-type]

    async def stream() -> None:
        await sink.show("Die")  # refused: wait 5 s
        now[0] = 4.9
        await sink.show("Die Förderung")  # still waiting: not sent
        now[0] = 5.0
        await sink.show("Die Förderung beträgt")

    asyncio.run(stream())
    assert bot.drafts == ["Die Förderung beträgt"]
