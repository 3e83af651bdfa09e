"""Lead summary time on SQLite for 10k and 100k synthetic leads (target: under 1 s at 100k).

Run from the repository root: python -m tests.benchmarks.bench_lead_summary
Results are recorded in BENCHMARKS.md. Leads go straight into the tables with bulk inserts
(the store's per-lead validation and events would take far longer than what is measured).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.leads.summary import RANKING_RATES_TO_CNY, SummaryFilter, summarize
from knowledge.leads import DEFAULT_NODES, PIPELINE, lead_events, leads
from knowledge.sql import make_engine

SIZES = (10_000, 100_000)
RUNS = 5
BATCH = 5_000
TODAY = dt.date(2026, 12, 1)
SECTORS = (
    "ai",
    "semiconductors",
    "biomedicine",
    "medical-devices",
    "hydrogen",
    "clean-tech",
    "new-materials",
    "advanced-manufacturing",
    "new-energy-vehicles",
    "digital-economy",
    "information-security",
    "agritech",
)
DIVISIONS = ("bohai", "yangtze", "pearl")
STAGES = [s.value for s in PIPELINE] + ["dropped"]
STAGE_WEIGHTS = (30, 20, 18, 10, 8, 5, 4, 5)
# Real leads carry a few paragraphs (the samples: 1–2 kB); wide rows make every table scan
# read more pages, so the synthetic ones carry as much.
SUMMARY = (
    "What they do. A spin-out with a pilot line and 40 staff, seeking a second site in Asia. "
    "Why Zhengzhou: suppliers, talent and the provincial market. Ask: 2,000 m2 of lab space, "
    "then land for a plant; co-investment from the guidance fund; help recruiting engineers. "
    "Status: site visit planned; term sheet under discussion. Next step: draft lease. "
) * 4
FILTERS = {
    "no filter (manager)": SummaryFilter(),
    "no filter (staff)": SummaryFilter(visibility=("internal", "public")),
    "node + sector": SummaryFilter(node="munich", sector="hydrogen"),
    "node + sector, quarter": SummaryFilter(node="munich", sector="hydrogen", period="quarter"),
}


def _synthetic(count: int, rng: random.Random) -> Iterator[tuple[dict[str, Any], list[dict]]]:
    """Leads created over three years, each with its creation event and, for about half,
    one or two stage changes since."""
    start = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)
    span = (dt.datetime(2026, 12, 1, 20, tzinfo=dt.UTC) - start).total_seconds()
    for n in range(1, count + 1):
        created = start + dt.timedelta(seconds=rng.random() * span)
        stage = rng.choices(STAGES, STAGE_WEIGHTS)[0]
        events: list[dict[str, Any]] = [
            {"lead_id": f"L-{n:06d}", "at": created, "actor": "bench", "field": "created"}
            | {"old": None, "new": "new"}
        ]
        moment = created
        if stage != "new" and rng.random() < 0.5:
            path = ["new", stage]
            if stage in STAGES[2:-1] and rng.random() < 0.5:
                path.insert(1, rng.choice(STAGES[1 : STAGES.index(stage)]))
            for old, new in zip(path, path[1:], strict=False):
                later = moment + dt.timedelta(days=rng.random() * 120)
                if later.date() > TODAY:
                    break
                moment = later
                events.append(
                    {"lead_id": f"L-{n:06d}", "at": moment, "actor": "bench", "field": "stage"}
                    | {"old": old, "new": new}
                )
        sized = rng.random() < 0.7
        assigned = rng.choice(DIVISIONS) if rng.random() < 0.6 else None
        row = {
            "id": f"L-{n:06d}",
            "title": f"Company {n} Ltd: {rng.choice(SECTORS)} project, pilot line and R&D centre",
            "company": f"Company {n} Ltd",
            "country": "DE",
            "city": "Munich",
            "node": rng.choice(DEFAULT_NODES),
            "sectors": rng.sample(SECTORS, rng.choice((1, 1, 2, 2, 3))),
            "stage": stage,
            "investment_amount": round(rng.lognormvariate(16, 1.5), -3) if sized else None,
            "investment_currency": rng.choice(list(RANKING_RATES_TO_CNY)) if sized else None,
            "expected_jobs": rng.randint(5, 500),
            "needs": [],
            "summary": SUMMARY,
            "language": "en",
            "submitted_by": "bench",
            "visibility": "restricted" if rng.random() < 0.1 else "internal",
            "suggested_division": rng.choice(DIVISIONS) if assigned is None else None,
            "suggested_score": None,
            "suggested_reasons": [],
            "assigned_division": assigned,
            "created_at": created,
            "updated_at": moment,
            "stage_changed_at": moment,
        }
        yield row, events


def fill(engine: Engine, count: int, seed: int = 5) -> int:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    event_count = 0
    with engine.begin() as conn:
        for row, lead_events_ in _synthetic(count, rng):
            rows.append(row)
            events.extend(lead_events_)
            if len(rows) >= BATCH:
                conn.execute(leads.insert(), rows)
                conn.execute(lead_events.insert(), events)
                event_count += len(events)
                rows, events = [], []
        if rows:
            conn.execute(leads.insert(), rows)
            conn.execute(lead_events.insert(), events)
            event_count += len(events)
    return event_count


def median_seconds(engine: Engine, where: SummaryFilter) -> tuple[float, float, int]:
    """Median wall time and median CPU time of this process (user + system) per summary.
    On a shared machine the wall time grows with everyone else's load; the CPU time is what
    the summary itself costs, close to the wall time on an idle machine."""
    summarize(engine, where, TODAY)  # warm the page cache and the statement cache
    wall, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        summary = summarize(engine, where, TODAY)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu), summary.total


def main() -> None:
    # Summaries are CPU-bound: a busy machine (other test runs) slows them in proportion.
    print(f"<!-- load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} -->")
    print("| leads | events | filter | matching | wall, median of 5 | CPU, median of 5 |")
    print("| ---: | ---: | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            engine = make_engine(f"sqlite:///{Path(folder) / f'bench-{size}.db'}")
            started = time.perf_counter()
            event_count = fill(engine, size)
            print(f"<!-- {size} leads inserted in {time.perf_counter() - started:.1f} s -->")
            for name, where in FILTERS.items():
                wall, cpu, total = median_seconds(engine, where)
                cells = (
                    f"{size:,}",
                    f"{event_count:,}",
                    name,
                    f"{total:,}",
                    f"{wall:.3f} s",
                    f"{cpu:.3f} s",
                )
                print(f"| {' | '.join(cells)} |", flush=True)
            engine.dispose()
    print(f"<!-- load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())} -->")


if __name__ == "__main__":
    main()
