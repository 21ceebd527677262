"""A server echoing the key in its error answers, met from a real kernel: the failed ``%%llm``
cell, ``%llm error`` (which stays useful: the SDK's exception type and traceback, scrubbed) and
the traceback a cell prints when code calls ``provider.stream()`` itself leave no key in the
notebook as nbformat would save it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.magics.conftest import KernelNotebook
from tests.security.leaks import BACKENDS, FakeKeys, assert_no_key, write_config
from tests.security.loopback_servers import ECHOES, Received, key_sent_in, serve

pytestmark = pytest.mark.kernel


@dataclass
class EchoingKernel:
    notebook: KernelNotebook
    keys: FakeKeys
    echo: list[str]  # the ECHOES entry the server uses now


@pytest.fixture(scope="module")
def echoing_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoingKernel]:
    directory = tmp_path_factory.mktemp("echoing-kernel")
    keys = FakeKeys.new()
    echo = ["full_key_in_json_body"]

    def answer(request: Received) -> tuple[int, dict[str, str], bytes]:
        return ECHOES[echo[0]](key_sent_in(request))

    with serve(answer) as server:
        config = write_config(
            directory / "orchestify.yaml", anthropic_url=server.url, openai_url=f"{server.url}/v1"
        )
        env = {
            **os.environ,
            **keys.environ,
            "ORCHESTIFY_CONFIG": str(config),
            "ORCHESTIFY_LEDGER": str(directory / "ledger.sqlite3"),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        manager = KernelManager(kernel_name="python3")
        client = NotebookClient(
            nbformat.v4.new_notebook(), km=manager, timeout=60, allow_errors=True
        )
        manager.start_kernel(env=env, cwd=str(directory))
        try:
            with client.setup_kernel():
                notebook = KernelNotebook(client, manager, directory / "ledger.sqlite3")
                yield EchoingKernel(notebook, keys, echo)
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            manager.shutdown_kernel(now=True)


STREAM_FROM_CODE = """\
from orchestify_nb.session import get_session
async for event in get_session().registry.get({provider_id!r}).stream("Tell me a secret."):
    pass
"""


@pytest.mark.parametrize("how", list(ECHOES))
def test_a_notebook_meeting_a_key_echoing_server_saves_no_key(
    echoing_kernel: EchoingKernel, how: str
) -> None:
    notebook = echoing_kernel.notebook
    echoing_kernel.echo[0] = how
    notebook.text("%load_ext orchestify_nb")
    first = len(notebook.client.nb.cells)
    shown: dict[str, str] = {}
    for backend in BACKENDS:
        name = backend.provider_id
        shown[f"cell {name}"] = notebook.text(f"%%llm provider={name}\nTell me a secret.")
        shown[f"error {name}"] = notebook.text("%llm error")
        cell = notebook.run(STREAM_FROM_CODE.format(provider_id=name))
        shown[f"traceback {name}"] = "\n".join(
            "\n".join(output.get("traceback", [])) for output in cell.outputs
        )

    ours = notebook.client.nb.cells[first:]
    saved = nbformat.writes(nbformat.v4.new_notebook(cells=ours))
    assert_no_key(saved, echoing_kernel.keys.all, f"the saved notebook ({how})")
    for backend in BACKENDS:
        name = backend.provider_id
        assert "API key was rejected" in shown[f"cell {name}"], shown[f"cell {name}"]
        assert "AuthenticationError" in shown[f"traceback {name}"]
        error = shown[f"error {name}"]
        assert "Traceback" in error and "ScrubbedCause" in error  # the SDK's side, scrubbed
