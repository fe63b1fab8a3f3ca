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
- sets are left as they are (Terraform's set conversions are not modelled), as are nulls and
  Unknowns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwatch.spec import Unknown
from driftwatch.terraform.functions import FunctionError, is_set, to_string, type_name

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
        return values
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


def conditional_result(chosen: Any, other: Any) -> Any:
    """The chosen result of a conditional, converted to the type it shares with ``other``."""
    return unify_values([chosen, other])[0]
