"""``LLMEmulator``: the Anthropic and OpenAI APIs on a loopback port, scripted by the test.

Routes each request to the matching API module, takes the next scripted ``Reply`` or ``Fault``
from a queue shared by both APIs (an echo of the last user message when it is empty), records the
request with its API keys masked, and applies the configured latency. Control endpoints under
``/_emulator/`` let another process script a server run by ``python -m orchestify_nb.testing``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import replace
from types import TracebackType
from typing import Any, Protocol

from orchestify_nb.testing import anthropic_api, batch_api, openai_api
from orchestify_nb.testing.http_server import (
    BackgroundHttpServer,
    HttpRequest,
    HttpResponse,
    StreamedResponse,
)
from orchestify_nb.testing.prompt_cache import PromptCacheSimulator
from orchestify_nb.testing.replies import (
    ReplyTiming,
    ResolvedReply,
    last_user_text,
    new_id,
    prompt_tokens,
    resolve_reply,
)
from orchestify_nb.testing.script import (
    Api,
    Fault,
    FaultKind,
    RecordedRequest,
    Reply,
    Scripted,
    scripted_from_json,
)

_SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "proxy-authorization", "x-goog-api-key"}
)
_ROUTES = (
    "POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/chat/completions, "
    "GET /v1/models, GET /v1/models/{id}"
)

Response = HttpResponse | StreamedResponse | None


class _WireFormat(Protocol):
    """What ``anthropic_api`` and ``openai_api`` both provide."""

    def validate(self, body: dict[str, Any]) -> str | None: ...
    def response_body(self, reply: ResolvedReply) -> dict[str, Any]: ...
    def error(
        self, kind: FaultKind, status: int | None, text: str | None
    ) -> tuple[int, dict[str, Any]]: ...
    def models_page(self) -> dict[str, Any]: ...
    def model_info(self, model_id: str) -> dict[str, Any] | None: ...


_WIRE_FORMATS: dict[Api, _WireFormat] = {"anthropic": anthropic_api, "openai": openai_api}


def _request_id(api: Api) -> dict[str, str]:
    return {"request-id" if api == "anthropic" else "x-request-id": new_id("req_")}


def _stream_response(
    api: Api, body: dict[str, Any], reply: ResolvedReply, drop_after: int | None
) -> StreamedResponse:
    """The SSE response; a drop always happens before the last chunk, so it is never complete."""
    if api == "anthropic":
        chunks = anthropic_api.stream(reply)
    else:
        options = body.get("stream_options") or {}
        include_usage = bool(options.get("include_usage")) and reply.reports_usage
        chunks = openai_api.stream(reply, include_usage=include_usage)
    headers = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
    if drop_after is not None:
        drop_after = min(drop_after, len(chunks) - 1)
    return StreamedResponse(200, chunks, {**headers, **_request_id(api)}, drop_after)


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    all_headers = {"content-type": "application/json", **(headers or {})}
    return HttpResponse(status, json.dumps(body).encode(), all_headers)


def _api_of(request: HttpRequest, path: str) -> Api:
    if path.startswith("/v1/messages"):
        return "anthropic"
    if path.startswith("/v1/chat/"):
        return "openai"
    return "anthropic" if "anthropic-version" in request.headers else "openai"


def _presented_key(headers: dict[str, str]) -> str | None:
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else None


class LLMEmulator:
    """A real HTTP server speaking the Anthropic Messages and OpenAI Chat Completions APIs.

    Use as a context manager (or ``start()``/``stop()``); point the ``anthropic`` SDK at
    ``base_url`` and the ``openai`` SDK at ``openai_base_url``. ``latency_s`` delays every
    response; ``chunk_delay_s``/``first_token_delay_s`` are the defaults for replies that do not
    set their own. With ``api_key`` set, requests presenting another key get a 401.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        first_token_delay_s: float = 0.0,
        api_key: str | None = None,
    ) -> None:
        self.latency_s = latency_s
        self._timing = ReplyTiming(chunk_delay_s, first_token_delay_s)
        self._api_key = api_key
        self._host = host
        self._server = BackgroundHttpServer(self._handle, host, port)
        self._lock = threading.Lock()
        self._queue: deque[Scripted] = deque()
        self._log: list[RecordedRequest] = []
        #: Anthropic's prompt cache as the emulator plays it (see ``testing.prompt_cache``).
        self.prompt_cache = PromptCacheSimulator()
        #: Provider batch jobs and files on a scripted clock (see ``testing.batch_api``).
        self.batches = batch_api.BatchEmulator(self._timing)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LLMEmulator:
        self._server.start()
        return self

    def stop(self) -> None:
        """Close every connection and join the server thread (safe to call twice)."""
        self._server.stop()

    def __enter__(self) -> LLMEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the Anthropic SDK's ``base_url``."""
        if not self._server.port:
            raise RuntimeError("The emulator is not running: use `with LLMEmulator() as emu:`.")
        return f"http://{self._host}:{self._server.port}"

    @property
    def openai_base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the OpenAI SDK's ``base_url``."""
        return f"{self.base_url}/v1"

    # -- scripting and inspection ------------------------------------------------------------
    def enqueue(self, *items: Scripted) -> None:
        """Queue replies/faults; each generation request (either API) takes the next one."""
        for item in items:
            if not isinstance(item, Reply | Fault):
                raise TypeError(f"enqueue() takes Reply or Fault objects, not {type(item)!r}.")
        with self._lock:
            self._queue.extend(items)

    @property
    def pending(self) -> int:
        """How many scripted items have not been used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every API request received so far, oldest first."""
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        """Forget queued items, recorded requests and the emulated prompt cache."""
        with self._lock:
            self._queue.clear()
            self._log.clear()
        self.prompt_cache.clear()
        self.batches.reset()

    def _next_scripted(self) -> Scripted | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _record(self, api: Api, path: str, body: dict[str, Any], request: HttpRequest) -> None:
        headers = {
            name: "***" if name in _SECRET_HEADERS else value
            for name, value in request.headers.items()
        }
        entry = RecordedRequest(api, path, body, body.get("stream") is True, time.time(), headers)
        with self._lock:
            self._log.append(entry)

    # -- request handling (runs on the server's event loop) ----------------------------------
    async def _handle(self, request: HttpRequest) -> Response:
        path = request.path.split("?", 1)[0]
        if path.startswith("/_emulator/"):
            return self._control(request.method, path, request.body)
        if batch_api.handles(path):
            if self._api_key is not None and _presented_key(request.headers) != self._api_key:
                return self._error(_api_of(request, path), Fault.unauthorized())
            return self.batches.handle(request, path)
        api = _api_of(request, path)
        try:
            body = json.loads(request.body) if request.body else {}
        except ValueError:
            return self._error(api, Fault.http_error(400, "The request body is not valid JSON."))
        if not isinstance(body, dict):
            return self._error(
                api, Fault.http_error(400, "The request body must be a JSON object.")
            )
        self._record(api, path, body, request)
        if self._api_key is not None and _presented_key(request.headers) != self._api_key:
            return self._error(api, Fault.unauthorized())
        route = f"{request.method} {path}"
        if route in ("POST /v1/messages", "POST /v1/chat/completions"):
            return await self._generate(api, body)
        if route == "POST /v1/messages/count_tokens":
            return _json_response(200, {"input_tokens": prompt_tokens(body)})
        if route == "GET /v1/models":
            return _json_response(200, _WIRE_FORMATS[api].models_page())
        if request.method == "GET" and path.startswith("/v1/models/"):
            info = _WIRE_FORMATS[api].model_info(path.removeprefix("/v1/models/"))
            if info is not None:
                return _json_response(200, info)
            return self._error(api, Fault.http_error(404, f"model: {path.rsplit('/', 1)[-1]}"))
        return self._error(
            api, Fault.http_error(404, f"{route} is not emulated; it serves {_ROUTES}.")
        )

    def _error(self, api: Api, fault: Fault) -> HttpResponse:
        status, body = _WIRE_FORMATS[api].error(fault.kind, fault.status, fault.message)
        headers = _request_id(api)
        if fault.retry_after is not None:
            headers["retry-after"] = f"{fault.retry_after:g}"
        if api == "anthropic" and status >= 500:
            headers["x-should-retry"] = "true"
        return _json_response(status, body, headers)

    async def _generate(self, api: Api, body: dict[str, Any]) -> Response:
        wire = _WIRE_FORMATS[api]
        problem = wire.validate(body)
        if problem is not None:
            return self._error(api, Fault.http_error(400, problem))
        scripted = self._next_scripted()
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        if isinstance(scripted, Fault) and scripted.kind != "drop_mid_stream":
            return self._error(api, scripted)
        drop_after = scripted.after_chunks if isinstance(scripted, Fault) else None
        reply = scripted.reply if isinstance(scripted, Fault) else scripted
        reply = reply or Reply(text=last_user_text(body) or "(empty prompt)")
        prompt = prompt_tokens(body)
        if api == "anthropic":
            reply = self._with_prompt_cache(reply, body, prompt)
        resolved = resolve_reply(
            reply, requested_model=str(body["model"]), prompt_tokens=prompt, timing=self._timing
        )
        if body.get("stream") is True:
            return _stream_response(api, body, resolved, drop_after)
        delay = resolved.generation_time_s(len(resolved.pieces(resolved.thinking + resolved.text)))
        if delay > 0:
            await asyncio.sleep(delay)
        if drop_after is not None:
            return None  # a dropped non-streaming request: the connection closes unanswered
        return _json_response(200, wire.response_body(resolved), _request_id(api))

    def _with_prompt_cache(self, reply: Reply, body: dict[str, Any], prompt: int) -> Reply:
        """A reply that scripts no prompt-cache counts gets those of the emulated cache."""
        if reply.input_tokens is not None or reply.cache_read_tokens or reply.cache_write_tokens:
            return reply
        usage = self.prompt_cache.usage(body)
        if usage is None:
            return reply
        read, write = usage
        return replace(
            reply,
            input_tokens=max(prompt, read + write),
            cache_read_tokens=read,
            cache_write_tokens=write,
        )

    def _control(self, method: str, path: str, body: bytes) -> HttpResponse:
        """``/_emulator/requests|enqueue|reset``: scripting from another process."""
        route = f"{method} {path}"
        if path.startswith("/_emulator/batches/"):
            return self.batches.control(path, body)
        if route == "GET /_emulator/requests":
            return _json_response(200, [entry.summary() for entry in self.requests])
        if route == "POST /_emulator/reset":
            self.reset()
            return _json_response(200, {"ok": True})
        if route == "POST /_emulator/enqueue":
            try:
                data = json.loads(body)
                items = data if isinstance(data, list) else [data]
                self.enqueue(*(scripted_from_json(item) for item in items))
            except (ValueError, TypeError, KeyError) as exc:
                return _json_response(400, {"error": str(exc)})
            return _json_response(200, {"ok": True, "pending": self.pending})
        return _json_response(404, {"error": f"unknown control route {route}"})
