"""What a table's declaration may carry out of the evaluation: values AWS itself accepts, and
text that can be written anywhere.

A repository can declare a table AWS would refuse -- a 512 KiB name, a tag key of 200
characters, a region that is not one -- and a function can produce a string that is not text
at all (``format("%c", 55296)`` is a lone surrogate, which UTF-8 cannot encode). Such a table
cannot exist in AWS as declared, and its values must not reach Prometheus labels, the history
database or a terminal: the table becomes an error naming the problem (``DeclaredTable.problem``),
with its name and address cut and escaped (driftwatch.bounds), and its other values dropped.

The limits are DynamoDB's and tagging's (Terraform's provider checks the same before a plan):
table and index names at most 255 characters; tag keys 1-128 characters, tag
values at most 256, at most 50 tags a table (checked by AWS only, at apply: a one-line ``for``
declared 100,000 tags, each a drift item, a metric series and a history row every scan), at
most 5 local secondary indexes (a ``dynamic`` block made thousands); key attribute names at
most 255. (Global secondary indexes are a quota AWS raises on request: not refused here.)
Pure: declarations in, declarations out.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, Final

from driftwatch.bounds import MAX_TEXT, bounded, is_valid_text, safe_text
from driftwatch.spec import DeclaredTable, SourceLocation, TableSpec, Unknown
from driftwatch.terraform.target import TargetDeclarations

MAX_NAME: Final = 255  # table and index names, key attribute names
MAX_TAG_KEY: Final = 128
MAX_TAG_VALUE: Final = 256
MAX_TAGS: Final = 50  # user tags a DynamoDB table holds; ``aws:`` ones do not count
MAX_LSIS: Final = 5  # local secondary indexes a table holds (CreateTable; not a quota to raise)
MAX_REGION: Final = 32
_REGION = re.compile(r"[a-z0-9][a-z0-9-]*")
SHOWN_NAME: Final = 80  # characters of a refused table's name kept for the report


def vet_declarations(declarations: TargetDeclarations, target: str) -> TargetDeclarations:
    """``declarations`` with each refused table replaced by an error row, and every string of
    the rest (errors, notes, addresses) made safe."""
    return dataclasses.replace(
        declarations,
        tables=[_vetted(table) for table in declarations.tables],
        errors=[bounded(error) for error in declarations.errors],
    )


# The declaration memo (driftwatch.terraform.memo) hands out the same DeclaredTable objects on
# every rescan of an unchanged target: each is vetted once (a walk of every value, ~0.2 ms a
# table), not once per scan. The entry keeps its table, so its id cannot be reused meanwhile.
_MAX_VETTED = 20_000
_vetted_tables: OrderedDict[int, tuple[DeclaredTable, DeclaredTable]] = OrderedDict()
_vetted_lock = threading.Lock()


def _vetted(table: DeclaredTable) -> DeclaredTable:
    with _vetted_lock:
        known = _vetted_tables.get(id(table))
        if known is not None and known[0] is table:
            _vetted_tables.move_to_end(id(table))
            return known[1]
    problem = table_problem(table)
    result = bounded(table) if problem is None else _refused(table, problem)
    with _vetted_lock:
        _vetted_tables[id(table)] = (table, result)
        while len(_vetted_tables) > _MAX_VETTED:
            _vetted_tables.popitem(last=False)
    return result


def table_problem(table: DeclaredTable) -> str | None:
    """Why AWS (or UTF-8) refuses this declaration, or None."""
    for where, text in _strings(table.spec, "", set()):
        if not is_valid_text(text):
            return f"invalid text (a lone surrogate) in {where or 'the table'}: not a value AWS can store"
    for where, text in (("the address", table.address), ("the file name", table.source.file)):
        if not is_valid_text(text):
            return f"invalid text in {where} (undecodable bytes or a lone surrogate)"
    spec = table.spec
    problem = _name_problem("the table name", spec.name)
    if problem:
        return problem
    if isinstance(spec.region, str) and spec.region and not _is_region(spec.region):
        shown = safe_text(spec.region, SHOWN_NAME)
        return f"the region {shown!r} is not an AWS region name"
    if not isinstance(spec.lsis, Unknown) and len(spec.lsis) > MAX_LSIS:
        return (
            f"the table declares {len(spec.lsis):,} local secondary indexes; "
            f"DynamoDB allows at most {MAX_LSIS} a table"
        )
    for kind, indexes in (("global secondary index", spec.gsis), ("local secondary index", spec.lsis)):
        if isinstance(indexes, Unknown):
            continue
        for index in indexes:
            problem = _name_problem(f"a {kind} name", index.name)
            if problem:
                return problem
    for what, key in (("hash_key", spec.hash_key), ("range_key", spec.range_key)):
        if isinstance(key, str) and len(key) > MAX_NAME:
            return f"the {what} attribute name is {len(key):,} characters long; AWS allows at most {MAX_NAME}"
    if isinstance(spec.tags, Mapping):
        count = sum(1 for key in spec.tags if not (isinstance(key, str) and key.startswith("aws:")))
        if count > MAX_TAGS:
            return f"the table declares {count:,} tags; DynamoDB allows at most {MAX_TAGS} a table"
        for key, value in spec.tags.items():
            if isinstance(key, str) and not 1 <= len(key) <= MAX_TAG_KEY:
                shown = safe_text(key, SHOWN_NAME)
                return f"the tag key {shown!r} is {len(key):,} characters long; AWS allows 1 to {MAX_TAG_KEY}"
            if isinstance(value, str) and len(value) > MAX_TAG_VALUE:
                shown = safe_text(key, SHOWN_NAME)
                return (
                    f"the value of tag {shown!r} is {len(value):,} characters long; "
                    f"AWS allows at most {MAX_TAG_VALUE}"
                )
    return None


def _is_region(region: str) -> bool:
    return len(region) <= MAX_REGION and _REGION.fullmatch(region) is not None


def _name_problem(what: str, name: Any) -> str | None:
    if isinstance(name, str) and len(name) > MAX_NAME:
        return f"{what} is {len(name):,} characters long; AWS allows at most {MAX_NAME}"
    return None


def _strings(value: Any, where: str, seen: set[int]) -> Iterator[tuple[str, str]]:
    """Every string in a spec, with where it is (``tags.Team``, ``gsis``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Unknown):  # its reason is text driftwatch wrote: made safe, not refused
        return
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        if id(value) in seen:
            return
        seen.add(id(value))
        for item in dataclasses.fields(value):
            yield from _strings(getattr(value, item.name), _join(where, item.name), seen)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield where, key
                yield from _strings(item, _join(where, safe_text(key, 40)), seen)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _strings(item, where, seen)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _refused(table: DeclaredTable, problem: str) -> DeclaredTable:
    """The error row's declaration: where it is, and a short, safe name; nothing else."""
    name = table.spec.name
    shown: str | Unknown = safe_text(name, SHOWN_NAME) if isinstance(name, str) else Unknown(problem)
    region = table.spec.region if isinstance(table.spec.region, str) else None
    if region and not _is_region(region):
        region = None
    return dataclasses.replace(
        table,
        address=safe_text(table.address, MAX_TEXT),
        source=SourceLocation(safe_text(table.source.file, MAX_TEXT), table.source.line),
        spec=TableSpec(name=shown, region=region),
        notes=(),
        inputs=tuple(safe_text(item, MAX_TEXT) for item in table.inputs),
        problem=problem,
    )
