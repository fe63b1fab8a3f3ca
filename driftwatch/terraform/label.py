"""Emulation of the CloudPosse label module ``cloudposse/label/null`` 0.25.0.

The CloudPosse dynamodb module names its table with this label's ``id`` and tags it with the
label's ``tags``, and wrapper modules build a ``module "this"`` label (via ``context.tf``) whose
``context`` output is passed on. driftwatch never runs Terraform, so the label rules are
re-implemented here, line for line with null-label's ``main.tf`` and ``outputs.tf`` (upstream,
release 0.25.0; tests/test_label.py holds its documented examples):

* direct inputs win over ``context`` when non-null; attributes are context ++ input
  (deduplicated, empties dropped); tags are merged input-over-context;
* labels are regex-filtered (``/[^-a-zA-Z0-9]/`` by default) and cased (``lower`` default),
  joined in ``label_order`` with ``delimiter``; ``id_length_limit`` truncates with an md5 part;
* ``labels_as_tags``: only the first setting in a context chain counts (``["unset"]`` in a
  context means "not set yet");
* ``descriptors``: ``format()`` of each ``descriptor_formats`` entry over the normalised labels.

The string work is Terraform's own functions (driftwatch.terraform.functions): ``replace()``
with RE2 for ``regex_replace_chars``, Go's rune-by-rune ``lower``/``upper``/``title``, and
``length``/``substr`` counting grapheme clusters, so a name is the one Terraform gives.

Inputs are already-evaluated Python values where anything may be ``Unknown``. Every derived
value that depends on an Unknown is Unknown itself (with the reason of the first Unknown that
it depends on), while independent values stay known: an Unknown namespace makes the id and
the ``Namespace``/``Name`` tags Unknown, but ``Stage`` stays known. Inputs that Terraform
itself rejects (a ``validation`` block of ``context.tf``, a ``label_order`` naming no label)
raise ``ModuleInputError``, because Terraform would not plan such a configuration at all; so do
``context = null``, a context object without a key null-label reads with ``.``, an explicit
``labels_as_tags = null``, a fractional ``id_length_limit`` and a pattern RE2 refuses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftwatch.errors import DriftwatchError
from driftwatch.spec import Maybe, Unknown, first_unknown
from driftwatch.terraform import functions
from driftwatch.terraform.numbers import format_number
from driftwatch.terraform.types import string_bool

STRING_LABELS = ("namespace", "tenant", "environment", "stage", "name")
DEFAULT_LABEL_ORDER = ("namespace", "environment", "stage", "name", "attributes")
DEFAULT_DELIMITER = "-"
DEFAULT_REGEX_REPLACE_CHARS = "/[^-a-zA-Z0-9]/"
DEFAULT_LABEL_KEY_CASE = "title"
DEFAULT_LABEL_VALUE_CASE = "lower"
ID_HASH_LENGTH = 5
KEY_CASES = ("lower", "title", "upper")
VALUE_CASES = ("lower", "title", "upper", "none")

# The default of the `context` variable in context.tf (null-label 0.25.0).
DEFAULT_CONTEXT: dict[str, Any] = {
    "enabled": True,
    "namespace": None,
    "tenant": None,
    "environment": None,
    "stage": None,
    "name": None,
    "delimiter": None,
    "attributes": [],
    "tags": {},
    "additional_tag_map": {},
    "regex_replace_chars": None,
    "label_order": [],
    "id_length_limit": None,
    "label_key_case": None,
    "label_value_case": None,
    "descriptor_formats": {},
    "labels_as_tags": ["unset"],
}

# Names of the label's own inputs (everything else in a module call is ignored here).
LABEL_INPUTS = (
    "context",
    "enabled",
    *STRING_LABELS,
    "delimiter",
    "attributes",
    "labels_as_tags",
    "tags",
    "additional_tag_map",
    "label_order",
    "regex_replace_chars",
    "id_length_limit",
    "label_key_case",
    "label_value_case",
    "descriptor_formats",
)


class ModuleInputError(DriftwatchError, ValueError):
    """An input that Terraform itself would reject; ``input`` names the offending input."""

    def __init__(self, input_name: str, message: str) -> None:
        self.input = input_name
        super().__init__(f"input {input_name!r}: {message}")


@dataclass(frozen=True)
class Label:
    """A built label: what ``module.<label>`` would output.

    ``id`` and ``tags`` are the outputs (so "" and {} when disabled). ``context`` is the
    module's ``context`` output (merged, not normalised inputs) to pass on as
    ``context = module.this.context``; ``normalized`` holds the normalised
    namespace/tenant/environment/stage/name/attributes outputs; ``normalized_context`` is the
    ``normalized_context`` output (values actually used, tags not gated by ``enabled``).
    """

    enabled: Maybe[bool]
    id: Maybe[str]
    tags: Maybe[dict[str, Maybe[str]]]
    context: dict[str, Any]
    normalized: dict[str, Any]
    id_full: Maybe[str] = ""
    normalized_context: Mapping[str, Any] = field(default_factory=dict)
    descriptors: Maybe[dict[str, Maybe[str]]] = field(default_factory=dict)


# --- small Unknown-aware helpers -------------------------------------------------------------


def _unknown(*values: object) -> Unknown | None:
    """The first Unknown inside any of ``values`` (nested), else None."""
    for value in values:
        found = first_unknown(value)
        if found is not None:
            return found
    return None


def _to_str(value: Any, input_name: str) -> str:
    """Terraform's conversion of a primitive to ``string`` (the variables are typed string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return value if isinstance(value, str) else _number_text(value)
    raise ModuleInputError(input_name, f"a string is required, got {type(value).__name__}")


def _number_text(value: int | float) -> str:
    return format_number(value)  # the shortest decimal, as Terraform writes a number


def _text(function: Callable[..., Any], *arguments: Any) -> str:
    """A Terraform string function of driftwatch.terraform.functions, typed (they register untyped)."""
    return str(function(*arguments))


def go_title(text: str) -> str:
    """Terraform ``title()`` (Go's ``strings.Title``): upper-case each letter after a separator.

    Differs from ``str.title``: a letter after a digit is not capitalised (``1ab`` stays
    ``1ab``), and letters after a letter are left as they are.
    """
    return _text(functions.title, text)


def tf_replace(text: str, pattern: str, replacement: str) -> str:
    """Terraform ``replace()``: a pattern wrapped in ``/`` is an RE2 regular expression (its
    syntax, ``[[:alnum:]]`` and ``\\p{L}`` included, and its linear-time matching)."""
    try:
        return _text(functions.replace, text, pattern, replacement)
    except functions.FunctionError as error:
        raise ModuleInputError("regex_replace_chars", str(error)) from None


def _cased(text: str, case: str) -> str:
    """null-label's casing of a label, a tag key or the id hash: ``title`` is ``title(lower(x))``
    for labels and keys (``lowered``), ``none`` leaves the text as it is."""
    if case == "upper":
        return _text(functions.upper, text)
    if case == "lower":
        return _text(functions.lower, text)
    if case == "title":
        return go_title(text)
    return text


def _apply_value_case(text: str, case: str) -> str:
    return _cased(_text(functions.lower, text), case) if case == "title" else _cased(text, case)


def _apply_key_case(key: str, case: str) -> str:
    return _cased(key, case) if case in ("upper", "lower") else go_title(_text(functions.lower, key))


def _distinct_compact(values: Iterable[str]) -> list[str]:
    """``compact(distinct(list))``: first occurrences kept, empty strings dropped."""
    seen: dict[str, None] = {}
    for value in values:
        if value != "":
            seen.setdefault(value, None)
    return list(seen)


# --- step 1: merge inputs with the context ---------------------------------------------------


# Keys null-label 0.25.0 reads as ``var.context.<key>``: Terraform refuses a context without
# them ("Unsupported attribute"). The first group only where the direct input is null (the
# conditional's other arm is not evaluated); the second always. tenant, the two cases,
# descriptor_formats and labels_as_tags are read with lookup() / try(), so they may be missing.
_READ_WHEN_INPUT_NULL = (
    "enabled",
    "namespace",
    "environment",
    "stage",
    "name",
    "delimiter",
    "label_order",
    "regex_replace_chars",
    "id_length_limit",
)
_ALWAYS_READ = ("attributes", "tags", "additional_tag_map")


def _context_value(context: Any, name: str) -> Any:
    """``var.context.<name>`` (or ``lookup``): keys read with lookup() default when missing."""
    if isinstance(context, Unknown):
        return Unknown(f"context is unknown ({context.reason})")
    if not isinstance(context, Mapping):
        raise ModuleInputError("context", f"an object is required, got {type(context).__name__}")
    if name not in context and (name in _READ_WHEN_INPUT_NULL or name in _ALWAYS_READ):
        raise ModuleInputError("context", f"the context has no attribute {name!r} (Terraform refuses it)")
    return context.get(name, DEFAULT_CONTEXT.get(name))


def _pick(inputs: Mapping[str, Any], context: Any, name: str) -> Any:
    """``var.x == null ? var.context.x : var.x`` (an Unknown input stays Unknown)."""
    direct = inputs.get(name)
    return direct if direct is not None else _context_value(context, name)


def _as_list(value: Any, input_name: str) -> Maybe[list[Any]]:
    if isinstance(value, Unknown):
        return value
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    raise ModuleInputError(input_name, f"a list is required, got {type(value).__name__}")


def _as_map(value: Any, input_name: str) -> Maybe[dict[str, Any]]:
    if isinstance(value, Unknown):
        return value
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    raise ModuleInputError(input_name, f"a map is required, got {type(value).__name__}")


def _merge_maps(context_map: Any, input_map: Any, name: str) -> Maybe[dict[str, Any]]:
    """``merge(var.context.x, var.x)``: a wholly Unknown map makes the keys Unknown."""
    first = _as_map(context_map, name)
    second = _as_map(input_map, name)
    if isinstance(first, Unknown):
        return first
    if isinstance(second, Unknown):
        return second
    return {**first, **second}


def _merged_attributes(context: Any, inputs: Mapping[str, Any]) -> Maybe[list[str]]:
    """``compact(distinct(concat(coalesce(context.attributes, []), coalesce(var.attributes, []))))``."""
    in_context = _context_value(context, "attributes")
    if functions.is_set(in_context):  # concat() takes lists and tuples only
        raise ModuleInputError("context", "attributes is a set (Terraform's concat() refuses it)")
    from_context = _as_list(in_context, "context.attributes")
    from_input = _as_list(inputs.get("attributes"), "attributes")
    unknown = _unknown(from_context, from_input)
    if unknown is not None:
        return unknown
    assert not isinstance(from_context, Unknown) and not isinstance(from_input, Unknown)
    return _distinct_compact(_to_str(v, "attributes") for v in [*from_context, *from_input])


def _merged_labels_as_tags(context: Any, inputs: Mapping[str, Any]) -> Maybe[list[str]]:
    """First setting in a chain wins: the context's unless it is missing or ``["unset"]``."""
    context_setting = _context_value(context, "labels_as_tags")
    unknown = _unknown(context_setting)
    if unknown is not None:
        return unknown
    if isinstance(context_setting, (list, tuple, set, frozenset)) and "unset" not in context_setting:
        return sorted({_to_str(v, "context.labels_as_tags") for v in context_setting})
    if "labels_as_tags" in inputs and inputs["labels_as_tags"] is None:
        # contains(null, "default") fails the plan (the variable's default is not used for null)
        raise ModuleInputError("labels_as_tags", "null is not a list (Terraform refuses it)")
    own = inputs.get("labels_as_tags")
    own_list = _as_list(["default"] if own is None else own, "labels_as_tags")
    unknown = _unknown(own_list)
    if unknown is not None:
        return unknown
    assert not isinstance(own_list, Unknown)
    return sorted({_to_str(v, "labels_as_tags") for v in own_list})


def merge_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Step 1: null-label's ``local.input`` -- also the label's ``context`` output."""
    if "context" in inputs and inputs["context"] is None:
        # context.tf's validation calls lookup() on it: "Invalid function argument"
        raise ModuleInputError("context", "null is not an object (Terraform refuses it)")
    context = inputs.get("context", DEFAULT_CONTEXT)
    merged: dict[str, Any] = {
        name: _pick(inputs, context, name)
        for name in ("enabled", *STRING_LABELS, "delimiter", "label_order", "regex_replace_chars")
    }
    merged["attributes"] = _merged_attributes(context, inputs)
    merged["tags"] = _merge_maps(_context_value(context, "tags"), inputs.get("tags"), "tags")
    merged["additional_tag_map"] = _merge_maps(
        _context_value(context, "additional_tag_map"), inputs.get("additional_tag_map"), "additional_tag_map"
    )
    for name in ("id_length_limit", "label_key_case", "label_value_case"):
        merged[name] = _pick(inputs, context, name)
    merged["descriptor_formats"] = _merge_maps(
        _context_value(context, "descriptor_formats"), inputs.get("descriptor_formats"), "descriptor_formats"
    )
    merged["labels_as_tags"] = _merged_labels_as_tags(context, inputs)
    return merged


# --- steps 2-6 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    """The effective (defaulted) settings that shape the id and tags; each may be Unknown."""

    regex: Maybe[str]
    value_case: Maybe[str]
    key_case: Maybe[str]
    delimiter: Maybe[str]
    label_order: Maybe[tuple[str, ...]]
    id_length_limit: Maybe[int]
    labels_as_tags: Maybe[tuple[str, ...]]


def _effective_case(value: Any, default: str, allowed: tuple[str, ...], name: str) -> Maybe[str]:
    if isinstance(value, Unknown):
        return value
    case = default if value is None else _to_str(value, name)
    if case not in allowed:
        raise ModuleInputError(name, f"{case!r} is not one of {', '.join(allowed)}")
    return case


def _effective_limit(value: Any) -> Maybe[int]:
    if isinstance(value, Unknown):
        return value
    if value is None:
        return 0
    try:
        # substr() takes it: a fractional limit fails the plan whether or not the id is long
        limit = functions.to_int(value)
    except functions.FunctionError as error:
        raise ModuleInputError("id_length_limit", str(error)) from None
    if limit != 0 and limit < 6:
        raise ModuleInputError("id_length_limit", "must be >= 6 or 0 (unlimited)")
    return limit


def _effective_order(value: Any) -> Maybe[tuple[str, ...]]:
    """``label_order == null ? default : coalescelist(label_order, default)``."""
    unknown = _unknown(value)
    if unknown is not None:
        return unknown
    elements = _as_list(value, "label_order")
    assert not isinstance(elements, Unknown)
    order = tuple(_to_str(v, "label_order") for v in elements)
    for element in order:
        if element not in (*STRING_LABELS, "attributes"):
            raise ModuleInputError("label_order", f"{element!r} is not a label name")
    return order or DEFAULT_LABEL_ORDER


def _effective_labels_as_tags(value: Any) -> Maybe[tuple[str, ...]]:
    if isinstance(value, Unknown):
        return value
    chosen = set(value)
    if "default" in chosen:
        return tuple(sorted((*STRING_LABELS, "attributes")))  # keys(local.tags_context)
    return tuple(sorted(chosen))


def _settings(merged: Mapping[str, Any]) -> _Settings:
    regex = merged["regex_replace_chars"]
    delimiter = merged["delimiter"]
    return _Settings(
        regex=regex if isinstance(regex, Unknown) else _to_str(regex or DEFAULT_REGEX_REPLACE_CHARS, "regex"),
        value_case=_effective_case(
            merged["label_value_case"], DEFAULT_LABEL_VALUE_CASE, VALUE_CASES, "label_value_case"
        ),
        key_case=_effective_case(
            merged["label_key_case"], DEFAULT_LABEL_KEY_CASE, KEY_CASES, "label_key_case"
        ),
        delimiter=delimiter
        if isinstance(delimiter, Unknown)
        else (DEFAULT_DELIMITER if delimiter is None else _to_str(delimiter, "delimiter")),
        label_order=_effective_order(merged["label_order"]),
        id_length_limit=_effective_limit(merged["id_length_limit"]),
        labels_as_tags=_effective_labels_as_tags(merged["labels_as_tags"]),
    )


def _normalize(value: Any, settings: _Settings, name: str) -> Maybe[str]:
    """Step 2: null -> "", regex-filter, then case."""
    unknown = _unknown(value, settings.regex, settings.value_case)
    if unknown is not None:
        return unknown
    assert isinstance(settings.regex, str) and isinstance(settings.value_case, str)
    text = "" if value is None else tf_replace(_to_str(value, name), settings.regex, "")
    return _apply_value_case(text, settings.value_case)


def _normalize_attributes(attributes: Maybe[list[str]], settings: _Settings) -> Maybe[list[str]]:
    """Step 3: each attribute filtered, de-duplicated, cased, de-duplicated again."""
    unknown = _unknown(attributes, settings.regex, settings.value_case)
    if unknown is not None:
        return unknown
    assert isinstance(settings.regex, str) and isinstance(settings.value_case, str)
    assert not isinstance(attributes, Unknown)
    filtered = _distinct_compact(tf_replace(a, settings.regex, "") for a in attributes)
    return _distinct_compact(_apply_value_case(a, settings.value_case) for a in filtered)


def _join(values: Maybe[list[str]], delimiter: Maybe[str]) -> Maybe[str]:
    unknown = _unknown(values, delimiter)
    if unknown is not None:
        return unknown
    assert isinstance(delimiter, str) and not isinstance(values, Unknown)
    return delimiter.join(values)


def _id_full(id_context: Mapping[str, Maybe[str]], settings: _Settings) -> Maybe[str]:
    """Step 4: walk label_order, keep non-empty elements, join with the delimiter."""
    unknown = _unknown(settings.label_order, settings.delimiter)
    if unknown is not None:
        return unknown
    assert not isinstance(settings.label_order, Unknown) and isinstance(settings.delimiter, str)
    parts: list[str] = []
    for label in settings.label_order:
        value = id_context[label]
        if isinstance(value, Unknown):
            return value
        if value:
            parts.append(value)
    return settings.delimiter.join(parts)


def truncate_id(id_full: str, limit: int, delimiter: str, value_case: str, regex: str) -> str:
    """Step 5: shorten an over-long id to ``limit`` characters with an md5-based suffix.

    Lengths and ``substr`` count characters as Terraform does (grapheme clusters).
    """
    if limit == 0 or functions.length(id_full) <= limit:
        return id_full
    prefix_length = limit - (ID_HASH_LENGTH + functions.length(delimiter))
    truncated = ""
    if prefix_length > 0:
        truncated = _text(functions.substr, id_full, 0, prefix_length).removesuffix(delimiter) + delimiter
    hash_plus = hashlib.md5(id_full.encode()).hexdigest() + "qrstuvwxyz"  # title(): not lowered
    return _text(functions.substr, truncated + tf_replace(_cased(hash_plus, value_case), regex, ""), 0, limit)


def _id(id_full: Maybe[str], settings: _Settings) -> Maybe[str]:
    unknown = _unknown(
        id_full, settings.id_length_limit, settings.delimiter, settings.value_case, settings.regex
    )
    if unknown is not None:
        return unknown
    assert isinstance(id_full, str) and isinstance(settings.id_length_limit, int)
    assert isinstance(settings.delimiter, str) and isinstance(settings.value_case, str)
    assert isinstance(settings.regex, str)
    return truncate_id(
        id_full, settings.id_length_limit, settings.delimiter, settings.value_case, settings.regex
    )


def _generated_tags(
    tags_context: Mapping[str, Maybe[str]], settings: _Settings
) -> Maybe[dict[str, Maybe[str]]]:
    """Section 4c: one tag per selected label with a non-empty value (Unknown stays a tag)."""
    unknown = _unknown(settings.labels_as_tags, settings.key_case)
    if unknown is not None:
        return unknown
    assert not isinstance(settings.labels_as_tags, Unknown) and isinstance(settings.key_case, str)
    generated: dict[str, Maybe[str]] = {}
    for label in sorted(set(tags_context) & set(settings.labels_as_tags)):
        value = tags_context[label]
        if isinstance(value, Unknown) or value:
            generated[_apply_key_case(label, settings.key_case)] = value
    return generated


def _final_tags(generated: Maybe[dict[str, Maybe[str]]], user_tags: Any) -> Maybe[dict[str, Maybe[str]]]:
    """``merge(generated, input.tags)``: the user's keys override generated ones."""
    if isinstance(generated, Unknown):
        return generated
    if isinstance(user_tags, Unknown):
        return user_tags
    result = dict(generated)
    for key, value in user_tags.items():
        if value is None:
            # A null tag value is never sent to AWS by the provider: the key is simply absent.
            result.pop(_to_str(key, "tags"), None)
        else:
            result[_to_str(key, "tags")] = value if isinstance(value, Unknown) else _to_str(value, "tags")
    return result


def _gate(enabled: Maybe[bool], value: Any, disabled: Any) -> Any:
    """``local.enabled ? value : disabled`` (Unknown enabled -> Unknown)."""
    if isinstance(enabled, Unknown):
        return Unknown(f"whether the label is enabled is unknown ({enabled.reason})")
    return value if enabled else disabled


def _enabled(value: Any) -> Maybe[bool]:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return value
    converted = string_bool(value)
    if converted is None:
        raise ModuleInputError("enabled", f"a bool is required, got {value!r}")
    return converted


def _descriptors(formats: Any, id_context: Mapping[str, Maybe[str]]) -> Maybe[dict[str, Maybe[str]]]:
    """descriptors.tf: ``format(v.format, [for l in v.labels : id_context[l]]...)`` for each
    entry of ``descriptor_formats`` (not gated by ``enabled``). Terraform evaluates it whether
    or not the output is read, so an entry it cannot format fails the plan."""
    if isinstance(formats, Unknown):
        return formats
    descriptors: dict[str, Maybe[str]] = {}
    for key, entry in formats.items():
        if isinstance(entry, Unknown):
            descriptors[key] = entry
            continue
        if not isinstance(entry, Mapping) or "format" not in entry or "labels" not in entry:
            raise ModuleInputError("descriptor_formats", f"{key!r} needs a format and labels")
        labels = _as_list(entry["labels"], "descriptor_formats")
        unknown = _unknown(entry["format"], labels)
        if unknown is not None:
            descriptors[key] = unknown
            continue
        assert not isinstance(labels, Unknown)
        for name in labels:
            if name not in id_context:
                raise ModuleInputError("descriptor_formats", f"{key!r}: {name!r} is not a label name")
        arguments = [id_context[name] for name in labels]
        unknown = _unknown(arguments)
        if unknown is not None:
            descriptors[key] = unknown
            continue
        try:
            descriptors[key] = _text(functions.format_, entry["format"], *arguments)
        except functions.FunctionError as error:
            raise ModuleInputError("descriptor_formats", f"{key!r}: {error}") from None
    return descriptors


def build_label(inputs: Mapping[str, Any]) -> Label:
    """Build the label a module call with these (evaluated) inputs would produce.

    ``inputs`` may contain other inputs of the calling module (they are ignored), so the
    dynamodb module's whole input map can be passed as is.
    """
    merged = merge_inputs(inputs)
    settings = _settings(merged)
    enabled = _enabled(merged["enabled"])
    labels = {name: _normalize(merged[name], settings, name) for name in STRING_LABELS}
    attributes = _normalize_attributes(merged["attributes"], settings)
    id_context: dict[str, Maybe[str]] = {**labels, "attributes": _join(attributes, settings.delimiter)}
    id_full = _id_full(id_context, settings)
    label_id = _id(id_full, settings)
    tags_context = {**id_context, "name": label_id}
    tags = _final_tags(_generated_tags(tags_context, settings), merged["tags"])
    normalized_context = _normalized_context(merged, settings, labels, attributes, tags, enabled)
    normalized = {name: _gate(enabled, value, "") for name, value in labels.items()}
    normalized["attributes"] = _gate(enabled, attributes, [])
    return Label(
        enabled=enabled,
        id=_gate(enabled, label_id, ""),
        tags=_gate(enabled, tags, {}),
        context=merged,
        normalized=normalized,
        id_full=_gate(enabled, id_full, ""),
        normalized_context=normalized_context,
        descriptors=_descriptors(merged["descriptor_formats"], id_context),
    )


def _normalized_context(
    merged: Mapping[str, Any],
    settings: _Settings,
    labels: Mapping[str, Maybe[str]],
    attributes: Maybe[list[str]],
    tags: Maybe[dict[str, Maybe[str]]],
    enabled: Maybe[bool],
) -> dict[str, Any]:
    """null-label's ``local.output_context``: the values actually used (not gated)."""
    return {
        "enabled": enabled,
        **labels,
        "delimiter": settings.delimiter,
        "attributes": attributes,
        "tags": tags,
        "additional_tag_map": merged["additional_tag_map"],
        "label_order": list(settings.label_order)
        if not isinstance(settings.label_order, Unknown)
        else settings.label_order,
        "regex_replace_chars": settings.regex,
        "id_length_limit": settings.id_length_limit,
        "label_key_case": settings.key_case,
        "label_value_case": settings.value_case,
        "labels_as_tags": list(settings.labels_as_tags)
        if not isinstance(settings.labels_as_tags, Unknown)
        else settings.labels_as_tags,
        "descriptor_formats": merged["descriptor_formats"],
    }


def _tags_as_list_of_maps(tags: Any, additional: Any) -> Any:
    if isinstance(tags, Unknown):
        return tags
    if isinstance(additional, Unknown):
        return additional
    return [{"key": key, "value": tags[key], **additional} for key in sorted(tags)]


def label_outputs(label: Label) -> dict[str, Any]:
    """What ``module.<label>.<output>`` evaluates to, for the evaluator to resolve references."""
    context = label.normalized_context
    enabled = label.enabled
    return {
        "id": label.id,
        "id_full": label.id_full,
        "enabled": enabled,
        **{name: label.normalized[name] for name in STRING_LABELS},
        "delimiter": _gate(enabled, context.get("delimiter"), ""),
        "attributes": label.normalized["attributes"],
        "tags": label.tags,
        "additional_tag_map": context.get("additional_tag_map"),
        "label_order": context.get("label_order"),
        "regex_replace_chars": context.get("regex_replace_chars"),
        "id_length_limit": context.get("id_length_limit"),
        "tags_as_list_of_maps": _tags_as_list_of_maps(context.get("tags"), context.get("additional_tag_map")),
        "descriptors": label.descriptors,
        "normalized_context": dict(context),
        "context": dict(label.context),
    }
