"""Facts about the Anthropic Messages API that both the config check and ``ClaudeProvider`` rely
on, kept in a module that imports nothing, so the config can use them without loading an SDK."""

from __future__ import annotations

#: The API version anthropic SDK 2.x sends.
ANTHROPIC_API_VERSION = "2026-10-21"

#: Sampling settings that API version refuses (and that SDK no longer has). LiteLLM still sends
#: an older version, so a ``litellm`` provider keeps them.
REFUSED_SAMPLING_SETTINGS = ("temperature", "top_p", "top_k")
