"""Figures of the ledger: spending over time and spending by model.

Built with matplotlib's object API (``matplotlib.figure.Figure``), never pyplot: no global figure
state leaks between cells, nothing is drawn twice, and the Figure returned is the cell's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGSIZE = (8.0, 4.0)
MAX_POINTS = 5000


def _new_axes(title: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    _let_ipython_render_figures()
    figure = Figure(figsize=FIGSIZE, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes


def _let_ipython_render_figures() -> None:
    """Make a returned Figure show as an image in a notebook even if pyplot was never imported.

    pyplot's inline backend normally registers the Figure formatter; without pyplot a bare
    Figure would print as ``<Figure size ...>``. A format the user chose (svg, retina) is kept.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    for mime in ("image/png", "image/svg+xml", "image/jpeg", "application/pdf"):
        if mime in formatters and Figure in formatters[mime].type_printers:
            return
    select_figure_formats(shell, {"png"})  # type: ignore[no-untyped-call]


def _say_empty(axes: Axes, what: str) -> None:
    axes.text(0.5, 0.5, what, ha="center", va="center", transform=axes.transAxes, color="gray")
    axes.set_xticks([])
    axes.set_yticks([])


def cost_over_time(frame: pd.DataFrame) -> Figure:
    """Cumulative cost per model (and overall) against call start time, as step lines."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import StrMethodFormatter

    figure, axes = _new_axes("Cumulative cost")
    priced = frame.dropna(subset=["cost_usd"])
    if priced.empty:
        _say_empty(axes, "No priced calls in this selection")
        return figure
    when = priced["started_at"].dt.tz_convert(None).to_numpy()
    start, end = when.min(), when.max()

    def draw(times: Any, costs: pd.Series, **style: Any) -> None:
        # From zero at the first call to the running total at the last, so one call still shows;
        # a long history is thinned to MAX_POINTS steps (the running total stays exact).
        cumulative = costs.cumsum().to_numpy()
        keep = slice(None, None, max(1, len(cumulative) // MAX_POINTS))
        xs = [start, *times[keep], times[-1], end]
        ys = [0.0, *cumulative[keep], cumulative[-1], cumulative[-1]]
        axes.step(xs, ys, where="post", **style)

    for model, group in priced.groupby("model", observed=True):
        draw(when[priced.index.get_indexer(group.index)], group["cost_usd"], label=str(model))
    if priced["model"].nunique() > 1:
        draw(when, priced["cost_usd"], color="black", linewidth=2, label="all models")
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.yaxis.set_major_formatter(StrMethodFormatter("${x:,.4g}"))
    axes.set_xlabel("call started (UTC)")
    axes.set_ylabel("cost so far (USD)")
    axes.legend(loc="upper left", fontsize="small")
    axes.grid(alpha=0.3)
    return figure


def _money(cost: float) -> str:
    return "unpriced" if cost != cost else f"${cost:,.4g}"


def cost_by_model(frame: pd.DataFrame) -> Figure:
    """Total cost per model, largest at the top, each bar labelled with its cost and calls."""
    figure, axes = _new_axes("Cost by model")
    if frame.empty:
        _say_empty(axes, "No calls in this selection")
        return figure
    groups = frame.groupby("model", observed=True)
    totals = groups["cost_usd"].sum(min_count=1).to_frame("cost_usd")
    totals["calls"] = groups.size()
    totals = totals.sort_values("cost_usd", ascending=True, na_position="first")
    positions = range(len(totals))
    bars = axes.barh(positions, totals["cost_usd"].fillna(0.0).to_numpy(), color="tab:blue")
    axes.set_yticks(list(positions), [str(model) for model in totals.index])
    notes = [
        f"{_money(cost)} · {calls} call{'' if calls == 1 else 's'}"
        for cost, calls in zip(totals["cost_usd"], totals["calls"], strict=True)
    ]
    axes.bar_label(bars, notes, padding=4, fontsize="small")
    axes.margins(x=0.35)
    axes.set_xlabel("cost (USD)")
    return figure


PLOTS: dict[str, tuple[Callable[[pd.DataFrame], Figure], tuple[str, ...]]] = {
    "cost_over_time": (cost_over_time, ("started_at", "model", "cost_usd")),
    "cost_by_model": (cost_by_model, ("model", "cost_usd")),
}
