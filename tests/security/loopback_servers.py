"""Small hostile loopback HTTP servers for the leak tests: one that redirects every request
elsewhere, one that records everything it receives, one that echoes the caller's key back in
its error answers. Each runs in a daemon thread on a free port of 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request as a server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        header_lines = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
        body = self.body.decode("utf-8", "replace")
        return f"{self.method} {self.path}\n{header_lines}\n\n{body}"


@dataclass
class Server:
    """A running server: its root URL and every request it received."""

    url: str
    received: list[Received] = field(default_factory=list)


#: Builds the answer to a request: (status, headers, body).
Answer = Callable[[Received], tuple[int, dict[str, str], bytes]]


@contextmanager
def serve(answer: Answer) -> Iterator[Server]:
    """Run a server answering every request with ``answer`` until the block ends."""
    server_record: list[Server] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = Received(
                self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
            )
            server_record[0].received.append(request)
            status, headers, body = answer(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read ``received``."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_record.append(Server(f"http://127.0.0.1:{httpd.server_address[1]}"))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_record[0]
    finally:
        httpd.shutdown()
        httpd.server_close()


def not_found(_: Received) -> tuple[int, dict[str, str], bytes]:
    body = {"type": "error", "error": {"type": "not_found_error", "message": "nothing here"}}
    return 404, {"content-type": "application/json"}, json.dumps(body).encode()


def redirect_to(target: str, status: int) -> Answer:
    """Every request answered with ``status`` and a ``Location`` at ``target`` + its path."""

    def answer(request: Received) -> tuple[int, dict[str, str], bytes]:
        return status, {"location": f"{target}{request.path}"}, b""

    return answer


def key_sent_in(request: Received) -> str:
    """The API key a request carried (``x-api-key``, or ``Authorization: Bearer``)."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


def error_body(message: str) -> bytes:
    """An error in both APIs' shapes (Anthropic's ``type``, OpenAI's ``code``)."""
    error = {"type": "authentication_error", "code": "invalid_api_key", "message": message}
    return json.dumps({"type": "error", "error": error}).encode()


def _full(key: str) -> tuple[int, dict[str, str], bytes]:
    return 401, {"content-type": "application/json"}, error_body(f"invalid x-api-key: {key}")


def _truncated(key: str) -> tuple[int, dict[str, str], bytes]:
    shown = f"{key[:14]}...{key[-6:]}"  # as real APIs print a rejected key
    body = error_body(f"Incorrect API key provided: {shown}. Find your key at the console.")
    return 401, {"content-type": "application/json"}, body


def _plain_bytes(key: str) -> tuple[int, dict[str, str], bytes]:
    return 401, {"content-type": "text/plain"}, f"denied: the key {key} is revoked\n".encode()


def _in_headers(key: str) -> tuple[int, dict[str, str], bytes]:
    headers = {
        "content-type": "application/json",
        "x-echoed-api-key": key,
        "www-authenticate": f'Bearer realm="api", error="invalid_token", key="{key[:16]}..."',
    }
    return 401, headers, error_body("the key was rejected")


#: Ways a hostile or careless server echoes the caller's key in an error answer.
ECHOES: dict[str, Callable[[str], tuple[int, dict[str, str], bytes]]] = {
    "full_key_in_json_body": _full,
    "truncated_key_in_json_body": _truncated,
    "full_key_in_plain_text_body": _plain_bytes,
    "key_in_response_headers": _in_headers,
}


def echo_key(how: str) -> Answer:
    """Answer every request with an error that echoes its key the ``ECHOES[how]`` way."""
    return lambda request: ECHOES[how](key_sent_in(request))
