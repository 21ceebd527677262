"""How long ``%load_ext orchestify_nb`` takes, in fresh processes (target: <= 0.10 s).

Each run starts a new Python, builds an IPython ``InteractiveShell`` (not timed: a kernel has one
already) and times a cell holding ``%load_ext``. The median of 5 runs is printed, and with it
the work the extension leaves to its background warm-up (reading the config, building the
registry, importing the configured SDKs) and what is then left for the first magic call, so
the deferral is visible rather than hidden. If ``jupyter-ai-magic-commands`` is installed, its
``%load_ext jupyter_ai_magic_commands`` is measured the same way and the ratio printed.

Run: ``.venv/bin/python benchmarks/load_ext.py``
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 5
ROOT = Path(__file__).resolve().parents[1]

_PROBE = """\
import time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
started = time.perf_counter()
shell.run_cell("%load_ext " + {extension!r})  # a cell, as in a notebook: it ends the load
loaded = time.perf_counter()
warmed = deferred = 0.0
if {extension!r} == "orchestify_nb":
    from orchestify_nb.magics.warm_up import wait_for_warm_up
    from orchestify_nb.session import get_session
    wait_for_warm_up()
    warmed = time.perf_counter() - loaded
    before = time.perf_counter()
    get_session()
    deferred = time.perf_counter() - before
print(loaded - started, warmed, deferred)
"""


def measure(extension: str, env: dict[str, str]) -> tuple[float, float, float]:
    """Median (load, background warm-up, left for the first call) seconds over ``RUNS`` fresh
    processes."""
    loads, warmed, deferred = [], [], []
    for _ in range(RUNS):
        shown = subprocess.run(
            [sys.executable, "-c", _PROBE.format(extension=extension)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
        ).stdout.split()
        loads.append(float(shown[0]))
        warmed.append(float(shown[1]))
        deferred.append(float(shown[2]))
    return statistics.median(loads), statistics.median(warmed), statistics.median(deferred)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "orchestify.yaml"
        config.write_text(
            "providers:\n"
            "  claude: {type: anthropic, api_key: sk-bench, default_model: claude-sonnet-4-6}\n"
            "  gpt: {type: openai, api_key: sk-bench, default_model: gpt-4.1-mini}\n"
            "default_provider: claude\n",
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "ORCHESTIFY_CONFIG": str(config),
            "ORCHESTIFY_LEDGER": str(Path(scratch) / "ledger.sqlite3"),
        }
        load, warmed, deferred = measure("orchestify_nb", env)
        print(f"%load_ext orchestify_nb: median {load * 1000:.1f} ms of {RUNS} fresh processes")
        print(f"  target <= 100 ms: {'met' if load <= 0.100 else 'MISSED'}")
        print(
            f"  background warm-up (config, registry, both SDKs): done {warmed * 1000:.0f} ms "
            f"after load; left for the first magic call: {deferred * 1000:.1f} ms"
        )
        if importlib.util.find_spec("jupyter_ai_magic_commands") is None:
            print("jupyter_ai_magic_commands is not installed: no side-by-side ratio")
            return
        theirs, _, _ = measure("jupyter_ai_magic_commands", env)
        print(f"%load_ext jupyter_ai_magic_commands: median {theirs * 1000:.1f} ms")
        print(f"  ratio (theirs / ours): {theirs / load:.1f}x")


if __name__ == "__main__":
    main()
