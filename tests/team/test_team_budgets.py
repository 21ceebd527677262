"""Budgets on a team ledger: ``team`` counts everyone's spend, ``per_user`` only the caller's;
and the ledger's URL in a config, password kept out of sight."""

from __future__ import annotations

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.errors import BudgetExceededError, ConfigError
from orchestify_nb.testing.postgres import LEDGER_PASSWORD, PostgresServer
from orchestify_nb.usage import ledger_settings
from orchestify_nb.usage.budgets import Budget, budgets_from_config
from orchestify_nb.usage.ledger import Ledger
from tests.usage.conftest import make_record


def _ledger_for(
    user: str, url: str, monkeypatch: pytest.MonkeyPatch, budgets: list[Budget]
) -> Ledger:
    monkeypatch.setenv("JUPYTERHUB_USER", user)
    return Ledger(url, budgets)


def test_per_user_budget_counts_only_the_callers_spend_and_team_budget_counts_everyones(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = _ledger_for("ana", postgres.url, monkeypatch, [])
    for _ in range(3):
        ana.record(make_record(cost_usd=0.4))
    ana.flush()
    ben = _ledger_for("ben", postgres.url, monkeypatch, [Budget(1.0, scope="per_user")])
    team = _ledger_for("cleo", postgres.url, monkeypatch, [Budget(1.0, scope="team")])
    try:
        ben.check_budget("claude")  # ana's $1.20 is not ben's
        ben.record(make_record(cost_usd=0.5))
        ben.check_budget("claude")
        [status] = ben.budget_status()
        assert status.spent_usd == pytest.approx(0.5)  # counted before the row is committed
        ben.record(make_record(cost_usd=0.6))
        with pytest.raises(BudgetExceededError, match="per user"):
            ben.check_budget("claude")
        ben.flush()  # other kernels see a row once it is committed
        with pytest.raises(BudgetExceededError, match=r"\$2\.30 of \$1\.00"):
            team.check_budget("claude")  # everyone's spend, read from the shared total
        assert set(ana.to_dataframe()["user"]) == {"ana", "ben"}
        assert list(ana.summary(by="user")["calls"]) == [3, 2]
    finally:
        for ledger in (ana, ben, team):
            ledger.close()


def test_ledger_url_in_config_opens_the_team_ledger_and_never_shows_the_password(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORCHESTIFY_LEDGER", raising=False)
    monkeypatch.setenv("TEAM_LEDGER_URL", postgres.url)
    config = load_config(
        {
            "ledger": {"url": "${TEAM_LEDGER_URL}"},
            "project": "churn-model",
            "budgets": {"total": 5.0, "scope": "per_user"},
        }
    )
    shown = [repr(config), str(config.model_dump()), config.model_dump_json(), repr(config.ledger)]
    with Ledger.from_config(config) as ledger:
        ledger.record(make_record())
        ledger.flush()
        shown.append(repr(ledger))
        assert ledger.to_dataframe()["project"].tolist() == ["churn-model"]
        assert ledger.budgets == (Budget(5.0, "total", scope="per_user"),)
    assert ledger_settings(config)[0] == postgres.url  # only the store sees it
    assert budgets_from_config(config.budgets)[0].scope == "per_user"
    assert all(LEDGER_PASSWORD not in text for text in shown), shown
    assert any("postgresql://***@127.0.0.1" in text for text in shown)


def test_ledger_url_of_another_scheme_is_a_config_error_without_the_credentials() -> None:
    with pytest.raises(ConfigError) as error:
        load_config({"ledger": {"url": "mysql://root:hunter2-Secret@db/ledger"}})
    assert "postgresql://" in str(error.value) and "hunter2-Secret" not in str(error.value)
