"""``%llm fix`` and ``%llm explain``: the kernel's own state as the question.

``%llm fix [QUESTION]``, run right after a cell failed, sends that cell's source, the error with
its traceback (the notebook's frames first, ``context.render``), and the names and kinds of the
variables the cell uses; the answer streams as usual, and its corrected cell (its code block) is
offered as the next cell. ``%llm explain @{df}`` asks for a short description of an object,
rendered the same way as any ``@{...}``. As cells, ``%%llm fix provider=... model=...`` takes the
question from the cell's body and the line's options as ``%%llm`` does (``%%llm explain`` too).
"""

from __future__ import annotations

import ast
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from orchestify_nb.magics.commands import CommandContext
    from orchestify_nb.magics.options import CellOptions
    from orchestify_nb.session import NotebookSession

FIX_REQUEST = (
    "The notebook cell below failed. Explain the cause in two or three sentences, then give the "
    "corrected cell as one complete ```python code block."
)
EXPLAIN_REQUEST = (
    "Describe this object briefly for a data scientist: what it holds, its structure, and "
    "anything notable (missing values, odd types, outliers)."
)


def last_error() -> BaseException | None:
    """The exception IPython last showed a traceback for."""
    return getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)


def failing_source(shell: InteractiveShell) -> str:
    """The cell before this one: ``%llm fix`` is meant to follow the cell that failed."""
    inputs = shell.user_ns.get("In") or []
    return str(inputs[-2]) if len(inputs) >= 2 else ""


def variables_used(shell: InteractiveShell, source: str) -> list[str]:
    """``name: kind`` for each notebook variable the source names (no values: those go only
    where the user writes ``@{name}``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = dict.fromkeys(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    described = []
    for name in names:
        if name in shell.user_ns and not name.startswith("_"):
            value = shell.user_ns[name]
            shape = getattr(value, "shape", None)
            extra = f", shape {tuple(shape)}" if isinstance(shape, tuple) else ""
            described.append(f"{name}: {type(value).__name__}{extra}")
    return described


def _literal(text: str) -> str:
    """Text sent as it is: ``@{...}`` in pasted code or a traceback is not a reference."""
    return text.replace("@{", "@@{")


def fix_command(context: CommandContext, args: list[str]) -> Any:
    from orchestify_nb.magics.options import CellOptions

    fix(context.shell, context.session, " ".join(args), CellOptions())


def explain_command(context: CommandContext, args: list[str]) -> Any:
    from orchestify_nb.magics.options import CellOptions

    explain(context.shell, context.session, " ".join(args), CellOptions())


def fix(
    shell: InteractiveShell, session: NotebookSession, question: str, options: CellOptions
) -> None:
    """Ask why the last cell failed (and ``question``), with ``options`` (provider=, model=...
    of a ``%%llm fix`` line); offer the answer's code block as the next cell."""
    from orchestify_nb.context import render
    from orchestify_nb.magics.cell import run_llm_cell
    from orchestify_nb.render import extract_code

    error = last_error()
    if error is None:
        raise UsageError(
            "%llm fix: no error to fix yet; run the cell that fails, then %llm fix in the next cell"
        )
    source = failing_source(shell)
    variables = variables_used(shell, source)
    parts = [
        FIX_REQUEST,
        f"Cell:\n```python\n{_literal(source)}\n```",
        f"Error:\n{_literal(render(error).text)}",
    ]
    if variables:
        parts.append("Variables the cell uses:\n" + "\n".join(f"- {v}" for v in variables))
    if question.strip():
        parts.append(f"The user asks: {question.strip()}")
    response = run_llm_cell(shell, session, options, "\n\n".join(parts))
    if "```" in response.content:
        shell.set_next_input(extract_code(response.content).code, replace=False)


def explain(
    shell: InteractiveShell, session: NotebookSession, what: str, options: CellOptions
) -> None:
    """Ask for a short description of ``what`` (``@{df}``, and anything said with it)."""
    from orchestify_nb.magics.cell import run_llm_cell

    if not what.strip():
        raise UsageError("%llm explain: name what to explain, e.g. %llm explain @{df}")
    run_llm_cell(shell, session, options, f"{EXPLAIN_REQUEST}\n\n{what.strip()}")
