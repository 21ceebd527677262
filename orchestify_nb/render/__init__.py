"""Live, throttled rendering of a stream, in a notebook and in terminal IPython.

``UpdateThrottle`` is shared by the magics and the widget panel; ``StreamRenderer`` draws one
magic answer; ``answer_bundle`` / ``response_bundle`` build the MIME bundles both use.
"""

from __future__ import annotations

from orchestify_nb.render.formats import (
    OUTPUT_FORMATS,
    OutputFormat,
    answer_bundle,
    extract_code,
    footer_text,
    parse_json_answer,
    response_bundle,
)
from orchestify_nb.render.stream import METADATA_KEY, StreamRenderer
from orchestify_nb.render.throttle import UpdateThrottle

__all__ = [
    "METADATA_KEY",
    "OUTPUT_FORMATS",
    "OutputFormat",
    "StreamRenderer",
    "UpdateThrottle",
    "answer_bundle",
    "extract_code",
    "footer_text",
    "parse_json_answer",
    "response_bundle",
]
