"""``redact`` removes a key however much of it is quoted: whole, its leading or trailing run of
8 or more characters (as APIs print a rejected key), in text or in bytes."""

from __future__ import annotations

from orchestify_nb.errors import redact

KEY = "sk-ant-" + "api03-PROBE01xyzQWERTYabcdef123"  # built at run time: no key-shaped literal


def test_a_truncated_echo_loses_its_leading_and_trailing_runs() -> None:
    shown = redact(f"Incorrect API key provided: {KEY[:14]}...{KEY[-10:]}.", [KEY])
    assert shown == "Incorrect API key provided: ***...***."
    # Shorter runs are too common to mean the key (and tell too little of it).
    assert redact(f"{KEY[:14]}...{KEY[-6:]}", [KEY]) == f"***...{KEY[-6:]}"


def test_bytes_are_scrubbed_like_text() -> None:
    body = f'{{"message": "invalid x-api-key: {KEY}", "hint": "{KEY[:20]}..."}}'.encode()
    assert redact(body, [KEY]) == b'{"message": "invalid x-api-key: ***", "hint": "***..."}'


def test_adjacent_and_repeated_echoes_all_go() -> None:
    assert redact(KEY + KEY[:9] + " " + KEY[-9:] + KEY, [KEY]) == "****** ******"
