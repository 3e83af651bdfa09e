"""Showing one answer in a Slack thread as it is written.

Native streaming first: `chat.startStream` / `appendStream` / `stopStream` through slack_sdk's
`AsyncChatStream`, addressed to the asker (`recipient_team_id`, `recipient_user_id`). Where
Slack refuses or ends a stream (`channel_type_not_supported`, `message_not_in_streaming_state`,
a workspace without the feature, …) the answer carries on in one placeholder message edited
with `chat.update` at most once per `update_interval` — logged and counted in `SlackStats`,
never silent. The final reply is Block Kit (see `blocks`): a stream is stopped with the sources
and buttons as its blocks, or, when the final text is not what was streamed (citations
renumbered, an error), the streamed message is replaced with `chat.update`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    as_dicts,
    escape,
    fallback_text,
    footer_blocks,
    reply_messages,
)
from bot import i18n
from bot.messages import Reply

log = logging.getLogger(__name__)

# Slack's answers that mean "no stream here": carry on with chat.update instead.
STREAM_REFUSALS = frozenset(
    {
        "channel_type_not_supported",
        "message_not_in_streaming_state",
        "not_allowed",
        "not_allowed_token_type",
        "feature_not_enabled",
        "unknown_method",
        "method_not_supported_for_channel_type",
        "invalid_thread_ts",
    }
)
APPEND_CHARS = 12_000  # chat.appendStream's markdown_text limit
STATUS_WAIT = 2.0  # seconds the first text waits for the loading status call to return


@dataclass
class SlackStats:
    """What happened to answers, for logs, tests and the benchmark."""

    answers: int = 0
    streamed: int = 0  # answers that reached Slack as a native stream
    fallbacks: Counter[str] = field(default_factory=Counter)  # Slack's error → times
    failed: int = 0  # answers Slack would not take at all (logged with the error)
    dropped_retries: int = 0  # deliveries of an event already handled


@dataclass(frozen=True)
class Place:
    """Where an answer goes: a thread, addressed to the person who asked."""

    channel: str
    thread_ts: str
    user_id: str
    team_id: str | None = None


def error_of(exc: SlackApiError) -> str:
    """Slack's error code ("ratelimited", "channel_not_found"), or the HTTP status when the
    answer was not Slack's JSON (a proxy's error page)."""
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    status = getattr(response, "status_code", None)
    return f"http_{status}" if status else "unknown_error"


async def show_loading(client: AsyncWebClient, place: Place, language: str) -> bool:
    """The "is thinking…" status in the asker's language, until the first text arrives (Slack
    clears it when the app replies). False when Slack would not show it — not an error."""
    try:
        await client.assistant_threads_setStatus(
            channel_id=place.channel,
            thread_ts=place.thread_ts,
            status=i18n.text("slack.status_thinking", language),
            loading_messages=[
                i18n.text("slack.loading_searching", language),
                i18n.text("slack.loading_reading", language),
                i18n.text("slack.loading_writing", language),
            ],
        )
    except SlackApiError as exc:
        log.debug("no loading status in %s: %s", place.channel, error_of(exc))
        return False
    return True


class ThreadSink:
    """A `bot.streaming.StreamSink` for one answer in one thread."""

    def __init__(
        self,
        client: AsyncWebClient,
        place: Place,
        stats: SlackStats,
        *,
        update_interval: float = 1.0,
        native: bool = True,
        clock: Callable[[], float] = time.monotonic,
        status: asyncio.Task[Any] | None = None,
    ) -> None:
        self.client = client
        self.place = place
        self.stats = stats
        self.update_interval = update_interval
        self.native = native
        self.clock = clock
        self._stream: AsyncChatStream | None = None
        self._streamed = ""  # the escaped text the stream holds
        self._diverged = False  # the text changed under the stream (only the final fixes it)
        self._placeholder: str | None = None  # ts of the message chat.update edits
        self._last_edit = float("-inf")
        self.message_ts: list[str] = []  # every message this answer posted, first one first
        # The loading status, set while the core works; settled before the first text, so a
        # late status never shows over an answer.
        self._status = status

    async def _settle_status(self) -> None:
        status, self._status = self._status, None
        if status is None or status.done():
            return
        try:
            await asyncio.wait_for(status, STATUS_WAIT)
        except (TimeoutError, asyncio.CancelledError):
            log.debug("the loading status was given up on in %s", self.place.channel)
        except Exception:  # noqa: BLE001 - a status is decoration, never the answer's end
            log.debug("the loading status failed in %s", self.place.channel, exc_info=True)

    # ------------------------------------------------------------------ partial text
    async def show(self, text: str) -> None:
        await self._settle_status()
        if self.native:
            try:
                await self._append(escape(text))
                return
            except SlackApiError as exc:
                if error_of(exc) not in STREAM_REFUSALS:
                    raise
                self._fall_back(exc)
        await self._edit(text)

    async def _append(self, escaped: str) -> None:
        if self._diverged or not escaped.startswith(self._streamed):
            self._diverged = True
            return
        delta = escaped[len(self._streamed) :]
        if not delta:
            return
        if self._stream is None:
            self._stream = await self.client.chat_stream(
                channel=self.place.channel,
                thread_ts=self.place.thread_ts,
                recipient_team_id=self.place.team_id,
                recipient_user_id=self.place.user_id,
                # deliver() already coalesces to one show per interval: send each at once.
                buffer_size=1,
            )
        for i in range(0, len(delta), APPEND_CHARS):
            await self._stream.append(markdown_text=delta[i : i + APPEND_CHARS])
        if self._stream.ts and self._stream.ts not in self.message_ts:
            self.message_ts.append(self._stream.ts)
        self._streamed = escaped

    def _fall_back(self, exc: SlackApiError) -> None:
        error = error_of(exc)
        self.stats.fallbacks[error] += 1
        log.warning(
            "Slack refused to stream in %s (%s): editing one message with chat.update instead",
            self.place.channel,
            error,
        )
        self.native = False
        if self._stream is not None and self._stream.ts:
            self._placeholder = self._stream.ts  # the streamed message becomes the one edited

    async def _edit(self, text: str) -> None:
        now = self.clock()
        if self._placeholder is not None and now - self._last_edit < self.update_interval:
            return  # Slack takes about one edit a second; the next show brings newer text
        self._last_edit = now
        shown = fallback_text(text)
        if self._placeholder is None:
            response = await self.client.chat_postMessage(
                channel=self.place.channel, thread_ts=self.place.thread_ts, text=shown
            )
            self._placeholder = str(response["ts"])
            self.message_ts.append(self._placeholder)
        else:
            await self.client.chat_update(
                channel=self.place.channel, ts=self._placeholder, text=shown
            )

    # ------------------------------------------------------------------ the final reply
    async def finish(self, reply: Reply) -> None:
        await self._settle_status()
        self.stats.answers += 1
        messages = reply_messages(reply)
        try:
            await self._finish(reply, messages)
        except SlackApiError as exc:
            # The stream or the placeholder is gone: the answer still goes, as a new message.
            self.stats.fallbacks[error_of(exc)] += 1
            log.warning(
                "the answer could not replace its message in %s (%s): posting it anew",
                self.place.channel,
                error_of(exc),
            )
            await self._post(reply, messages)

    async def _finish(self, reply: Reply, messages: list[list[Any]]) -> None:
        if self.native and self._stream is not None and self._stream.ts:
            final = escape(reply.text.strip())
            if (
                not self._diverged
                and len(messages) == 1
                and final.startswith(self._streamed)
                and len(final) <= APPEND_CHARS
            ):
                rest = final[len(self._streamed) :]
                try:
                    await self._stream.stop(
                        markdown_text=rest or None, blocks=as_dicts(footer_blocks(reply))
                    )
                    self.stats.streamed += 1
                    return
                except SlackApiError as exc:
                    if error_of(exc) not in STREAM_REFUSALS:
                        raise
                    self._fall_back(exc)
            else:
                try:
                    await self._stream.stop()
                except SlackApiError as exc:
                    log.info("stopping the stream in %s: %s", self.place.channel, error_of(exc))
                self.stats.streamed += 1
                self._placeholder = self._stream.ts
        if self._placeholder is not None:
            await self.client.chat_update(
                channel=self.place.channel,
                ts=self._placeholder,
                text=fallback_text(reply.text),
                blocks=as_dicts(messages[0]),
            )
            for blocks in messages[1:]:
                await self._post_blocks(reply, blocks)
            return
        await self._post(reply, messages)

    async def _post(self, reply: Reply, messages: list[list[Any]]) -> None:
        for blocks in messages:
            await self._post_blocks(reply, blocks)

    async def _post_blocks(self, reply: Reply, blocks: list[Any]) -> None:
        response = await self.client.chat_postMessage(
            channel=self.place.channel,
            thread_ts=self.place.thread_ts,
            text=fallback_text(reply.text),
            blocks=as_dicts(blocks),
        )
        self.message_ts.append(str(response.get("ts", "")))


async def upload_files(client: AsyncWebClient, place: Place, reply: Reply) -> None:
    """A reply's files (a lead summary's chart) into the thread, after the text; a file Slack
    refuses is replaced by a line saying so."""
    for attachment in reply.files:
        try:
            await client.files_upload_v2(
                channel=place.channel,
                thread_ts=place.thread_ts,
                file=attachment.content,
                filename=attachment.filename,
                title=attachment.filename,
            )
        except SlackApiError as exc:
            log.warning(
                "%s was not uploaded to %s: %s", attachment.filename, place.channel, error_of(exc)
            )
            try:
                await client.chat_postMessage(
                    channel=place.channel,
                    thread_ts=place.thread_ts,
                    text=i18n.text(
                        "slack.file_failed", reply.language, filename=attachment.filename
                    ),
                )
            except SlackApiError:
                log.warning("and the note about it was refused too", exc_info=True)
