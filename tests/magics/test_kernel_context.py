"""``@{name}`` in a real kernel goes through ``context.render``: a DataFrame arrives described
(dtypes, rows) within ``context_tokens``, the answer carries a manifest of what was inserted
(metadata and a folded line), and ``@{file:...}`` reads only non-hidden files of the folder."""

from __future__ import annotations

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.media import media_of
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


def test_a_figure_reaches_each_api_as_its_own_image_part_and_is_listed(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run(
        "from matplotlib.figure import Figure\n"
        "fig = Figure(figsize=(3, 2), dpi=100)\n"
        "fig.add_subplot().plot([1, 4, 2])"
    )
    emulator.reset()
    emulator.enqueue(Reply(text="A peak in the middle."), Reply(text="A peak in the middle."))

    to_claude = kernel_notebook.run("%%llm provider=claude\nWhat does @{fig} show?")
    kernel_notebook.run("%%llm provider=gpt\nWhat does @{fig} show?")

    claude_body, gpt_body = (request.body for request in emulator.requests)
    claude_image = claude_body["messages"][-1]["content"][1]
    assert claude_image["type"] == "image"
    assert claude_image["source"]["type"] == "base64"
    assert claude_image["source"]["media_type"] == "image/png"
    gpt_image = gpt_body["messages"][-1]["content"][1]
    assert gpt_image["type"] == "image_url"
    assert gpt_image["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert media_of(claude_body) == media_of(gpt_body)  # the same PNG, 300 x 200
    assert "fig (matplotlib figure, 80 tokens)" in output_text(to_claude)


def test_a_figure_to_a_model_that_reads_no_images_is_one_line_naming_it(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run(
        "from matplotlib.figure import Figure\nfig = Figure(figsize=(3, 2))\nfig.add_subplot()"
    )
    emulator.reset()

    cell = kernel_notebook.run("%%llm provider=gpt model=gpt-3.5-turbo\nWhat does @{fig} show?")

    text = output_text(cell)
    assert "cannot read images" in text and "'gpt-3.5-turbo'" in text and "(fig)" in text
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1
    assert emulator.requests == []
