"""``df.llm.complete("Summarise: {text}", out="summary")``: a prompt template over a DataFrame.

Each row's prompt is the template filled from that row's columns. The answer and the row's
tokens, cost, latency, status and error land in ``<out>`` and ``<out>_<field>`` columns of the
same DataFrame, written even when the run is interrupted, so ``resume=True`` can send only the
rows whose ``<out>`` is still empty.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestify_nb.batch.result import ROW_FIELDS, BatchInputError, BatchResult
from orchestify_nb.batch.runner import (
    BatchInterrupted,
    BatchRun,
    prepare_batch,
    run_on_private_loop,
)
from orchestify_nb.batch.typed_columns import field_types, write_typed_columns

if TYPE_CHECKING:
    import pandas as pd

#: dtypes of the result columns (``None``: let pandas infer, i.e. its string dtype).
_COLUMN_DTYPES: dict[str, str | None] = {
    "": None,
    "_tokens_input": "Int64",
    "_tokens_output": "Int64",
    "_cost_usd": "float64",
    "_latency_s": "float64",
    "_status": None,
    "_error": None,
}


def template_columns(template: str) -> list[str]:
    """The column names a ``str.format`` template refers to (``{text}``, ``{meta[lang]}``)."""
    names: list[str] = []
    for _, field_name, _, _ in string.Formatter().parse(template):
        if field_name is None:
            continue
        root = field_name.split(".", 1)[0].split("[", 1)[0]
        if not root or root.isdigit():
            raise BatchInputError(
                f"the template {template!r} has a positional field {{{field_name}}}; name a "
                "column instead, e.g. {text}."
            )
        names.append(root)
    return names


def render_prompts(frame: pd.DataFrame, template: str, positions: list[int]) -> list[str]:
    """The template filled from each row at ``positions`` (column names as strings)."""
    columns = [str(column) for column in frame.columns]
    missing = sorted(set(template_columns(template)) - set(columns))
    if missing:
        raise BatchInputError(
            f"the template refers to {', '.join(missing)}, which the DataFrame does not have; "
            f"its columns are: {', '.join(columns)}. Fix the {{names}} in the template."
        )
    records = frame.iloc[positions].to_dict("records")
    return [template.format_map({str(key): value for key, value in rec.items()}) for rec in records]


def write_result(frame: pd.DataFrame, out: str, positions: list[int], result: BatchResult) -> None:
    """Fill the ``out`` columns at ``positions`` from ``result``; other rows keep their values."""
    import pandas as pd

    values: dict[str, list[Any]] = {"": [row.content for row in result.rows]}
    fields = [row.as_dict() for row in result.rows]
    for name in ROW_FIELDS:
        values[f"_{name}"] = [row_fields[name] for row_fields in fields]
    for suffix, dtype in _COLUMN_DTYPES.items():
        column = f"{out}{suffix}"
        merged: list[Any] = (
            frame[column].tolist() if column in frame.columns else [None] * len(frame)
        )
        for position, value in zip(positions, values[suffix], strict=True):
            merged[position] = value
        frame[column] = pd.Series(merged, index=frame.index, dtype=dtype)


class LLMAccessor:
    """The ``df.llm`` namespace (registered when ``orchestify_nb.batch`` is imported)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def complete(
        self,
        template: str,
        *,
        out: str = "answer",
        resume: bool = False,
        mode: str = "realtime",
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Answer ``template`` filled from each row; fill ``out`` columns; return the DataFrame.

        Runs from a notebook cell (on the runtime's private loop). ``resume=True`` sends only
        the rows whose ``out`` column is empty (failed, cancelled or never sent). Other keyword
        arguments are those of ``run_batch`` (``provider``, ``model``, ``concurrency``, ``rpm``,
        ``tpm``, ``tag``, ``progress``, ``system``, ``max_tokens``, ...). The columns are filled
        in place, even on interrupt (which raises ``BatchInterrupted``); the same DataFrame is
        returned so a cell shows it. ``mode="batch"``/``"auto"``: see ``batch.jobs.frame``.
        """
        job_kwargs = {**kwargs, "resume": True} if resume else kwargs  # refused in a job
        if mode != "realtime" and _batch_job_mode(self._frame, template, out, mode, job_kwargs):
            return self._frame
        batch, positions = self._prepare(template, out, resume, kwargs)
        _run_filling(batch, lambda result: write_result(self._frame, out, positions, result))
        return self._frame

    def collect(
        self,
        job: Any = None,
        *,
        out: str = "answer",
        schema: Any = None,
        ledger: str | None = None,
    ) -> pd.DataFrame:
        """Fill ``out`` columns from a provider batch job (a ``BatchJob`` or its id; default
        the one in ``<out>_batch_job``, looked up in ``ledger``, the default ledger unless the
        job was submitted with another); a job from ``extract(mode="batch")`` also fills the
        schema's typed columns (pass ``schema=`` when collecting in another kernel than the
        one that submitted it)."""
        from orchestify_nb.batch.jobs.frame import collect_frame

        return collect_frame(self._frame, job, out=out, schema=schema, ledger=ledger)

    def extract(
        self,
        template: str,
        *,
        schema: Any,
        out: str = "extracted",
        resume: bool = False,
        mode: str = "realtime",
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Answer ``template`` for each row as ``schema`` (a pydantic model, dataclass,
        TypedDict, ``Literal[...]`` ...) and add one column per field, typed as the field's
        type implies (see ``batch.typed_columns``); ``out`` holds the raw JSON, or the typed
        value itself for a schema that is not an object (``Literal``: a label column). The
        row's tokens, cost, latency, status and error land in the usual ``<out>_<field>``
        columns; a row whose answer does not fit keeps its error and missing values, and the
        others fill. Other arguments are ``complete``'s; ``mode="batch"`` asks every request
        of the job for the schema, and ``collect`` fills the typed columns.
        """
        fields = field_types(schema)
        clashes = sorted(set(fields or {}) & {str(column) for column in self._frame.columns})
        if clashes and not resume:
            raise BatchInputError(
                f"the schema's field(s) {', '.join(clashes)} would overwrite the DataFrame's "
                "column(s) of the same name; rename the field or the column"
            )
        job_kwargs = {**kwargs, "resume": True} if resume else kwargs  # refused in a job
        if mode != "realtime" and _batch_job_mode(
            self._frame, template, out, mode, job_kwargs, schema=schema
        ):
            return self._frame
        batch, positions = self._prepare(template, out, resume, {**kwargs, "output_schema": schema})

        def fill(result: BatchResult) -> None:
            write_result(self._frame, out, positions, result)
            write_typed_columns(self._frame, schema, out, positions, result)

        _run_filling(batch, fill)
        return self._frame

    async def acomplete(
        self, template: str, *, out: str = "answer", resume: bool = False, **kwargs: Any
    ) -> pd.DataFrame:
        """``complete`` for async code (``await df.llm.acomplete(...)``), on the running loop."""
        batch, positions = self._prepare(template, out, resume, kwargs)
        try:
            await batch.run()
        finally:
            write_result(self._frame, out, positions, batch.result)
        return self._frame

    def _prepare(
        self, template: str, out: str, resume: bool, kwargs: dict[str, Any]
    ) -> tuple[BatchRun, list[int]]:
        frame = self._frame
        if resume and out in frame.columns:
            positions = [i for i, missing in enumerate(frame[out].isna()) if missing]
        else:
            positions = list(range(len(frame)))
        prompts = render_prompts(frame, template, positions)
        return prepare_batch(prompts, **kwargs), positions


def _batch_job_mode(
    frame: pd.DataFrame,
    template: str,
    out: str,
    mode: str,
    kwargs: dict[str, Any],
    *,
    schema: Any = None,
) -> bool:
    """Submit as a provider batch job when ``mode`` says so (typed answers with ``schema``);
    ``False`` means run realtime."""
    from orchestify_nb.batch.jobs.frame import choose_mode, submit_frame
    from orchestify_nb.batch.providers import resolve_provider

    provider = resolve_provider(kwargs.get("provider"))
    chosen, why = choose_mode(mode, provider, kwargs.get("model"), len(frame))
    if chosen == "realtime":
        print(f"mode={mode!r}: realtime, because {why}.")
        return False
    prompts = render_prompts(frame, template, list(range(len(frame))))
    job = submit_frame(frame, prompts, out=out, kwargs=dict(kwargs), schema=schema)
    print(
        f"Submitted batch job {job.id} ({len(frame):,} rows, {why}); collect with df.llm.collect()."
    )
    return True


def _run_filling(batch: BatchRun, fill: Callable[[BatchResult], None]) -> None:
    """Run ``batch`` from a cell and ``fill`` the DataFrame with its rows, also when it is
    interrupted (which raises ``BatchInterrupted``)."""
    try:
        run_on_private_loop(batch.run(), [batch.provider])
    except KeyboardInterrupt:
        raise BatchInterrupted(batch.result) from None
    finally:
        fill(batch.result)


def register_accessor() -> None:
    """Make ``DataFrame.llm`` available (imports pandas, hence done by ``orchestify_nb.batch``)."""
    import pandas as pd

    if "llm" not in getattr(pd.DataFrame, "_accessors", set()):
        pd.api.extensions.register_dataframe_accessor("llm")(LLMAccessor)
