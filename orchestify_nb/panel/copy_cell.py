""" "Copy to new cell": put the last answer into a new notebook cell below the panel.

A widget callback runs in the kernel outside any execute request, so IPython's
``set_next_input`` has no reply to ride on there, and the kernel has no other way to add a cell.
The button is therefore plain HTML inside an ``HTML`` widget and does the work in the browser,
without a round trip to the (possibly busy) kernel: when JupyterLab exposes its application
(``window.jupyterapp``, started with ``--LabApp.expose_app_in_browser=True``) it inserts the cell
into the notebook that holds the panel, right below the panel's cell; otherwise it copies the text
to the clipboard and says so on the button.

The new cell is a code cell holding the answer's Python code blocks when it has any (and only
Python ones), else a Markdown cell holding the whole answer.
"""

from __future__ import annotations

import html
import re
from typing import Literal

CellKind = Literal["code", "markdown"]

LABEL = "Copy to new cell"
TOOLTIP = (
    "Insert the last answer in a new cell below the panel (its Python code as a code cell, "
    "otherwise the text as Markdown). Where JupyterLab does not expose its app to the page, "
    "the text is copied to the clipboard instead."
)

_FENCE = re.compile(r"^```[ \t]*([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_PYTHON = {"", "python", "py", "python3", "ipython", "ipython3"}

_ON_CLICK = """(function (button) {
  var text = button.getAttribute('data-text'), kind = button.getAttribute('data-kind');
  var say = function (label) {
    button.textContent = label;
    setTimeout(function () { button.textContent = button.getAttribute('data-label'); }, 2500);
  };
  var app = window.jupyterapp;
  var panels = app ? Array.from(app.shell.widgets('main')) : [];
  for (var i = 0; i < panels.length; i++) {
    var notebook = panels[i].content;
    if (!notebook || !notebook.widgets || !notebook.model) { continue; }
    var index = notebook.widgets.findIndex(function (c) { return c.node.contains(button); });
    if (index < 0) { continue; }
    notebook.model.sharedModel.insertCell(index + 1, {cell_type: kind, source: text});
    notebook.activeCellIndex = index + 1;
    say('Inserted below \\u2713');
    return;
  }
  navigator.clipboard.writeText(text).then(
    function () { say('Copied \\u2013 paste into a new cell'); },
    function () { say('Copy failed'); });
})(this)"""


def cell_for(answer: str) -> tuple[CellKind, str]:
    """What the new cell holds: the answer's Python code blocks, or the answer as Markdown."""
    blocks = _FENCE.findall(answer)
    if blocks and all(language.lower() in _PYTHON for language, _ in blocks):
        return "code", "\n\n".join(code.rstrip("\n") for _, code in blocks)
    return "markdown", answer


def copy_button_html(answer: str | None) -> str:
    """The button's markup; disabled until there is an answer to copy."""
    if not answer:
        return f'<button class="onb-copy" disabled title="{html.escape(TOOLTIP)}">{LABEL}</button>'
    kind, text = cell_for(answer)
    return (
        f'<button class="onb-copy" title="{html.escape(TOOLTIP)}" data-label="{LABEL}" '
        f'data-kind="{kind}" data-text="{html.escape(text)}" '
        f'onclick="{html.escape(_ON_CLICK)}">{LABEL}</button>'
    )
