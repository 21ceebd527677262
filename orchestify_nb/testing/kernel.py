"""Run a whole notebook in a fresh ipykernel, as Run All after a restart does: nothing in memory
survives from an earlier run, so what carries over is only what was written to disk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def run_in_fresh_kernel(notebook: Any, env: Mapping[str, str], cwd: str, timeout: int = 60) -> Any:
    """Execute every cell of ``notebook`` (an nbformat node, changed in place) in a new kernel
    started with ``env`` in ``cwd``; errors stay in the outputs. Needs nbclient (dev extra)."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    km = KernelManager(kernel_name="python3")  # ipykernel's native spec: this interpreter
    km.start_kernel(env=dict(env), cwd=cwd)
    client = NotebookClient(notebook, km=km, timeout=timeout, allow_errors=True)
    try:
        with client.setup_kernel():
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        km.shutdown_kernel(now=True)
    return notebook
