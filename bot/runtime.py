"""The one composition root: settings → services, LLM, posters, the assistant and whatever
adapters are configured. `zbrain ask`, `chat` and `serve` all build their process here.

Adapters are found by entry point (group `zbrain.adapters` in pyproject.toml), so the core
names no platform and a new one (Teams, Feishu, WeCom) is added without touching `bot/`. An
entry point names an `AdapterPlugin`: whether the settings enable it, what to set if not, and
how to build its service on the runtime (registering its posters, and its HTTP routes on
`runtime.http`, as it does). Two optional hooks: `hint_roles(settings)` maps the platform's
hints to roles (a Slack workspace member → staff, by the adapter's settings), and
`register_cli(app)` adds the adapter's own `zbrain` subcommands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Protocol

from bot.assistant import Assistant
from bot.channels import FilePoster, PosterRegistry
from bot.http import HttpRoutes, HttpServer
from bot.llm import LLMClient, make_llm
from bot.serve import Service
from bot.services import Services
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "zbrain.adapters"


class AdapterPlugin(Protocol):
    name: str

    def configured(self, settings: Settings) -> bool:
        """Whether the settings turn this adapter on (its tokens are set)."""
        ...

    def requirements(self) -> str:
        """What to set to turn it on, for `zbrain serve` with nothing configured."""
        ...

    def build(self, runtime: Runtime) -> Service:
        """The adapter's service; it registers its posters with `runtime.posters`."""
        ...


def discover_adapters() -> list[AdapterPlugin]:
    plugins = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugins.append(point.load())
        except Exception:  # noqa: BLE001 - one broken adapter must not stop the others
            log.exception("adapter %s could not be loaded", point.name)
    return plugins


@dataclass
class Runtime:
    settings: Settings
    services: Services
    posters: PosterRegistry
    llm: LLMClient | None
    hint_roles: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    intake: bool = True
    http: HttpRoutes = field(default_factory=HttpRoutes)
    _assistant: Assistant | None = None

    @property
    def assistant(self) -> Assistant:
        if self._assistant is None:
            self._assistant = build_assistant(self)
        return self._assistant

    def warm_up(self) -> None:
        """Load what the first questions would otherwise load mid-conversation: the model,
        the search indexes, the language detector's models, jieba, the glossary and the
        catalogue. Loading them in a worker thread still stalls the event loop (their loaders
        hold the GIL for seconds), so a server does it once, before it takes messages."""
        from bot import i18n
        from knowledge.language import detect_language
        from retrieval.tokenize import jieba_segmenter

        for language in i18n.LANGUAGES:
            i18n.text("core.help", language)
        for sample in ("Förderung für Wasserstoff", "aides pour les projets", "subsidy"):
            detect_language(sample)
        jieba_segmenter()
        _ = self.services.glossary
        self.services.search("研发用房租金减免", role="guest", k=1)
        self.services.embedder.count_tokens("warm")
        if self.services.index_in_child:
            self.services.indexer  # noqa: B018 - creates the child indexer
            # None when the indexer was made before index_in_child was set: it indexes in a
            # thread then, which is slower for the loop but correct.
            child = getattr(self.services, "_child_indexer", None)
            if child is not None:
                child.start()

    async def aclose(self) -> None:
        """Close clients on the loop that used them, and let background indexing finish."""
        if self.llm is not None:
            await self.llm.aclose()
        await asyncio.to_thread(self.services.close)


def build_runtime(
    settings: Settings | None = None,
    *,
    hint_roles: Mapping[str, str] | None = None,
    language: str | None = None,
    intake: bool = True,
    services: Services | None = None,
) -> Runtime:
    """The runtime from settings. `hint_roles` maps platform hints to roles (the terminal's
    `--as` arrives as the hint `local_operator`). Posters: the outbox folder; the entry
    points (CLI, adapters) add their own."""
    settings = settings or (services.settings if services else load_settings())
    services = services or Services(settings)
    posters = PosterRegistry()
    posters.register("file:", FilePoster(settings.resolved_outbox_dir))
    return Runtime(
        settings=settings,
        services=services,
        posters=posters,
        llm=make_llm(settings),
        hint_roles=dict(hint_roles or {}),
        language=language,
        intake=intake,
    )


def build_assistant(runtime: Runtime) -> Assistant:
    from bot.answer import AnswerService
    from bot.askers import AskerResolver
    from bot.divisions import load_divisions
    from bot.leads.intake import Intake
    from bot.leads.reports import summary_reply
    from bot.leads.requests import SummaryRequest
    from bot.leads.summary import SummaryFilter
    from bot.ratelimit import RateLimiter
    from knowledge.lead_sheets import division_names

    services, llm = runtime.services, runtime.llm
    divisions = load_divisions()
    answers = AnswerService(services, llm=llm, divisions=divisions)

    async def summarise(request: SummaryRequest, role: str, language: str):  # type: ignore[no-untyped-def]
        where = SummaryFilter(
            node=request.node,
            division=request.division,
            sector=request.sector,
            since=request.since,
            period=request.period,
        )
        return await summary_reply(services, where, language, llm=llm, role=role)

    from bot.leads.announce import announcer, managers_notice
    from bot.leads.card import lead_card_hook, match_hook, offer_hook

    rates = runtime.settings.rate_limits()
    return Assistant(
        services,
        answers,
        Intake(
            services,
            llm=llm,
            announce=announcer(runtime.posters, divisions),
            tell_managers=managers_notice(runtime.posters, runtime.settings.digest_channel),
        )
        if runtime.intake
        else None,
        askers=AskerResolver(
            services.identities, runtime.hint_roles, language_override=runtime.language
        ),
        audit=services.audit,
        limiter=RateLimiter(rates) if rates else None,
        summarise=summarise,
        offer=offer_hook(services, llm),
        show_lead=lead_card_hook(services),
        match_lead=match_hook(services, llm, divisions),
        divisions=divisions,
        division_names=division_names(),
        posters=runtime.posters,
    )


def configured_services(runtime: Runtime, plugins: Sequence[AdapterPlugin]) -> list[Service]:
    """The configured adapters' services, and the HTTP server when one of them added routes.
    Their hint roles are merged first: the assistant is built on first use, with all of them."""
    chosen = [plugin for plugin in plugins if plugin.configured(runtime.settings)]
    for plugin in chosen:
        hint_roles = getattr(plugin, "hint_roles", None)
        if hint_roles is not None:
            for hint, role in hint_roles(runtime.settings).items():
                runtime.hint_roles.setdefault(hint, role)
    services = [plugin.build(runtime) for plugin in chosen]
    if runtime.http:
        settings = runtime.settings
        services.append(HttpServer(runtime.http, settings.http_host, settings.http_port))
    return services
