"""Getting providers ready before their first call: import each configured SDK and build (then
close) one client on a throwaway event loop, so the lazy imports and the shared TLS context
are done. No request is sent, and a failure is left for the first real call to report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from orchestify_nb.providers.base import LLMProvider

__all__ = ["warm_up_providers"]

logger = logging.getLogger("orchestify_nb.registry")

#: Provider types not warmed: a local model is gigabytes of memory, loaded only when used.
_NOT_WARMED = frozenset({"local"})


def warm_up_providers(providers: Mapping[str, LLMProvider]) -> None:
    """Prepare every provider whose type is warmed, one after the other (the same SDK is
    imported once); meant for a background thread."""
    for provider_id, provider in providers.items():
        if provider.provider_type in _NOT_WARMED:
            continue
        try:
            asyncio.run(_prepare_and_close(provider))
        except Exception as error:  # the first call meets the same problem and reports it
            logger.debug("warming provider %r failed: %s", provider_id, type(error).__name__)


async def _prepare_and_close(provider: LLMProvider) -> None:
    """What the provider does before its first request (``_prepare``), on a loop of its own;
    the client built there belongs to this loop, so it is closed here too."""
    try:
        await provider._prepare()
    finally:
        await provider.aclose()
