"""`zbrain leads ...`: the lead store from the command line."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot import i18n
from bot.leads.access import LeadAccess
from bot.leads.offer import lead_for_offer, offer_sheet
from bot.leads.summary import PERIOD_DAYS, STALLED_DAYS, LeadSummary, SummaryFilter, summarize
from bot.messages import Reply
from bot.services import Services
from bot.settings import load_settings
from knowledge.lead_sheets import SheetError, export_rows, import_leads, write_csv, write_xlsx
from knowledge.lead_store import LeadFilter
from knowledge.leads import Lead, LeadError, Stage

leads_app = typer.Typer(
    help="Project leads: list, show, import, export, match divisions, offer policies, summarise.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)

RoleOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Act as partner, staff, manager or admin (managers and admins also see "
        "contacts; a partner sees only the leads submitted --by them).",
    ),
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is asking, as leads record it (default: cli:<login>)."),
]


def _t(key: str, language: str = "en", **values: object) -> str:
    """A label from the message catalogue; commands without --lang print English."""
    return i18n.text(key, language, **values)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(2)


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def open_services(quiet: bool = False) -> Services:
    """Services with the samples in place on a fresh data dir (with a progress bar)."""
    from bot.cli import _progress

    services = Services(load_settings())
    if services.index.count() == 0:
        if not quiet:
            err.print("[dim]Fresh data dir: loading the sample knowledge base and leads first.[/]")
        with _progress("Loading samples") as update:
            services.ensure_samples(update)
    return services


def _finish_indexing(services: Services) -> None:
    """Wait for the background re-indexing of saved leads and stop its worker; a lead whose
    re-indexing failed is saved all the same and named here."""
    services.close()
    failed = services.indexer.failed if "indexer" in services.__dict__ else []
    if failed:
        err.print(
            f"[yellow]warning:[/] saved, but not yet searchable: {escape(', '.join(failed))} "
            "(re-indexing failed; see the log; the next change to a lead retries)"
        )


def _canonical(services: Services, list_name: str, value: str | None) -> str | None:
    """A filter value in any language (慕尼黑, Wasserstoff) as the stored id; a value that
    names nothing known fails with the closest known one, instead of matching no lead."""
    from bot.filter_values import resolve

    in_use: set[str] = set()
    if value is not None:
        if list_name == "nodes":
            in_use = set(services.leads.nodes)
        elif list_name == "stages":
            in_use = {s.value for s in Stage}
        elif list_name == "sectors":
            in_use = {sector for lead in services.leads.list() for sector in lead.sectors}
    return resolve(services.glossary, list_name, value, in_use)


def _division_key(value: str | None) -> str | None:
    from bot.filter_values import resolve_division
    from knowledge.lead_sheets import division_names

    return resolve_division(division_names(), value) if value is not None else None


def _money(lead: Lead, language: str = "en") -> str:
    from bot.leads.narrative import amount_text

    if lead.investment_amount is None:
        return ""
    return amount_text(lead.investment_amount, lead.investment_currency, language)


def _lead_json(lead: Lead) -> dict[str, Any]:
    data = lead.as_row()
    for key in ("created_at", "updated_at", "stage_changed_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


@leads_app.command("list")
def list_leads(
    node: Annotated[str | None, typer.Option(help="Node: munich, 慕尼黑, ...")] = None,
    stage: Annotated[str | None, typer.Option(help="Stage: negotiating, 洽谈中, ...")] = None,
    division: Annotated[str | None, typer.Option(help="Assigned division.")] = None,
    sector: Annotated[str | None, typer.Option(help="Sector: hydrogen, 氢能, ...")] = None,
    text: Annotated[str | None, typer.Option(help="Company or title contains this.")] = None,
    role: RoleOption = "staff",
    by: ByOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List leads, newest id last."""
    from bot.cli import _user_errors

    with _user_errors():
        access = LeadAccess(role, _actor(by))
        services = open_services()
        where = LeadFilter(
            node=_canonical(services, "nodes", node),
            stage=_canonical(services, "stages", stage),
            division=_division_key(division),
            sector=_canonical(services, "sectors", sector),
            text=text,
        )
        found = access.filter(services.leads.list(where))
    if as_json:
        typer.echo(json.dumps([_lead_json(lead) for lead in found], ensure_ascii=False, indent=2))
        return
    table = Table(title=i18n.plural("cli.leads.count", len(found), "en"))
    for column in ("id", "company", "node", "stage", "sectors", "investment", "division"):
        table.add_column(_t(f"cli.column.{column}"))
    for lead in found:
        division_cell = lead.assigned_division or (
            f"[dim]{lead.suggested_division}?[/]" if lead.suggested_division else ""
        )
        table.add_row(
            lead.id,
            escape(lead.company),
            lead.node,
            lead.stage,
            ", ".join(lead.sectors),
            _money(lead),
            division_cell,
        )
    out.print(table)


@leads_app.command("show")
def show_lead(
    lead_id: Annotated[str, typer.Argument(help="The lead id, e.g. L-0042.")],
    role: RoleOption = "staff",
    by: ByOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One lead with every field and its history."""
    from bot.cli import _user_errors

    with _user_errors():
        access = LeadAccess(role, _actor(by))
        services = open_services()
        lead = access.shown(access.require(services, lead_id))
        history = services.leads.history(lead.id)
    if as_json:
        data = _lead_json(lead)
        data["history"] = [
            {"at": e.at.isoformat(), "actor": e.actor, "field": e.field, "old": e.old, "new": e.new}
            for e in history
        ]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{lead.id} · {escape(lead.display_title())}[/]")
    rows = [
        ("company", lead.company),
        ("where", ", ".join(p for p in (lead.city, lead.country) if p)),
        ("node", lead.node),
        ("sectors", ", ".join(lead.sectors)),
        ("stage", lead.stage),
        ("investment", _money(lead)),
        ("expected_jobs", "" if lead.expected_jobs is None else str(lead.expected_jobs)),
        ("needs", ", ".join(lead.needs)),
        ("submitted_by", lead.submitted_by),
        ("visibility", lead.visibility),
        ("assigned_division", lead.assigned_division or "—"),
        (
            "suggested_division",
            f"{lead.suggested_division} ({lead.suggested_score:.2f})"
            if lead.suggested_division and lead.suggested_score is not None
            else "—",
        ),
    ]
    if access.contacts:
        rows.append(
            (
                "contact",
                " · ".join(
                    p for p in (lead.contact_name, lead.contact_email, lead.contact_phone) if p
                ),
            )
        )
    for field, value in rows:
        if value:
            out.print(f"  [dim]{_t(f'cli.column.{field}'):>18}[/]  {escape(value)}")
    if lead.summary:
        out.print()
        out.print(escape(lead.summary))
    out.print(f"\n[bold]{_t('cli.show.history')}[/]")
    for event in history:
        change = (
            _t("cli.show.created", value=event.new)
            if event.field == "created"
            else f"{event.field}: {event.old!r} → {event.new!r}"
        )
        out.print(f"  {event.at:%Y-%m-%d %H:%M} {escape(event.actor)}: {escape(change)}")


@leads_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A .xlsx or .csv file, header in row 1.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; change nothing.")
    ] = False,
    by: Annotated[str | None, typer.Option(help="Who imports (recorded in history).")] = None,
) -> None:
    """Import leads; rows are matched by id, else by company and node (no duplicates)."""
    from bot.cli import _user_errors

    with _user_errors():
        services = open_services()
        try:
            report = import_leads(services.leads, file, _actor(by), dry_run=dry_run)
        except SheetError as exc:
            raise _fail(str(exc)) from None
        # The imported leads are searchable when the command returns.
        _finish_indexing(services)
    out.print(
        _t(
            "cli.import.report_dry_run" if report.dry_run else "cli.import.report",
            rows=report.rows,
            file=escape(str(file)),
            created=len(report.created),
            updated=len(report.updated),
            unchanged=len(report.unchanged),
            rejected=len(report.rejected),
        )
    )
    if report.unknown_columns:
        ignored = _t("cli.import.ignored")
        out.print(f"[yellow]{ignored}[/] {escape(', '.join(report.unknown_columns))}")
    for rejected in report.rejected:
        where = (
            _t("cli.import.row_column", row=rejected.row, column=rejected.column)
            if rejected.column
            else _t("cli.import.row", row=rejected.row)
        )
        out.print(f"[red]{escape(where)}[/] {escape(rejected.reason)}")
    for label, ids in (("created", report.created), ("updated", report.updated)):
        if ids:
            out.print(f"[dim]{_t(f'cli.import.{label}')}: {escape(', '.join(ids))}[/]")


@leads_app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv (default) or xlsx.")] = "csv",
    role: RoleOption = "staff",
    by: ByOption = None,
) -> None:
    """Export every lead the role may read, one row per lead, header first."""
    from bot.cli import _user_errors

    with _user_errors():
        if fmt not in ("csv", "xlsx"):
            raise ValueError(f"--format {fmt!r} is not one of: csv, xlsx")
        if fmt == "xlsx" and output is None:
            raise ValueError("an xlsx export needs a file: -o leads.xlsx")
        access = LeadAccess(role, _actor(by))
        services = open_services(quiet=output is None)
        found = access.filter(services.leads.list())
        rows = export_rows(found, with_contact=access.contacts)
        if fmt == "xlsx":
            assert output is not None
            write_xlsx(rows, output)
        elif output is None:
            write_csv(rows, sys.stdout)
        else:
            # utf-8-sig: Excel then opens the Chinese text correctly.
            with output.open("w", encoding="utf-8-sig", newline="") as stream:
                write_csv(rows, stream)
    if output is not None:
        err.print(i18n.plural("cli.export.written", len(found), "en", file=escape(str(output))))


def _check_language(lang: str | None) -> None:
    if lang is not None and lang not in i18n.LANGUAGE_NAMES:
        raise LeadError(f"--lang {lang!r} is not one of: {', '.join(i18n.LANGUAGE_NAMES)}")


def _parse_day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise LeadError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


@leads_app.command("match")
def match_command(
    lead_id: Annotated[str, typer.Argument(help="The lead id, e.g. L-0042.")],
    lang: Annotated[str, typer.Option(help="Reasons in this language (zh, en, ...).")] = "zh",
    role: RoleOption = "staff",
    by: ByOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank the divisions for a lead, with reasons; the best is stored on the lead."""
    import asyncio

    from bot.cli import _user_errors
    from bot.divisions import load_divisions
    from bot.leads.labels import division_name
    from bot.leads.matching import rank_divisions, rationale
    from bot.llm import open_llm

    with _user_errors():
        _check_language(lang)
        access = LeadAccess(role, _actor(by))
        services = open_services()
        lead = access.require(services, lead_id)
        ranked = rank_divisions(lead, load_divisions(), services.leads.workload())
        if not ranked:
            raise LeadError("no divisions are configured (divisions.yaml)")
        best = ranked[0]

        async def explain() -> str:
            async with open_llm(services.settings) as llm:
                return await rationale(llm, lead, best, lang)

        sentence = asyncio.run(explain())
        reasons = [r.as_json() for r in best.reasons]
        if sentence:
            reasons.append({"code": "llm", "items": sentence, "points": 0})
        services.leads.set_suggestion(lead.id, best.division.key, round(best.score, 3), reasons)
        _finish_indexing(services)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "lead": lead.id,
                    "suggested": best.division.key,
                    "rationale": sentence,
                    "ranking": [
                        {
                            "division": m.division.key,
                            "score": round(m.score, 3),
                            "reasons": [r.render(lang) for r in m.reasons],
                        }
                        for m in ranked
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    out.print(f"[bold]{lead.id} · {escape(lead.display_title())}[/]")
    for place, match in enumerate(ranked, start=1):
        title = escape(division_name(match.division.key, lang))
        score = _t("cli.match.score", lang, score=i18n.number(match.score, lang, digits=2))
        out.print(f"{place}. [bold]{title}[/]  {score}")
        for reason in match.reasons:
            out.print(f"     · {escape(reason.render(lang))}")
    if sentence:
        out.print(f"\n{escape(sentence)}")
    division = division_name(best.division.key, lang)
    out.print(f"\n[dim]{escape(_t('cli.match.stored', lang, lead=lead.id, division=division))}[/]")


def _summary_tables(summary: LeadSummary, language: str) -> list[Table]:
    from bot.leads.labels import division_name, name

    groups = (
        ("stage", summary.by_stage, lambda k: name("stages", k, language)),
        ("node", summary.by_node, lambda k: name("nodes", k, language)),
        ("sector", summary.by_sector, lambda k: name("sectors", k, language)),
        ("division", summary.by_division, lambda k: division_name(k, language)),
    )
    tables = []
    for group, counts, named in groups:
        table = Table(title=_t(f"summary.by_{group}", language), title_justify="left")
        table.add_column(_t(f"cli.column.{group}", language))
        table.add_column(_t("cli.column.leads", language), justify="right")
        for key, count in counts.items():
            shown = i18n.number(count, language)
            table.add_row(escape(named(key)), shown, style=None if count else "dim")
        tables.append(table)
    return tables


def _scope(summary: LeadSummary, language: str) -> str:
    """The filters the figures were counted with, named in the language."""
    from bot.leads.labels import division_name, name

    named = {
        "node": lambda v: name("nodes", v, language),
        "sector": lambda v: name("sectors", v, language),
        "stage": lambda v: name("stages", v, language),
        "division": lambda v: division_name(v, language),
    }
    parts = [
        _t("summary.line", language, label=_t(f"cli.column.{key}", language), items=named[key](v))
        for key, v in summary.filters.items()
        if key in named
    ]
    days = summary.filters.get("stalled_days")
    if days is not None:
        parts.append(i18n.plural("cli.summary.stalled_after", int(days), language))
    return " · ".join(parts)


def _print_summary(summary: LeadSummary, language: str, text: str, mode: str) -> None:
    from rich.columns import Columns

    from bot.leads.labels import division_name, name
    from bot.leads.narrative import amount_text
    from bot.leads.summary import STALLED_DAYS

    def count(values: list[Any]) -> str:
        return i18n.number(len(values), language)

    def stage(key: str) -> str:
        return name("stages", key, language)

    heading = i18n.plural("cli.leads.count", summary.total, language)
    out.print(
        f"[bold]{heading}[/] · {summary.period_start} → {summary.period_end}"
        f" [dim]({escape(_scope(summary, language))})[/]"
    )
    out.print(Columns(_summary_tables(summary, language), padding=(0, 3)))
    stalled_days = int(summary.filters.get("stalled_days", STALLED_DAYS))
    lists = (
        (_t("cli.summary.new", language, count=count(summary.new)), summary.new),
        (
            _t("cli.summary.advanced", language, count=count(summary.advanced)),
            [f"{m['id']} {stage(m['from'])}→{stage(m['to'])}" for m in summary.advanced],
        ),
        (
            i18n.plural("cli.summary.stalled", stalled_days, language, n=count(summary.stalled)),
            summary.stalled,
        ),
    )
    for label, values in lists:
        shown = escape(i18n.list_of(values, language)) or "—"
        out.print(_t("summary.line", language, label=f"[bold]{escape(label)}[/]", items=shown))
    if summary.largest:
        largest = Table(title=_t("cli.summary.largest", language), title_justify="left")
        for column in ("id", "company", "investment"):
            largest.add_column(
                _t(f"cli.column.{column}", language),
                justify="right" if column == "investment" else "left",
            )
        for lead in summary.largest:
            amount = amount_text(lead["amount"], lead["currency"], language)
            largest.add_row(lead["id"], escape(lead["company"]), amount)
        out.print(largest)
    if summary.unassigned:
        waiting = Table(
            title=_t("cli.summary.waiting", language, count=count(summary.unassigned)),
            title_justify="left",
        )
        for column in ("id", "company", "suggested_division"):
            waiting.add_column(_t(f"cli.column.{column}", language))
        for lead in summary.unassigned:
            suggested = lead.get("suggested_division")
            waiting.add_row(
                lead["id"],
                escape(lead["company"]),
                escape(division_name(suggested, language)) if suggested else "—",
            )
        out.print(waiting)
    out.print()
    out.print(escape(text))
    footer = "cli.summary.by_llm" if mode == "llm" else "cli.summary.by_template"
    out.print(f"[dim]{escape(_t(footer, language))}[/]")


@leads_app.command("summary")
def summary_command(
    since: Annotated[
        str | None, typer.Option(help="Period start, YYYY-MM-DD (default: 30 days ago).")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="week, month or quarter, ending today (or --since).")
    ] = None,
    node: Annotated[str | None, typer.Option(help="Node: munich, 慕尼黑, ...")] = None,
    division: Annotated[str | None, typer.Option(help="Assigned division.")] = None,
    sector: Annotated[str | None, typer.Option(help="Sector: hydrogen, 氢能, ...")] = None,
    stage: Annotated[str | None, typer.Option(help="Stage: negotiating, 洽谈中, ...")] = None,
    stalled_days: Annotated[
        int,
        typer.Option("--stalled-days", min=1, help="Stalled: an open lead unchanged this long."),
    ] = STALLED_DAYS,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of names and narrative: zh en de fr ko he.")
    ] = "en",
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also write the chart to this PNG file.")
    ] = None,
    role: RoleOption = "staff",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Lead figures for managers: counts by stage, node, sector and division; new, advanced
    and stalled leads; the largest; those awaiting a division; a short narrative."""
    import asyncio

    from bot.cli import _user_errors
    from bot.leads.chart import summary_chart
    from bot.leads.narrative import narrate
    from bot.llm import open_llm

    with _user_errors():
        levels = LeadAccess(role).require_figures()
        if since is not None and period is not None:
            raise LeadError("give --since or --period, not both")
        period = period.strip().lower() if period is not None else None
        if period is not None and period not in PERIOD_DAYS:
            raise LeadError(f"--period {period!r} is not one of: {', '.join(PERIOD_DAYS)}")
        _check_language(lang)
        where = SummaryFilter(
            since=_parse_day(since, "--since"),
            period=period,
            stalled_days=stalled_days,
            division=_division_key(division),
            visibility=tuple(sorted(levels)),
        )
        services = open_services(quiet=as_json)
        stage_key = _canonical(services, "stages", stage)
        where = replace(
            where,
            node=_canonical(services, "nodes", node),
            sector=_canonical(services, "sectors", sector),
            stage=stage_key,
        )
        summary = summarize(services.engine, where)

        async def write() -> tuple[str, str]:
            async with open_llm(services.settings) as llm:
                return await narrate(summary, lang, llm)

        text, mode = asyncio.run(write())
        if chart is not None:
            chart.write_bytes(summary_chart(summary, lang))
    if as_json:
        data = {**summary.as_json(), "narrative": text, "narrative_mode": mode}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_summary(summary, lang, text, mode)
    if chart is not None:
        err.print(_t("cli.summary.chart_written", lang, file=escape(str(chart))))


@leads_app.command("offer")
def offer_command(
    lead_id: Annotated[str, typer.Argument(help="The lead id, e.g. L-0042.")],
    role: Annotated[
        str,
        typer.Option(
            "--as",
            help="staff, manager or partner. A partner's sheet uses public and partner "
            "policies only, for the leads they submitted (--by); no sheet names anything of "
            "the lead but the company.",
        ),
    ] = "staff",
    by: ByOption = None,
    lang: Annotated[
        str | None,
        typer.Option(help="Sheet language: zh, en, de, fr, ko, he (default: the lead's)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The current park policies that fit a lead's sectors and needs, with figures and
    sources: what the park can offer the project."""
    import asyncio

    from adapters.terminal import citation_lines
    from bot.cli import _user_errors
    from bot.llm import open_llm

    with _user_errors():
        _check_language(lang)
        services = open_services(quiet=as_json)
        lead = lead_for_offer(services, lead_id, role, actor=_actor(by))

        async def sheet() -> Reply:
            async with open_llm(services.settings) as llm:
                return await offer_sheet(
                    services, lead, role=role, language=lang or lead.language, llm=llm
                )

        reply = asyncio.run(sheet())
    if as_json:
        data = {
            "lead": lead.id,
            "company": lead.company,
            "sheet": reply.text,
            "language": reply.language,
            "mode": reply.mode,
            "citations": [c.__dict__ for c in reply.citations],
        }
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(escape(reply.text))
    if reply.citations:
        out.print(f"\n[bold]{i18n.text('answer.sources', reply.language)}[/]")
        # The document kind named in the sheet's language, not as the index stores it.
        kinds = tuple(
            replace(c, kind=_t(f"kind.{c.kind}", reply.language))
            if i18n.has(f"kind.{c.kind}")
            else c
            for c in reply.citations
        )
        for line in citation_lines(replace(reply, citations=kinds)):
            out.print(escape(line))
