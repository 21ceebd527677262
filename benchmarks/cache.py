"""The response cache's two figures (issue 16): a cache hit renders a 2,000-token answer in
<= 20 ms of kernel time, and the lookup adds <= 1 ms to a miss.

Hit: a real ipykernel (config pointing at the loopback emulator, a ledger file) buys the answer
once, then runs the same ``%%llm ... cache=replay`` cell ``--rounds`` times; each round's kernel
time is measured inside the kernel around ``run_cell_magic`` (lookup, ledger row, rendering and
publishing the output), so the notebook client's round trip is not counted.

Miss: in this process, ``provider._cache_lookup(request, "auto")`` for ``--misses`` distinct
temperature-0 requests against a ledger file with ``--entries`` answers in it: the key's hash
plus one primary-key SELECT, which is what a miss adds before the request is sent.

Run: ``.venv/bin/python benchmarks/cache.py [--rounds 30] [--misses 2000] [--entries 5000]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.kernel import run_in_fresh_kernel
from orchestify_nb.usage.answer_store import answer_store_for
from orchestify_nb.usage.ledger import Ledger

ANSWER_WORDS = 1_500  # about 2,000 tokens of prose
KEY = "sk-bench-" + "0" * 24

_TIMED_CELL = """\
import time as _t
_times = []
for _ in range({rounds}):
    _start = _t.perf_counter()
    get_ipython().run_cell_magic("llm", "provider=gpt temperature=0 cache=replay", "Write it.")
    _times.append(_t.perf_counter() - _start)
print("TIMES", __import__("json").dumps(_times))
"""


def _config(directory: Path, emulator: LLMEmulator) -> Path:
    path = directory / "orchestify.yaml"
    path.write_text(
        "providers:\n"
        "  gpt:\n"
        "    type: openai\n"
        f"    api_key: {KEY}\n"
        f"    base_url: {emulator.openai_base_url}\n"
        "    default_model: gpt-4.1-mini\n"
        "default_provider: gpt\n",
        encoding="utf-8",
    )
    return path


def hit_times(rounds: int) -> list[float]:
    """Kernel seconds per replayed 2,000-token answer, measured inside a real kernel."""
    answer = " ".join(f"word{i % 97}" for i in range(ANSWER_WORDS))
    with tempfile.TemporaryDirectory() as folder, LLMEmulator() as emulator:
        directory = Path(folder)
        emulator.enqueue(Reply(text=answer, output_tokens=2_000))
        env = {
            **os.environ,
            "ORCHESTIFY_CONFIG": str(_config(directory, emulator)),
            "ORCHESTIFY_LEDGER": str(directory / "ledger.sqlite3"),
        }
        env.pop("ORCHESTIFY_CACHE", None)
        cells = [
            "%load_ext orchestify_nb",
            "%%llm provider=gpt temperature=0 cache=refresh\nWrite it.",
            _TIMED_CELL.format(rounds=rounds),
        ]
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        run_in_fresh_kernel(notebook, env, folder, timeout=300)
        if len(emulator.requests) != 1:
            raise SystemExit(f"expected 1 request, the emulator got {len(emulator.requests)}")
    printed = [o.text for o in notebook.cells[2].outputs if o.get("name") == "stdout"]
    line = next(t for t in "".join(printed).splitlines() if t.startswith("TIMES "))
    times: list[float] = json.loads(line.removeprefix("TIMES "))
    return times


def miss_times(misses: int, entries: int) -> list[float]:
    """Seconds the cache lookup takes for a request it does not hold."""
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(Path(folder) / "ledger.sqlite3")
        provider = OpenAIProvider(
            api_key=KEY, base_url="http://127.0.0.1:9", default_model="gpt-4o", usage_sink=ledger
        )
        store = answer_store_for(ledger.path, ledger)
        payload: dict[str, object] = {"content": "x" * 2_000}
        for index in range(entries):
            store.put(f"{index:064x}", payload, provider_type="openai", model="gpt-4o", cost_usd=0)
        times = []
        for index in range(misses):
            request = provider.build_request(
                f"Question number {index}: " + "context " * 200, temperature=0
            )
            start = time.perf_counter()
            lookup = provider._cache_lookup(request, "auto")
            times.append(time.perf_counter() - start)
            assert lookup.hit is None
        store.close()
        ledger.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--misses", type=int, default=2_000)
    parser.add_argument("--entries", type=int, default=5_000)
    args = parser.parse_args()

    misses = miss_times(args.misses, args.entries)
    print(
        f"lookup on a miss ({args.entries:,} answers kept, ~1,600-char prompt): "
        f"median {statistics.median(misses) * 1e3:.3f} ms, "
        f"p99 {sorted(misses)[int(len(misses) * 0.99)] * 1e3:.3f} ms (target <= 1 ms)"
    )
    hits = hit_times(args.rounds)
    print(
        f"cache hit, 2,000-token answer rendered in a real kernel: "
        f"median {statistics.median(hits) * 1e3:.1f} ms, max {max(hits) * 1e3:.1f} ms "
        f"over {len(hits)} rounds (target <= 20 ms)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
