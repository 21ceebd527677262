"""The steps of a tool loop as shown in a cell: in step order (what the model said in a turn,
then its calls), every piece from the model or a tool escaped, and the totals last."""

from __future__ import annotations

from orchestify_nb.providers.types import LLMResponse, ToolCall
from orchestify_nb.render.tool_steps import ToolStepsView
from orchestify_nb.tools import ToolEvent, ToolResult, ToolRun, ToolStep

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def finished(step: int, call: ToolCall, output: str, status: str = "ok") -> ToolEvent:
    result = ToolResult(call, call.name, status, output, 0.25)  # type: ignore[arg-type]
    return ToolEvent("call_finished", step, call, call.name, result=result)


def test_steps_are_shown_in_order_with_model_and_tool_text_escaped() -> None:
    first = ToolCall(id="c1", name="search", arguments={"q": HOSTILE})
    second = ToolCall(id="c2", name="fetch", arguments={"url": "https://example.com"})
    view = ToolStepsView(terminal=True)  # no display: only the bundle is checked
    view.add(ToolEvent("call_started", 1, first, "search"))
    view.add(finished(1, first, HOSTILE))
    view.note(2, f"Now fetching {HOSTILE}")
    view.add(finished(2, second, "Error: timed out", status="error"))
    run = ToolRun(
        run_id="r1",
        steps=[
            ToolStep(1, LLMResponse(content="", model="m", cost_usd=0.001)),
            ToolStep(2, LLMResponse(content="", model="m", cost_usd=0.002)),
        ],
    )
    run.steps[0].results.append(finished(1, first, "x").result)  # type: ignore[arg-type]
    view.add(ToolEvent("run_finished", 2, run=run))

    bundle = view.bundle()
    plain = bundle["text/plain"].splitlines()
    assert plain[0].startswith("[step 1] ✓ search(")
    assert plain[1] == f"[step 2] Now fetching {HOSTILE}"
    assert plain[2] == '[step 2] ✗ fetch({"url": "https://example.com"}) -> Error: timed out'
    assert (
        plain[3]
        == "[tool loop · 2 model turns · 1 tool call · 0 in / 0 out tokens · $0.003000 total]"
    )
    rich = bundle["text/html"]
    assert "<img" not in rich and rich.count("&lt;img") == 3
    assert rich.index("step 1") < rich.index("Now fetching") < rich.index("fetch</code>")
