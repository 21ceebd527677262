"""The pandas views: typed columns, filters, the grouped summary, the pivot, figures and exports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord
from tests.usage.conftest import NOON, make_record

EXPECTED_DTYPES = {
    "id": "str",
    "started_at": "datetime64[ns, UTC]",
    "finished_at": "datetime64[ns, UTC]",
    "session_id": "category",
    "provider_id": "category",
    "provider_type": "category",
    "model_requested": "category",
    "model": "category",
    "status": "category",
    "mode": "category",
    "input_tokens": "Int64",
    "output_tokens": "Int64",
    "cache_write_tokens": "Int64",
    "cache_read_tokens": "Int64",
    "reasoning_tokens": "Int64",
    "cost_usd": "float64",
    "saved_usd": "float64",
    "prompt_cache_saved_usd": "float64",
    "priced": "bool",
    "usage_estimated": "bool",
    "price_source": "category",
    "latency_s": "float64",
    "time_to_first_token_s": "float64",
    "finish_reason": "category",
    "error_type": "category",
    "agent": "category",
    "tag": "category",
    "notebook_path": "category",
    "cell_execution_count": "Int64",
    "run_id": "category",
    "step": "Int64",
    "batch_job_id": "category",
    "user": "category",
    "project": "category",
}


@pytest.fixture
def history(isolated_ledger: Ledger) -> Ledger:
    """Three days of calls: two providers, three models, a tag, an error and an unpriced call."""
    day = timedelta(days=1)
    for record in [
        make_record(started_at=NOON - 2 * day, cost_usd=1.0, tag="exp"),
        make_record(started_at=NOON - day, model="claude-haiku-4-5", cost_usd=0.25),
        make_record(
            started_at=NOON - day,
            status="error",
            error_type="RateLimitError",
            cost_usd=None,
            input_tokens=0,
            output_tokens=0,
        ),
        make_record(provider_id="openai", model="gpt-4o", started_at=NOON, cost_usd=0.5, tag="exp"),
        make_record(
            provider_id="openai",
            model="ft:gpt-4o:acme",
            started_at=NOON,
            cost_usd=None,
            priced=False,
        ),
    ]:
        isolated_ledger.record(record)
    return isolated_ledger


def test_every_column_has_its_documented_dtype(history: Ledger) -> None:
    frame = history.to_dataframe()

    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == EXPECTED_DTYPES
    assert list(frame.columns) == list(EXPECTED_DTYPES)
    assert frame["started_at"].is_monotonic_increasing
    assert frame["cost_usd"].isna().sum() == 2  # unknown is NaN, never $0
    assert frame["cell_execution_count"].isna().all()


def test_an_empty_ledger_gives_an_empty_frame_with_the_same_dtypes(isolated_ledger: Ledger) -> None:
    frame = isolated_ledger.to_dataframe()

    assert frame.empty
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == EXPECTED_DTYPES


def test_filters_select_by_time_provider_model_tag_and_status(history: Ledger) -> None:
    def count(**filters: object) -> int:
        return len(history.to_dataframe(**filters))  # type: ignore[arg-type]

    assert count(provider="openai") == 2
    assert count(model=["gpt-4o", "claude-haiku-4-5"]) == 2
    assert count(tag="exp") == 2
    assert count(status="error") == 1
    assert count(provider="nobody") == 0
    assert count(since=NOON - timedelta(hours=1)) == 2
    assert count(since="2025-03-13", until="2025-03-14") == 2
    assert count(since=NOON.date()) == 2
    assert count(since="30m") == 0  # relative to now: these calls are from 2025
    assert count(since="1000w") == 5


def test_a_span_like_7d_counts_back_from_now(isolated_ledger: Ledger) -> None:
    now = UsageRecord.now()
    for age in (timedelta(minutes=10), timedelta(hours=30), timedelta(days=8)):
        isolated_ledger.record(make_record(started_at=now - age))

    assert [len(isolated_ledger.to_dataframe(since=s)) for s in ("30m", "24h", "7d", "9d")] == [
        1,
        1,
        2,
        3,
    ]
    with pytest.raises(ValueError, match="cannot read 'last tuesday' as a time"):
        isolated_ledger.to_dataframe(since="last tuesday")


def test_summary_gives_calls_tokens_cost_latency_and_error_rate_per_group(history: Ledger) -> None:
    table = history.summary(by=["provider", "model"])

    assert list(table.columns) == [
        "calls",
        "input_tokens",
        "output_tokens",
        "cache_write_tokens",
        "cache_read_tokens",
        "reasoning_tokens",
        "cost_usd",
        "saved_usd",
        "prompt_cache_saved_usd",
        "unpriced_calls",
        "mean_latency_s",
        "error_rate",
    ]
    sonnet = table.loc[("claude", "claude-sonnet-4-6")]
    assert (sonnet["calls"], sonnet["cost_usd"], sonnet["error_rate"]) == (2, 1.0, 0.5)
    assert sonnet["input_tokens"] == 100
    fine_tune = table.loc[("openai", "ft:gpt-4o:acme")]
    assert pd.isna(fine_tune["cost_usd"]) and fine_tune["unpriced_calls"] == 1
    assert str(table["calls"].dtype) == "Int64"


def test_summary_by_day_and_by_tag_keeps_untagged_calls(history: Ledger) -> None:
    by_day = history.summary(by="day")
    by_tag = history.summary(by=["tag"])
    overall = history.summary(by=[])

    assert by_day["calls"].tolist() == [1, 2, 2]
    assert str(by_day.index.dtype) == "datetime64[ns, UTC]"
    assert by_tag["calls"].sum() == 5 and by_tag.loc["exp", "calls"] == 2
    assert overall["calls"].tolist() == [5]
    assert overall["cost_usd"].iloc[0] == pytest.approx(1.75)


def test_pivot_gives_cost_per_day_and_model(history: Ledger) -> None:
    table = history.pivot(index="day", columns="model", values="cost_usd")
    calls = history.pivot(index="day", columns="provider", values="calls")

    assert table.shape == (3, 4)
    assert table.loc[pd.Timestamp("2025-03-13", tz="UTC"), "claude-haiku-4-5"] == 0.25
    assert table.to_numpy().sum() == pytest.approx(1.75)
    assert calls.to_dict() == {
        "claude": {
            pd.Timestamp("2025-03-12", tz="UTC"): 1,
            pd.Timestamp("2025-03-13", tz="UTC"): 2,
            pd.Timestamp("2025-03-14", tz="UTC"): 0,
        },
        "openai": {
            pd.Timestamp("2025-03-12", tz="UTC"): 0,
            pd.Timestamp("2025-03-13", tz="UTC"): 0,
            pd.Timestamp("2025-03-14", tz="UTC"): 2,
        },
    }


def test_grouping_by_an_unknown_key_names_the_choices(history: Ledger) -> None:
    with pytest.raises(
        ValueError, match=r"cannot group the ledger by 'colour'; choose from: .*day"
    ):
        history.summary(by=["colour"])


@pytest.mark.parametrize("kind", ["cost_over_time", "cost_by_model"])
def test_plots_are_figures_outside_pyplot(history: Ledger, kind: str) -> None:
    figure = history.plot(kind)

    assert isinstance(figure, Figure)
    assert figure.canvas.manager is None  # not registered with pyplot: no global state
    [axes] = figure.axes
    assert axes.get_title() in ("Cumulative cost", "Cost by model")
    assert axes.lines or axes.patches


def test_plots_of_an_empty_selection_say_so(history: Ledger) -> None:
    figure = history.plot("cost_over_time", provider="nobody")

    assert "No priced calls" in figure.axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match="unknown plot kind 'pie'"):
        history.plot("pie")


def test_csv_and_parquet_exports_hold_every_call(history: Ledger, tmp_path: Path) -> None:
    csv = history.to_csv(tmp_path / "usage.csv", provider="claude")
    parquet = history.to_parquet(tmp_path / "usage.parquet")

    assert len(pd.read_csv(csv)) == 3
    back = pd.read_parquet(parquet)
    assert len(back) == 5
    assert str(back["started_at"].dtype) == "datetime64[ns, UTC]"
    assert back["cost_usd"].sum() == pytest.approx(1.75)
