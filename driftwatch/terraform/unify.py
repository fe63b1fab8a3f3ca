"""The common type of a conditional's two results, as Terraform finds it, applied to values.

``cond ? a : b`` has one type whatever ``cond`` is: Terraform unifies the types of ``a`` and ``b``
(cty's ``convert.Unify``) and converts the chosen result to it, or refuses the expression with
"Inconsistent conditional result types". So ``true ? {a = 1, b = "x"} : {}`` is the map
``{a = "1", b = "x"}``, and ``true ? [1] : {}`` is an error. Here that is done on values:

- primitives: one kind stays; a string among them makes all strings; number with bool fails;
- a primitive with a collection, or a sequence with an object, fails;
- objects with the same attribute names unify attribute by attribute; otherwise they become a
  map, and all their attribute values unify together;
- sequences of the same length unify element by element; otherwise they become a list, and all
  their elements unify together;
- a set with sequences makes the sequences sets of the set's element type
  (`flag ? toset(["a"]) : []` is an empty set when the flag is false, as Terraform finds it:
  a public module's ``for_each``, which a tuple would make invalid); a list made with
  ``tolist`` (a list, not a tuple, in Terraform: the result stays a list) is not told apart
  here; nulls and Unknowns stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwatch.spec import Unknown
from driftwatch.terraform.functions import FunctionError, is_set, to_string, tonumber, toset, type_name

_PRIMITIVE = frozenset({"string", "number", "bool"})


class UnifyError(FunctionError):
    """The values have no common type."""


def _kind(value: Any) -> str:
    return "object" if isinstance(value, Mapping) else type_name(value)


def unify_values(values: list[Any]) -> list[Any]:
    """``values`` converted to their common type (same order), or ``UnifyError``."""
    known = [v for v in values if v is not None and not isinstance(v, Unknown)]
    kinds = {_kind(v) for v in known}
    if len(kinds) <= 1 and kinds <= _PRIMITIVE:
        return values
    if kinds <= _PRIMITIVE:
        if "string" not in kinds:
            raise UnifyError("number and bool")
        return [to_string(v) if _kind(v) in ("number", "bool") else v for v in values]
    if kinds & _PRIMITIVE:
        raise UnifyError(" and ".join(sorted(kinds)))
    if "set" in kinds:
        if "object" in kinds:
            raise UnifyError("set and object")
        return _sets(values)
    if kinds == {"object"}:
        return _objects(values)
    if kinds == {"list"}:
        return _sequences(values)
    raise UnifyError("list and object")


def _objects(values: list[Any]) -> list[Any]:
    objects = [v for v in values if isinstance(v, Mapping)]
    names = [list(o) for o in objects]
    if all(set(n) == set(names[0]) for n in names):
        converted = {name: iter(unify_values([o[name] for o in objects])) for name in names[0]}
        rebuilt = iter([{name: next(converted[name]) for name in o} for o in objects])
    else:
        flat = iter(unify_values([item for o in objects for item in o.values()]))
        rebuilt = iter([{name: next(flat) for name in o} for o in objects])
    return [next(rebuilt) if isinstance(v, Mapping) else v for v in values]


def _sequences(values: list[Any]) -> list[Any]:
    sequences = [v for v in values if isinstance(v, list) and not is_set(v)]
    if len({len(s) for s in sequences}) == 1:
        columns = [unify_values([s[i] for s in sequences]) for i in range(len(sequences[0]))]
        rebuilt = iter([[column[row] for column in columns] for row in range(len(sequences))])
    else:
        flat = iter(unify_values([item for s in sequences for item in s]))
        rebuilt = iter([[next(flat) for _ in s] for s in sequences])
    return [next(rebuilt) if isinstance(v, list) and not is_set(v) else v for v in values]


def _sets(values: list[Any]) -> list[Any]:
    """A set with tuples: each tuple becomes a set of the set's element type, its elements
    converted to it (cty unifies ``set(string)`` and a tuple to ``set(string)``, ``set(number)``
    and ``["2"]`` to ``set(number)``; ``"a"`` where a number is required is refused). With an
    empty set, or sets of other element types, the tuples' own elements are unified. A set
    itself is left as it is."""
    kinds = {_kind(item) for v in values if is_set(v) for item in v if item is not None}
    kind = next(iter(kinds)) if len(kinds) == 1 and kinds <= _PRIMITIVE else None
    converted: list[Any] = []
    for value in values:
        if not isinstance(value, list) or is_set(value):
            converted.append(value)
        elif kind is None:
            converted.append(toset(unify_values(list(value))))
        else:
            try:
                converted.append(toset([_as_kind(kind, item) for item in value]))
            except _ValueRefused as refused:  # an error only if this result is the one chosen
                converted.append(refused)
    return converted


class _ValueRefused(UnifyError):
    """A value that cannot be converted to the unified type (``"a"`` where a number is
    required): the types unify, so only the chosen result's conversion fails."""


def _as_kind(kind: str, value: Any) -> Any:
    """``value`` converted to the primitive type ``kind``, as cty converts (unsafely) a
    conditional's result to the unified type."""
    if value is None or isinstance(value, Unknown) or _kind(value) == kind:
        return value
    if _kind(value) not in _PRIMITIVE:
        raise UnifyError(f"set of {kind} and {_kind(value)}")
    if kind == "string":
        return to_string(value)
    if kind == "number" and isinstance(value, str):
        try:
            return tonumber(value)
        except FunctionError:
            raise _ValueRefused("a number is required") from None
    if kind == "bool" and isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        raise _ValueRefused("a bool is required")
    raise UnifyError(f"{kind} and {_kind(value)}")


def conditional_result(chosen: Any, other: Any) -> Any:
    """The chosen result of a conditional, converted to the type it shares with ``other``."""
    result = unify_values([chosen, other])[0]
    _raise_refused(result)
    return result


def _raise_refused(value: Any) -> None:
    """Raise a conversion refused anywhere in the chosen result (a set inside a tuple too)."""
    if isinstance(value, _ValueRefused):
        raise value
    if isinstance(value, Mapping):
        for item in value.values():
            _raise_refused(item)
    elif isinstance(value, list):
        for item in value:
            _raise_refused(item)
