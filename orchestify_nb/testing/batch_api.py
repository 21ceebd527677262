"""Provider batch jobs in the emulator: Anthropic message batches, OpenAI files + batches.

Jobs run on a scripted clock, not wall time, so a test decides when a job is in progress and when
it has ended: a job takes ``duration_s`` of emulated time, ``advance(seconds)`` moves the clock
(``finish()`` ends everything), and ``script(custom_id, outcome)`` makes a request end
``"errored"`` or ``"expired"`` instead of succeeding. Succeeded requests get the emulator's echo
reply in the normal response body, so the real SDKs parse them like realtime answers.

Shapes follow https://docs.anthropic.com/en/api/creating-message-batches (results as JSONL at
``results_url``) and https://platform.openai.com/docs/api-reference/batch (multipart file upload,
``output_file_id``/``error_file_id`` JSONL files).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Literal

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing import anthropic_api, openai_api
from orchestify_nb.testing.http_server import HttpRequest, HttpResponse
from orchestify_nb.testing.replies import (
    ReplyTiming,
    last_user_text,
    new_id,
    prompt_tokens,
    resolve_reply,
)
from orchestify_nb.testing.script import Api, Reply

Outcome = Literal["succeeded", "errored", "expired", "canceled"]
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_WINDOW_S = 24 * 3600.0
_EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
_ERRORED_MESSAGE = "The request was rejected by the batch worker (emulated)."


def handles(path: str) -> bool:
    """Whether a path belongs to the batch or file endpoints (they are not all JSON bodies)."""
    return path.startswith(("/v1/messages/batches", "/v1/batches", "/v1/files"))


@dataclass(slots=True)
class _Job:
    api: Api
    id: str
    requests: list[tuple[str, dict[str, Any]]]
    created_s: float
    ends_s: float
    input_file_id: str | None = None
    metadata: dict[str, Any] | None = None
    canceled_s: float | None = None
    ended_s: float | None = None
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    #: Anthropic's results JSONL, written when the job ends.
    results: bytes | None = None


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else (_EPOCH + timedelta(seconds=seconds)).isoformat()


def _unix(seconds: float | None) -> int | None:
    return None if seconds is None else int(_EPOCH.timestamp() + seconds)


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), {"content-type": "application/json"})


def _error(api: Api, status: int, message: str) -> HttpResponse:
    wire = anthropic_api if api == "anthropic" else openai_api
    code, body = wire.error("http_error", status, message)
    return _json(code, body)


def _multipart(request: HttpRequest) -> dict[str, tuple[str | None, bytes]]:
    """Form fields of a multipart body: name -> (filename, bytes)."""
    head = f"content-type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (part.get_filename(), payload)
    return fields


class BatchEmulator:
    """The batch endpoints' state: uploaded files, jobs and the scripted clock."""

    def __init__(self, timing: ReplyTiming, duration_s: float = 60.0) -> None:
        #: Emulated seconds a job takes from creation to ``ended``/``completed``.
        self.duration_s = duration_s
        self.now_s = 0.0
        self._timing = timing
        self._lock = threading.Lock()
        self._files: dict[str, tuple[str, bytes]] = {}
        self._jobs: dict[str, _Job] = {}
        self._scripted: dict[str, Outcome] = {}
        self._base_url = ""

    # -- scripting and inspection ------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move the emulated clock; jobs whose time has come end."""
        with self._lock:
            self.now_s += seconds

    def finish(self) -> None:
        """End every job now (the clock jumps past the last one's end) and write its results,
        as a provider has them ready once a job has ended (a benchmark's collect then times
        the client, not the emulator composing 100,000 answers)."""
        with self._lock:
            self.now_s = max([self.now_s, *(job.ends_s for job in self._jobs.values())])
            for job in self._jobs.values():
                self._settle(job)

    def script(self, custom_id: str, outcome: Outcome) -> None:
        """Make the request with this ``custom_id`` end with ``outcome`` in whichever job it is."""
        with self._lock:
            self._scripted[custom_id] = outcome

    def jobs(self) -> list[str]:
        """Ids of every job created so far, oldest first."""
        with self._lock:
            return list(self._jobs)

    def requests(self, job_id: str) -> list[tuple[str, dict[str, Any]]]:
        """``(custom_id, body)`` pairs a job was created with: what the provider received."""
        with self._lock:
            return list(self._jobs[job_id].requests)

    def reset(self) -> None:
        with self._lock:
            self._files.clear()
            self._jobs.clear()
            self._scripted.clear()
            self.now_s = 0.0

    def control(self, path: str, body: bytes) -> HttpResponse:
        """``POST /_emulator/batches/advance|finish|script``: the clock from another process.

        ``advance`` takes ``{"seconds": s}``; ``script`` ``{"custom_id": id, "outcome": o}``.
        """
        data = json.loads(body) if body else {}
        action = path.removeprefix("/_emulator/batches/")
        if action == "advance":
            self.advance(float(data["seconds"]))
        elif action == "finish":
            self.finish()
        elif action == "script":
            self.script(str(data["custom_id"]), data["outcome"])
        else:
            return _json(404, {"error": f"unknown batch control {action!r}"})
        return _json(200, {"ok": True, "jobs": len(self._jobs)})

    # -- request handling --------------------------------------------------------------------
    def handle(self, request: HttpRequest, path: str) -> HttpResponse:
        host = request.headers.get("host", "127.0.0.1")
        self._base_url = f"http://{host}"
        api: Api = "anthropic" if path.startswith("/v1/messages") else "openai"
        try:
            with self._lock:
                return self._route(api, request, path)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(api, 400, f"Malformed batch request: {exc}")

    def _route(self, api: Api, request: HttpRequest, path: str) -> HttpResponse:
        method, parts = request.method, path.strip("/").split("/")
        if api == "anthropic":
            parts = parts[3:]  # v1 messages batches
            if method == "POST" and not parts:
                return self._anthropic_create(json.loads(request.body))
            if method == "GET" and not parts:
                return self._anthropic_list(request.path)
            job = self._jobs.get(parts[0]) if parts else None
            if job is None or job.api != "anthropic":
                return _error(api, 404, f"No message batch {parts[0] if parts else ''!r}.")
            if method == "GET" and len(parts) == 1:
                return _json(200, self._anthropic_view(job))
            if method == "POST" and parts[1:] == ["cancel"]:
                self._cancel(job)
                return _json(200, self._anthropic_view(job))
            if method == "GET" and parts[1:] == ["results"]:
                return self._anthropic_results(job)
            return _error(api, 404, f"{method} {path} is not emulated.")
        return self._openai_route(method, parts[1:], request)

    # -- lifecycle shared by both APIs -------------------------------------------------------
    def _settle(self, job: _Job) -> None:
        """Fix every request's outcome once the clock has passed the job's end."""
        if job.ended_s is not None or (job.canceled_s is None and self.now_s < job.ends_s):
            return
        job.ended_s = job.canceled_s if job.canceled_s is not None else job.ends_s
        for custom_id, _body in job.requests:
            scripted = self._scripted.get(custom_id, "succeeded")
            job.outcomes[custom_id] = "canceled" if job.canceled_s is not None else scripted
        if job.api == "openai":
            self._write_openai_files(job)
        else:
            job.results = self._anthropic_results_lines(job)

    def _cancel(self, job: _Job) -> None:
        if job.ended_s is None and job.canceled_s is None:
            job.canceled_s = self.now_s
        self._settle(job)

    def _done_count(self, job: _Job) -> int:
        """Requests processed so far: linear over the job's emulated duration."""
        if job.ended_s is not None:
            return len(job.requests)
        span = max(job.ends_s - job.created_s, 1e-9)
        return int(len(job.requests) * min(1.0, (self.now_s - job.created_s) / span))

    def _answer(self, api: Api, body: dict[str, Any]) -> dict[str, Any]:
        """The echo reply; a request that forces an Anthropic tool whose prompt is a JSON
        object gets that tool called with it (how an older Claude model gives a typed answer)."""
        text = last_user_text(body) or "(empty prompt)"
        reply = Reply(text=text)
        forced = body.get("tool_choice") or {}
        if api == "anthropic" and forced.get("type") == "tool":
            try:
                arguments = json.loads(text)
            except ValueError:
                arguments = None
            if isinstance(arguments, dict):
                call = ToolCall(id=new_id("toolu_"), name=str(forced["name"]), arguments=arguments)
                reply = Reply(tool_calls=[call])
        resolved = resolve_reply(
            reply,
            requested_model=str(body.get("model", "")),
            prompt_tokens=prompt_tokens(body),
            timing=self._timing,
        )
        if api == "anthropic":
            return anthropic_api.response_body(resolved)
        return openai_api.response_body(resolved)

    def _new_job(self, api: Api, requests: list[tuple[str, dict[str, Any]]], **extra: Any) -> _Job:
        ids = [custom_id for custom_id, _ in requests]
        if len(set(ids)) != len(ids):
            raise ValueError("custom_id values must be unique within a batch")
        prefix = "msgbatch_" if api == "anthropic" else "batch_"
        job = _Job(api, new_id(prefix), requests, self.now_s, self.now_s + self.duration_s, **extra)
        self._jobs[job.id] = job
        return job

    # -- Anthropic ---------------------------------------------------------------------------
    def _anthropic_create(self, body: dict[str, Any]) -> HttpResponse:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return _error("anthropic", 400, "requests: at least one request is required")
        pairs: list[tuple[str, dict[str, Any]]] = []
        for index, item in enumerate(requests):
            problem = anthropic_api.validate(item.get("params") or {})
            if problem is not None:
                return _error("anthropic", 400, f"requests.{index}.params.{problem}")
            pairs.append((str(item["custom_id"]), item["params"]))
        return _json(200, self._anthropic_view(self._new_job("anthropic", pairs)))

    def _anthropic_view(self, job: _Job) -> dict[str, Any]:
        self._settle(job)
        counts = dict.fromkeys(("succeeded", "errored", "canceled", "expired"), 0)
        for outcome in job.outcomes.values():
            counts[outcome] += 1
        if job.ended_s is None:
            status = "in_progress" if job.canceled_s is None else "canceling"
        else:
            status = "ended"
        results = f"{self._base_url}/v1/messages/batches/{job.id}/results"
        return {
            "id": job.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {"processing": len(job.requests) - len(job.outcomes), **counts},
            "created_at": _iso(job.created_s),
            "expires_at": _iso(job.created_s + _WINDOW_S),
            "ended_at": _iso(job.ended_s),
            "cancel_initiated_at": _iso(job.canceled_s),
            "archived_at": None,
            "results_url": results if job.ended_s is not None else None,
        }

    def _anthropic_list(self, target: str) -> HttpResponse:
        query = dict(
            pair.split("=", 1) for pair in target.partition("?")[2].split("&") if "=" in pair
        )
        limit = int(query.get("limit", "20"))
        jobs = [job for job in reversed(self._jobs.values()) if job.api == "anthropic"]
        if "after_id" in query:
            ids = [job.id for job in jobs]
            jobs = jobs[ids.index(query["after_id"]) + 1 :] if query["after_id"] in ids else []
        page = jobs[:limit]
        return _json(
            200,
            {
                "data": [self._anthropic_view(job) for job in page],
                "has_more": len(jobs) > limit,
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
            },
        )

    def _anthropic_results(self, job: _Job) -> HttpResponse:
        self._settle(job)
        if job.results is None:
            return _error("anthropic", 400, f"Batch {job.id} is still processing.")
        return HttpResponse(200, job.results, {"content-type": "application/binary"})

    def _anthropic_results_lines(self, job: _Job) -> bytes:
        lines = []
        for custom_id, body in job.requests:
            outcome = job.outcomes[custom_id]
            result: dict[str, Any] = {"type": outcome}
            if outcome == "succeeded":
                result["message"] = self._answer("anthropic", body)
            elif outcome == "errored":
                result["error"] = anthropic_api.error("http_error", 400, _ERRORED_MESSAGE)[1]
            lines.append({"custom_id": custom_id, "result": result})
        return _lines(lines)

    # -- OpenAI ------------------------------------------------------------------------------
    def _openai_route(self, method: str, parts: list[str], request: HttpRequest) -> HttpResponse:
        kind, rest = parts[0], parts[1:]
        if kind == "files":
            if method == "POST" and not rest:
                fields = _multipart(request)
                filename, content = fields["file"]
                return _json(200, self._file_view(self._store_file(filename or "upload", content)))
            if not rest or rest[0] not in self._files:
                return _error("openai", 404, f"No such File object: {rest[0] if rest else ''}")
            if method == "GET" and len(rest) == 1:
                return _json(200, self._file_view(rest[0]))
            if method == "GET" and rest[1:] == ["content"]:
                return HttpResponse(
                    200, self._files[rest[0]][1], {"content-type": "application/jsonl"}
                )
            return _error("openai", 404, f"{method} {request.path} is not emulated.")
        if method == "POST" and not rest:
            return self._openai_create(json.loads(request.body))
        if method == "GET" and not rest:
            jobs = [
                self._openai_view(j) for j in reversed(self._jobs.values()) if j.api == "openai"
            ]
            return _json(200, {"object": "list", "data": jobs, "has_more": False})
        job = self._jobs.get(rest[0]) if rest else None
        if job is None or job.api != "openai":
            return _error("openai", 404, f"No batch found with id '{rest[0] if rest else ''}'.")
        if method == "GET" and len(rest) == 1:
            return _json(200, self._openai_view(job))
        if method == "POST" and rest[1:] == ["cancel"]:
            self._cancel(job)
            return _json(200, self._openai_view(job))
        return _error("openai", 404, f"{method} {request.path} is not emulated.")

    def _store_file(self, filename: str, content: bytes) -> str:
        file_id = new_id("file-")
        self._files[file_id] = (filename, content)
        return file_id

    def _file_view(self, file_id: str) -> dict[str, Any]:
        filename, content = self._files[file_id]
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": _unix(self.now_s),
            "filename": filename,
            "purpose": "batch",
            "status": "processed",
        }

    def _openai_create(self, body: dict[str, Any]) -> HttpResponse:
        file_id = str(body.get("input_file_id"))
        if file_id not in self._files:
            return _error("openai", 400, f"input_file_id: no such file {file_id!r}")
        endpoint = body.get("endpoint")
        if endpoint != "/v1/chat/completions":
            return _error("openai", 400, f"endpoint: {endpoint!r} is not emulated")
        pairs: list[tuple[str, dict[str, Any]]] = []
        for number, line in enumerate(self._files[file_id][1].decode().splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            problem = openai_api.validate(item.get("body") or {})
            if problem is not None or item.get("url") != endpoint:
                return _error(
                    "openai", 400, f"line {number}: {problem or 'url must match endpoint'}"
                )
            pairs.append((str(item["custom_id"]), item["body"]))
        job = self._new_job("openai", pairs, input_file_id=file_id, metadata=body.get("metadata"))
        return _json(200, self._openai_view(job))

    def _write_openai_files(self, job: _Job) -> None:
        output, errors = [], []
        for custom_id, body in job.requests:
            outcome = job.outcomes[custom_id]
            line: dict[str, Any] = {"id": new_id("batch_req_"), "custom_id": custom_id}
            if outcome == "succeeded":
                response = {"status_code": 200, "request_id": new_id("req_")}
                output.append(
                    {
                        **line,
                        "response": {**response, "body": self._answer("openai", body)},
                        "error": None,
                    }
                )
            elif outcome == "errored":
                status, error = openai_api.error("http_error", 400, _ERRORED_MESSAGE)
                response = {"status_code": status, "request_id": new_id("req_"), "body": error}
                errors.append({**line, "response": response, "error": None})
            else:
                code = "batch_expired" if outcome == "expired" else "batch_cancelled"
                message = _EXPIRED_MESSAGE if outcome == "expired" else "The batch was cancelled."
                errors.append(
                    {**line, "response": None, "error": {"code": code, "message": message}}
                )
        if output:
            job.output_file_id = self._store_file(f"{job.id}_output.jsonl", _lines(output))
        if errors:
            job.error_file_id = self._store_file(f"{job.id}_error.jsonl", _lines(errors))

    def _openai_view(self, job: _Job) -> dict[str, Any]:
        self._settle(job)
        failed = sum(1 for outcome in job.outcomes.values() if outcome != "succeeded")
        if job.ended_s is None:
            status = "in_progress" if job.canceled_s is None else "cancelling"
            completed = self._done_count(job)
        else:
            status = "cancelled" if job.canceled_s is not None else "completed"
            completed = len(job.requests) - failed
        return {
            "id": job.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": None,
            "input_file_id": job.input_file_id,
            "completion_window": "24h",
            "status": status,
            "output_file_id": job.output_file_id,
            "error_file_id": job.error_file_id,
            "created_at": _unix(job.created_s),
            "in_progress_at": _unix(job.created_s),
            "expires_at": _unix(job.created_s + _WINDOW_S),
            "completed_at": _unix(job.ended_s) if status == "completed" else None,
            "cancelling_at": _unix(job.canceled_s),
            "cancelled_at": _unix(job.ended_s) if status == "cancelled" else None,
            "request_counts": {
                "total": len(job.requests),
                "completed": completed,
                "failed": failed,
            },
            "metadata": job.metadata,
        }


def _lines(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item) + "\n" for item in items).encode()
