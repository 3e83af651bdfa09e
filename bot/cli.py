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
    err.print(f"[bold red]error:[/] {escape(message)}")
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
def _progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
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

        def update(current: str, done: int, total: int) -> None:
            progress.update(task, total=total, completed=done, current=current)

        yield update


def _print_report(report: IngestReport) -> None:
    table = Table(title="Ingest summary", show_header=False, title_justify="left")
    for name, value in (
        ("documents added", report.added),
        ("documents updated", report.updated),
        ("documents unchanged", report.unchanged),
        ("documents removed", report.removed),
        ("documents failed", len(report.failed)),
        ("files skipped", len(report.skipped)),
        ("chunks in these documents", report.chunks),
        ("chunks written / deleted", f"{report.chunks_written} / {report.chunks_deleted}"),
        ("passages embedded (rest from cache)", report.embedded),
        ("seconds", f"{report.seconds:.1f}"),
    ):
        table.add_row(name, str(value))
    err.print(table)
    for problem in report.failed:
        err.print(f"[red]failed[/] {escape(problem.path)}: {escape(problem.reason)}")
    for problem in report.skipped:
        err.print(f"[yellow]skipped[/] {escape(problem.path)}: {escape(problem.reason)}")
    for problem in report.warnings:
        err.print(f"[yellow]warning[/] {escape(problem.path)}: {escape(problem.reason)}")


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
        "score": round(hit.score, 4),
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
        str, typer.Option("--as", help="Search as guest, partner, staff or manager.")
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
    records = [_hit_record(rank, hit) for rank, hit in enumerate(hits, start=1)]
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        out.print(f"No results visible to role '{escape(role)}'.")
        return
    for record in records:
        out.print(
            f"[bold]{record['rank']}. {escape(str(record['title']))}[/]  "
            f"[cyan]{record['kind']}[/] · {record['language']} · {record['visibility']} · "
            f"score {record['score']:.3f} (cosine {record['similarity']:.3f})"
        )
        if record["heading"]:
            out.print(f"   [dim]§ {escape(record['heading'])}[/]")
        out.print(f"   {escape(_snippet(record['text']))}")
        out.print(f"   [dim]{escape(str(record['source']))}[/]\n")


def _answer_handler(services: Services, role: str, lang: str | None, *, intake: bool = False):  # type: ignore[no-untyped-def]
    from bot.assistant import build_assistant
    from bot.serve import make_posters
    from knowledge.model import Role, parse_choice

    parse_choice(Role, role, "role")
    if lang is not None and lang not in i18n.LANGUAGE_NAMES:
        raise ValueError(f"--lang {lang!r} is not one of: {', '.join(i18n.LANGUAGE_NAMES)}")
    if services.index.count() == 0:
        err.print("[dim]The index is empty: ingesting the bundled sample knowledge base first.[/]")
        with _progress("Ingesting samples") as update:
            services.ensure_samples(update)
    return build_assistant(
        services,
        role_of=lambda _m: role,
        language_of=lambda _m: lang,
        intake=intake,
        posters=make_posters(services.settings, sys.stdout) if intake else None,
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in any language.")],
    role: Annotated[
        str, typer.Option("--as", help="Ask as guest, partner, staff or manager.")
    ] = "staff",
    lang: Annotated[
        str | None, typer.Option(help="Answer in this language (zh, en, de, ko, he, fr).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Answer a question from the knowledge base, with numbered sources."""
    import asyncio
    import sys

    from adapters.terminal import TerminalAdapter

    with _user_errors():
        services = _services()
        handler = _answer_handler(services, role, lang)
        adapter = TerminalAdapter(
            handler, sys.stdout, files_dir=services.settings.data_dir / "files"
        )
        reply = asyncio.run(adapter.send(question, stream=not as_json))
    if as_json and reply is not None:
        typer.echo(
            json.dumps(
                {
                    "answer": reply.text,
                    "language": reply.language,
                    "mode": reply.mode,
                    "abstained": reply.abstained,
                    "citations": [c.__dict__ for c in reply.citations],
                },
                ensure_ascii=False,
                indent=2,
            )
        )


@app.command()
def chat(
    role: Annotated[
        str, typer.Option("--as", help="Chat as guest, partner, staff or manager.")
    ] = "staff",
    lang: Annotated[str | None, typer.Option(help="Answer in this language.")] = None,
) -> None:
    """A terminal chat that keeps the conversation's context; /quit to leave."""
    import asyncio
    import sys

    from adapters.terminal import TerminalAdapter

    def read_line() -> str | None:
        line = sys.stdin.readline()
        return line if line else None

    with _user_errors():
        services = _services()
        handler = _answer_handler(services, role, lang, intake=True)
        adapter = TerminalAdapter(
            handler, sys.stdout, files_dir=services.settings.data_dir / "files"
        )
        asyncio.run(adapter.chat(read_line))


async def _evaluate(
    questions: list[GoldenQuestion], docs: Path | None, k: int, role: str
) -> list[QuestionResult]:
    """`zbrain eval`'s work on its one event loop; ingesting and SQL run in threads, and the
    LLM client is closed before the loop ends."""
    import asyncio
    import tempfile

    from bot.answer import answer_service
    from bot.evaluation import evaluate_all

    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="zbrain-eval-") as scratch:
        if docs is not None:
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
        if docs is not None:
            with _progress("Ingesting") as update:
                ingest_report = await asyncio.to_thread(
                    services.ingestor().ingest, [docs], progress=update
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
                return await evaluate_all(service, questions, k, role, update)
        finally:
            if service.llm is not None:
                await service.llm.aclose()
            await asyncio.to_thread(services.close)


@app.command("eval")
def evaluate(
    golden: Annotated[
        Path, typer.Argument(help="Golden set YAML with a top-level 'questions:' list.")
    ],
    docs: Annotated[
        Path | None, typer.Option(help="Ingest this folder into a fresh temporary index first.")
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
        questions = load_golden(golden)
        parse_choice(Role, role, "role")
        # One event loop for the whole run: the LLM client's connections belong to it.
        results = asyncio.run(_evaluate(questions, docs, k, role))
    full = report(results, k)
    if json_out is not None:
        json_out.write_text(json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8")
    table = Table(title=f"Evaluation of {golden.name} (k={k})", title_justify="left")
    columns = [
        "recall@1",
        f"recall@{k}",
        "mrr",
        "fact_coverage",
        "abstain_accuracy",
        "language_match",
        "latency_ms_p50",
        "latency_ms_p95",
        "n",
    ]
    table.add_column("group")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")

    def row(name: str, values: dict[str, Any]) -> None:
        table.add_row(name, *("–" if values[c] is None else str(values[c]) for c in columns))

    row("overall", full["overall"])
    for name, values in full["by_lang"].items():
        row(f"lang {name}", values)
    for name, values in full["by_type"].items():
        row(f"type {name}", values)
    out.print(table)


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
    out.print(
        f"[bold]Index[/] {info['collection']} — "
        f"{info['documents']} documents, {info['chunks']} chunks"
    )
    out.print(f"[bold]Embedding model[/] {info['embedding_model']} (dimension {info['dimension']})")
    out.print(f"[bold]Where[/] {escape(info['where'])}")
    for label, docs, chunks in (
        ("kind", summary.by_kind, summary.chunks_by_kind),
        ("language", summary.by_language, summary.chunks_by_language),
        ("visibility", summary.by_visibility, summary.chunks_by_visibility),
    ):
        table = Table(title=f"By {label}", title_justify="left")
        table.add_column(label)
        table.add_column("documents", justify="right")
        table.add_column("chunks", justify="right")
        for key in sorted(chunks):
            table.add_row(key, str(docs[key]), str(chunks[key]))
        out.print(table)
    for root, count in sorted(summary.roots.items()):
        out.print(f"[dim]source folder[/] {escape(root)}: {count} documents")


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
    """Run the long-lived services: the scheduled manager digest (ZBRAIN_DIGEST_*)."""
    import asyncio
    import datetime as dt
    import sys

    from bot.leads.digest import latest_fire_time
    from bot.serve import (
        check_digest_channel,
        configure_logging,
        digest_schedule,
        make_posters,
        run_services,
    )

    configure_logging(sys.stderr)
    with _user_errors():
        settings = load_settings()
        posters = make_posters(settings, sys.stdout)
        # Configuration first: a wrong channel fails now, before the samples are loaded.
        channel = check_digest_channel(settings, posters)
        if channel is None:
            raise ConfigError(
                "nothing to serve: ZBRAIN_DIGEST_CHANNEL is not set, so the digest is off "
                "(e.g. ZBRAIN_DIGEST_CHANNEL=file:managers writes it to the outbox folder)"
            )
        services = Services(settings)
        if services.index.count() == 0:
            err.print("[dim]Fresh data dir: loading the sample knowledge base and leads first.[/]")
            with _progress("Loading samples") as update:
                services.ensure_samples(update)
        schedule = digest_schedule(settings, services, posters, channel)
        if once:
            fire_time = latest_fire_time(schedule.trigger, dt.datetime.now(dt.UTC))
            if fire_time is None:
                raise ValueError(
                    f"ZBRAIN_DIGEST_CRON {settings.digest_cron!r} has not fired in five years"
                )
            outcome = asyncio.run(schedule.runner.run(fire_time))
            typer.echo(outcome.describe(channel))
            if outcome.status in ("failed", "gave-up"):
                raise typer.Exit(1)
            return
        asyncio.run(run_services([schedule]))


def _register_subcommands() -> None:
    from bot.leads.cli import leads_app

    app.add_typer(leads_app, name="leads")


_register_subcommands()

if __name__ == "__main__":
    app()
