"""PyYAML's safe loader with the two bounds a config file needs and PyYAML does not give.

Nesting: PyYAML composes recursively, a few Python frames per level, so a file nested a few
hundred levels deep (``[[[[...]]]]``) ends in a bare ``RecursionError``. ``ConfigLoader`` refuses
to compose deeper than ``MAX_DEPTH``, naming the line.

Aliases: a few lines of anchors, each aliasing the one before ten times ("billion laughs"), stand
for a document of a billion values; building it takes minutes and gigabytes. ``ConfigLoader``
keeps every alias as an ``Alias`` node that knows where it is written, so the builder (which
counts what aliases bring in against ``MAX_ALIAS_EXPANSION``) can name the line of the alias that
went too far. Merges (``<<: *defaults``) are aliases too and count the same way.

Both limits sit far above any real config: a handful of levels, a few hundred aliased values.
"""

from __future__ import annotations

from typing import Any, cast

import yaml

from orchestify_nb.config.messages import Problem

__all__ = [
    "ALIASES_TOO_LARGE",
    "MAX_ALIAS_EXPANSION",
    "MAX_DEPTH",
    "TOO_DEEP",
    "TOO_DEEP_THROUGH_ALIASES",
    "Alias",
    "ConfigLoader",
    "RefusedDocument",
    "unaliased",
]

#: Deepest nesting of lists and mappings read (the key paths of a config are 2 to 5 deep).
MAX_DEPTH = 64
#: Most values that aliases (``*name``, merges included) may bring into one document, in all.
MAX_ALIAS_EXPANSION = 10_000

TOO_DEEP = (
    f"lists and mappings are nested more than {MAX_DEPTH} levels deep here, and a config is "
    "never that deep (its keys sit a handful of levels down); remove the extra nesting, often "
    "brackets ([ or {) opened by mistake"
)
TOO_DEEP_THROUGH_ALIASES = (
    f"with what its aliases (*name) and merges (<<) bring in, this value nests more than "
    f"{MAX_DEPTH} levels deep, and a config is never that deep; write the values out instead "
    "of aliasing anchors that alias others"
)
ALIASES_TOO_LARGE = (
    f"the aliases (*name) and merges (<<) here expand the config past {MAX_ALIAS_EXPANSION:,} "
    "values, far more than a config holds (anchors that alias other anchors multiply, as in a "
    "'billion laughs' file); write the values out, or alias only anchors that hold no aliases"
)


class RefusedDocument(Exception):
    """A document refused for its shape (too deep, aliases expanding too far), at one line.

    Raised to stop reading at once: nothing after it would be worth reporting."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class Alias(yaml.Node):
    """An alias (``*name``) where it is written; ``value`` is the node its anchor names."""

    id = "alias"

    def __init__(self, target: yaml.Node, start_mark: yaml.Mark, end_mark: yaml.Mark) -> None:
        super().__init__(target.tag, target, start_mark, end_mark)


def unaliased(node: yaml.Node) -> yaml.Node:
    """The node itself, or the node an alias names."""
    return node.value if isinstance(node, Alias) else node


class ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses nesting beyond ``MAX_DEPTH`` and composes each alias as
    an ``Alias`` node, where PyYAML would put the anchored node itself."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            start, end = self._next_event_marks()
            target = cast(yaml.Node, super().compose_node(parent, index))  # or raises: undefined
            return Alias(target, start, end)
        if self._depth >= MAX_DEPTH:
            line = self._next_event_marks()[0].line + 1
            raise RefusedDocument(Problem((), TOO_DEEP, line=line))
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _next_event_marks(self) -> tuple[yaml.Mark, yaml.Mark]:
        """Where the next event starts and ends (this pure-Python loader always marks them)."""
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped stub
        return cast(yaml.Mark, event.start_mark), cast(yaml.Mark, event.end_mark)
