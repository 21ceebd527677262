"""Run the emulator as its own process: ``python -m orchestify_nb.testing --port 0 --latency 2``.

Prints ``READY <base_url>`` once listening (benchmarks and out-of-process tests wait for that
line) and serves until SIGTERM or SIGINT. Script it over HTTP with ``POST /_emulator/enqueue``
and read its log with ``GET /_emulator/requests``.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from orchestify_nb.testing.emulator import LLMEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m orchestify_nb.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each response")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between deltas")
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    emulator = LLMEmulator(
        host=args.host,
        port=args.port,
        latency_s=args.latency,
        chunk_delay_s=args.chunk_delay,
        first_token_delay_s=args.first_token_delay,
    )
    with emulator:
        print(f"READY {emulator.base_url}", flush=True)
        while not stopping.wait(0.5):
            pass


if __name__ == "__main__":
    main()
