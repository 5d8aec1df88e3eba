"""The checked-in JSON Schemas under schemas/ are exactly what the pydantic models generate."""

from __future__ import annotations

import difflib

from tools import schemas


def test_checked_in_schemas_match_the_models():
    problems = []
    for file_name, schema in schemas.generate().items():
        path = schemas.SCHEMA_DIR / file_name
        expected = schemas.render(schema)
        if not path.is_file():
            problems.append(f"schemas/{file_name} is missing")
            continue
        actual = path.read_text()
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    actual.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    f"schemas/{file_name} (checked in)",
                    f"schemas/{file_name} (from the model)",
                )
            )
            problems.append(diff)
    assert not problems, "schemas are out of date; run `python -m tools.schemas` and commit:\n" + "\n".join(
        problems
    )


def test_every_schema_refuses_unknown_fields():
    for file_name, schema in schemas.generate().items():
        if file_name.startswith("http_query_"):
            # A query string's unknown parameters are ignored, as most APIs do (a cache-buster,
            # a tracking tag): the models say extra="ignore", and the schema says so by omission.
            assert "additionalProperties" not in schema, file_name
            continue
        assert schema["additionalProperties"] is False, file_name
