"""The StreamRenderer's display messages, captured by IPython's own capturing publisher."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

from orchestify_nb.providers.types import LLMResponse, StreamEvent
from orchestify_nb.render import METADATA_KEY, StreamRenderer, UpdateThrottle
from orchestify_nb.tokens import TokenCounts


@pytest.fixture
def published() -> Iterator[list[dict[str, Any]]]:
    shell = InteractiveShell.instance()
    publisher = CapturingDisplayPublisher(shell=shell)
    saved, shell.display_pub = shell.display_pub, publisher
    yield publisher.outputs
    shell.display_pub = saved
    InteractiveShell.clear_instance()


def response(text: str) -> LLMResponse:
    return LLMResponse(
        content=text, model="m", provider_id="p", tokens=TokenCounts(output=3), latency_s=0.5
    )


def test_one_display_is_updated_in_place_and_the_final_update_has_text_and_metadata(
    published: list[dict[str, Any]],
) -> None:
    renderer = StreamRenderer(throttle=UpdateThrottle(interval_s=3600), waiting_label="p · m")
    renderer.start()
    for word in ("Hel", "lo ", "world"):
        renderer.add(StreamEvent.text_delta(word))
        renderer.tick()  # the throttle is not due: held back text is not drawn yet
    renderer.finish(response("Hello world"), {"provider": "p"})

    assert len(published) == 3  # placeholder, first token, final
    assert "waiting for p · m" in published[0]["data"]["text/plain"]
    ids = {output["transient"]["display_id"] for output in published}
    assert len(ids) == 1
    assert [output["update"] for output in published] == [False, True, True]
    final = published[-1]
    assert final["data"]["text/markdown"].startswith("Hello world\n\n<sub>p · m · 0 in / 3 out")
    assert final["metadata"] == {METADATA_KEY: {"provider": "p"}}
    assert renderer.updates == 3


def test_text_held_back_by_the_throttle_is_drawn_when_idle_once_due(
    published: list[dict[str, Any]],
) -> None:
    throttle = UpdateThrottle(interval_s=3600)
    renderer = StreamRenderer(throttle=throttle)
    renderer.add(StreamEvent.text_delta("a"))
    renderer.add(StreamEvent.text_delta("b"))
    assert published[-1]["data"]["text/markdown"] == "a ▌"
    throttle.interval_s = 0
    renderer.tick()
    assert published[-1]["data"]["text/markdown"] == "ab ▌"
    renderer.tick()  # nothing new: no redundant update
    assert len(published) == 2


def test_interrupt_keeps_the_partial_answer_marked_interrupted(
    published: list[dict[str, Any]],
) -> None:
    renderer = StreamRenderer(output_format="json")
    renderer.start()
    renderer.add(StreamEvent.text_delta('{"a": 1,'))
    renderer.interrupt()
    final = published[-1]["data"]
    assert final["text/plain"] == '{"a": 1,\n\n[interrupted after 8 characters]'
    assert "application/json" not in final


def test_terminal_mode_writes_each_delta_and_a_footer() -> None:
    out = io.StringIO()
    renderer = StreamRenderer(terminal=True, stream=out)
    renderer.start()
    renderer.add(StreamEvent.thinking_delta("think"))
    renderer.add(StreamEvent.text_delta("Hi"))
    renderer.add(StreamEvent.text_delta(" there"))
    renderer.finish(response("Hi there"))
    assert (
        out.getvalue() == "[thinking]\nthink\n[answer]\nHi there\n"
        "[p · m · 0 in / 3 out tokens · cost unknown · 0.50 s]\n"
    )
