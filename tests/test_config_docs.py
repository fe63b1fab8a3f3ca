"""docs/configuration.md and the config model (driftwatch/config.py) describe the same keys.

Both ways: a key added to the model without a row on the page fails here, and so does a
row for a key the model does not have (a rename, a typo). Each row's default is compared with
the model's, and the page's complete example must validate.
"""

from __future__ import annotations

import re
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from driftwatch.config import Config, parse_config, parse_duration

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
_ROW = re.compile(r"^\| `([a-z_\[\].]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$")


def _submodel(annotation: Any) -> tuple[type[BaseModel], str] | None:
    """The model inside ``X``, ``X | None`` or ``list[X]``, and the path suffix it takes."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, "."
    origin = typing.get_origin(annotation)
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg, "[]." if origin is list else "."
    return None


def model_keys(model: type[BaseModel] = Config, prefix: str = "") -> dict[str, Any]:
    """Every key path of the model (``targets[].unmanaged.alert``) and its field."""
    keys: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        keys[prefix + name] = field
        inner = _submodel(field.annotation)
        if inner is not None:
            keys.update(model_keys(inner[0], prefix + name + inner[1]))
    return keys


def doc_rows() -> dict[str, tuple[str, str, str, str]]:
    rows: dict[str, tuple[str, str, str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            key = match.group(1)
            assert key not in rows, f"{key} is documented twice"
            rows[key] = tuple(cell.strip() for cell in match.groups()[1:])  # type: ignore[assignment]
    return rows


def test_every_key_of_the_model_is_documented_and_every_documented_key_exists() -> None:
    model, documented = set(model_keys()), set(doc_rows())
    assert model - documented == set(), "config keys missing from docs/configuration.md"
    assert documented - model == set(), "docs/configuration.md documents keys the model does not have"


def test_every_row_has_a_type_a_default_an_example_and_a_description() -> None:
    for key, cells in doc_rows().items():
        assert all(cell and cell != "-" for cell in cells), key


def _code(cell: str) -> str | None:
    match = re.fullmatch(r"`([^`]*)`", cell)
    return match.group(1) if match else None


def test_documented_defaults_are_the_models() -> None:
    fields = model_keys()
    for key, (_, default_cell, _, _) in doc_rows().items():
        field = fields[key]
        if field.is_required():
            assert default_cell == "required", key
            continue
        assert default_cell != "required", key
        default = field.get_default(call_default_factory=True)
        literal = _code(default_cell)
        if isinstance(default, BaseModel):
            assert default_cell == "see below", key
        elif default is None:
            assert literal is None, f"{key}: the model has no default, the page says {default_cell}"
        elif isinstance(default, timedelta):
            assert literal is not None and parse_duration(literal) == default, key
        else:
            assert literal is not None, f"{key}: default {default!r} not written as `code`"
            assert literal == default if literal == "*" else yaml.safe_load(literal) == default, key


def test_the_complete_example_validates_and_sets_every_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    data = yaml.safe_load(block.group(1))
    parse_config(data, "docs/configuration.md")
    sections = {key for key, field in model_keys().items() if "." not in key and "[" not in key}
    assert sections <= set(data), sections - set(data)


def test_the_walk_sees_nested_and_optional_models() -> None:
    """Guards the guard: a nested list item's key and an optional sub-model's key are found."""
    keys = model_keys()
    assert "targets[].unmanaged.alert" in keys and "ignore[].reason" in keys and "aws.scan_timeout" in keys
