"""``warm_up_providers``: the configured SDKs (and only those) are imported and a client built
without sending anything; a local model is not loaded; a provider that cannot be prepared is
left for its first call to report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from orchestify_nb.testing import LLMEmulator

_PROBE = """\
import json, sys
from orchestify_nb.config import load_config
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.registry.warming import warm_up_providers
config = load_config({config!r})
registry = ProviderRegistry.from_config(config)
warm_up_providers({{pid: registry.get(pid) for pid in registry}})
print(json.dumps([m for m in ("anthropic", "openai", "litellm", "llama_cpp") if m in sys.modules]))
"""


def _warm(config: dict[str, object]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    shown = subprocess.run(
        [sys.executable, "-c", _PROBE.format(config=config)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert shown.stderr == "", shown.stderr
    loaded: list[str] = json.loads(shown.stdout)
    return loaded


def test_only_the_configured_sdks_are_imported_and_nothing_is_sent(
    llm_emulator: LLMEmulator,
) -> None:
    config = {
        "providers": {
            "claude": {"type": "anthropic", "api_key": "k", "base_url": llm_emulator.base_url},
            "local": {"type": "local"},
        }
    }
    assert _warm(config) == ["anthropic"]
    assert llm_emulator.requests == []


def test_a_provider_without_a_key_is_left_for_its_first_call() -> None:
    config = {"providers": {"gpt": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}}}
    assert _warm(config) == ["openai"]
