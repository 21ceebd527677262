"""How conversations are rendered for a local model, and how stop sequences are held back."""

from __future__ import annotations

import pytest

from orchestify_nb.errors import UnsupportedOptionError
from orchestify_nb.providers.local_prompt import StopGate, render_prompt
from orchestify_nb.providers.types import LLMMessage

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CONVERSATION = [
    LLMMessage(role="user", content="Name a colour."),
    LLMMessage(role="assistant", content="Blue."),
    LLMMessage(role="user", content="Another?"),
]


def test_base_model_gets_a_transcript_that_ends_where_the_assistant_speaks() -> None:
    prompt = render_prompt(CONVERSATION, "Answer briefly.", "auto", chat_template=None)

    assert prompt.prompt_format == "transcript"
    assert prompt.text == (
        "Answer briefly.\n\nUser: Name a colour.\nAssistant: Blue.\nUser: Another?\nAssistant:"
    )
    assert prompt.stop == ("\nUser:",)
    assert (prompt.add_bos, prompt.special_tokens) == (True, False)


def test_completion_format_sends_the_text_as_is_for_the_model_to_continue() -> None:
    messages = [LLMMessage(role="user", content="Once upon a time")]

    prompt = render_prompt(messages, None, "completion")

    assert prompt.text == "Once upon a time"
    assert prompt.stop == ()


def test_instruct_model_gets_its_own_chat_template() -> None:
    prompt = render_prompt(CONVERSATION, "Be brief.", "auto", chat_template=CHATML)

    assert prompt.prompt_format == "chat_template"
    assert prompt.text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nName a colour.<|im_end|>\n"
        "<|im_start|>assistant\nBlue.<|im_end|>\n"
        "<|im_start|>user\nAnother?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert (prompt.add_bos, prompt.special_tokens) == (False, True)


def test_asking_for_a_chat_template_the_model_lacks_is_an_error() -> None:
    with pytest.raises(UnsupportedOptionError, match="no chat template"):
        render_prompt(CONVERSATION, None, "chat_template", chat_template=None)


def test_stop_sequence_split_across_tokens_is_never_shown() -> None:
    gate = StopGate(["\nUser:"], strip_leading_space=True)

    shown = [gate.feed(piece) for piece in [" Paris", ".", "\n", "Us", "er", ":"]]

    assert shown == [
        ("Paris", False),
        (".", False),
        ("", False),
        ("", False),
        ("", False),
        ("", True),
    ]


def test_held_back_text_that_turns_out_not_to_be_a_stop_is_released() -> None:
    gate = StopGate(["\nUser:"], strip_leading_space=False)

    assert gate.feed("a\nU") == ("a", False)
    assert gate.feed("mbrella") == ("\nUmbrella", False)
    assert gate.feed("\n") == ("", False)
    assert gate.flush() == "\n"
