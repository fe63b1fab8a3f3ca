"""botocore's response parsing, without its two silent conversions of a JSON type it did not expect.

botocore parses an answer by its service model and trusts the JSON types it finds:

- where the model has a list, it iterates whatever is there: a string is read as the list of
  its characters, an object as the list of its keys. ``"GlobalSecondaryIndexes": ""`` became
  "no GSIs" (every declared one missing), ``"Tags": {}`` "every tag removed",
  ``"NonKeyAttributes": "abc"`` the attributes ``a``, ``b`` and ``c``, ``"TableNames": ""`` an
  account without tables, ``"ScalingPolicies": {}`` autoscaling without its policy: each a
  reading made of a garbage answer, counted as a success.
- a timestamp past what a ``datetime`` holds (``2**70``, ``1e400``) raised ``RuntimeError``,
  which nothing takes for a broken answer: the table's "unexpected error", the call counted
  under outcome ``RuntimeError``; ``true`` was read as the epoch's first second.

Here both are a ``WrongJsonType`` (a ``ValueError``, which ``call_aws`` already reads as an
answer botocore could not parse: ``InvalidResponse``), naming the field. Everything else is
botocore's own parser: registered as the session's ``response_parser_factory``.
"""

from __future__ import annotations

from typing import Any

from botocore.parsers import DEFAULT_TIMESTAMP_PARSER, JSONParser, ResponseParserFactory

_JSON_TYPES: dict[str, tuple[type, str]] = {"list": (list, "a list"), "map": (dict, "an object")}


class WrongJsonType(ValueError):
    """An answer holding, at one field, a JSON value botocore would have read as another."""


def _wrong(field: str, value: Any, expected: str) -> WrongJsonType:
    return WrongJsonType(f"{field} is a JSON {_json_name(value)} where AWS sends {expected}")


def _json_name(value: Any) -> str:
    for kind, name in ((bool, "boolean"), (str, "string"), (dict, "object"), (list, "array")):
        if isinstance(value, kind):
            return name
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def _timestamp(value: Any) -> Any:
    """botocore's timestamp parser; a value it cannot hold (or a boolean) is a wrong type."""
    if isinstance(value, bool):
        raise _wrong("a timestamp", value, "a time")
    try:
        return DEFAULT_TIMESTAMP_PARSER(value)
    except (RuntimeError, OverflowError):  # past datetime's range: botocore's RuntimeError
        raise WrongJsonType(f"a timestamp ({str(value)[:40]}) is past the dates a datetime holds") from None


_CHECKS = "_driftwatch_collection_members"


def _collections(shape: Any) -> tuple[tuple[str, str, tuple[type, str]], ...]:
    """(JSON key, field name, expected type) of each list or map member of a structure shape,
    worked out once per shape and kept on it: a parse looks only at those few members."""
    checks = getattr(shape, _CHECKS, None)
    if checks is None:
        checks = tuple(
            (member.serialization.get("name", name), f"{shape.name}.{name}", _JSON_TYPES[member.type_name])
            for name, member in shape.members.items()
            if member.type_name in _JSON_TYPES
        )
        setattr(shape, _CHECKS, checks)
    return checks


class _StrictJSONParser(JSONParser):
    """botocore's JSON parser, refusing a list or a map that is not a JSON array or object."""

    def _handle_structure(self, shape: Any, value: Any) -> Any:
        if isinstance(value, dict) and not shape.is_document_type:
            for key, field, (kind, expected) in _collections(shape):
                raw = value.get(key)
                if raw is not None and not isinstance(raw, kind):
                    raise _wrong(field, raw, expected)
        return super()._handle_structure(shape, value)  # type: ignore[misc]  # not in botocore-stubs

    def _handle_list(self, shape: Any, node: Any) -> Any:
        if not isinstance(node, list):  # a list of lists; a structure's own are checked above
            raise _wrong(shape.name, node, "a list")
        return super()._handle_list(shape, node)  # type: ignore[misc]  # not in botocore-stubs


class StrictParserFactory(ResponseParserFactory):
    """botocore's parser factory, with the strict JSON parser and timestamp parser above."""

    def __init__(self) -> None:
        super().__init__()
        self.set_parser_defaults(timestamp_parser=_timestamp)

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return _StrictJSONParser(**self._defaults)  # type: ignore[attr-defined]  # botocore's own
        return super().create_parser(protocol_name)


def install(core: Any) -> None:
    """Make every client that the botocore session ``core`` creates parse strictly."""
    core.register_component("response_parser_factory", StrictParserFactory())
