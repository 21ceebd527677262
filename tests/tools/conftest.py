"""The tool loop runs against every SDK-backed provider on the loopback emulator: the
providers' fixtures (one backend per API route) are shared with tests/providers."""

from tests.providers.conftest import backend, llm_emulator, make_provider, provider

__all__ = ["backend", "llm_emulator", "make_provider", "provider"]
