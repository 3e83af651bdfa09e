"""Documents people send in chat, added to the knowledge base.

Staff send a file (or `/zbrain ingest`), pick its kind and then who may see it from buttons,
and get back what was added or why the file was rejected. A partner's `/report` is stored at
once as a node report of their node, visible to partners, and the division serving that node
is told. The file waits on disk between the presses (`uploads/pending/<token>`), so a restart
or another worker can finish it; only the person who sent it can.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import i18n
from bot.askers import ROLE_RANK, Asker
from bot.channels import PosterRegistry
from bot.divisions import Division
from bot.handoff import STAFF_LANGUAGE, division_for
from bot.messages import Action, IncomingMessage, Reply, Upload
from bot.services import Services
from knowledge.ingest import FOLDER_DEFAULTS_FILE, IngestReport
from knowledge.model import Kind, Visibility

log = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".pdf", ".docx", ".md", ".markdown", ".txt", ".html", ".htm")
# What staff may file a document as from chat (leads come from intake, not uploads).
UPLOAD_KINDS = (Kind.POLICY, Kind.NODE_REPORT, Kind.NEWS, Kind.OTHER)
PENDING_HOURS = 24
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
_SAFE_NAME = re.compile(r"[^\w.\- ]+")


class UploadRejected(Exception):
    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Choice:
    """A press on a kind or visibility button: `<token> kind=policy visibility=internal`."""

    token: str
    kind: str | None = None
    visibility: str | None = None


def parse_choice(value: str) -> Choice:
    token, *pairs = value.split()
    if not _TOKEN.match(token):
        raise ValueError("not an upload token")
    found: dict[str, str] = {}
    for pair in pairs:
        key, _, val = pair.partition("=")
        if key in ("kind", "visibility"):
            found[key] = val
    kind = found.get("kind")
    visibility = found.get("visibility")
    if kind is not None and kind not in {k.value for k in UPLOAD_KINDS}:
        raise ValueError(f"unknown kind {kind!r}")
    if visibility is not None and visibility not in {v.value for v in Visibility}:
        raise ValueError(f"unknown visibility {visibility!r}")
    return Choice(token, kind, visibility)


def _safe_filename(name: str) -> str:
    cleaned = _SAFE_NAME.sub("_", Path(name).name).strip(" .") or "document"
    return cleaned[:120]


class UploadDesk:
    def __init__(
        self,
        services: Services,
        posters: PosterRegistry | None = None,
        divisions: Sequence[Division] = (),
    ) -> None:
        self.services = services
        self.posters = posters
        self.divisions = list(divisions)

    @property
    def folder(self) -> Path:
        return self.services.settings.data_dir / "uploads"

    # ------------------------------------------------------------------ entry points
    async def receive(self, message: IncomingMessage, asker: Asker, report: bool) -> Reply:
        """Files that arrived: a partner's report is stored at once; staff are asked for the
        kind; everyone else is told that only staff and partners can add documents."""
        language = asker.language
        rank = ROLE_RANK[asker.role]
        if rank < ROLE_RANK["partner"]:
            return self._say("upload.not_allowed", language, abstained=True)
        if len(message.attachments) > 1:
            return self._say("upload.one_at_a_time", language, abstained=True)
        upload = message.attachments[0]
        try:
            token = await self._keep(upload, message)
        except UploadRejected as exc:
            return self._say(exc.key, language, abstained=True, **exc.values)
        if report or rank < ROLE_RANK["staff"]:
            if not report:
                # A partner's file without /report: confirm before it is shared with partners.
                return Reply(
                    i18n.text("upload.confirm_report", language, name=upload.filename),
                    actions=(Action("report", i18n.text("upload.as_report", language), token),),
                    language=language,
                )
            return await self._report(token, message, asker)
        return self._ask_kind(token, upload.filename, language)

    async def choose(self, value: str, message: IncomingMessage, asker: Asker) -> Reply:
        """A press on a kind or visibility button."""
        language = asker.language
        if ROLE_RANK[asker.role] < ROLE_RANK["staff"]:
            return self._say("upload.not_allowed", language, abstained=True)
        try:
            choice = parse_choice(value)
            pending = self._pending(choice.token, message)
        except (ValueError, UploadRejected):
            return self._say("upload.expired", language, abstained=True)
        if choice.kind is None:
            return self._ask_kind(choice.token, pending["filename"], language)
        if choice.visibility is None:
            return self._ask_visibility(choice, language)
        return await self._ingest(choice.token, choice.kind, choice.visibility, None, language)

    async def report(self, value: str, message: IncomingMessage, asker: Asker) -> Reply:
        """A press on "store as node report" under a partner's file."""
        if ROLE_RANK[asker.role] < ROLE_RANK["partner"]:
            return self._say("upload.not_allowed", asker.language, abstained=True)
        if not value.strip():  # /report on its own: the document is still to come
            return self._say("upload.attach_report", asker.language)
        try:
            self._pending(value.strip(), message)
        except (ValueError, UploadRejected):
            return self._say("upload.expired", asker.language, abstained=True)
        return await self._report(value.strip(), message, asker)

    # ------------------------------------------------------------------ steps
    async def _keep(self, upload: Upload, message: IncomingMessage) -> str:
        suffix = Path(upload.filename).suffix.lower()
        limit_mb = self.services.settings.upload_max_mb
        if suffix not in ACCEPTED_SUFFIXES:
            raise UploadRejected(
                "upload.bad_type", name=upload.filename, types=", ".join(ACCEPTED_SUFFIXES)
            )
        if upload.size > limit_mb * 1024 * 1024:
            raise UploadRejected("upload.too_large", name=upload.filename, limit=f"{limit_mb:g}")
        try:
            data = await upload.read()
        except Exception:  # noqa: BLE001 - the platform refused the download: say so
            log.warning("could not download %s", upload.filename, exc_info=True)
            raise UploadRejected("upload.unreadable", name=upload.filename) from None
        if not data:
            raise UploadRejected("upload.empty", name=upload.filename)
        if len(data) > limit_mb * 1024 * 1024:
            raise UploadRejected("upload.too_large", name=upload.filename, limit=f"{limit_mb:g}")
        token = secrets.token_urlsafe(12)
        owner = {"owner": f"{message.platform}:{message.user_id}", "filename": upload.filename}

        def write() -> None:
            self._forget_stale()
            folder = self.folder / "pending" / token
            folder.mkdir(parents=True)
            (folder / _safe_filename(upload.filename)).write_bytes(data)
            (folder / "upload.json").write_text(json.dumps(owner, ensure_ascii=False))

        await asyncio.to_thread(write)
        return token

    def _forget_stale(self) -> None:
        """Files nobody filed within PENDING_HOURS go: the buttons under them say so."""
        cutoff = time.time() - PENDING_HOURS * 3600
        pending = self.folder / "pending"
        for folder in pending.iterdir() if pending.is_dir() else ():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue  # another worker removed it first

    def _pending(self, token: str, message: IncomingMessage) -> dict[str, str]:
        if not _TOKEN.match(token):
            raise ValueError("not an upload token")
        info = self.folder / "pending" / token / "upload.json"
        if not info.is_file():
            raise UploadRejected("upload.expired")
        pending = json.loads(info.read_text())
        if pending.get("owner") != f"{message.platform}:{message.user_id}":
            raise UploadRejected("upload.expired")  # someone else's file: as if it were gone
        return pending

    def _ask_kind(self, token: str, filename: str, language: str) -> Reply:
        actions = tuple(
            Action("ingest", i18n.text(f"kind.{kind.value}", language), f"{token} kind={kind}")
            for kind in UPLOAD_KINDS
        )
        return Reply(
            i18n.text("upload.which_kind", language, name=filename),
            actions=actions,
            language=language,
        )

    def _ask_visibility(self, choice: Choice, language: str) -> Reply:
        actions = tuple(
            Action(
                "ingest",
                i18n.text(f"visibility.{level.value}", language),
                f"{choice.token} kind={choice.kind} visibility={level.value}",
            )
            for level in Visibility
        )
        return Reply(
            i18n.text("upload.which_visibility", language), actions=actions, language=language
        )

    async def _report(self, token: str, message: IncomingMessage, asker: Asker) -> Reply:
        language = asker.language
        node = asker.identity.node
        if not node:
            return self._say("upload.report_needs_node", language, abstained=True)
        reply = await self._ingest(
            token, Kind.NODE_REPORT.value, Visibility.PARTNER.value, node, language
        )
        if not reply.error and not reply.abstained:
            await self._tell_staff(node, reply, asker)
        return reply

    async def _ingest(
        self, token: str, kind: str, visibility: str, node: str | None, language: str
    ) -> Reply:
        pending = self.folder / "pending" / token
        target = self.folder / token
        defaults = {"kind": kind, "visibility": visibility, **({"node": node} if node else {})}

        def run() -> tuple[IngestReport, str]:
            target.mkdir(parents=True, exist_ok=True)
            name = ""
            for file in pending.iterdir():
                if file.name != "upload.json":
                    name = file.name
                    shutil.move(str(file), target / file.name)
            (target / FOLDER_DEFAULTS_FILE).write_text(yaml.safe_dump(defaults))
            shutil.rmtree(pending, ignore_errors=True)
            report = self.services.ingestor().ingest([target])
            return report, name

        report, name = await asyncio.to_thread(run)
        if report.failed or not report.ingested:
            reason = report.failed[0].reason if report.failed else ""
            await asyncio.to_thread(shutil.rmtree, target, True)
            return self._say("upload.rejected", language, abstained=True, name=name, reason=reason)
        return Reply(
            i18n.text(
                "upload.added",
                language,
                name=name,
                kind=i18n.text(f"kind.{kind}", language),
                visibility=i18n.text(f"visibility.{visibility}", language),
                chunks=i18n.number(report.chunks, language),
            ),
            language=language,
        )

    async def _tell_staff(self, node: str, added: Reply, asker: Asker) -> None:
        division = division_for(self.divisions, asker, None)
        if self.posters is None or division is None or not division.slack_channel:
            return
        who = asker.identity.display_name or asker.identity.key
        text = i18n.text("upload.report_posted", STAFF_LANGUAGE, node=node, who=who)
        text += "\n" + added.text
        try:
            await self.posters.post(division.slack_channel, Reply(text, language=STAFF_LANGUAGE))
        except Exception:  # noqa: BLE001 - the report is stored; the notice is best effort
            log.warning("report notice to %s failed", division.slack_channel, exc_info=True)

    @staticmethod
    def _say(key: str, language: str, *, abstained: bool = False, **values: object) -> Reply:
        return Reply(i18n.text(key, language, **values), language=language, abstained=abstained)
