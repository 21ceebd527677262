"""A typed answer drawn while it streams: the object as far as its JSON goes, escaped."""

from __future__ import annotations

from orchestify_nb.render.parsed import growing_bundle


def test_a_half_streamed_object_shows_the_fields_so_far() -> None:
    bundle = growing_bundle('{"vendor": "AC<b>ME", "total": 12', wrapped=False)

    assert bundle is not None
    assert "<th>vendor</th><td>AC&lt;b&gt;ME</td>" in bundle["text/html"]
    assert "<th>total</th><td>12</td>" in bundle["text/html"]


def test_a_wrapped_label_shows_as_itself_and_nothing_readable_shows_nothing() -> None:
    label = growing_bundle('{"value": "neg', wrapped=True)

    assert label is not None and "<td>neg</td>" in label["text/html"]
    assert growing_bundle("Sure! Here", wrapped=False) is None
