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

from bot.leads.offer import lead_for_offer, offer_sheet
from bot.leads.summary import PERIOD_DAYS, STALLED_DAYS, LeadSummary, SummaryFilter, summarize
from bot.messages import Reply
from bot.services import Services
from bot.settings import load_settings
from knowledge.glossary import normalize
from knowledge.lead_sheets import SheetError, export_rows, import_leads, write_csv, write_xlsx
from knowledge.lead_store import LeadFilter
from knowledge.leads import Lead, LeadError, Stage
from knowledge.model import Role, parse_choice, visible_to

leads_app = typer.Typer(
    help="Project leads: list, show, import, export, match divisions, offer policies, summarise.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)

RoleOption = Annotated[
    str, typer.Option("--as", help="Act as staff or manager (managers also see contacts).")
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class LeadAccess:
    """What a role may read of the leads: none for guests and partners (leads are internal
    material), restricted leads and contact persons only for roles that read restricted."""

    def __init__(self, role: str) -> None:
        parsed = parse_choice(Role, role, "--as")
        self.levels = {v.value for v in visible_to(parsed)}
        if "internal" not in self.levels:
            raise LeadError(f"role '{parsed.value}' may not see leads: they are internal material")
        self.contacts = "restricted" in self.levels

    def may_read(self, lead: Lead) -> bool:
        return lead.visibility in self.levels

    def require(self, services: Services, lead_id: str) -> Lead:
        """The lead, or LeadError when it does not exist or the role may not read it."""
        lead = services.leads.require(lead_id)
        if not self.may_read(lead):
            raise LeadError(f"lead {lead.id} is restricted: only managers may see it")
        return lead

    def shown(self, lead: Lead) -> Lead:
        return lead if self.contacts else lead.without_contact()


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
    """A filter value in any language (慕尼黑, Wasserstoff) as the stored id."""
    if value is None:
        return None
    return services.glossary.canonical(list_name, value) or normalize(value).replace(" ", "-")


def _division_key(value: str | None) -> str | None:
    if value is None:
        return None
    from knowledge.lead_sheets import division_names

    found = division_names().get(normalize(value))
    if found is None:
        raise LeadError(f"division {value!r} is not known (see divisions.yaml)")
    return found


def _money(lead: Lead) -> str:
    if lead.investment_amount is None:
        return ""
    return f"{lead.investment_amount:,.0f} {lead.investment_currency or ''}".strip()


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List leads, newest id last."""
    from bot.cli import _user_errors

    with _user_errors():
        access = LeadAccess(role)
        services = open_services()
        where = LeadFilter(
            node=_canonical(services, "nodes", node),
            stage=_canonical(services, "stages", stage),
            division=_division_key(division),
            sector=_canonical(services, "sectors", sector),
            text=text,
        )
        found = [access.shown(lead) for lead in services.leads.list(where) if access.may_read(lead)]
    if as_json:
        typer.echo(json.dumps([_lead_json(lead) for lead in found], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(found)} leads")
    for column in ("id", "company", "node", "stage", "sectors", "investment", "division"):
        table.add_column(column)
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One lead with every field and its history."""
    from bot.cli import _user_errors

    with _user_errors():
        access = LeadAccess(role)
        services = open_services()
        lead = access.require(services, lead_id)
        lead = access.shown(lead)
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
        ("expected jobs", "" if lead.expected_jobs is None else str(lead.expected_jobs)),
        ("needs", ", ".join(lead.needs)),
        ("submitted by", lead.submitted_by),
        ("visibility", lead.visibility),
        ("assigned division", lead.assigned_division or "—"),
        (
            "suggested division",
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
    for label, value in rows:
        if value:
            out.print(f"  [dim]{label:>18}[/]  {escape(value)}")
    if lead.summary:
        out.print()
        out.print(escape(lead.summary))
    out.print("\n[bold]History[/]")
    for event in history:
        change = (
            f"created ({event.new})"
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
    verb = "would be" if report.dry_run else "were"
    out.print(
        f"{report.rows} rows read from {escape(str(file))}: "
        f"{len(report.created)} {verb} created, {len(report.updated)} {verb} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.rejected)} rejected."
    )
    if report.unknown_columns:
        out.print(f"[yellow]Ignored columns:[/] {escape(', '.join(report.unknown_columns))}")
    for rejected in report.rejected:
        out.print(f"[red]row {rejected.row}:[/] {escape(rejected.reason)}")
    for label, ids in (("created", report.created), ("updated", report.updated)):
        if ids:
            out.print(f"[dim]{label}: {escape(', '.join(ids))}[/]")


@leads_app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv (default) or xlsx.")] = "csv",
    role: RoleOption = "staff",
) -> None:
    """Export every lead the role may read, one row per lead, header first."""
    from bot.cli import _user_errors

    with _user_errors():
        if fmt not in ("csv", "xlsx"):
            raise ValueError(f"--format {fmt!r} is not one of: csv, xlsx")
        if fmt == "xlsx" and output is None:
            raise ValueError("an xlsx export needs a file: -o leads.xlsx")
        access = LeadAccess(role)
        services = open_services(quiet=output is None)
        found = [lead for lead in services.leads.list() if access.may_read(lead)]
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
        err.print(f"{len(found)} leads written to {escape(str(output))}")


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank the divisions for a lead, with reasons; the best is stored on the lead."""
    import asyncio

    from bot.cli import _user_errors
    from bot.divisions import load_divisions
    from bot.leads.matching import rank_divisions, rationale
    from bot.llm import open_llm

    with _user_errors():
        access = LeadAccess(role)
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
        out.print(f"{place}. [bold]{escape(match.division.name(lang))}[/]  score {match.score:.2f}")
        for reason in match.reasons:
            out.print(f"     · {escape(reason.render(lang))}")
    if sentence:
        out.print(f"\n{escape(sentence)}")
    out.print(f"\n[dim]Stored on {lead.id}: suggested division {best.division.key}.[/]")


def _summary_tables(summary: LeadSummary, language: str) -> list[Table]:
    from bot.leads.labels import division_name, name

    groups = (
        ("stage", summary.by_stage, lambda k: name("stages", k, language)),
        ("node", summary.by_node, lambda k: name("nodes", k, language)),
        ("sector", summary.by_sector, lambda k: name("sectors", k, language)),
        ("division", summary.by_division, lambda k: division_name(k, language)),
    )
    tables = []
    for title, counts, named in groups:
        table = Table(title=f"by {title}", title_justify="left")
        table.add_column(title)
        table.add_column("leads", justify="right")
        for key, count in counts.items():
            table.add_row(escape(named(key)), str(count), style=None if count else "dim")
        tables.append(table)
    return tables


def _print_summary(summary: LeadSummary, language: str, text: str, mode: str) -> None:
    from rich.columns import Columns

    from bot.leads.labels import division_name
    from bot.leads.narrative import amount_text

    scope = ", ".join(f"{k}={v}" for k, v in summary.filters.items())
    out.print(
        f"[bold]{summary.total} leads[/] · {summary.period_start} → {summary.period_end}"
        f" [dim]({escape(scope)})[/]"
    )
    out.print(Columns(_summary_tables(summary, language), padding=(0, 3)))
    stalled_days = summary.filters.get("stalled_days")
    lists = (
        (f"new ({len(summary.new)})", ", ".join(summary.new)),
        (
            f"advanced ({len(summary.advanced)})",
            ", ".join(f"{m['id']} {m['from']}→{m['to']}" for m in summary.advanced),
        ),
        (
            f"stalled, no change in {stalled_days} days ({len(summary.stalled)})",
            ", ".join(summary.stalled),
        ),
    )
    for label, value in lists:
        out.print(f"[bold]{escape(label)}:[/] {escape(value) or '—'}")
    if summary.largest:
        largest = Table(title="largest by investment", title_justify="left")
        for column in ("id", "company", "investment"):
            largest.add_column(column, justify="right" if column == "investment" else "left")
        for lead in summary.largest:
            amount = amount_text(lead["amount"], lead["currency"], language)
            largest.add_row(lead["id"], escape(lead["company"]), amount)
        out.print(largest)
    if summary.unassigned:
        waiting = Table(
            title=f"awaiting a division ({len(summary.unassigned)})", title_justify="left"
        )
        for column in ("id", "company", "suggested division"):
            waiting.add_column(column)
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
    out.print(f"[dim]({'written by the language model' if mode == 'llm' else 'template'})[/]")


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
    from bot.i18n import LANGUAGE_NAMES
    from bot.leads.chart import summary_chart
    from bot.leads.narrative import narrate
    from bot.llm import open_llm

    with _user_errors():
        access = LeadAccess(role)
        if since is not None and period is not None:
            raise LeadError("give --since or --period, not both")
        period = period.strip().lower() if period is not None else None
        if period is not None and period not in PERIOD_DAYS:
            raise LeadError(f"--period {period!r} is not one of: {', '.join(PERIOD_DAYS)}")
        if lang not in LANGUAGE_NAMES:
            raise LeadError(f"--lang {lang!r} is not one of: {', '.join(LANGUAGE_NAMES)}")
        where = SummaryFilter(
            since=_parse_day(since, "--since"),
            period=period,
            stalled_days=stalled_days,
            division=_division_key(division),
            visibility=tuple(sorted(access.levels)),
        )
        services = open_services(quiet=as_json)
        stage_key = _canonical(services, "stages", stage)
        if stage_key is not None and stage_key not in {s.value for s in Stage}:
            raise LeadError(f"stage {stage!r} is not one of: {', '.join(Stage)}")
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
        err.print(f"chart written to {escape(str(chart))}")


@leads_app.command("offer")
def offer_command(
    lead_id: Annotated[str, typer.Argument(help="The lead id, e.g. L-0042.")],
    role: Annotated[
        str,
        typer.Option(
            "--as",
            help="staff, manager or partner. A partner's sheet uses public and partner "
            "policies only; no sheet names anything of the lead but the company.",
        ),
    ] = "staff",
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
    from bot import i18n
    from bot.cli import _user_errors
    from bot.llm import open_llm

    with _user_errors():
        if lang is not None and lang not in i18n.LANGUAGE_NAMES:
            raise ValueError(f"--lang {lang!r} is not one of: {', '.join(i18n.LANGUAGE_NAMES)}")
        services = open_services(quiet=as_json)
        lead = lead_for_offer(services, lead_id, role)

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
        for line in citation_lines(reply):
            out.print(escape(line))
