"""The lead summary as a PNG chart: leads by stage, by node and by division.

Rendered on a private Figure with the Agg canvas, never through pyplot, so nothing global is
left behind in a long-running chat process. Labels are in the asker's language; Chinese and
Korean need Noto Sans CJK (bundled by mplfonts, because servers rarely have CJK fonts) and
Hebrew falls back to DejaVu Sans, which matplotlib always ships.
"""

from __future__ import annotations

import io
import re
from functools import cache
from importlib import resources

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot import i18n
from bot.leads.labels import division_name, name
from bot.leads.summary import LeadSummary

WIDTH_PX, HEIGHT_PX, DPI = 1500, 560, 100
_BAR = "#2f6f9f"
_CLOSED_BAR = "#9aa5ad"
_HEBREW = r"\u0590-\u05ff"
_LATIN = r"0-9A-Za-z\u00c0-\u024f"
# A right-to-left label as runs: Hebrew words (with their inner spaces and geresh), left-to-
# right runs (numbers, dates, Latin names) and the neutral characters between them.
_RUNS = re.compile(
    rf"(?P<rtl>[{_HEBREW}]+(?:[\s'\"\-]+[{_HEBREW}]+)*)"
    rf"|(?P<ltr>[{_LATIN}](?:[{_LATIN}.,:/\-_ ]*[{_LATIN}])?)"
    r"|(?P<neutral>.)",
    re.DOTALL,
)
_MIRRORED = str.maketrans("()[]<>", ")(][><")


@cache
def cjk_family() -> str:
    """Register the bundled Noto Sans CJK SC with matplotlib (once) and return its family."""
    font = resources.files("mplfonts").joinpath("fonts", "NotoSansCJKsc-Regular.otf")
    with resources.as_file(font) as path:
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()


def _visual(label: str) -> str:
    """A label with Hebrew in display order. matplotlib lays text out left to right and has no
    bidi algorithm, so Hebrew would read backwards: this is the small part of the Unicode bidi
    algorithm our labels need (a right-to-left line, with numbers and Latin names inside)."""
    if not re.search(f"[{_HEBREW}]", label):
        return label
    runs = []
    for match in _RUNS.finditer(label):
        if match.lastgroup == "ltr":
            runs.append(match.group())
        else:
            runs.append(match.group()[::-1].translate(_MIRRORED))
    return "".join(reversed(runs))


def _capitalised(label: str) -> str:
    return label[:1].upper() + label[1:]


def _panel(
    figure: Figure, position: int, title: str, labels: list[str], counts: list[int], muted: int
) -> None:
    """A horizontal bar panel, first item on top; the last `muted` bars are greyed (closed
    stages, unassigned leads) so the eye goes to the active pipeline."""
    axes = figure.add_subplot(1, 3, position)
    colours = [_BAR] * (len(counts) - muted) + [_CLOSED_BAR] * muted
    rows = list(range(len(counts)))
    axes.barh(rows, counts, color=colours)
    axes.set_yticks(rows, [_visual(label) for label in labels])
    axes.invert_yaxis()
    axes.set_title(_visual(title), fontsize=12)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    for row, count in zip(rows, counts, strict=True):
        if count:
            axes.annotate(
                str(count),
                (count, row),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
    axes.margins(x=0.15)


def summary_chart(summary: LeadSummary, language: str) -> bytes:
    """A PNG of WIDTH_PX × HEIGHT_PX: leads by stage (pipeline order), node and division."""
    language = i18n.supported(language)
    stages = list(summary.by_stage)
    # Unassigned last and greyed: it is work to do, not a division's pipeline.
    divisions = [d for d in summary.by_division if d != "unassigned"]
    if "unassigned" in summary.by_division:
        divisions.append("unassigned")
    with matplotlib.rc_context({"font.family": [cjk_family(), "DejaVu Sans"]}):
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(
            _visual(
                i18n.text(
                    "chart.heading",
                    language,
                    total=i18n.number(summary.total, language),
                    start=summary.period_start,
                    end=summary.period_end,
                )
            ),
            fontsize=14,
        )
        _panel(
            figure,
            1,
            i18n.text("summary.by_stage", language),
            [_capitalised(name("stages", s, language)) for s in stages],
            [summary.by_stage[s] for s in stages],
            muted=sum(1 for s in stages if s in ("landed", "dropped")),
        )
        _panel(
            figure,
            2,
            i18n.text("summary.by_node", language),
            [_capitalised(name("nodes", n, language)) for n in summary.by_node],
            list(summary.by_node.values()),
            muted=0,
        )
        _panel(
            figure,
            3,
            i18n.text("summary.by_division", language),
            [division_name(d, language) for d in divisions],
            [summary.by_division[d] for d in divisions],
            muted=1 if "unassigned" in summary.by_division else 0,
        )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
