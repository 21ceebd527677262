"""The ``%%llm`` options are declared once (on ``CellOptions``' fields), and ``out=`` refuses
names that IPython or Python use themselves."""

from __future__ import annotations

from dataclasses import fields

import pytest
from IPython.core.error import UsageError

from orchestify_nb.magics.options import CELL_OPTIONS, CellOptions, convert_options


def test_each_option_is_declared_by_its_cell_options_field() -> None:
    declared = [(f.name, f.metadata["option"]) for f in fields(CellOptions)]
    assert [name for name, _ in declared] == [spec.name for spec in CELL_OPTIONS]
    for (_, declaration), spec in zip(declared, CELL_OPTIONS, strict=True):
        assert declaration == {
            "metavar": spec.metavar,
            "help": spec.help,
            "convert": spec.convert,
            "kind": spec.kind,
        }


@pytest.mark.parametrize(
    "name",
    [
        "get_ipython",
        "__builtins__",
        "__name__",
        "In",
        "Out",
        "_",
        "__",
        "___",
        "_i",
        "_ii",
        "_i3",
        "_7",
        "_oh",
        "_ih",
        "_dh",
        "exit",
        "quit",
        "print",
        "len",
        "list",
    ],
)
def test_out_refuses_names_that_ipython_or_python_use(name: str) -> None:
    with pytest.raises(UsageError, match=f"out={name!r} is not valid: {name} is a name IPython"):
        convert_options({"out": name})


def test_out_still_takes_the_users_own_names() -> None:
    assert convert_options({"out": "answer"}).out == "answer"
    assert convert_options({"out": "_draft"}).out == "_draft"
    with pytest.raises(UsageError, match="out='_' is not valid"):
        convert_options({"out": "_"})
