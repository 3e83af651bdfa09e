"""Who a Slack person is and who reads a Slack conversation, as the core's hints and audience.

The adapter decides no role. A person gets the hint `slack_member` when they are a full member
of this workspace (not a guest, not a Slack Connect user from another organisation, not a bot)
and `slack_manager` when their user id is configured or they belong to the manager user group;
the plugin's `hint_roles` maps those to roles, and the identity registry overrides both.

A conversation's audience is the most every reader may see:
- a direct message: no cap (`None`) — restricted material is only ever answered here;
- a channel, private channel or group DM of full members: `staff`;
- a Slack Connect channel (`is_ext_shared`, also while pending): `partner` — its outside
  members are the partner organisations the project shares partner material with;
- a channel with workspace guests: `guest` — a guest account belongs to no partner node, so
  only public material is safe.
When Slack cannot tell us (an error, a missing scope), the channel is treated as `guest`: an
answer that says less is better than one that says too much.

What Slack said is cached for `cache_seconds` (users.info, conversations.info/members, the
workspace's guest list from users.list, the manager group), so a busy channel costs a few calls
every few minutes rather than several per message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import MANAGER_HINT, MEMBER_HINT, SlackSettings
from adapters.slack.sink import error_of

log = logging.getLogger(__name__)
_MAX_MEMBER_PAGES = 10


@dataclass(frozen=True)
class Person:
    user_id: str
    display_name: str = ""
    locale: str | None = None
    member: bool = False  # a full member of this workspace
    known: bool = True  # False when Slack could not be asked


class _Cache:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self.clock = clock
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any | None:
        found = self._items.get(key)
        if found is None or self.clock() - found[0] > self.seconds:
            return None
        return found[1]

    def put(self, key: str, value: Any) -> Any:
        if len(self._items) > 5000:
            self._items.clear()  # a crude bound; entries are cheap to fetch again
        self._items[key] = (self.clock(), value)
        return value


class SlackDirectory:
    def __init__(
        self,
        client: AsyncWebClient,
        settings: SlackSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings
        self._cache = _Cache(settings.cache_seconds, clock)
        # One lookup per key at a time: fifty messages arriving together in a new channel ask
        # Slack once, not fifty times.
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self.team_id: str | None = None  # this workspace, from auth.test (set by the service)

    # ------------------------------------------------------------------ people
    async def _once(self, key: str, lookup: Callable[[], Awaitable[Any]]) -> Any:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.ensure_future(lookup())
        self._pending[key] = future
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                self._pending.pop(key, None)
            else:
                future.add_done_callback(lambda _: self._pending.pop(key, None))

    async def person(self, user_id: str) -> Person:
        return await self._once(f"user:{user_id}", lambda: self._person(user_id))

    async def _person(self, user_id: str) -> Person:
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, error_of(exc))
            return Person(user_id, known=False)
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        external = bool(self.team_id and user.get("team_id") and user["team_id"] != self.team_id)
        member = not (
            user.get("is_bot")
            or user.get("deleted")
            or user.get("is_restricted")
            or user.get("is_ultra_restricted")
            or user.get("is_stranger")
            or external
        )
        found = Person(
            user_id,
            display_name=str(
                profile.get("display_name") or profile.get("real_name") or user.get("name") or ""
            ),
            locale=user.get("locale"),
            member=member,
        )
        return self._cache.put(f"user:{user_id}", found)

    async def hints(self, person: Person) -> frozenset[str]:
        hints = set()
        if person.member:
            hints.add(MEMBER_HINT)
        if person.user_id in self.settings.manager_ids or await self._in_manager_group(
            person.user_id
        ):
            hints.add(MANAGER_HINT)
        return frozenset(hints)

    async def _in_manager_group(self, user_id: str) -> bool:
        group = self.settings.manager_group
        if not group:
            return False
        members = self._cache.get(f"group:{group}")
        if members is None:
            try:
                response = await self.client.usergroups_users_list(usergroup=group)
            except SlackApiError as exc:
                log.warning("usergroups.users.list failed: %s", error_of(exc))
                return False
            members = self._cache.put(f"group:{group}", frozenset(response.get("users") or ()))
        return user_id in members

    # ------------------------------------------------------------------ conversations
    async def audience(self, channel_id: str, channel_type: str | None = None) -> str | None:
        if channel_type == "im" or channel_id.startswith("D"):
            return None
        try:
            found = await self._once(f"audience:{channel_id}", lambda: self._audience(channel_id))
        except SlackApiError as exc:
            log.warning(
                "cannot tell who reads %s (%s): answering at guest level",
                channel_id,
                error_of(exc),
            )
            return "guest"  # not cached: the next message asks again
        return found

    async def _audience(self, channel_id: str) -> str:
        info = (await self.client.conversations_info(channel=channel_id)).get("channel") or {}
        if info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
            found = "partner"
        else:
            guests = await self._once("guests", self._guests)
            found = "guest" if guests and await self._any_member(channel_id, guests) else "staff"
        return self._cache.put(f"audience:{channel_id}", found)

    async def _any_member(self, channel_id: str, people: frozenset[str]) -> bool:
        """Whether any of `people` is in the channel. A channel too large to page through is
        taken to have one: answering it above a guest's level could show them staff material."""
        cursor = None
        for _ in range(_MAX_MEMBER_PAGES):
            response = await self.client.conversations_members(
                channel=channel_id, limit=1000, cursor=cursor
            )
            if people.intersection(response.get("members") or ()):
                return True
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        log.warning(
            "%s has over %d members: answering it at guest level, since not all were checked",
            channel_id,
            _MAX_MEMBER_PAGES * 1000,
        )
        return True

    async def _guests(self) -> frozenset[str]:
        """The workspace's guests (multi- and single-channel), from users.list."""
        guests: set[str] = set()
        cursor = None
        for _ in range(_MAX_MEMBER_PAGES * 5):
            response = await self.client.users_list(limit=1000, cursor=cursor)
            for user in response.get("members") or ():
                if user.get("is_restricted") or user.get("is_ultra_restricted"):
                    guests.add(str(user.get("id")))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        else:
            log.warning(
                "the workspace has over %d people; guests beyond them are not known",
                _MAX_MEMBER_PAGES * 5000,
            )
        return self._cache.put("guests", frozenset(guests))
