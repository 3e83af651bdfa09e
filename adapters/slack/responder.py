"""The work after the ack: one Slack event, command or button press → the core → Slack.

Every path ends with something the person sees: the answer, or a clear message when Slack or
the core failed (`core.error` with its reference) — never silence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import events
from adapters.slack.audience import Person, SlackDirectory
from adapters.slack.blocks import as_dicts, decode_action, fallback_text, reply_messages
from adapters.slack.commands import command_action
from adapters.slack.settings import SlackSettings
from adapters.slack.sink import Place, SlackStats, ThreadSink, error_of, show_loading, upload_files
from bot import i18n
from bot.conversations import ConversationStore
from bot.messages import Action, IncomingMessage, PartialText, Reply
from bot.runtime import Runtime
from bot.streaming import deliver, failure_reply

log = logging.getLogger(__name__)
Respond = Callable[..., Awaitable[Any]]
_KNOWN_THREADS = 10_000
_TITLE_CHARS = 80


class Responder:
    def __init__(
        self,
        runtime: Runtime,
        client: AsyncWebClient,
        directory: SlackDirectory,
        settings: SlackSettings,
        stats: SlackStats,
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.directory = directory
        self.settings = settings
        self.stats = stats
        self.bot_user_id: str | None = None
        self.team_id: str | None = None
        # Threads this process answered in; the conversation store (SQL) knows the rest.
        self._threads: OrderedDict[str, None] = OrderedDict()
        self._titled: set[str] = set()
        self._store = ConversationStore(runtime.services.engine)
        # The adapter's own small SQL reads and writes (the retry claim, the thread check,
        # the status language) get threads of their own: in the default pool they would queue
        # behind the core's searches and hold up every ack'd event under load.
        self._io = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-io")

    async def _in_thread(self, work: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, work, *args)

    def close(self) -> None:
        self._io.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ helpers
    async def _claim(self, key: str | None) -> bool:
        if not key:
            return True
        claimed = await self._in_thread(
            self.runtime.services.handled_events.claim, events.PLATFORM, key
        )
        if not claimed:
            self.stats.dropped_retries += 1
            log.info("event %s was already handled: a retry, dropped", key)
        return claimed

    def _remember_thread(self, key: str) -> None:
        self._threads[key] = None
        self._threads.move_to_end(key)
        while len(self._threads) > _KNOWN_THREADS:
            self._threads.popitem(last=False)

    async def _bots_thread(self, key: str) -> bool:
        """Whether the assistant is part of this thread: it answered there (this process
        remembers; the conversation store remembers across workers and restarts)."""
        if key in self._threads:
            return True
        turns = await self._in_thread(self._store.last, events.PLATFORM, key, 1)
        if turns:
            self._remember_thread(key)
        return bool(turns)

    async def language(self, message: IncomingMessage) -> str:
        """The language the core will answer in, for what Slack shows before it does."""
        assistant = self.runtime.assistant

        def guess() -> str:
            identity = self.runtime.services.identities.get(message.platform, message.user_id)
            return assistant.askers.language(message, identity)

        try:
            return await self._in_thread(guess)
        except Exception:  # noqa: BLE001 - a guess; the core decides the answer's language
            return i18n.supported(message.locale)

    async def download(self, url: str) -> bytes:
        """A Slack file's bytes (url_private needs the bot token)."""
        headers = {"Authorization": f"Bearer {self.settings.secret('bot_token')}"}
        limit = int(self.runtime.settings.upload_max_mb * 1024 * 1024) + 1
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as resp,
        ):
            resp.raise_for_status()
            if "text/html" in resp.headers.get("Content-Type", ""):
                # Slack answers a download without the files:read scope with its login page.
                raise PermissionError("Slack returned a login page instead of the file")
            data = await resp.content.read(limit)
            return data

    async def _incoming(self, event: Mapping[str, Any], person: Person) -> IncomingMessage:
        hints = await self.directory.hints(person)
        audience = await self.directory.audience(str(event["channel"]), event.get("channel_type"))
        files = events.uploads(event, self.download) if events.is_dm(event) else ()
        return events.incoming(
            event,
            bot_user_id=self.bot_user_id,
            hints=hints,
            audience=audience,
            display_name=person.display_name,
            locale=person.locale,
            attachments=files,
        )

    # ------------------------------------------------------------------ messages
    async def on_message(
        self, body: Mapping[str, Any], event: Mapping[str, Any], *, mention: bool
    ) -> None:
        if not events.from_a_person(event) or event.get("user") == self.bot_user_id:
            return
        dm = events.is_dm(event)
        if mention and dm:
            return  # the DM's message event brings the same text
        if not mention and not dm:
            if events.mentions(str(event.get("text") or ""), self.bot_user_id):
                return  # app_mention brings it
            if not event.get("thread_ts"):
                return
            if not await self._bots_thread(events.conversation_key(event)):
                return
        if not await self._claim(body.get("event_id")):
            return
        person = await self.directory.person(str(event["user"]))
        message = await self._incoming(event, person)
        place = Place(
            channel=str(event["channel"]),
            thread_ts=events.thread_ts(event),
            user_id=message.user_id,
            team_id=str(event.get("team") or body.get("team_id") or self.team_id or "") or None,
        )
        await self.answer(message, place, dm_thread=dm and bool(event.get("thread_ts")))

    async def answer(
        self, message: IncomingMessage, place: Place, *, dm_thread: bool = False
    ) -> Reply | None:
        async def loading() -> None:
            await show_loading(self.client, place, await self.language(message))
            if dm_thread and message.conversation_id not in self._titled and message.text:
                self._titled.add(message.conversation_id)
                await self._set_title(place, message.text[:_TITLE_CHARS])

        # The status goes up while the core starts on the answer, not before it.
        status = asyncio.get_running_loop().create_task(loading())
        sink = ThreadSink(
            self.client,
            place,
            self.stats,
            update_interval=self.settings.update_interval,
            status=status,
        )
        try:
            reply = await deliver(
                self.runtime.assistant(message),
                sink,
                interval=self.settings.stream_interval,
                language=i18n.supported(message.locale),
            )
        except SlackApiError as exc:
            self.stats.failed += 1
            log.error("Slack refused the answer in %s: %s", place.channel, error_of(exc))
            await self._say_failed(place, i18n.supported(message.locale))
            return None
        self._remember_thread(message.conversation_id)
        if reply.files:
            await upload_files(self.client, place, reply)
        return reply

    async def _say_failed(self, place: Place, language: str) -> None:
        reply = failure_reply(language)
        try:
            await self.client.chat_postMessage(
                channel=place.channel, thread_ts=place.thread_ts, text=reply.text
            )
        except SlackApiError:
            log.error("and the failure notice was refused too (reference %s)", reply.id)

    async def _set_title(self, place: Place, title: str) -> None:
        try:
            await self.client.assistant_threads_setTitle(
                channel_id=place.channel, thread_ts=place.thread_ts, title=title
            )
        except SlackApiError as exc:
            log.debug("no thread title in %s: %s", place.channel, error_of(exc))

    # ------------------------------------------------------------------ assistant threads
    async def on_thread_started(self, event: Mapping[str, Any]) -> None:
        thread = event.get("assistant_thread") or {}
        channel, ts, user = thread.get("channel_id"), thread.get("thread_ts"), thread.get("user_id")
        if not (channel and ts and user):
            return
        person = await self.directory.person(str(user))
        probe = IncomingMessage("", events.PLATFORM, str(user), str(channel), locale=person.locale)
        language = await self.language(probe)
        place = Place(str(channel), str(ts), str(user))
        await self._set_title(place, i18n.text("slack.thread_title", language))
        suggest = getattr(self.runtime.assistant, "suggested_prompts", None)
        prompts = list(suggest(language))[:4] if suggest is not None else []
        if not prompts:
            log.info("the core offers no suggested prompts: none shown")
            return
        try:
            await self.client.assistant_threads_setSuggestedPrompts(
                channel_id=str(channel),
                thread_ts=str(ts),
                title=i18n.text("slack.prompts_title", language),
                prompts=[{"title": _short(p), "message": p} for p in prompts],
            )
        except SlackApiError as exc:
            log.info("no suggested prompts in %s: %s", channel, error_of(exc))

    async def on_home_opened(self, event: Mapping[str, Any]) -> None:
        """Opening the app's Messages tab: a welcome with the suggested prompts as buttons,
        at most once a day per person (the key lives with the handled events)."""
        user, channel = event.get("user"), event.get("channel")
        if event.get("tab") != "messages" or not (user and channel):
            return
        key = f"home:{user}:{dt.date.today().isoformat()}"
        claim = self.runtime.services.handled_events.claim
        if not await self._in_thread(claim, events.PLATFORM, key):
            return
        person = await self.directory.person(str(user))
        probe = IncomingMessage("", events.PLATFORM, str(user), str(channel), locale=person.locale)
        language = await self.language(probe)
        prompts = self.runtime.assistant.suggested_prompts(language)
        welcome = Reply(
            i18n.text("slack.home_welcome", language),
            actions=tuple(Action("ask", _short(p), p) for p in prompts),
            language=language,
        )
        await self._post_with_files(str(channel), welcome)

    # ------------------------------------------------------------------ /zbrain
    async def on_command(self, command: Mapping[str, Any], respond: Respond) -> None:
        user = str(command["user_id"])
        channel = str(command["channel_id"])
        action = command_action(str(command.get("text") or ""))
        person = await self.directory.person(user)
        language_probe = IncomingMessage(
            action.value, events.PLATFORM, user, channel, locale=person.locale
        )
        if action.id == "ingest":
            language = await self.language(language_probe)
            await respond(text=i18n.text("slack.ingest_how", language), response_type="ephemeral")
            return
        in_dm = channel.startswith("D") or command.get("channel_name") == "directmessage"
        if action.id == "new_lead" and not in_dm:
            await self._intake_in_dm(command, action, person, respond)
            return
        message = IncomingMessage(
            text="",
            platform=events.PLATFORM,
            user_id=user,
            conversation_id=channel if in_dm else f"{channel}:command:{user}",
            message_id=str(command.get("trigger_id") or ""),
            locale=person.locale,
            action=action,
            display_name=person.display_name,
            hints=await self.directory.hints(person),
            audience=None if in_dm else await self.directory.audience(channel),
        )
        reply = await final_reply(self.runtime, message)
        if reply.files:
            if await self._post_with_files(channel, reply):
                return
            note = i18n.text("slack.files_not_posted", reply.language)
            reply = dataclasses.replace(reply, text=f"{reply.text}\n\n{note}", files=())
        await respond_with(respond, reply)

    async def _post_with_files(self, channel: str, reply: Reply) -> bool:
        messages = reply_messages(reply)
        try:
            first = await self.client.chat_postMessage(
                channel=channel, text=fallback_text(reply.text), blocks=as_dicts(messages[0])
            )
        except SlackApiError as exc:
            log.info("a summary could not be posted in %s: %s", channel, error_of(exc))
            return False
        place = Place(channel, str(first["ts"]), "")
        for blocks in messages[1:]:
            await self.client.chat_postMessage(
                channel=channel,
                thread_ts=place.thread_ts,
                text=fallback_text(reply.text),
                blocks=as_dicts(blocks),
            )
        await upload_files(self.client, place, reply)
        return True

    async def _intake_in_dm(
        self, command: Mapping[str, Any], action: Action, person: Person, respond: Respond
    ) -> None:
        user = str(command["user_id"])
        opened = await self.client.conversations_open(users=user)
        dm = str(opened["channel"]["id"])
        message = IncomingMessage(
            text="",
            platform=events.PLATFORM,
            user_id=user,
            conversation_id=dm,
            locale=person.locale,
            action=action,
            display_name=person.display_name,
            hints=await self.directory.hints(person),
        )
        reply = await final_reply(self.runtime, message)
        for blocks in reply_messages(reply):
            await self.client.chat_postMessage(
                channel=dm, text=fallback_text(reply.text), blocks=as_dicts(blocks)
            )
        self._remember_thread(dm)
        await respond(
            text=i18n.text("slack.newlead_in_dm", reply.language), response_type="ephemeral"
        )

    # ------------------------------------------------------------------ buttons
    async def on_action(self, body: Mapping[str, Any]) -> None:
        pressed = [a for a in (decode_action(p) for p in body.get("actions") or ()) if a]
        if not pressed:
            return
        action = pressed[0]
        user = str((body.get("user") or {}).get("id"))
        container = body.get("container") or {}
        message_payload = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        thread = str(
            message_payload.get("thread_ts")
            or container.get("thread_ts")
            or message_payload.get("ts")
            or container.get("message_ts")
            or ""
        )
        person = await self.directory.person(user)
        dm = channel.startswith("D")
        link = ""
        if action.id == "route" and channel and thread:
            link = await self._permalink(channel, thread)
        message = IncomingMessage(
            text="",
            platform=events.PLATFORM,
            user_id=user,
            conversation_id=f"{channel}:{thread}" if thread else channel,
            message_id=str(body.get("trigger_id") or ""),
            locale=person.locale,
            action=action,
            display_name=person.display_name,
            hints=await self.directory.hints(person),
            audience=None if dm else await self.directory.audience(channel),
            link=link,
        )
        reply = await final_reply(self.runtime, message)
        place = Place(channel, thread, user)
        if dm:
            sink = ThreadSink(self.client, place, self.stats, native=False)
            await sink.finish(reply)
            if reply.files:
                await upload_files(self.client, place, reply)
            return
        for blocks in reply_messages(reply):
            await self.client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=thread or None,
                text=fallback_text(reply.text),
                blocks=as_dicts(blocks),
            )

    async def _permalink(self, channel: str, ts: str) -> str:
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as exc:
            log.info("no permalink for %s/%s: %s", channel, ts, error_of(exc))
            return ""
        return str(response.get("permalink") or "")


async def final_reply(runtime: Runtime, message: IncomingMessage) -> Reply:
    """The core's final Reply, for places that cannot stream (ephemeral messages, buttons)."""
    final: Reply | None = None
    async for update in runtime.assistant(message):
        if isinstance(update, Reply) and final is None:
            final = update
        elif isinstance(update, PartialText):
            continue
    return final or failure_reply(i18n.supported(message.locale))


async def respond_with(respond: Respond, reply: Reply) -> None:
    for blocks in reply_messages(reply):
        await respond(
            text=fallback_text(reply.text),
            blocks=as_dicts(blocks),
            response_type="ephemeral",
            replace_original=False,
        )


def _short(prompt: str, limit: int = 75) -> str:
    return prompt if len(prompt) <= limit else prompt[: limit - 1] + "…"
