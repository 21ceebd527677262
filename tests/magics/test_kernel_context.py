"""``@{name}`` in a real kernel goes through ``context.render``: a DataFrame arrives described
(dtypes, rows) within ``context_tokens``, the answer carries a manifest of what was inserted
(metadata and a folded line), and ``@{file:...}`` reads only non-hidden files of the folder."""

from __future__ import annotations

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import KernelNotebook, output_text

pytestmark = pytest.mark.kernel


def sent_prompt(emulator: LLMEmulator) -> str:
    content = emulator.requests[-1].body["messages"][-1]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def test_a_dataframe_is_described_within_its_budget_and_listed_in_the_manifest(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run(
        "import pandas as pd\n"
        "sales = pd.DataFrame({'region': ['north', 'south'] * 500, 'units': range(1000)})"
    )
    emulator.enqueue(Reply(text="Units rise steadily."))

    cell = kernel_notebook.run("%%llm provider=gpt context_tokens=400\nSummarise @{sales}")

    prompt = sent_prompt(emulator)
    assert "DataFrame with 1,000 rows and 2 columns." in prompt
    assert "- units: int64" in prompt and "First 5 rows:" in prompt
    (shown,) = [o for o in cell.outputs if o.output_type == "display_data"][:1]
    (item,) = shown.metadata["orchestify_nb"]["context"]
    assert item["name"] == "sales" and item["kind"] == "DataFrame"
    assert 0 < item["tokens"] <= 400
    assert "context: 1 item" in shown.data["text/html"]
    assert f"sales (DataFrame, {item['tokens']:,} tokens" in output_text(cell)


def test_a_file_of_the_folder_is_inserted_and_a_hidden_one_is_refused(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run(
        "open('notes.md', 'w').write('Q3 target: 1,200 units')\n"
        "open('.env', 'w').write('OPENAI_API_KEY=sk-should-never-leave')"
    )
    emulator.reset()
    emulator.enqueue(Reply(text="Noted."))

    kernel_notebook.run("%%llm provider=gpt\nRead @{file:notes.md}")
    refused = kernel_notebook.run("%%llm provider=gpt\nRead @{file:.env}")
    outside = kernel_notebook.run("%%llm provider=gpt\nRead @{file:../../etc/passwd}")

    assert "Q3 target: 1,200 units" in sent_prompt(emulator)
    assert "hidden file or folder" in output_text(refused)
    assert "outside the notebook's folder" in output_text(outside)
    assert len(emulator.requests) == 1
