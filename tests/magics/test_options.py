"""The %%llm line: key=value words, the generated help, and the messages for bad options."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from orchestify_nb.magics.options import (
    CELL_OPTIONS,
    CellOptions,
    convert_options,
    split_words,
    to_argv,
)


def test_key_value_words_become_argparse_options_with_quotes_kept_together() -> None:
    words = split_words('provider=claude system="Be brief, please." --max_tokens 20 stream=no')
    assert to_argv(words) == [
        "--provider",
        "claude",
        "--system",
        "Be brief, please.",
        "--max_tokens",
        "20",
        "--stream",
        "no",
    ]


def test_values_are_converted_and_only_given_options_are_reported() -> None:
    options = convert_options({"temperature": "0.5", "max_tokens": "20", "stream": "no"})
    assert options == CellOptions(temperature=0.5, max_tokens=20, stream=False)
    assert options.given() == {"temperature": 0.5, "max_tokens": 20, "stream": False}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"temperature": "3"}, "temperature='3' is not valid: expected a number from 0 to 2"),
        ({"max_tokens": "0"}, "max_tokens='0' is not valid: expected a whole number above 0"),
        ({"out": "class"}, "out='class' is not valid: expected a Python variable name"),
        ({"stream": "maybe"}, "stream='maybe' is not valid: expected true or false"),
    ],
)
def test_ill_typed_values_name_the_option_and_what_it_expects(
    raw: dict[str, str | None], message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        convert_options(raw)


def test_unknown_option_suggests_the_close_one_and_lists_all() -> None:
    with pytest.raises(UsageError) as raised:
        to_argv(["modle=x"])
    text = str(raised.value)
    assert "unknown option 'modle' (did you mean model=?)" in text
    assert all(f"{spec.name}=" in text for spec in CELL_OPTIONS)


def test_the_magic_help_is_generated_from_the_same_declaration() -> None:
    from orchestify_nb.magics.llm_magic import LLMMagics

    help_text = LLMMagics.llm.__doc__ or ""
    for spec in CELL_OPTIONS:
        assert f"[{spec.name}={spec.metavar}]" in help_text  # usage line
        assert f"--{spec.name} {spec.metavar}" in help_text  # options section
        assert spec.help.split()[0] in help_text
