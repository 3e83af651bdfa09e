"""A Reply as Slack Block Kit: escaped mrkdwn within Slack's limits, numbered sources, Slack's
own feedback buttons, and buttons whose presses come back as the core's Action."""

from __future__ import annotations

from slack_sdk.models.blocks import SectionBlock

from adapters.slack.blocks import (
    MESSAGE_BLOCKS,
    as_dicts,
    decode_action,
    encode_action,
    escape,
    mrkdwn,
    reply_messages,
    split_text,
)
from adapters.slack.commands import command_action
from adapters.slack.events import conversation_key, from_a_person, plain_text
from bot.messages import Action, Citation, Reply

ACTIONS = (
    Action("feedback", "Helpful", "up", "R-1"),
    Action("feedback", "Not helpful", "down", "R-1"),
    Action("route", "Route to a person", "R-1", "R-1"),
)


def test_text_is_escaped_so_documents_cannot_ping_a_channel_or_fake_a_link() -> None:
    assert (
        escape("<!channel> a & b <https://x|y>") == "&lt;!channel&gt; a &amp; b &lt;https://x|y&gt;"
    )
    assert mrkdwn("## Fees\n**RMB 5 million** & more") == "*Fees*\n*RMB 5 million* &amp; more"


def test_long_answers_are_split_at_paragraphs_within_sections_and_messages() -> None:
    paragraph = "研发用房租金减免。" * 200  # 1800 characters
    text = "\n\n".join([paragraph] * 120)
    pieces = split_text(text)
    assert all(len(p) <= SectionBlock.text_max_length for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    messages = reply_messages(Reply(text, actions=ACTIONS))
    assert len(messages) >= 2 and all(len(m) <= MESSAGE_BLOCKS for m in messages)
    for message in messages:
        as_dicts(message)  # the SDK validates every limit here
    assert messages[-1][-1].type == "actions", "buttons go under the last part"


def test_sources_are_numbered_with_kind_date_and_a_link_only_when_public() -> None:
    reply = Reply(
        "See [1] and [2].",
        citations=(
            Citation(
                1, "人才安家补贴 <办法>", "policy", "2024-03-01", "public", url="https://gov.cn/a"
            ),
            Citation(2, "Internal rules", "policy", None, "internal"),
        ),
        language="en",
    )
    [message] = reply_messages(reply)
    context = next(b for b in as_dicts(message) if b["type"] == "context")
    text = context["elements"][0]["text"]
    assert "[1] <https://gov.cn/a|人才安家补贴 &lt;办法&gt;> (" in text and "2024-03-01" in text
    assert "[2] Internal rules (" in text and "<" not in text.split("[2]")[1]


def test_feedback_is_slacks_own_thumbs_and_every_press_decodes_to_the_core_action() -> None:
    [message] = reply_messages(Reply("ok", actions=ACTIONS))
    blocks = as_dicts(message)
    [feedback] = next(b for b in blocks if b["type"] == "context_actions")["elements"]
    assert feedback["type"] == "feedback_buttons"
    down = {"action_id": feedback["action_id"], "value": feedback["negative_button"]["value"]}
    assert decode_action(down) == Action("feedback", value="down", reply_id="R-1")
    [route] = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert decode_action(route) == Action("route", value="R-1", reply_id="R-1")
    assert decode_action({"action_id": "someone_elses", "value": encode_action(ACTIONS[0])}) is None
    assert decode_action({"action_id": "zb_x", "value": "not json"}) is None


def test_slash_subcommands_map_to_the_core_commands() -> None:
    assert command_action("") == Action("help")
    assert command_action("lead L-0042") == Action("lead", value="L-0042")
    assert command_action("newlead 氢能 company") == Action("new_lead", value="氢能 company")
    assert command_action("summary 本月 慕尼黑") == Action("summary", value="本月 慕尼黑")
    assert command_action("invite munich") == Action("invite", value="munich")
    assert command_action("研发用房租金怎么减免？") == Action("ask", value="研发用房租金怎么减免？")


def test_events_become_text_people_wrote_in_the_right_conversation() -> None:
    text = "<@UBOT0001> ask <@U123> about <https://gov.cn|the policy> in <#C1|general> &amp; more"
    assert (
        plain_text(text, "UBOT0001")
        == "ask @U123 about the policy (https://gov.cn) in #general & more"
    )
    assert conversation_key({"channel": "C1", "ts": "1.1"}) == "C1:1.1"
    assert conversation_key({"channel": "C1", "ts": "1.2", "thread_ts": "1.1"}) == "C1:1.1"
    assert conversation_key({"channel": "D1", "ts": "1.2", "channel_type": "im"}) == "D1"
    assert not from_a_person({"user": "U1", "subtype": "message_changed"})
    assert not from_a_person({"user": "U1", "bot_id": "B1"})
    assert from_a_person({"user": "U1", "subtype": "file_share"})
