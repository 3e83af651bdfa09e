"""What Slack says about people and channels, as the core's hints and audiences — and posting
to `slack:#channel` through the core's posting seam."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.audience import SlackDirectory
from adapters.slack.poster import SlackPoster
from adapters.slack.settings import load_slack_settings
from bot.askers import Asker
from bot.handoff import handoff_post
from bot.messages import Attachment, Reply
from knowledge.audit import Exchange
from knowledge.divisions import Division
from knowledge.identities import Identity
from tests.slack_fake import BOT_TOKEN, TEAM, FakeSlack, member, serve_fake_slack
from tests.slack_harness import standard_directory


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serve_fake_slack() as slack:
        standard_directory(slack)
        slack.users["U0OUTSIDE"] = member("U0OUTSIDE", "ext", team_id="T0OTHERORG")
        slack.usergroups["S0MANAGERS"] = ["U0STAFF01"]
        yield slack


def _client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)


def test_members_guests_outsiders_and_managers_get_the_right_hints(fake: FakeSlack) -> None:
    async def go() -> dict[str, frozenset[str]]:
        directory = SlackDirectory(
            _client(fake),
            load_slack_settings(managers="U0MANAGER", manager_group="S0MANAGERS"),
        )
        directory.team_id = TEAM
        found = {}
        for user in ("U0STAFF01", "U0MANAGER", "U0GUEST01", "U0OUTSIDE", "U0NOBODY"):
            found[user] = await directory.hints(await directory.person(user))
        return found

    hints = asyncio.run(go())
    assert hints["U0STAFF01"] == {"slack_member", "slack_manager"}  # in the manager group
    assert hints["U0MANAGER"] == {"slack_member", "slack_manager"}  # configured by id
    assert hints["U0GUEST01"] == frozenset()
    assert hints["U0OUTSIDE"] == frozenset(), "a Slack Connect user from another organisation"
    assert hints["U0NOBODY"] == frozenset(), "users.info failed: no hint, never a crash"


def test_a_channel_is_answered_at_the_level_of_its_least_privileged_reader(
    fake: FakeSlack,
) -> None:
    async def go() -> dict[str, str | None]:
        directory = SlackDirectory(_client(fake), load_slack_settings())
        return {
            channel: await directory.audience(channel)
            for channel in ("D0STAFF01", "C0GENERAL", "C0SHARED1", "C0GUESTS1", "C0MISSING")
        }

    audiences = asyncio.run(go())
    assert audiences == {
        "D0STAFF01": None,
        "C0GENERAL": "staff",
        "C0SHARED1": "partner",
        "C0GUESTS1": "guest",
        "C0MISSING": "guest",
    }
    # What Slack said is cached: asking again costs no call.
    calls = len(fake.calls)

    async def again() -> None:
        directory = SlackDirectory(_client(fake), load_slack_settings())
        await directory.audience("C0GENERAL")
        await directory.audience("C0GENERAL")

    asyncio.run(again())
    assert len(fake.calls) - calls <= 3


def test_the_poster_finds_a_channel_by_name_and_puts_the_chart_in_the_thread(
    fake: FakeSlack,
) -> None:
    reply = Reply(
        "Weekly digest: 35 leads",
        files=(Attachment("leads.png", b"\x89PNG chart", "image/png"),),
        language="zh",
    )

    async def go() -> str:
        return await SlackPoster(_client(fake)).post("slack:#div-bohai", reply)

    ts = asyncio.run(go())
    [post] = fake.calls_to("chat.postMessage")
    assert post.params["channel"] == "C0BOHAI01" and "thread_ts" not in post.params
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0BOHAI01" and complete.params["thread_ts"] == ts
    assert list(fake.uploads.values()) == [b"\x89PNG chart"]


def test_the_poster_says_why_it_could_not_post(fake: FakeSlack) -> None:
    fake.errors["chat.postMessage"] = ["not_in_channel"]

    async def go(channel: str) -> None:
        await SlackPoster(_client(fake)).post(channel, Reply("hello"))

    with pytest.raises(LookupError, match="#nowhere"):
        asyncio.run(go("#nowhere"))
    with pytest.raises(SlackApiError):
        asyncio.run(go("slack:#div-pearl"))


def test_a_hand_off_tags_the_divisions_contact_by_their_slack_id(fake: FakeSlack) -> None:

    division = Division(
        "bohai",
        "环渤海事业部",
        "Bohai Rim Division",
        (),
        ("boston",),
        ({"name": "王立群", "handles": {"slack": "U0WANG001", "telegram": "wangliqun"}},),
        slack_channel="#div-bohai",
    )
    exchange = Exchange(
        reply_id="R-1",
        at=dt.datetime.now(dt.UTC),
        platform="telegram",
        user_id="42",
        role="partner",
        conversation_id="42",
        intent="ask",
        question="Rent subsidy for labs?",
        doc_ids=(),
        visibilities=(),
        answer="Up to 50%.",
        mode="extractive",
        latency_ms=5,
    )
    asker = Asker(Identity("telegram", "42", "partner", node="boston"), "partner", "en")
    post = handoff_post(exchange, asker, "https://t.me/c/1/2", division)
    assert post.mentions == ("slack:U0WANG001", "telegram:wangliqun")

    asyncio.run(SlackPoster(_client(fake)).post("slack:#div-bohai", post))
    [sent] = fake.calls_to("chat.postMessage")
    assert sent.params["text"].startswith("<@U0WANG001> ")
    assert sent.params["blocks"][0]["text"]["text"] == "<@U0WANG001>"
    assert "wangliqun" not in sent.params["text"]  # another platform's handle is not shown


def test_a_guest_on_a_later_page_of_members_still_lowers_the_channel(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.slack.audience._MAX_MEMBER_PAGES", 3)
    fake.page_size = 2
    staff = [f"U0STAFF{i:03d}" for i in range(5)]
    fake.channels["C0BIGROOM"] = {**fake.channels["C0GENERAL"], "id": "C0BIGROOM"}
    fake.members["C0BIGROOM"] = [*staff, "U0GUEST01"]  # the guest is on page 3
    fake.channels["C0HUGEROOM"] = {**fake.channels["C0GENERAL"], "id": "C0HUGEROOM"}
    fake.members["C0HUGEROOM"] = [f"U0MANY{i:05d}" for i in range(25)]  # no guest in sight

    async def go() -> tuple[str | None, str | None, str | None]:
        directory = SlackDirectory(_client(fake), load_slack_settings())
        return (
            await directory.audience("C0BIGROOM"),
            await directory.audience("C0GENERAL"),
            await directory.audience("C0HUGEROOM"),
        )

    big, general, huge = asyncio.run(go())
    assert big == "guest"
    assert general == "staff"
    assert huge == "guest", "members not all checked: answered as if a guest were reading"
