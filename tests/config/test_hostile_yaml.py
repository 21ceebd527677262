"""Files shaped to exhaust the reader are refused at their line, quickly and with little memory:
nesting thousands of levels deep (a bare ``RecursionError`` otherwise), and aliases that multiply
("billion laughs": a few lines standing for a billion values, minutes and gigabytes to build).
Ordinary anchors and merge keys keep working."""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.config.bounded_yaml import MAX_ALIAS_EXPANSION, Alias
from orchestify_nb.config.source import _Builder
from orchestify_nb.errors import ConfigError

#: Nine anchors, each a list of ten aliases of the one before: 10**9 strings once built.
BILLION_LAUGHS = (
    'lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + ("".join(f"lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10)))
)
#: The same with merge keys: each mapping merges the one before ten times over.
MERGE_BOMB = "m0: &m0 {a: 1, b: 2, c: 3}\n" + "".join(
    f"m{n}: &m{n} {{<<: [{', '.join([f'*m{n - 1}'] * 10)}], n{n}: 0}}\n" for n in range(1, 10)
)


def load_error(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    return str(caught.value)


def values_built(action: Callable[[], object]) -> int:
    """How many values the YAML builder built while ``action`` ran: its calls for a node, not
    for an alias (which only hands on the node it names)."""
    calls = 0
    build = _Builder.build.__code__

    def count(frame: FrameType, event: str, _arg: Any) -> None:
        nonlocal calls
        if (
            event == "call"
            and frame.f_code is build
            and not isinstance(frame.f_locals["node"], Alias)
        ):
            calls += 1

    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


# --------------------------------------------------------------------------------- nesting
def test_flow_nesting_thousands_deep_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    text = "providers:\n  claude:\n    type: anthropic\n    options: " + "[" * 5000 + "]" * 5000

    message = load_error(path, text + "\n")

    assert message.startswith(f"Config file {path}, line 4: ")
    assert "nested more than 64 levels deep" in message
    assert "a config is never that deep" in message and "remove the extra nesting" in message


def test_block_nesting_names_the_line_where_it_got_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    text = "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(3000)) + "  " * 3000 + "x\n"

    message = load_error(path, text)

    # The root mapping is level 1 and holds k0 (level 2, line 1): k63, on line 64, is level 65.
    assert message.startswith(f"Config file {path}, line 64: lists and mappings are nested")


def test_aliases_cannot_stack_anchors_deeper_than_the_limit(tmp_path: Path) -> None:
    chain = "a0: &a0 [x]\n" + "".join(f"a{n}: &a{n} [*a{n - 1}]\n" for n in range(1, 500))

    message = load_error(tmp_path / "c.yaml", chain)

    assert "line 64, key a63[0]" in message
    assert "with what its aliases (*name) and merges (<<) bring in" in message
    assert "nests more than 64 levels deep" in message


def test_a_chain_of_merges_cannot_nest_deeper_than_the_limit(tmp_path: Path) -> None:
    """Merges do not deepen the key path, but each is built inside the one that merges it."""
    chain = "providers:\n  p0: &p0 {type: openai}\n" + "".join(
        f"  p{n}: &p{n} {{<<: *p{n - 1}}}\n" for n in range(1, 2000)
    )

    message = load_error(tmp_path / "c.yaml", chain)

    assert "line 64, key providers.p62" in message and "nests more than 64 levels" in message


def test_a_mapping_that_holds_itself_is_a_config_error_not_a_recursion_error() -> None:
    options: dict[str, Any] = {"stop": ["x"]}
    options["again"] = options

    with pytest.raises(ConfigError) as caught:
        load_config({"providers": {"gpt": {"type": "openai", "options": options}}})

    assert str(caught.value).startswith(
        "Config mapping, key providers.gpt.options: values are nested more than 64 levels deep"
    )


def test_ordinary_nesting_in_options_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n  gpt:\n    type: openai\n"
        "    options: {extra_body: {a: {b: {c: [1, [2, [3, {d: [4]}]]]}}}}\n"
    )

    options = load_config(path).providers["gpt"].options

    assert options["extra_body"]["a"]["b"]["c"][1][1][1] == {"d": [4]}


# --------------------------------------------------------------------------------- aliases
def test_a_billion_laughs_file_is_refused_after_at_most_the_alias_limit(tmp_path: Path) -> None:
    """Unguarded, this file builds 10**9 values (minutes, many GB); pytest-timeout (300 s)
    stops that. Guarded, building stops at the limit, with little memory."""
    path = tmp_path / "orchestify.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    caught: list[ConfigError] = []

    def load() -> None:
        try:
            load_config(path)
        except ConfigError as error:
            caught.append(error)

    tracemalloc.start()
    try:
        built = values_built(load)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert caught, "the file loaded"
    message = str(caught[0])
    # lol1 and lol2 bring in 1,220 values; the 8th alias of lol3 crosses 10,000.
    assert message.startswith(f"Config file {path}, line 4, key lol3[7]: the aliases (*name)")
    assert "past 10,000 values" in message and "'billion laughs'" in message
    assert "write the values out, or alias only anchors that hold no aliases" in message
    file_values = 11 + 9 * 11  # each line's key value and its items, built once as written
    assert 0 < built <= MAX_ALIAS_EXPANSION + file_values + 1
    assert peak < 32 * 2**20


def test_merge_keys_that_multiply_are_refused_like_aliases(tmp_path: Path) -> None:
    messages: list[str] = []
    built = values_built(lambda: messages.append(load_error(tmp_path / "c.yaml", MERGE_BOMB)))

    assert "line 5, key m4: the aliases (*name) and merges (<<)" in messages[0]
    assert "past 10,000 values" in messages[0]
    file_values = 4 + 9 * 2  # m0 and its values; each later line's mapping and its n value
    assert 0 < built <= MAX_ALIAS_EXPANSION + file_values + 1


def test_an_alias_used_many_times_within_the_limit_loads(tmp_path: Path) -> None:
    """Forty providers merging one block of defaults: a big config, well inside the limit."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n  base: &base\n    type: openai\n    max_tokens: 100\n    timeout: 30\n"
        + "".join(f"  p{n}:\n    <<: *base\n    default_model: m{n}\n" for n in range(40))
    )

    providers = load_config(path).providers

    assert len(providers) == 41
    assert providers["p39"].timeout == 30 and providers["p39"].default_model == "m39"


# ---------------------------------------------------------------------------------- merges
def test_merge_lists_let_the_first_mapping_win_and_written_keys_win_over_all(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n"
        "  gpt: &gpt\n    type: openai\n    max_tokens: 100\n"  # lines 2-4
        "  slow: &slow\n    type: litellm\n    timeout: 90\n"  # lines 5-7
        "  both:\n    <<: [*gpt, *slow]\n    max_tokens: 200\n"  # lines 8-10
    )

    config = load_config(path)
    both = config.providers["both"]

    assert (both.type, both.max_tokens, both.timeout) == ("openai", 200, 90)
    assert config.line_of(("providers", "both", "type")) == 3  # where the merged value is written
    assert config.line_of(("providers", "both", "max_tokens")) == 10


def test_a_mapping_that_merges_itself_is_reported_at_the_alias(tmp_path: Path) -> None:
    message = load_error(tmp_path / "c.yaml", "providers:\n  c: &c\n    type: openai\n    <<: *c\n")

    assert "line 4, key providers.c: an alias (*name) refers to the list or mapping" in message
