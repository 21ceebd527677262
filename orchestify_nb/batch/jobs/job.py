"""``BatchJob``: rows submitted as provider batch jobs, tracked in the ledger file, collected later.

A job is one or more provider jobs (split at the API's limits) plus the row -> distinct-prompt
mapping, all saved in the ledger's ``batch_jobs`` table, so ``job(id)`` in a fresh kernel can
wait for, cancel, collect or re-submit it. ``wait()`` only polls: interrupting it leaves the job
running at the provider.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from pydantic import SecretStr

from orchestify_nb.batch.jobs import store, wire
from orchestify_nb.batch.jobs.costs import BatchPricer, book
from orchestify_nb.batch.jobs.endpoint import Endpoint, endpoint_for
from orchestify_nb.batch.jobs.plan import BatchApi, custom_id, plan, request_body, unique_index
from orchestify_nb.errors import OrchestifyError
from orchestify_nb.pricing import ModelPrice
from orchestify_nb.usage import default_ledger_path
from orchestify_nb.usage.ledger import Ledger

_SUCCEEDED = "succeeded"


class BatchJobError(OrchestifyError):
    """A batch job could not be found, submitted or collected."""


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One input row's result, in input order: its status, answer text and error, its tokens
    and what it cost at the batch rate and saved against realtime (``None``: unpriced, or the
    request did not succeed). A prompt sent once for several rows is costed on its first row;
    the others show $0, so the rows add up to the ledger's figures."""

    status: str
    text: str | None
    error: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    saved_usd: float | None = None


def _ledger(ledger: str | None) -> str:
    return ledger or default_ledger_path()


def submit(
    prompts: list[str],
    *,
    api: BatchApi,
    model: str,
    max_tokens: int = 1024,
    system: str | None = None,
    base_url: str | None = None,
    ledger: str | None = None,
    limits: tuple[int, int] | None = None,
    pricing: Mapping[str, ModelPrice] | None = None,
    extra: dict[str, Any] | None = None,
    schema_name: str | None = None,
    provider_id: str | None = None,
    api_key: SecretStr | str | None = None,
    tag: str | None = None,
) -> BatchJob:
    """Submit ``prompts`` (one per row) as provider batch jobs; identical prompts go once.

    ``pricing`` (the provider's config ``pricing:``) is kept with the job, so collecting it in
    a later kernel books the same prices. ``extra`` goes into every request body (for typed
    answers, the fields asking for the schema named ``schema_name``; see ``jobs.typed``).
    The key is ``api_key``, else that of the session's provider ``provider_id``, else the API's
    environment variable; only the provider id is kept with the job (see ``jobs.endpoint``).
    The requests' ledger rows carry that provider id and ``tag``, as realtime calls do."""
    if api not in ("anthropic", "openai"):
        raise BatchJobError(
            f"{api!r} has no batch mode: provider batch jobs exist for 'anthropic' and 'openai' "
            "(and OpenAI-compatible gateways with the Batch API); use mode='realtime' instead."
        )
    body = partial(
        request_body, api, model=model, max_tokens=max_tokens, system=system, extra=extra
    )
    the_plan = plan(prompts, api, encoded_size=len(json.dumps(body(""))) + 40, limits=limits)
    given = SecretStr(api_key) if isinstance(api_key, str) else api_key
    endpoint = endpoint_for(api, base_url, provider_id, given)
    parts = []
    for chunk in the_plan.chunks:
        requests = [(custom_id(index), body(the_plan.unique[index])) for index in chunk]
        parts.append(wire.create(endpoint, requests))
    record: dict[str, Any] = {
        "id": parts[0],
        "api": api,
        "provider_id": provider_id,
        "model": model,
        "base_url": base_url,
        "state": "submitted",
        "parts": parts,
        "row_to_unique": the_plan.row_to_unique,
        "prompts": the_plan.unique,
        "settings": {
            "max_tokens": max_tokens,
            "system": system,
            "extra": extra,
            "schema_name": schema_name,
            "tag": tag,
        },
        "pricing": {name: asdict(price) for name, price in (pricing or {}).items()},
        "submitted_at_ns": time.time_ns(),
    }
    path = _ledger(ledger)
    store.save(path, record)
    return BatchJob(record, path)


def job(job_id: str, *, ledger: str | None = None) -> BatchJob:
    """A job submitted earlier (by this kernel or another), from the ledger file."""
    path = _ledger(ledger)
    record = store.load(path, job_id)
    if record is None:
        raise BatchJobError(
            f"No batch job {job_id!r} in the ledger {path}: check the id with `%llm jobs` "
            "(or pass ledger= the file the job was submitted with, e.g. "
            "df.llm.collect(ledger=...))."
        )
    return BatchJob(record, path)


def jobs(*, ledger: str | None = None) -> list[tuple[str, str, str, str, int, int]]:
    """Every recorded job: ``(id, provider, model, state, rows, submitted_at_ns)``, newest first."""
    return store.listing(_ledger(ledger))


class BatchJob:
    """A submitted batch of rows; see the module docstring."""

    def __init__(self, record: dict[str, Any], ledger_path: str) -> None:
        self._record = record
        self._ledger_path = ledger_path

    def __repr__(self) -> str:
        rows = len(self._record["row_to_unique"])
        return f"BatchJob({self.id!r}, {self._record['api']}, {rows} rows, {self.state})"

    @property
    def id(self) -> str:
        return str(self._record["id"])

    @property
    def state(self) -> str:
        return str(self._record["state"])

    @property
    def schema_name(self) -> str | None:
        """The schema typed answers were asked for (``None``: plain text answers)."""
        name = self._record["settings"].get("schema_name")
        return None if name is None else str(name)

    def rows_in_source(self) -> tuple[list[int], int]:
        """Which rows of the first job (and of the DataFrame it came from) this job's rows
        are, and how many rows that had: all of them for a job submitted from rows, the
        failed ones for a re-submitted job."""
        resubmits = self._record.get("resubmits")
        if resubmits is None:
            count = len(self._record["row_to_unique"])
            return list(range(count)), count
        return [int(row) for row in resubmits["rows"]], int(resubmits["total"])

    @property
    def parts(self) -> list[str]:
        """The provider job ids this job was split into."""
        return list(self._record["parts"])

    def _endpoint(self) -> Endpoint:
        """Where the job is, with the key found again (it is never saved with the job)."""
        record = self._record
        return endpoint_for(record["api"], record["base_url"], record.get("provider_id"))

    def _pricing(self) -> dict[str, ModelPrice]:
        """The ``pricing:`` overrides the job was submitted with."""
        return {
            name: ModelPrice(**price) for name, price in self._record.get("pricing", {}).items()
        }

    def progress(self) -> tuple[int, int, bool]:
        """``(requests done, requests total, every part ended)`` from the provider."""
        endpoint = self._endpoint()
        states = [wire.progress(endpoint, part) for part in self.parts]
        ended = all(state.ended for state in states)
        if ended and self.state == "submitted":
            self._record.update(state="ended", ended_at_ns=time.time_ns())
            store.save(self._ledger_path, self._record)
        return sum(s.done for s in states), sum(s.total for s in states), ended

    def wait(
        self, *, poll_s: float = 5.0, max_poll_s: float = 60.0, timeout_s: float | None = None
    ) -> BatchJob:
        """Poll until every part has ended, with a tqdm bar and backoff.

        Ctrl-C stops the waiting, not the job: it keeps running at the provider, and
        ``job(id)`` picks it up later.
        """
        from tqdm.auto import tqdm

        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        done, total, ended = self.progress()
        bar = tqdm(total=total, initial=done, desc=f"batch {self.id}", unit="req")
        delay = poll_s
        try:
            while not ended:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"batch job {self.id} has not ended yet; it keeps running.")
                time.sleep(delay)
                delay = min(delay * 2, max_poll_s)
                done, total, ended = self.progress()
                bar.n = done
                bar.refresh()
        except KeyboardInterrupt:
            print(f"Stopped waiting; batch job {self.id} keeps running at the provider.")
            raise
        finally:
            bar.close()
        return self

    def cancel(self) -> None:
        """Ask the provider to cancel every part; rows not yet processed end ``canceled``."""
        endpoint = self._endpoint()
        for part in self.parts:
            wire.cancel(endpoint, part)

    def outcomes(self, *, pricing: Mapping[str, ModelPrice] | None = None) -> list[RowOutcome]:
        """Every input row's outcome in input order (identical prompts share one result).

        The first collection of each provider job books its requests in the ledger at the
        batch rate (``pricing`` overrides realtime prices as config ``pricing:`` does; default
        the prices the job was submitted with).
        """
        if pricing is None:
            pricing = self._pricing()
        done, _total, ended = self.progress()
        if not ended:
            raise BatchJobError(
                f"Batch job {self.id} has not ended ({done} requests done): call job.wait() first."
            )
        endpoint = self._endpoint()
        pricer = BatchPricer(endpoint.api, self._record["model"], pricing, endpoint.base_url)
        by_unique: dict[int, wire.RowResult] = {}
        booked: list[str] = self._record.setdefault("booked", [])
        for part in self.parts:
            results = wire.results(endpoint, part)
            for cid, result in results.items():
                by_unique[unique_index(cid)] = result
            if part not in booked:
                self._book(part, results, pricer)
                booked.append(part)
                store.save(self._ledger_path, self._record)
        return self._in_row_order(by_unique, pricer)

    def _in_row_order(
        self, by_unique: Mapping[int, wire.RowResult], pricer: BatchPricer
    ) -> list[RowOutcome]:
        """Fan the requests' results out to the rows that asked them."""
        missing = wire.RowResult("errored", error="no result returned for this request")
        costed: set[int] = set()
        rows = []
        for index in self._record["row_to_unique"]:
            result = by_unique.get(index, missing)
            quote, saved = pricer.quote(result)
            cost = quote.cost_usd
            if index in costed:  # the same request again: paid for on its first row
                cost, saved = (0.0, None if saved is None else 0.0)
            costed.add(index)
            rows.append(
                RowOutcome(
                    result.status,
                    result.text,
                    result.error,
                    result.input_tokens,
                    result.output_tokens,
                    cost,
                    saved,
                )
            )
        return rows

    def _book(
        self,
        part: str,
        results: Mapping[str, wire.RowResult],
        pricer: BatchPricer,
    ) -> None:
        ledger = Ledger(self._ledger_path)
        try:
            book(
                ledger,
                pricer=pricer,
                provider_job_id=part,
                results=results,
                provider_id=self._record.get("provider_id"),
                tag=self._record["settings"].get("tag"),
            )
            ledger.flush()
        finally:
            ledger.close()

    def resubmit(self) -> BatchJob | None:
        """A new job with only the rows that did not succeed (``None`` when all did);
        ``df.llm.collect(new_job)`` fills just those rows of the first job's DataFrame."""
        outcomes = self.outcomes()
        failed = [i for i, outcome in enumerate(outcomes) if outcome.status != _SUCCEEDED]
        if not failed:
            return None
        prompts = self._record["prompts"]
        row_to_unique = self._record["row_to_unique"]
        settings = self._record["settings"]
        endpoint = self._endpoint()
        again = submit(
            [prompts[row_to_unique[i]] for i in failed],
            api=endpoint.api,
            model=self._record["model"],
            base_url=endpoint.base_url,
            ledger=self._ledger_path,
            pricing=self._pricing(),
            provider_id=self._record.get("provider_id"),
            api_key=endpoint.api_key,
            **settings,
        )
        earlier = self._record.get("resubmits")
        rows = failed if earlier is None else [earlier["rows"][i] for i in failed]
        total = len(outcomes) if earlier is None else earlier["total"]
        again._record["resubmits"] = {"of": self.id, "rows": rows, "total": total}
        store.save(self._ledger_path, again._record)
        return again
