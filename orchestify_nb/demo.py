"""``make demo``: run the quickstart notebook headless on the embedded local model, then show
what it cost.

``python -m orchestify_nb.demo`` executes ``notebooks/01_quickstart.ipynb`` in a fresh kernel of
this very Python, with no API key variables and no config file, so the embedded default config
applies and every call goes to the bundled local model (no key, no network). It saves the
executed notebook to ``demo-output/`` and prints the usage table from the demo's own ledger
(``demo-output/ledger.sqlite3``, emptied at the start of each run). Exit status 0 means the
notebook ran top to bottom and the ledger holds at least one call to the local model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: Variables that would make the embedded default pick a cloud provider or another config.
HIDDEN_VARIABLES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ORCHESTIFY_CONFIG")
DEFAULT_NOTEBOOK = Path("notebooks") / "01_quickstart.ipynb"
KERNEL_NAME = "orchestify-demo"


class DemoFailed(Exception):
    """The demo could not run or the notebook failed; the message says where and why."""


def find_notebook(given: str | None) -> Path:
    """The notebook to run: as given, else the quickstart under the current directory or under
    the source checkout this package was installed from (editable install)."""
    candidates = (
        [Path(given)]
        if given
        else [DEFAULT_NOTEBOOK, Path(__file__).resolve().parents[1] / DEFAULT_NOTEBOOK]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise DemoFailed(
        f"notebook {str(candidates[0])!r} not found; run the demo from the repository root "
        "(make demo), or pass --notebook PATH"
    )


def kernel_environment(ledger: Path, config_home: Path) -> dict[str, str]:
    """This process's environment minus keys and config, plus the demo ledger.

    ``XDG_CONFIG_HOME`` points at an empty folder so that a personal
    ``~/.config/orchestify_nb/orchestify.yaml`` cannot change what the demo runs (Linux).
    """
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}
    env["ORCHESTIFY_LEDGER"] = str(ledger)
    env["XDG_CONFIG_HOME"] = str(config_home)
    return env


def fresh_ledger(output_dir: Path) -> Path:
    """The demo ledger's path, with any previous run's rows removed."""
    ledger = output_dir / "ledger.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    return ledger


async def execute(
    notebook: NotebookNode, workdir: Path, env: dict[str, str], cell_timeout_s: int
) -> None:
    """Run every cell in a new kernel of this Python (never another interpreter's kernelspec)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="orchestify-demo-") as specs:
        spec_dir = Path(specs) / KERNEL_NAME
        spec_dir.mkdir()
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "orchestify_nb demo (this Python)",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        # Unix sockets in the private temp folder where available: no TCP port is opened
        # (and ipykernel has no unencrypted-TCP warning to print into the demo's output).
        sockets = {"transport": "ipc", "ip": str(Path(specs) / "ipc")} if os.name == "posix" else {}
        manager = AsyncKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[specs]),
            **sockets,
        )
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=cell_timeout_s,
            kernel_name=KERNEL_NAME,
            resources={"metadata": {"path": str(workdir)}},
        )
        try:
            await client.async_execute(env=env)
        finally:
            if manager.has_kernel:
                await manager.shutdown_kernel(now=True)


def failure_message(error: Exception, notebook: NotebookNode, path: Path) -> str:
    """One paragraph: which cell failed, with what error, and where to look."""
    from nbclient.exceptions import CellExecutionError

    if isinstance(error, CellExecutionError):
        failed = [
            index
            for index, cell in enumerate(notebook.cells)
            if any(output.get("output_type") == "error" for output in cell.get("outputs", []))
        ]
        where = f"cell {failed[0] + 1}" if failed else "a cell"
        return f"{path.name} failed in {where}: {error.ename}: {error.evalue}"
    return f"{path.name} could not be run: {type(error).__name__}: {error}"


def usage_report(ledger_path: Path) -> str:
    """The usage table of the demo ledger; raises ``DemoFailed`` if no local call is in it."""
    import pandas as pd

    from orchestify_nb.usage.ledger import Ledger

    with Ledger(ledger_path) as ledger:
        local_calls = [r for r in ledger.records() if r.provider_type == "local"]
        if not local_calls:
            raise DemoFailed(
                f"the notebook ran but recorded no call to the local model in {ledger_path}; "
                "check that llama-cpp-python is installed (pip install -e '.[local]')"
            )
        table = ledger.summary(by=["provider", "model", "status"])
    unused = [
        c
        for c in ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
        if not table[c].any()
    ]
    table = table.drop(columns=unused)
    with pd.option_context("display.width", 200, "display.max_columns", None):
        return str(table.to_string())


def run(notebook_arg: str | None, output_dir: Path, timeout: int) -> str:
    """Execute the notebook, save it and return the usage report (``DemoFailed`` on failure)."""
    import nbformat

    path = find_notebook(notebook_arg)
    output_dir = output_dir.resolve()  # the kernel runs in the notebook's folder
    output_dir.mkdir(parents=True, exist_ok=True)
    ledger = fresh_ledger(output_dir)
    config_home = output_dir / "empty-config"
    config_home.mkdir(exist_ok=True)
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    saved = output_dir / path.name
    print(f"Running {path} with the embedded local model (no API key, no network)...", flush=True)
    try:
        asyncio.run(
            execute(notebook, path.parent, kernel_environment(ledger, config_home), timeout)
        )
    except Exception as error:
        nbformat.write(notebook, saved)  # type: ignore[no-untyped-call]
        raise DemoFailed(
            f"{failure_message(error, notebook, path)}. The notebook as far as it ran, with the "
            f"traceback, is saved at {saved}"
        ) from error
    nbformat.write(notebook, saved)  # type: ignore[no-untyped-call]
    print(f"Executed notebook saved to {saved}")
    return usage_report(ledger)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestify_nb.demo", description=__doc__)
    parser.add_argument("--notebook", help=f"notebook to run (default: {DEFAULT_NOTEBOOK})")
    parser.add_argument("--output-dir", type=Path, default=Path("demo-output"))
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    arguments = parser.parse_args(argv)
    try:
        report = run(arguments.notebook, arguments.output_dir, arguments.timeout)
    except DemoFailed as failure:
        print(f"demo failed: {failure}", file=sys.stderr)
        return 1
    print(f"\nUsage recorded by this run ({arguments.output_dir / 'ledger.sqlite3'}):")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
