"""A plain function is a tool: its schema comes from the signature, its description from the
docstring, and the model's arguments are validated (and coerced) before it runs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from orchestify_nb import tool
from orchestify_nb.errors import ToolDefinitionError
from orchestify_nb.tools.functions import ToolArgumentsError, as_tool


def search_docs(
    query: str,
    limit: Annotated[int, Field(description="How many hits, at most.")] = 5,
    kind: Literal["api", "guide"] = "guide",
) -> list[str]:
    """Search the documentation.

    Returns matching page titles."""
    return [f"{kind}:{query}"] * limit


def test_the_schema_comes_from_the_signature_and_the_description_from_the_docstring() -> None:
    made = as_tool(search_docs)

    assert made.name == "search_docs"
    assert made.description == "Search the documentation.\n\nReturns matching page titles."
    assert made.parameters == {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer", "default": 5, "description": "How many hits, at most."},
            "kind": {"enum": ["api", "guide"], "type": "string", "default": "guide"},
        },
        "required": ["query"],
        "additionalProperties": False,
    }
    assert made.spec().name == "search_docs"


def test_the_decorator_renames_and_describes_and_leaves_the_function_callable() -> None:
    @tool(name="lookup", description="Find a word.")
    def find(word: str) -> str:
        return word.upper()

    made = as_tool(find)

    assert (made.name, made.description) == ("lookup", "Find a word.")
    assert find("x") == "X"


def test_arguments_are_validated_coerced_and_refused_before_the_function_runs() -> None:
    made = as_tool(search_docs)

    assert (
        asyncio.run(made.call({"query": "tools", "limit": "2"})) == '["guide:tools", "guide:tools"]'
    )
    for bad, problem in [
        ({"limit": 2}, "query: Field required"),
        ({"query": "x", "kind": "blog"}, "kind: Input should be 'api' or 'guide'"),
        ({"query": "x", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"_raw": '{"query": '}, "not a JSON object"),
    ]:
        with pytest.raises(ToolArgumentsError, match=problem):
            asyncio.run(made.call(bad))


class Point(BaseModel):
    x: float
    y: float


def test_pydantic_model_arguments_and_results_travel_as_json() -> None:
    def mirror(point: Point) -> Point:
        """Mirror a point in the x axis."""
        return Point(x=point.x, y=-point.y)

    made = as_tool(mirror)

    assert made.parameters["properties"]["point"] == {"$ref": "#/$defs/Point"}
    assert asyncio.run(made.call({"point": {"x": 1, "y": 2}})) == '{"x":1.0,"y":-2.0}'


def test_functions_that_cannot_be_tools_are_refused_with_the_reason() -> None:
    def anything(*values: int) -> int:
        return sum(values)

    with pytest.raises(ToolDefinitionError, match=r"takes \*values"):
        as_tool(anything)
    with pytest.raises(ToolDefinitionError, match="letters, digits, _ and -"):
        as_tool(tool(name="has space")(search_docs))
    with pytest.raises(ToolDefinitionError, match="is not a tool"):
        as_tool("search_docs")  # type: ignore[arg-type]


def test_a_tool_returning_a_figure_or_image_parts_gives_the_model_an_image() -> None:
    from orchestify_nb.providers.content import ImagePart, TextPart
    from orchestify_nb.tools.functions import result_content
    from tests.media_samples import figure

    (drawn,) = result_content(figure(3.0, 2.0))
    assert isinstance(drawn, ImagePart) and drawn.data.startswith(b"\x89PNG")
    assert (drawn.width, drawn.height) == (300, 200)
    image = ImagePart(drawn.data, name="chart")
    assert result_content(["Views:", image]) == (TextPart("Views:"), image)
    assert result_content([1, 2, 3]) == "[1, 2, 3]"  # other values stay JSON text
