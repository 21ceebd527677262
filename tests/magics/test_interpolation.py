"""``@{name}`` interpolation: what is replaced, what is left alone, and the errors."""

from __future__ import annotations

import pytest

from orchestify_nb.magics.interpolation import InterpolationError, interpolate

NAMESPACE = {
    "n": 3,
    "cfg": {"model": "m", "k": [10, 20]},
    "In": ["", "x = 1", "print(x)"],
    "Out": {2: "done"},
    "text": "hello",
}


@pytest.mark.parametrize(
    ("prompt", "sent"),
    [
        ("n is @{n}", "n is 3"),
        ("@{cfg['model']} and @{cfg[\"k\"][-1]}", "m and 20"),
        ("cell 1: @{In[1]}, out 2: @{Out[2]}", "cell 1: x = 1, out 2: done"),
        ("@{text.upper}", f"{'hello'.upper}"),  # attributes are read, never called
        ("literal @@{n}", "literal @{n}"),
    ],
)
def test_marked_references_are_replaced(prompt: str, sent: str) -> None:
    assert interpolate(prompt, NAMESPACE) == sent


@pytest.mark.parametrize(
    "pasted",
    [
        'f"{n}" and {"a": 1} and {n}',
        "{{ n }} {% if n %}",
        "$n ${n} $(n)",
        "git show HEAD@{1}; git log @{-1}",
        "@{ n } @{n + 1} @{n()} @{$ref} @{}",
        "PowerShell @{Name='x'; Id=1}",
    ],
)
def test_code_people_paste_is_sent_verbatim(pasted: str) -> None:
    assert interpolate(pasted, NAMESPACE) == pasted


def test_an_undefined_name_is_an_error_naming_it_and_the_escape() -> None:
    with pytest.raises(InterpolationError, match=r"no variable 'missing'.*@@\{missing\}"):
        interpolate("see @{missing}", NAMESPACE)


def test_a_failing_step_names_where_it_broke() -> None:
    with pytest.raises(InterpolationError, match=r"cfg\['nope'\] fails \(KeyError"):
        interpolate("@{cfg['nope']}", NAMESPACE)
    with pytest.raises(InterpolationError, match=r"In\[9\] fails \(IndexError"):
        interpolate("@{In[9]}", NAMESPACE)
