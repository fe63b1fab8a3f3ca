"""Terraform type constraints of ``variable`` blocks, and the conversion Terraform applies.

Conversion matters for drift: Terraform fills ``optional(type, default)`` attributes of object
variables, turns ``"5"`` into ``5`` for a ``number``, and a tfvars ``true`` into ``"true"`` for a
``string``. Without it, ``each.value.range_key`` on an object that omits the attribute would
be an error (and so Unknown) where Terraform sees the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftwatch.errors import DriftwatchError
from driftwatch.spec import Unknown
from driftwatch.terraform import numbers


class TypeConversionError(DriftwatchError):
    """A value that does not fit its variable's type; the message says what did not fit."""


@dataclass(frozen=True)
class TypeSpec:
    """A parsed type constraint. ``kind`` is string/number/bool/any/list/set/map/object/tuple."""

    kind: str
    element: TypeSpec | None = None
    attributes: dict[str, tuple[TypeSpec, bool, Any]] = field(default_factory=dict)  # type, optional, default
    elements: tuple[TypeSpec, ...] = ()


ANY = TypeSpec("any")
# A type constraint Terraform refuses (InvalidTypeConstraint): the variable gets no value.
REFUSED_TYPE = TypeSpec("refused")


def _callee(node: Any) -> tuple[str, list[Any]] | None:
    from hcl2.rules.functions import FunctionCallRule

    if isinstance(node, FunctionCallRule):
        name = str(node.identifiers[-1].token.value)
        arguments = list(node.arguments.arguments) if node.arguments is not None else []
        return name, arguments
    return None


def _unwrap(node: Any) -> Any:
    """The expression inside python-hcl2's wrappers. Parentheses are refused: Terraform reads a
    type as keywords and calls, and ``(string)`` is neither (terraform validate 1.11.4)."""
    from hcl2.rules.expressions import ExprTermRule

    while isinstance(node, ExprTermRule):
        if node.parentheses:
            raise InvalidTypeConstraint(_NOT_A_TYPE)
        node = node.expression
    return node


class InvalidTypeConstraint(DriftwatchError):
    """A ``type`` that Terraform refuses ("Invalid type specification"), in terraform's words.

    Read as ``any`` instead, a refused constraint would let driftwatch watch a configuration
    that ``terraform plan`` will not plan at all (``type = "string"`` from Terraform 0.11 is
    the common case), converting values by a rule Terraform never applies."""


_PRIMITIVES = ("string", "number", "bool")
_COLLECTIONS = ("list", "set", "map")


def parse_type(node: Any, evaluate_default: Any = None, *, top_level: bool = True) -> TypeSpec:
    """Parse a type expression node as Terraform's ``typeexpr`` does.

    A form Terraform refuses raises InvalidTypeConstraint. ``top_level``: the legacy bare ``list`` and
    ``map`` (``list(any)``, ``map(any)``) are Terraform's only there.

    ``evaluate_default`` evaluates the default of ``optional(type, default)`` (the caller owns
    the evaluator, which this module must not import to keep the dependency one-way).
    """
    from hcl2.rules.containers import ObjectRule, TupleRule
    from hcl2.rules.literal_rules import IdentifierRule
    from hcl2.rules.strings import HeredocTemplateRule, HeredocTrimTemplateRule, StringRule

    node = _unwrap(node)
    if isinstance(node, (StringRule, HeredocTemplateRule, HeredocTrimTemplateRule)):
        raise InvalidTypeConstraint(
            "a quoted type constraint: Terraform 0.11 and earlier required type constraints "
            "in quotes, Terraform 0.12 and later refuse them (remove the quotes)"
        )
    if isinstance(node, IdentifierRule):
        name = str(node.token.value)
        if name in _PRIMITIVES:
            return TypeSpec(name)
        if name == "any":
            return ANY
        if name in ("list", "map") and top_level:
            return TypeSpec(name, element=ANY)
        if name in (*_COLLECTIONS, "tuple", "object"):
            raise InvalidTypeConstraint(_needs_argument(name))
        raise InvalidTypeConstraint(f"the keyword {name!r} is not a valid type specification")
    call = _callee(node)
    if call is None:
        raise InvalidTypeConstraint(_NOT_A_TYPE)
    name, arguments = call
    if name in _COLLECTIONS:
        if len(arguments) != 1:
            raise InvalidTypeConstraint(_needs_argument(name))
        return TypeSpec(name, element=parse_type(arguments[0], evaluate_default, top_level=False))
    if name in ("tuple", "object"):
        inner = _unwrap(arguments[0]) if len(arguments) == 1 else None
        if name == "tuple" and isinstance(inner, TupleRule):
            elements = tuple(parse_type(e, evaluate_default, top_level=False) for e in inner.elements)
            return TypeSpec("tuple", elements=elements)
        if name == "object" and isinstance(inner, ObjectRule):
            attributes: dict[str, tuple[TypeSpec, bool, Any]] = {}
            for element in inner.elements:
                key = _object_key(element)
                attributes[key] = _attribute_type(element.expression, evaluate_default)
            return TypeSpec("object", attributes=attributes)
        raise InvalidTypeConstraint(_needs_argument(name))
    if name == "optional":
        raise InvalidTypeConstraint("'optional' is valid only as a modifier for object type attributes")
    raise InvalidTypeConstraint(f"the keyword {name!r} is not a valid type constructor")


_NOT_A_TYPE = (
    "a type specification is either a primitive type keyword (bool, number, string) or "
    "a complex type constructor call, like list(string)"
)


def _needs_argument(name: str) -> str:
    if name == "tuple":
        return "the tuple type constructor requires a list of element types"
    if name == "object":
        return "the object type constructor requires one argument, a map of attribute types"
    return f"the {name} type constructor requires one argument specifying the element type"


def _object_key(element: Any) -> str:
    from driftwatch.terraform.parse import label_text

    key = element.key
    value = getattr(key, "value", None)
    return label_text(value) if value is not None else label_text(key)


def _attribute_type(node: Any, evaluate_default: Any) -> tuple[TypeSpec, bool, Any]:
    call = _callee(_unwrap(node))
    if call is not None and call[0] == "optional" and call[1]:
        default = None
        if len(call[1]) > 1 and evaluate_default is not None:
            default = evaluate_default(call[1][1])
        return parse_type(call[1][0], evaluate_default, top_level=False), True, default
    return parse_type(node, evaluate_default, top_level=False), False, None


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeConversionError("a bool is not a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        # Terraform's conversion (decimal text, no "inf" or "nan"), with driftwatch's range: float()
        # made "1e400" infinity, which crashed later (int(inf)) and lost the target's tables.
        shown = repr(value) if len(value) <= 40 else f"{value[:30]!r}... ({len(value):,} characters)"
        if not numbers.NUMBER_TEXT.fullmatch(value.strip()):
            raise TypeConversionError(f"{shown} is not a number")
        try:
            return numbers.parse(value.strip())
        except numbers.NumberError as error:
            raise TypeConversionError(f"{shown}: {error}") from None
    raise TypeConversionError(f"a {type(value).__name__} is not a number")


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, numbers.Num)):
        return numbers.format_number(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise TypeConversionError(f"a {type(value).__name__} is not a string")


# The strings cty converts to a bool (measured with terraform console: ``tobool("1")``,
# ``"0" ? a : b`` and a ``bool`` variable set to ``"1"`` all convert; ``"True"`` or ``"yes"`` do
# not). The one table every string-to-bool conversion of driftwatch reads.
STRING_BOOLS: dict[str, bool] = {"true": True, "false": False, "1": True, "0": False}


def string_bool(value: object) -> bool | None:
    """The bool cty converts ``value`` to when it is a string; None when it is not one of those."""
    return STRING_BOOLS.get(value) if isinstance(value, str) else None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    converted = string_bool(value)
    if converted is None:
        raise TypeConversionError(f"{value!r} is not a bool")
    return converted


def convert(value: Any, type_spec: TypeSpec, where: str = "value", *, literal: bool = False) -> Any:
    """Convert ``value`` to ``type_spec`` as Terraform would; Unknown passes through unchanged.

    ``literal``: the value was written as a constant (a tfvars file, a root variable's default),
    so each of its nulls has no type, which a collection of ``any`` cannot always hold (see
    ``_untyped_nulls``). A value computed by an expression may hold nulls of a type (``c ? x :
    null``), which driftwatch does not track: there the rule is not applied."""
    if isinstance(value, Unknown) or value is None or type_spec.kind == "any":
        return value
    kind = type_spec.kind
    if kind == "string":
        return _string(value)
    if kind == "number":
        return _number(value)
    if kind == "bool":
        return _bool(value)
    if kind in ("list", "set"):
        if not isinstance(value, (list, tuple)):
            raise TypeConversionError(f"{where}: a {kind} is required, got a {type(value).__name__}")
        element = type_spec.element or ANY
        items = [convert(item, element, f"{where}[{i}]", literal=literal) for i, item in enumerate(value)]
        items = _one_element_type(items, element, kind, where, literal)
        if kind == "set":
            from driftwatch.terraform.functions import FunctionError, toset

            try:
                return toset(items)
            except FunctionError as error:
                raise TypeConversionError(f"{where}: {error}") from None
        return items
    if kind == "tuple":
        if not isinstance(value, (list, tuple)) or len(value) != len(type_spec.elements):
            raise TypeConversionError(f"{where}: a tuple of {len(type_spec.elements)} elements is required")
        return [
            convert(item, t, f"{where}[{i}]", literal=literal)
            for i, (item, t) in enumerate(zip(value, type_spec.elements, strict=True))
        ]
    if kind == "map":
        if not isinstance(value, dict):
            raise TypeConversionError(f"{where}: a map is required, got a {type(value).__name__}")
        element = type_spec.element or ANY
        converted = {
            key: convert(item, element, f"{where}[{key!r}]", literal=literal) for key, item in value.items()
        }
        items = _one_element_type(list(converted.values()), element, kind, where, literal)
        return dict(zip(converted, items, strict=True))
    if kind == "object":
        return _convert_object(value, type_spec, where, literal)
    return value


def has_any(type_spec: TypeSpec) -> bool:
    """Whether ``any`` is somewhere in the type: Terraform finds one concrete type for it."""
    return (
        type_spec.kind == "any"
        or (type_spec.element is not None and has_any(type_spec.element))
        or any(has_any(attribute) for attribute, _, _ in type_spec.attributes.values())
        or any(has_any(element) for element in type_spec.elements)
    )


def _one_element_type(items: list[Any], element: TypeSpec, kind: str, where: str, literal: bool) -> list[Any]:
    """The converted elements of a collection whose element type has ``any`` in it, made one
    type as cty makes them: ``any`` itself is unified (see ``_unified``); deeper (``list(map(any))``,
    ``map(object({a = any}))``) the elements, each converted alone, are unified too (the maps of
    ``[{a = 1, b = "x"}, {c = true}]`` are both maps of strings: ``c = "true"``), or refused when
    they have no common type. A set of them is not unified: its elements must already have one
    type ("element types must all match for conversion to set"; terraform 1.11.4 console)."""
    if element.kind == "any":
        if literal and _untyped_nulls(items, kind, where):
            return items
        return _unified(items, kind, where)
    if not has_any(element):
        return items
    from driftwatch.terraform.unify import UnifyError, unify_values

    try:
        unified = unify_values(items)
    except UnifyError:
        unified = None
    if kind == "set" and unified != items:
        raise TypeConversionError(f"{where}: element types must all match for conversion to set")
    if unified is None:
        raise TypeConversionError(f"{where}: cannot find a common base type for all elements")
    return unified


def _structural(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _untyped_nulls(items: list[Any], kind: str, where: str) -> bool:
    """Where an untyped null (a literal ``null``) meets a list or an object in the elements of a
    collection of ``any``, cty finds no type for them ("dynamic"), converts nothing and requires
    the elements to have one type already (terraform 1.11.4): a ``list(any)`` / ``set(any)`` of
    ``[{a = 1}, null]`` is refused; a ``map(any)`` of ``{a = {x = 1, y = "s"}, b = null}`` is
    kept as written (``x`` stays a number), but with two objects of different types beside the
    null it is refused; and a null beside a list or an object deeper, where the elements are
    unified attribute by attribute (``{u = {ttl = null}, a = {ttl = {enabled = true}}}``), is
    refused too. True when the elements are kept as written; raises when refused."""
    refused = TypeConversionError(f"{where}: all {kind} elements must have the same type")
    if any(item is None for item in items) and any(_structural(item) for item in items):
        known = [item for item in items if item is not None and not isinstance(item, Unknown)]
        if kind != "map" or len({_literal_type(item) for item in known}) > 1:
            raise refused
        return True
    if _null_beside_structure(items):
        raise refused
    return False


def _null_beside_structure(values: list[Any]) -> bool:
    """Whether unifying ``values`` as cty does (attribute by attribute for objects of the same
    attributes, else all attribute values together; element by element for sequences of the same
    length, else all elements together) meets an untyped null beside a list or an object."""
    if any(value is None for value in values) and any(_structural(value) for value in values):
        return True
    objects = [value for value in values if isinstance(value, dict)]
    if objects and len(objects) == len(values):
        names = set(objects[0])
        if all(set(o) == names for o in objects):
            return any(_null_beside_structure([o[name] for o in objects]) for name in names)
        return _null_beside_structure([item for o in objects for item in o.values()])
    sequences = [value for value in values if isinstance(value, list)]
    if sequences and len(sequences) == len(values):
        if len({len(s) for s in sequences}) == 1:
            return any(_null_beside_structure([s[i] for s in sequences]) for i in range(len(sequences[0])))
        return _null_beside_structure([item for s in sequences for item in s])
    return False


def _literal_type(value: Any) -> Any:
    """A hashable stand-in for the cty type of a literal value (an object's attribute names and
    types, a tuple's element types)."""
    if isinstance(value, dict):
        return ("object", tuple(sorted((str(k), _literal_type(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("tuple", tuple(_literal_type(v) for v in value))
    if value is None or isinstance(value, Unknown):
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    return "string" if isinstance(value, str) else "number"


def _unified(items: list[Any], kind: str, where: str) -> list[Any]:
    """The elements of a ``list(any)``, ``set(any)`` or ``map(any)`` converted to their one
    common type, as cty converts to a collection of ``any``: ``{a = {x = 1, y = "s"}, b = {x =
    "t"}}`` is a map of maps of strings (``x = "1"``), and elements with no common type (a
    number beside a list) are refused with Terraform's words (terraform 1.11.4). Before, the
    values were kept as written: the numbers stayed numbers, and a variable Terraform refuses was
    read (eleventh survey)."""
    from driftwatch.terraform.unify import UnifyError, unify_values

    try:
        return unify_values(items)
    except UnifyError:
        raise TypeConversionError(f"{where}: all {kind} elements must have the same type") from None


def _convert_object(value: Any, type_spec: TypeSpec, where: str, literal: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeConversionError(f"{where}: an object is required, got a {type(value).__name__}")
    result: dict[str, Any] = {}
    for name, (attribute_type, optional, default) in type_spec.attributes.items():
        if name in value and value[name] is not None:
            result[name] = convert(value[name], attribute_type, f"{where}.{name}", literal=literal)
        elif optional:
            result[name] = convert(default, attribute_type, f"{where}.{name}")
        elif name in value:
            result[name] = None
        else:
            raise TypeConversionError(f"{where}: attribute {name!r} is required")
    return result
