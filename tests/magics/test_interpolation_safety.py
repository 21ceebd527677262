"""``@{...}`` cannot walk from a notebook variable to the session's keys or the environment,
never renders a secret, and reports a raising property or ``__str__`` as one error."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretBytes, SecretStr

from orchestify_nb.config import load_config
from orchestify_nb.magics.interpolation import InterpolationError, interpolate
from orchestify_nb.registry import ProviderRegistry

KEY = "sk-ant-" + "interpolation-SECRET-0001"  # built at run time: no key-shaped literal


class Holder:
    """An object with a private attribute and a method, like a provider or a session."""

    def __init__(self) -> None:
        self._api_key = SecretStr(KEY)
        self.public = "fine"

    def method(self) -> None:
        """Its ``__func__.__globals__`` is this module's namespace."""


class ApiSecretToken:
    """Not pydantic, but named as a secret: never rendered."""

    def __str__(self) -> str:
        return KEY


class Exploding:
    @property
    def value(self) -> str:
        raise ValueError("the property failed")

    def __str__(self) -> str:
        raise RuntimeError("__str__ failed")


def _generator() -> Iterator[int]:
    yield 1


def namespace() -> dict[str, Any]:
    registry = ProviderRegistry.from_config(
        load_config({"providers": {"claude": {"type": "anthropic", "api_key": KEY}}})
    )
    return {
        "holder": Holder(),
        "registry": registry,
        "provider": registry.get("claude"),
        "os": os,
        "sys": sys,
        "environ": os.environ,
        "gen": _generator(),
        "key": SecretStr(KEY),
        "raw_key": SecretBytes(KEY.encode()),
        "token": ApiSecretToken(),
        "exploding": Exploding(),
        "__builtins__": __builtins__,
        "_": "last output",
        "_tmp": "mine",
    }


@pytest.mark.parametrize(
    "reference",
    [
        "holder._api_key",
        "holder._api_key._secret_value",
        "holder.method.__func__.__globals__",
        "holder.__dict__",
        "holder.__class__",
        "provider._api_key",
        "registry._providers",
    ],
)
def test_attribute_steps_starting_with_underscore_are_refused(reference: str) -> None:
    with pytest.raises(InterpolationError, match="attributes starting with _"):
        interpolate(f"@{{{reference}}}", namespace())


@pytest.mark.parametrize("reference", ["os.environ", "os.path", "sys.modules", "sys.path"])
def test_attributes_of_modules_are_refused(reference: str) -> None:
    with pytest.raises(InterpolationError, match="is a module, whose attributes are not followed"):
        interpolate(f"@{{{reference}}}", namespace())


def test_frames_of_generators_are_not_followed_to_their_globals() -> None:
    with pytest.raises(InterpolationError, match="gen is generator"):
        interpolate("@{gen.gi_frame.f_globals}", namespace())


@pytest.mark.parametrize("reference", ["environ", "environ['HOME']"])
def test_the_process_environment_is_refused(reference: str) -> None:
    with pytest.raises(InterpolationError, match="the process environment"):
        interpolate(f"@{{{reference}}}", namespace())


@pytest.mark.parametrize(
    "reference",
    ["key", "raw_key", "token", "registry.config.providers['claude'].api_key"],
)
def test_secrets_are_never_rendered_not_even_masked(reference: str) -> None:
    with pytest.raises(InterpolationError, match="it is a secret") as raised:
        interpolate(f"@{{{reference}}}", namespace())
    assert KEY not in str(raised.value)


def test_dunder_variables_are_refused_while_history_and_public_attributes_work() -> None:
    with pytest.raises(InterpolationError, match="special \\(dunder\\) names"):
        interpolate("@{__builtins__}", namespace())
    sent = interpolate("@{holder.public} @{_} @{_tmp} @{os}", namespace())
    assert sent == f"fine last output mine {os}"


def test_a_raising_property_is_one_error_naming_the_reference_and_the_exception() -> None:
    with pytest.raises(InterpolationError) as raised:
        interpolate("@{exploding.value}", namespace())
    text = str(raised.value)
    assert "@{exploding.value}" in text
    assert "reading exploding.value raised ValueError: the property failed" in text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_raising_str_is_one_error_naming_the_reference_and_the_exception() -> None:
    with pytest.raises(InterpolationError, match=r"str\(\) of exploding raised RuntimeError"):
        interpolate("@{exploding}", namespace())
