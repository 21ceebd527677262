"""``%%llm`` in a real kernel (nbclient) against the loopback emulator: what a saved notebook
holds, interrupts, options, interpolation, chats and the value of the cell."""

from __future__ import annotations

import ast
import json
import time

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.magics.conftest import API_KEY, KernelNotebook, output_text

pytestmark = pytest.mark.kernel


def rich_outputs(cell) -> list:
    return [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]


def test_streamed_cell_saves_exactly_one_display_with_final_text_and_metadata(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    answer = "Columns: **name** is the label, **value** the measurement. " * 8
    emulator.enqueue(Reply(text=answer, chunk_chars=3, input_tokens=40, output_tokens=120))

    cell = kernel_notebook.run("%%llm max_tokens=300 tag=docs\nExplain the columns.")

    assert [o.output_type for o in cell.outputs] == ["display_data"], output_text(cell)
    (display,) = cell.outputs
    assert display.data["text/markdown"].startswith(answer)
    assert answer in display.data["text/plain"]
    assert "claude · claude-sonnet-4-6 · 40 in / 120 out tokens" in display.data["text/plain"]
    meta = display.metadata["orchestify_nb"]
    assert meta["provider"] == "claude"
    assert meta["model"] == "claude-sonnet-4-6"
    assert meta["params"] == {"max_tokens": 300, "tag": "docs"}
    assert meta["usage"]["input_tokens"] == 40 and meta["usage"]["output_tokens"] == 120
    assert meta["cost_usd"] > 0 and meta["priced"] is True
    assert len(meta["prompt_sha256"]) == 64
    assert API_KEY not in json.dumps(cell)


def test_cell_value_is_the_response_so_underscore_and_out_work(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text="forty-two"))
    cell = kernel_notebook.run("%%llm out=answer\nWhat is six times seven?")
    assert len(rich_outputs(cell)) == 1  # rendered once, the return value not printed again

    shown = kernel_notebook.text("print(type(_).__name__, _.content, answer is _)")
    assert shown.strip() == "LLMResponse forty-two True"
    again = kernel_notebook.run("answer")  # displayed normally in a later cell
    assert "forty-two" in output_text(again)


def test_pasted_braces_and_dollars_are_sent_verbatim_and_only_at_braces_interpolate(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run("n_rows = 1234")
    pasted = (
        'def f(x):\n    return {"a": x, **{}}\nprint(f"{x!r} {{literal}}")\n'
        "echo ${HOME} $PATH; template: {{ name }}; git: HEAD@{1}; @@{n_rows}"
    )
    emulator.enqueue(Reply(text="ok"))
    kernel_notebook.run(f"%%llm\nThe table has @{{n_rows}} rows.\n{pasted}")

    sent = emulator.requests[-1].body["messages"][-1]["content"]
    assert sent == f"The table has 1234 rows.\n{pasted.replace('@@{n_rows}', '@{n_rows}')}"


def test_in_and_out_history_are_referenced_with_the_same_form(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    source = "sum(range(5))"
    number = kernel_notebook.run(source).execution_count
    emulator.enqueue(Reply(text="ok"))
    kernel_notebook.run(f"%%llm\nCode: @{{In[{number}]}} gave @{{Out[{number}]}}")
    assert emulator.requests[-1].body["messages"][-1]["content"] == f"Code: {source} gave 10"


def test_chat_keeps_the_conversation_and_reset_forgets_it(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text="Nice to meet you, Ada."), Reply(text="You are Ada."))
    kernel_notebook.run("%%llm chat=intro\nMy name is Ada.")
    kernel_notebook.run("%%llm chat=intro\nWhat is my name?")
    assert [m["content"] for m in emulator.requests[-1].body["messages"]] == [
        "My name is Ada.",
        "Nice to meet you, Ada.",
        "What is my name?",
    ]
    history = kernel_notebook.text("%llm history intro")
    assert "user: My name is Ada." in history and "assistant: You are Ada." in history

    kernel_notebook.run("%llm reset intro")
    emulator.enqueue(Reply(text="I don't know."))
    kernel_notebook.run("%%llm chat=intro\nWhat is my name?")
    assert len(emulator.requests[-1].body["messages"]) == 1


def test_agent_supplies_provider_temperature_and_system(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text="Five words are enough here."))
    kernel_notebook.run("%%llm agent=terse\nDescribe pandas.")
    request = emulator.requests[-1]
    assert request.api == "openai"
    assert request.body["temperature"] == 0.1
    assert request.body["messages"][0] == {"role": "system", "content": "Answer in five words."}


def test_thinking_is_shown_collapsed_above_the_answer(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text="The answer is 42.", thinking="Six times seven is forty-two."))
    cell = kernel_notebook.run("%%llm max_tokens=2048 thinking=1024\nWhat is 6*7?")
    (display,) = rich_outputs(cell)
    markdown = display.data["text/markdown"]
    assert markdown.startswith("<details><summary>Thinking</summary>")
    assert "Six times seven is forty-two." in markdown
    assert markdown.index("</details>") < markdown.index("The answer is 42.")
    assert emulator.requests[-1].body["thinking"] == {"type": "enabled", "budget_tokens": 1024}


def test_format_json_validates_and_pretty_prints(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text='```json\n{"name": "Ada", "langs": ["en", "fr"]}\n```'))
    (display,) = rich_outputs(kernel_notebook.run("%%llm format=json\nGive JSON."))
    assert display.data["application/json"] == {"name": "Ada", "langs": ["en", "fr"]}
    assert display.data["text/plain"].startswith('{\n  "name": "Ada",')

    emulator.enqueue(Reply(text='{"name": "Ada",'))
    (broken,) = rich_outputs(kernel_notebook.run("%%llm format=json\nGive JSON."))
    assert "application/json" not in broken.data
    assert "not valid JSON (line 1, column 16" in broken.data["text/plain"]


def test_format_code_offers_the_code_as_the_next_cell(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text="Here:\n```python\nimport pandas as pd\ndf = pd.DataFrame()\n```"))
    (display,) = rich_outputs(kernel_notebook.run("%%llm format=code\nMake a DataFrame."))
    assert display.data["text/markdown"].startswith("```python\nimport pandas as pd\n")
    payloads = kernel_notebook.replies[-1]["payload"]
    assert {
        "source": "set_next_input",
        "text": "import pandas as pd\ndf = pd.DataFrame()",
        "replace": False,
    } in payloads


def test_stream_false_renders_the_complete_answer_once(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text="all at once"))
    (display,) = rich_outputs(kernel_notebook.run("%%llm stream=false provider=gpt\nHi"))
    assert display.data["text/markdown"].startswith("all at once")
    assert emulator.requests[-1].stream is False


BAD_INPUT = [
    ("%%llm temprature=0.5\nhi", "unknown option 'temprature' (did you mean temperature=?)"),
    ("%%llm max_tokens=lots\nhi", "max_tokens='lots' is not valid: expected a whole number"),
    ("%%llm format=yaml\nhi", "format='yaml' is not valid: expected one of markdown, text"),
    ("%%llm provider=nope\nhi", "No provider 'nope'; registered providers: claude, gpt"),
    ("%%llm agent=wizard\nhi", "No agent 'wizard'; configured agents: terse"),
    ("%%llm\nSummarise @{missing_table}", "no variable 'missing_table' is defined"),
    ("%%llm provider=gpt model=o3-mini temperature=0.5\nhi", "o3-mini"),
    ("%%llm provider=claude thinking=abc\nhi", "thinking='abc' is not valid"),
    ('%%llm system="unclosed\nhi', "No closing quotation"),
    ("%%llm\n   \n", "the cell has no prompt"),
    ("%llm models nope", "No provider 'nope'"),
    ("%llm cots", "unknown subcommand 'cots' (did you mean cost?)"),
    ("%llm config does-not-exist.yaml", "does not exist"),
]


@pytest.mark.parametrize(("source", "message"), BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_gives_one_line_message_and_sends_nothing(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator, source: str, message: str
) -> None:
    before = len(emulator.requests)
    cell = kernel_notebook.run(source)
    text = output_text(cell)
    assert message in text
    assert text.startswith("UsageError: ") and "Traceback" not in text
    assert [o.output_type for o in cell.outputs] == ["stream"], cell.outputs
    assert len(emulator.requests) == before


def test_bad_config_file_is_explained_and_the_loaded_config_stays(
    kernel_notebook: KernelNotebook, tmp_path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers:\n  x:\n    type: anthropik\n", encoding="utf-8")
    text = kernel_notebook.text(f"%llm config {bad}")
    assert text.startswith("UsageError: ") and "line 3" in text and "anthropik" in text
    assert "providers: claude, gpt" in kernel_notebook.text("%llm config")


def test_provider_error_mid_call_is_one_paragraph_and_llm_error_has_the_chain(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    from orchestify_nb.testing import Fault

    emulator.enqueue(Fault.unauthorized())
    text = kernel_notebook.text("%%llm\nhi")
    assert "UsageError: " in text and "AuthenticationError" in text and "Traceback" not in text
    chain = kernel_notebook.text("%llm error")
    assert "Traceback" in chain and "AuthenticationError" in chain
    assert API_KEY not in text + chain


def test_a_stream_dropped_midway_keeps_the_text_so_far_and_says_what_failed(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    from orchestify_nb.testing import Fault

    answer = "one two three four five six seven eight nine ten"
    emulator.enqueue(Fault.drop_mid_stream(after_chunks=6, reply=Reply(text=answer)))
    cell = kernel_notebook.run("%%llm\nCount to ten.")
    (display,) = rich_outputs(cell)
    partial = display.data["text/plain"].split("\n\n[stopped by")[0]
    assert partial and answer.startswith(partial) and partial != answer
    assert "ProviderConnectionError" in display.data["text/plain"]
    assert "UsageError: " in output_text(cell)


def live_threads(notebook: KernelNotebook) -> list[str]:
    shown = notebook.text("import threading; print(sorted(t.name for t in threading.enumerate()))")
    names: list[str] = ast.literal_eval(shown.strip())
    return names


def emulator_connections(notebook: KernelNotebook, port: int) -> int:
    shown = notebook.text(
        "import psutil\n"
        "print(sum(1 for c in psutil.Process().net_connections()\n"
        f"          if c.raddr and c.raddr.port == {port}))"
    )
    return int(shown)


def test_interrupt_keeps_partial_text_records_cancelled_and_leaves_no_thread(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    threads_before = live_threads(kernel_notebook)
    answer = "".join(f"word{i} " for i in range(400))
    emulator.enqueue(Reply(text=answer, chunk_chars=6, chunk_delay_s=0.02))
    sent_before = len(emulator.requests)

    def interrupt_mid_stream() -> None:
        deadline = time.monotonic() + 30
        while len(emulator.requests) == sent_before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.6)  # about 30 chunks of 400
        kernel_notebook.km.interrupt_kernel()

    cell = kernel_notebook.run("%%llm tag=interrupted\nCount slowly.", during=interrupt_mid_stream)

    (display,) = rich_outputs(cell)
    partial = display.data["text/plain"].split("\n\n[interrupted")[0]
    assert 0 < len(partial) < len(answer) and answer.startswith(partial)
    assert "interrupted after" in display.data["text/plain"]
    assert any(o.output_type == "error" and o.ename == "KeyboardInterrupt" for o in cell.outputs)

    record = [r for r in Ledger(kernel_notebook.ledger_path).records() if r.tag == "interrupted"]
    assert [r.status for r in record] == ["cancelled"]
    assert record[0].finish_reason == "cancelled"
    assert record[0].cell_execution_count == cell.execution_count
    assert live_threads(kernel_notebook) == threads_before
    port = int(emulator.base_url.rsplit(":", 1)[1])
    assert emulator_connections(kernel_notebook, port) == 0


def test_help_is_generated_from_the_option_declarations(kernel_notebook: KernelNotebook) -> None:
    cell = kernel_notebook.run("%%llm?")
    help_text = json.dumps(kernel_notebook.replies[-1]["payload"])
    for option in (
        "provider=ID",
        "temperature=T",
        "format=F",
        "chat=NAME",
        "out=VAR",
        "--thinking",
    ):
        assert option in help_text
    assert "@{name}" in help_text and "%llm providers" in help_text
    assert cell.outputs == [] or "llm" in output_text(cell)


def test_threads_check_sees_a_leaked_thread(kernel_notebook: KernelNotebook) -> None:
    """The thread check used above can fail: a thread left running shows up."""
    before = live_threads(kernel_notebook)
    kernel_notebook.run(
        "import threading, time\n"
        "_stop = threading.Event()\n"
        "threading.Thread(target=_stop.wait, name='orchestify-private-loop-leak').start()"
    )
    try:
        assert live_threads(kernel_notebook) != before
    finally:
        kernel_notebook.run("_stop.set()")


def test_line_subcommands_show_providers_models_usage_cost_budget_and_panel(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    providers = kernel_notebook.run("%llm providers")
    (table,) = rich_outputs(providers)
    assert table.output_type == "execute_result"  # a DataFrame, so `_` keeps it
    assert "claude (default)" in table.data["text/plain"] and "text/html" in table.data
    assert API_KEY not in json.dumps(providers)

    assert "claude-sonnet-4-6" in kernel_notebook.text("%llm models claude")
    emulator.enqueue(Reply(text="counted", input_tokens=10, output_tokens=5))
    kernel_notebook.run("%%llm tag=counted\nCount me.")
    usage = kernel_notebook.text("%llm usage by=provider,model tag=counted")
    assert "claude-sonnet-4-6" in usage
    assert "$" in kernel_notebook.text("%llm cost")
    assert "UsageError" not in kernel_notebook.text("%llm budget")
    panel = kernel_notebook.run("%llm panel")
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in rich_outputs(panel)), (
        output_text(panel)
    )
