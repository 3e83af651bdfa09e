"""The `zbrain` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from bot import i18n
from bot.services import Services, index_status
from bot.settings import ConfigError, load_settings
from knowledge.ingest import SAMPLES_DIR, IngestReport
from knowledge.loaders import LoadError
from knowledge.migrations import DatabaseSchemaError
from retrieval.embeddings import EmbeddingError
from retrieval.filters import SearchFilters
from retrieval.index import IndexUnavailableError

if TYPE_CHECKING:
    from bot.evaluation import GoldenQuestion, QuestionResult

app = typer.Typer(
    name="zbrain",
    help="招商大脑 Zhaoshang Brain: ingest the knowledge base and search it in any language.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)

_EXPECTED_ERRORS = (
    ConfigError,
    IndexUnavailableError,
    EmbeddingError,
    LoadError,
    DatabaseSchemaError,
    ValueError,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    # soft_wrap: one line however narrow the terminal, so it can be grepped and logged.
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Known failures become one clear line and exit code 2, not a traceback."""
    try:
        yield
    except _EXPECTED_ERRORS as exc:
        raise _fail(str(exc)) from None


def _services() -> Services:
    return Services(load_settings())


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str, float, int], None]]:
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[current]}"),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(label, total=None, current="")

        def update(current: str, done: float, total: int) -> None:
            progress.update(task, total=total, completed=done, current=current)

        yield update


def _en(key: str, **values: object) -> str:
    """A table label from the message catalogue: commands without --lang print English."""
    return i18n.text(key, "en", **values)


def _print_report(report: IngestReport) -> None:
    table = Table(title=_en("cli.ingest.title"), show_header=False, title_justify="left")
    for name, value in (
        ("added", report.added),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("removed", report.removed),
        ("failed", len(report.failed)),
        ("skipped", len(report.skipped)),
        ("chunks", report.chunks),
        ("chunks_changed", f"{report.chunks_written} / {report.chunks_deleted}"),
        ("embedded", report.embedded),
        ("seconds", f"{report.seconds:.1f}"),
    ):
        table.add_row(_en(f"cli.ingest.{name}"), str(value))
    err.print(table)
    for style, kind, problems in (
        ("red", "failed", report.failed),
        ("yellow", "skipped", report.skipped),
        ("yellow", "warning", report.warnings),
    ):
        label = _en(f"cli.ingest.problem_{kind}")
        for problem in problems:
            err.print(f"[{style}]{label}[/] {escape(problem.path)}: {escape(problem.reason)}")


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or folders to ingest. Default: the bundled sample knowledge base."
        ),
    ] = None,
    visibility: Annotated[
        str | None,
        typer.Option(
            help="Visibility for files whose front matter sets none: "
            "public, partner, internal or restricted."
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="Kind for files that set none: policy, node_report, lead, news, other."),
    ] = None,
) -> None:
    """Ingest documents (Markdown, text, PDF, DOCX, HTML) into the index; safe to re-run."""
    with _user_errors():
        services = _services()
        with _progress("Ingesting") as update:
            report = services.ingestor().ingest(
                paths or [SAMPLES_DIR], visibility=visibility, kind=kind, progress=update
            )
    _print_report(report)
    if report.nothing_ingested:
        raise _fail("nothing could be ingested", code=1)


def _hit_record(rank: int, hit: Any) -> dict[str, Any]:
    meta = hit.metadata
    return {
        "rank": rank,
        # The score the results are ranked by (fusion, or the views' combined score), so it
        # falls with the rank; the raw cosine similarity is beside it.
        "score": round(hit.rank_score, 4),
        "similarity": round(hit.similarity, 4),
        "chunk_id": hit.chunk_id,
        "doc_id": meta.get("doc_id"),
        "title": meta.get("title"),
        "kind": meta.get("kind"),
        "language": meta.get("language"),
        "visibility": meta.get("visibility"),
        "node": meta.get("node"),
        "sectors": meta.get("sectors") or [],
        "published": meta.get("published"),
        "expires": meta.get("expires"),
        "source": meta.get("source"),
        "path": meta.get("path"),
        "heading": meta.get("heading") or "",
        "text": hit.text,
    }


def _date_option(name: str, value: str | None):  # type: ignore[no-untyped-def]
    if value is None:
        return None
    from knowledge.metadata import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise ValueError(f"{name} {value!r} is not a date; use YYYY-MM-DD")
    return parsed


def _snippet(text: str, width: int = 220) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in any language.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="How many results.")] = 5,
    kind: Annotated[str | None, typer.Option(help="Only this kind of document.")] = None,
    node: Annotated[str | None, typer.Option(help="Only this overseas node, e.g. munich.")] = None,
    role: Annotated[
        str, typer.Option("--as", help="Search as guest, partner, staff, manager or admin.")
    ] = "staff",
    per_doc: Annotated[
        int,
        typer.Option(
            "--per-doc", min=0, help="At most this many chunks per document (0: no limit)."
        ),
    ] = 2,
    sector: Annotated[str | None, typer.Option(help="Only documents in this sector.")] = None,
    language: Annotated[str | None, typer.Option(help="Only documents in this language.")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (YYYY-MM-DD).")] = None,
    include_expired: Annotated[
        bool, typer.Option("--include-expired", help="Also documents past their expiry date.")
    ] = False,
    mode: Annotated[
        str, typer.Option(help="hybrid (default), dense, bm25 or naive (for comparison).")
    ] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Search the knowledge base; results respect what the role may see."""
    with _user_errors():
        services = _services()
        if services.index.count() == 0:
            err.print(
                "[dim]The index is empty: ingesting the bundled sample knowledge base first.[/]"
            )
            with _progress("Ingesting samples") as update:
                report = services.ensure_samples(update)
            if report is not None and report.failed:
                _print_report(report)
        if mode not in ("hybrid", "dense", "bm25", "naive"):
            raise ValueError(f"--mode {mode!r} is not one of: hybrid, dense, bm25, naive")
        glossary = services.glossary
        # 慕尼黑 or Munich as the stored id; a value the glossary lacks is searched as written.
        node = glossary.canonical("nodes", node) or node if node else None
        sector = glossary.canonical("sectors", sector) or sector if sector else None
        filters = SearchFilters(
            sector=sector,
            language=language,
            since=_date_option("--since", since),
            until=_date_option("--until", until),
            include_expired=include_expired,
        )
        hits = services.search(
            query,
            role=role,
            k=k,
            kind=kind,
            node=node,
            per_document=per_doc or None,
            filters=filters,
            mode=mode,  # type: ignore[arg-type]
        )
        if not hits:
            _no_such_filter_value(glossary, node=node, sector=sector)
    records = [_hit_record(rank, hit) for rank, hit in enumerate(hits, start=1)]
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        out.print(_en("cli.search.none", role=escape(role)))
        return
    for record in records:
        score = _en(
            "cli.search.score",
            score=f"{record['score']:.3f}",
            similarity=f"{record['similarity']:.3f}",
        )
        out.print(
            f"[bold]{record['rank']}. {escape(str(record['title']))}[/]  "
            f"[cyan]{record['kind']}[/] · {record['language']} · {record['visibility']} · "
            f"{score}"
        )
        if record["heading"]:
            out.print(f"   [dim]§ {escape(record['heading'])}[/]")
        out.print(f"   {escape(_snippet(record['text']))}")
        out.print(f"   [dim]{escape(str(record['source']))}[/]\n")


def _no_such_filter_value(glossary: Any, **given: str | None) -> None:
    """Nothing found: when a filter names no known node or sector, say that (with the
    closest), rather than let it look like what the role may see."""
    from bot.filter_values import resolve

    for option, value in given.items():
        list_name = f"{option}s"
        if value and glossary.canonical(list_name, value) is None:
            resolve(glossary, list_name, value)


def _chat_runtime(services: Services, role: str, lang: str | None, *, intake: bool = False):  # type: ignore[no-untyped-def]
    """The runtime for a terminal conversation: the local operator asks as `--as`."""
    from adapters.terminal import LOCAL_OPERATOR, TerminalPoster
    from bot.runtime import build_runtime
    from knowledge.model import Role, parse_choice

    parse_choice(Role, role, "role")
    if lang is not None and lang not in i18n.LANGUAGE_NAMES:
        raise ValueError(f"--lang {lang!r} is not one of: {', '.join(i18n.LANGUAGE_NAMES)}")
    if services.index.count() == 0:
        err.print("[dim]The index is empty: ingesting the bundled sample knowledge base first.[/]")
        with _progress("Ingesting samples") as update:
            services.ensure_samples(update)
    runtime = build_runtime(
        services=services, hint_roles={LOCAL_OPERATOR: role}, language=lang, intake=intake
    )
    runtime.posters.register("terminal:", TerminalPoster(sys.stdout))
    return runtime


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in any language.")],
    role: Annotated[
        str, typer.Option("--as", help="Ask as guest, partner, staff, manager or admin.")
    ] = "staff",
    lang: Annotated[
        str | None, typer.Option(help="Answer in this language (zh, en, de, ko, he, fr).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Answer a question from the knowledge base, with numbered sources."""
    import asyncio

    from adapters.terminal import TerminalAdapter

    with _user_errors():
        services = _services()
        runtime = _chat_runtime(services, role, lang)
        adapter = TerminalAdapter(
            runtime.assistant, sys.stdout, files_dir=services.settings.data_dir / "files"
        )

        async def run():  # type: ignore[no-untyped-def]
            try:
                return await adapter.send(question, stream=not as_json)
            finally:
                await runtime.aclose()

        reply = asyncio.run(run())
    if as_json and reply is not None:
        typer.echo(
            json.dumps(
                {
                    "answer": reply.text,
                    "language": reply.language,
                    "mode": reply.mode,
                    "abstained": reply.abstained,
                    "reply_id": reply.id,
                    "citations": [c.__dict__ for c in reply.citations],
                },
                ensure_ascii=False,
                indent=2,
            )
        )


@app.command()
def chat(
    role: Annotated[
        str, typer.Option("--as", help="Chat as guest, partner, staff, manager or admin.")
    ] = "staff",
    lang: Annotated[str | None, typer.Option(help="Answer in this language.")] = None,
) -> None:
    """A terminal chat that keeps the conversation's context; /quit to leave."""
    import asyncio

    from adapters.terminal import TerminalAdapter

    def read_line() -> str | None:
        line = sys.stdin.readline()
        return line if line else None

    with _user_errors():
        services = _services()
        runtime = _chat_runtime(services, role, lang, intake=True)
        adapter = TerminalAdapter(
            runtime.assistant, sys.stdout, files_dir=services.settings.data_dir / "files"
        )

        async def run() -> None:
            try:
                # stdin is read in a thread: the loop stays free for background work.
                await adapter.chat(read_line)
            finally:
                await runtime.aclose()

        asyncio.run(run())


async def _evaluate(
    questions: list[GoldenQuestion],
    docs: list[Path],
    k: int,
    role: str,
    baseline: bool = False,
) -> tuple[list[QuestionResult], list[QuestionResult] | None]:
    """`zbrain eval`'s work on its one event loop; ingesting and SQL run in threads, and the
    LLM client is closed before the loop ends. With `baseline`, the naive retriever is measured
    on the same documents in the same run."""
    import asyncio
    import tempfile

    from bot.answer import answer_service
    from bot.evaluation import baseline_results, evaluate_all

    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="zbrain-eval-") as scratch:
        if docs:
            if settings.database_url is None:
                # The data dir's own database keeps the SQL (embedding cache, audit): it is
                # named explicitly below, so its folder is made here as it would be by default.
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            # A throwaway index; the embedding cache is shared so re-runs are fast.
            settings = settings.model_copy(
                update={
                    "data_dir": Path(scratch),
                    "chroma_host": None,
                    "database_url": settings.resolved_database_url,
                    "chroma_collection": None,
                }
            )
        services = Services(settings)
        if docs:
            with _progress("Ingesting") as update:
                ingest_report = await asyncio.to_thread(
                    services.ingestor().ingest, docs, progress=update
                )
            if ingest_report.failed:
                _print_report(ingest_report)
        elif await asyncio.to_thread(services.index.count) == 0:
            with _progress("Ingesting samples") as update:
                await asyncio.to_thread(services.ensure_samples, update)
        service = await asyncio.to_thread(answer_service, services)
        service.retrieve_k = max(k * 2, 8)
        try:
            with _progress("Evaluating") as update:
                results = await evaluate_all(service, questions, k, role, update)
            naive = None
            if baseline:
                from bot.baseline import NaiveRetriever, naive_chunks

                folders = docs or [SAMPLES_DIR]
                retriever = await asyncio.to_thread(
                    NaiveRetriever, naive_chunks(folders), services.embedder
                )
                naive = await asyncio.to_thread(
                    baseline_results, retriever.documents, questions, k, role
                )
            return results, naive
        finally:
            if service.llm is not None:
                await service.llm.aclose()
            await asyncio.to_thread(services.close)


@app.command("eval")
def evaluate(
    golden: Annotated[
        Path | None,
        typer.Argument(
            help="Golden set YAML with a top-level 'questions:' list "
            "(default with --corpus: its questions.yaml)."
        ),
    ] = None,
    docs: Annotated[
        Path | None, typer.Option(help="Ingest this folder into a fresh temporary index first.")
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="An evaluation corpus folder (documents/ and questions.yaml), ingested into a "
            "fresh temporary index; the naive baseline is measured beside it."
        ),
    ] = None,
    with_samples: Annotated[
        bool,
        typer.Option(
            "--with-samples", help="Ingest the sample knowledge base beside it as distractors."
        ),
    ] = False,
    baseline: Annotated[
        bool | None,
        typer.Option(
            "--baseline/--no-baseline",
            help="Also measure naive 500/50 chunks + plain vector search (default with --corpus).",
        ),
    ] = None,
    k: Annotated[
        int, typer.Option("--k", min=1, max=50, help="Documents counted for recall@k.")
    ] = 5,
    role: Annotated[str, typer.Option("--as", help="Role for questions that name none.")] = "guest",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the full report here.")
    ] = None,
) -> None:
    """Measure retrieval and answers on a golden set; scores never change the exit code."""
    import asyncio

    from bot.evaluation import load_golden, report
    from knowledge.model import Role, parse_choice

    with _user_errors():
        folders = [d for d in (docs, corpus / "documents" if corpus else None) if d is not None]
        if with_samples:
            if not folders:
                raise ValueError("--with-samples needs --corpus or --docs")
            folders.append(SAMPLES_DIR)
        if golden is None:
            if corpus is None:
                raise ValueError("name a golden set, or an evaluation corpus with --corpus")
            golden = corpus / "questions.yaml"
        questions = load_golden(golden)
        parse_choice(Role, role, "role")
        measure_baseline = baseline if baseline is not None else corpus is not None
        # One event loop for the whole run: the LLM client's connections belong to it.
        results, naive = asyncio.run(_evaluate(questions, folders, k, role, measure_baseline))
    full = report(results, k)
    if naive is not None:
        full["baseline"] = report(naive, k)
    if json_out is not None:
        json_out.write_text(json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8")
    table = Table(title=_en("cli.eval.title", golden=golden.name, k=k), title_justify="left")
    headings = {
        "recall@1": _en("cli.eval.recall", k=1),
        f"recall@{k}": _en("cli.eval.recall", k=k),
        "mrr": _en("cli.eval.mrr"),
        "xl_recall@1": _en("cli.eval.xl_recall", k=1),
        f"xl_recall@{k}": _en("cli.eval.xl_recall", k=k),
        "fact_coverage": _en("cli.eval.fact_coverage"),
        "abstain_accuracy": _en("cli.eval.abstain_accuracy"),
        "unanswerable_declined": _en("cli.eval.unanswerable_declined"),
        "answerable_answered": _en("cli.eval.answerable_answered"),
        "language_match": _en("cli.eval.language_match"),
        "latency_ms_p50": _en("cli.eval.latency_p50"),
        "latency_ms_p95": _en("cli.eval.latency_p95"),
        "n": _en("cli.eval.n"),
    }
    columns = list(headings)
    table.add_column(_en("cli.eval.group"))
    for column in columns:
        table.add_column(headings[column], justify="right")

    def row(name: str, values: dict[str, Any], only: set[str] | None = None) -> None:
        table.add_row(
            name,
            *(
                "–" if values[c] is None or (only is not None and c not in only) else str(values[c])
                for c in columns
            ),
        )

    row(_en("cli.eval.overall"), full["overall"])
    if "baseline" in full:
        retrieval = {"recall@1", f"recall@{k}", "mrr", "xl_recall@1", f"xl_recall@{k}", "n"}
        row(_en("cli.eval.baseline"), full["baseline"]["overall"], retrieval)
    for name, values in full["by_lang"].items():
        row(_en("cli.eval.by_lang", name=name), values)
    for name, values in full["by_type"].items():
        row(_en("cli.eval.by_type", name=name), values)
    # Fourteen columns: piped into a file or a CI log (80 columns by default) every figure
    # would be cut to "0.…", so the table is laid out at full width there.
    (out if out.is_terminal else Console(soft_wrap=True, width=max(out.width, 220))).print(table)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Show what is indexed, where, and with which embedding model."""
    with _user_errors():
        services = _services()
        summary = index_status(services.index)
        info = {
            "collection": services.index.name,
            "embedding_model": services.embedder.model_id,
            "dimension": services.embedder.dim,
            "where": services.where(),
            "documents": summary.documents,
            "chunks": summary.chunks,
            "documents_by_kind": dict(summary.by_kind),
            "documents_by_language": dict(summary.by_language),
            "documents_by_visibility": dict(summary.by_visibility),
            "chunks_by_kind": dict(summary.chunks_by_kind),
            "chunks_by_language": dict(summary.chunks_by_language),
            "chunks_by_visibility": dict(summary.chunks_by_visibility),
            "sources": dict(summary.roots),
        }
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    documents = i18n.plural("cli.status.documents", info["documents"], "en")
    chunk_count = i18n.plural("cli.status.chunks", info["chunks"], "en")
    out.print(
        f"[bold]{_en('cli.status.index')}[/] {info['collection']} — {documents}, {chunk_count}"
    )
    dimension = _en("cli.status.dimension", dimension=info["dimension"])
    out.print(f"[bold]{_en('cli.status.model')}[/] {info['embedding_model']} {dimension}")
    out.print(f"[bold]{_en('cli.status.where')}[/] {escape(info['where'])}")
    for label, docs, chunks in (
        ("kind", summary.by_kind, summary.chunks_by_kind),
        ("language", summary.by_language, summary.chunks_by_language),
        ("visibility", summary.by_visibility, summary.chunks_by_visibility),
    ):
        table = Table(title=_en(f"cli.status.by_{label}"), title_justify="left")
        table.add_column(_en(f"cli.status.{label}"))
        table.add_column(_en("cli.status.documents_column"), justify="right")
        table.add_column(_en("cli.status.chunks_column"), justify="right")
        for key in sorted(chunks):
            table.add_row(key, str(docs[key]), str(chunks[key]))
        out.print(table)
    for root, count in sorted(summary.roots.items()):
        in_root = i18n.plural("cli.status.documents", count, "en")
        out.print(f"[dim]{_en('cli.status.source_folder')}[/] {escape(root)}: {in_root}")


@app.command()
def serve(
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Post the digest for the current period now (unless it is posted) and exit.",
        ),
    ] = False,
) -> None:
    """Run the long-lived services: the chat adapters that are configured, the scheduled
    manager digest (ZBRAIN_DIGEST_*) and the audit retention."""
    import asyncio
    import datetime as dt

    from adapters.terminal import TerminalPoster
    from bot.leads.digest import latest_fire_time
    from bot.retention import audit_retention
    from bot.runtime import build_runtime, configured_services, discover_adapters
    from bot.serve import check_digest_channel, configure_logging, digest_schedule, run_services

    configure_logging(sys.stderr)
    with _user_errors():
        settings = load_settings()
        runtime = build_runtime(settings)
        runtime.posters.register("terminal:", TerminalPoster(sys.stdout))
        plugins = discover_adapters()
        # Configuration first: a wrong channel fails now, before the samples are loaded.
        adapters = [] if once else configured_services(runtime, plugins)
        channel = check_digest_channel(settings, runtime.posters)
        if channel is None and (once or not adapters):
            wanted = ["ZBRAIN_DIGEST_CHANNEL (e.g. file:managers) for the scheduled digest"]
            if not once:
                wanted += [f"{p.requirements()} for {p.name}" for p in plugins]
            raise ConfigError("nothing to serve; set " + ", or ".join(wanted))
        services = runtime.services
        if adapters:
            # Chat users wait on this loop: index writes go to a child (bot/index_worker.py),
            # the sample leads' too when a fresh data dir loads them below.
            services.index_in_child = True
        if services.index.count() == 0:
            err.print("[dim]Fresh data dir: loading the sample knowledge base and leads first.[/]")
            with _progress("Loading samples") as update:
                services.ensure_samples(update)
        schedule = (
            digest_schedule(settings, services, runtime.posters, channel, llm=runtime.llm)
            if channel is not None
            else None
        )
        if once:
            assert schedule is not None
            fire_time = latest_fire_time(schedule.trigger, dt.datetime.now(dt.UTC))
            if fire_time is None:
                raise ValueError(
                    f"ZBRAIN_DIGEST_CRON {settings.digest_cron!r} has not fired in five years"
                )

            async def post_once():  # type: ignore[no-untyped-def]
                try:
                    return await schedule.runner.run(fire_time)
                finally:
                    await runtime.aclose()

            outcome = asyncio.run(post_once())
            typer.echo(outcome.describe(channel))
            if outcome.status in ("failed", "gave-up"):
                raise typer.Exit(1)
            return
        if adapters:
            runtime.warm_up()
        running = [*adapters, *([schedule] if schedule else [])]
        running.append(audit_retention(settings, services.engine))

        async def serve_all() -> None:
            try:
                await run_services(running)
            finally:
                await runtime.aclose()

        asyncio.run(serve_all())


def _register_subcommands() -> None:
    from bot.admin_cli import register as register_admin
    from bot.leads.cli import leads_app

    app.add_typer(leads_app, name="leads")
    register_admin(app)
    from bot.runtime import discover_adapters

    for plugin in discover_adapters():
        register_cli = getattr(plugin, "register_cli", None)
        if register_cli is not None:
            register_cli(app)


_register_subcommands()

if __name__ == "__main__":
    app()
