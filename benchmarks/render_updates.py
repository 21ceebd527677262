"""Display updates sent while streaming 5,000 tokens as fast as the emulator can, and the delay
from the last token to the final update (targets: <= ~10 updates/s, final update <= 0.1 s).

The stream goes the way ``%%llm`` sends it: the real Anthropic SDK over HTTP to the loopback
emulator, consumed through ``runtime.iterate_sync`` (private loop thread) into a notebook-mode
``StreamRenderer`` whose display messages are captured by IPython's capturing publisher (what
ipykernel would send over iopub). "Last token" is when the last text delta reached the private
loop; "final update" is when the last display message was published.

Run: ``.venv/bin/python benchmarks/render_updates.py``
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

TOKENS = 5_000


def main() -> None:
    scratch = tempfile.mkdtemp()
    os.environ["ORCHESTIFY_LEDGER"] = str(Path(scratch) / "ledger.sqlite3")
    from orchestify_nb.testing import LLMEmulator

    with LLMEmulator() as emulator:
        print("as fast as the emulator can:")
        measure(emulator, chunk_delay_s=0.0)
        print("paced at 1 ms a token (a long answer, to see the steady rate):")
        measure(emulator, chunk_delay_s=0.001)


def measure(emulator: Any, chunk_delay_s: float) -> None:
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    from orchestify_nb.providers.claude import ClaudeProvider
    from orchestify_nb.providers.types import StreamEvent
    from orchestify_nb.render import StreamRenderer
    from orchestify_nb.runtime import iterate_sync
    from orchestify_nb.testing import Reply

    shell = InteractiveShell.instance()
    published: list[float] = []

    class TimedPublisher(CapturingDisplayPublisher):
        def publish(self, data: Any, metadata: Any = None, source: Any = None, **kw: Any) -> None:
            published.append(time.monotonic())
            super().publish(data, metadata, source, **kw)

    shell.display_pub = TimedPublisher(shell=shell)
    text = "".join(f"tok{i % 10} " for i in range(TOKENS))  # 5 characters a token
    provider = ClaudeProvider(
        api_key="sk-bench", base_url=emulator.base_url, default_model="claude-sonnet-4-6"
    )
    emulator.enqueue(Reply(text="warm-up"))  # imports the SDK outside the measurement
    list(iterate_sync(lambda: provider.stream("warm up")))
    emulator.enqueue(
        Reply(text=text, chunk_chars=5, output_tokens=TOKENS, chunk_delay_s=chunk_delay_s)
    )
    text_events_at: list[float] = []

    async def timed_stream() -> AsyncIterator[StreamEvent]:
        try:
            async for event in provider.stream("Count to 5,000."):
                if event.type == "text":
                    text_events_at.append(time.monotonic())
                yield event
        finally:
            await provider.aclose()

    renderer = StreamRenderer(output_format="markdown")
    renderer.start()
    published.clear()  # the "waiting…" placeholder is not part of the stream
    final = None
    for event in iterate_sync(timed_stream, on_idle=renderer.tick):
        if event.type == "done":
            final = event.response
        else:
            renderer.add(event)
    assert final is not None and final.content == text
    renderer.finish(final, {})

    first_token, last_token = text_events_at[0], text_events_at[-1]
    stream_s = last_token - first_token
    updates = len(published)
    live = published[:-1]  # the final update may follow a live one at once
    gaps = [b - a for a, b in itertools.pairwise(live)]
    print(f"  {TOKENS:,} tokens in {len(text_events_at):,} text deltas over {stream_s:.2f} s")
    print(f"  display updates sent: {updates} (one per delta would be {len(text_events_at):,})")
    print(
        f"  rate: {updates / max(stream_s, 0.1):.1f} updates/s; shortest gap between live "
        f"updates: {min(gaps) * 1000:.0f} ms"
        if gaps
        else "  no live update between first and final"
    )
    print(
        f"  delay from last token to final update: {(published[-1] - last_token) * 1000:.1f} ms "
        "(target <= 100 ms)"
    )


if __name__ == "__main__":
    main()
