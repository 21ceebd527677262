"""The ``LLMMagics`` class: ``%%llm`` (a prompt cell) and ``%llm SUBCOMMAND`` (everything else).

The magic is thin: parse the line, then hand over to ``cell.run_llm_cell`` or
``commands.run_subcommand``. Everything heavy (config, providers, rendering) is imported on
first use, so ``%load_ext`` stays fast.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from orchestify_nb.magics.cell import current_cell_number
from orchestify_nb.magics.commands import subcommands_help
from orchestify_nb.magics.options import (
    OPTION_NAMES,
    convert_options,
    llm_magic_arguments,
    split_words,
    to_argv,
)
from orchestify_nb.magics.warm_up import wait_for_warm_up

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from orchestify_nb.providers.types import LLMResponse

_PROMPT_SYNTAX = """\
The cell body is the prompt, sent as written: {braces}, {{ }}, $x and ${x} in pasted code are
never touched. @{name} inserts str() of a notebook variable; attribute and index steps work,
nothing else is evaluated: @{df.columns}, @{In[3]} (the source of cell 3), @{Out[5]}, @{_}.
@@{name} sends the text @{name} itself. An undefined name is an error.

The cell's value is the LLMResponse (so `_` works; out=VAR stores it too); chat=NAME keeps a
conversation. Options can also be written --key value.
"""


@magics_class
class LLMMagics(Magics):
    """Holds what the magics add to a shell: the magic itself and the display of responses."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        #: (execution count, response) of the answer a %%llm cell just rendered and returned.
        self._returned: tuple[int, LLMResponse] | None = None

    @llm_magic_arguments(epilog=f"{subcommands_help()}\n\n{_PROMPT_SYNTAX}")
    # IPython would otherwise evaluate {expressions} and $names on the magic's line, before
    # the magic sees it: a pasted line could read os.environ. Only @{name} inserts a value.
    @no_var_expand
    @line_cell_magic
    def llm(self, line: str, cell: str | None = None) -> Any:
        """Ask an LLM: the cell body is the prompt; the answer streams into the output.

        Defaults come from the config (default_provider, the provider's default_model); an
        agent=NAME from the config's agents: section supplies its own defaults.
        """
        started = time.monotonic()  # the user's wait starts with the cell, warm-up included
        wait_for_warm_up(everything=False)
        from orchestify_nb.errors import OrchestifyError
        from orchestify_nb.magics.cell import as_usage_error, run_llm_cell
        from orchestify_nb.magics.commands import CommandContext, run_subcommand
        from orchestify_nb.render.first_token import user_waiting_since
        from orchestify_nb.session import get_session

        assert self.shell is not None
        declared: Any = LLMMagics.llm  # carries the parser and help built by magic_arguments
        words = split_words(line)
        session = get_session()
        if cell is None:
            context = CommandContext(self.shell, session, declared.__doc__ or "")
            try:
                return run_subcommand(context, words)
            except (OrchestifyError, ValueError) as error:
                raise as_usage_error(session, error) from None
        asking = words[0] if words and words[0] in ("fix", "explain") else None
        parsed = declared.parser.parse_args(to_argv(words[1:] if asking else words))
        if parsed.words:
            raise UsageError(
                f"%%llm: unexpected {' '.join(parsed.words)!r} on the %%llm line; options are "
                "written key=value, and the prompt goes in the cell body below the line"
            )
        options = convert_options({name: getattr(parsed, name) for name in OPTION_NAMES})
        if asking is not None:  # %%llm fix / %%llm explain: the body is the question
            from orchestify_nb.magics.fix_command import explain, fix

            (fix if asking == "fix" else explain)(self.shell, session, cell, options)
            return None
        with user_waiting_since(started):
            response = run_llm_cell(self.shell, session, options, cell)
        if getattr(self.shell, "kernel", None) is None:
            # Terminal IPython writes "Out[n]: " before asking how to display the value, which
            # would leave an empty prompt under the printed answer: set `_` and Out[n] directly.
            displayhook: Any = self.shell.displayhook
            displayhook.update_user_ns(response)
            return None
        self._returned = (current_cell_number(self.shell), response)
        return response

    def display_response(self, response: LLMResponse) -> None:
        """How IPython shows an ``LLMResponse``: nothing for the value of the ``%%llm`` cell
        that already rendered it (no double printing), the rendered answer anywhere else."""
        assert self.shell is not None
        returned = self._returned
        if (
            returned is not None
            and returned[1] is response
            and returned[0] == current_cell_number(self.shell)
        ):
            return
        from IPython.display import display

        from orchestify_nb.render import response_bundle

        show: Any = display
        show(response_bundle(response), raw=True)
