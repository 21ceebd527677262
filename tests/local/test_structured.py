"""The bundled 270M local model with ``output_schema``: llama.cpp's JSON-schema grammar makes
every answer JSON of the schema's shape (its values may be silly; its shape may not)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from orchestify_nb.providers.local import LocalProvider

PROMPTS = [
    "A cat named Tom owns 3 toys and purrs all day.",
    "The robot Zed has 7 bolts loose and keeps crying.",
    "Anna baked 12 cakes for the fair; nobody came.",
    "Our team closed 40 tickets this sprint.",
    "The parrot Kiwi knows 25 words and sings them.",
    "A tired courier delivered 90 parcels in the rain.",
    "Bob found 2 coins on the beach.",
    "The library lost 300 books in the flood.",
    "Mia scored 5 goals and the crowd cheered.",
    "The old lighthouse has 1 lamp that still works.",
    "Sven planted 60 trees along the river.",
    "The bakery sold 0 croissants on Monday.",
    "A lonely whale sang 8 songs in the night.",
    "The startup hired 15 engineers this month.",
    "Grandma knitted 4 scarves for the twins.",
    "The fox stole 6 eggs from the farm.",
    "Lena read 52 novels this year and loved them.",
    "The server crashed 3 times before lunch.",
    "A choir of 30 voices filled the hall.",
    "The printer jammed 11 times today.",
]


class Record(BaseModel):
    name: str
    count: int
    mood: Literal["happy", "sad", "neutral"]


async def test_twenty_prompts_give_twenty_answers_that_fit_a_three_field_schema(
    provider: LocalProvider,
) -> None:
    fitted = []
    for prompt in PROMPTS:
        answer = await provider.complete(prompt, output_schema=Record, max_tokens=64, repair=0)
        fitted.append(answer.parsed)

    assert len(PROMPTS) == 20
    assert all(isinstance(record, Record) for record in fitted)
