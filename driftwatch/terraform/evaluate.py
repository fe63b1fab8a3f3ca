"""Evaluation of Terraform expressions over python-hcl2's typed tree, without Python eval.

driftwatch has no Terraform binary and no state, so it evaluates module inputs itself. The
rules are Terraform's, because a value that Terraform would compute differently is a false
alarm waiting to happen. Where a value cannot be known here (a resource attribute, a data
source, a file outside the repository) the result is ``Unknown(reason)``, which downstream
reports as *unresolved* rather than comparing. Files are read only through the Scope's
``files`` reader (driftwatch.terraform.data_files), never by the evaluator itself.

Two kinds of "not a value" are kept apart internally:

* ``Unknown`` is a value. It flows through operators and functions and survives inside lists
  and maps, so a tag map with one unknown tag still has its other tags.
* An *error* (``_Failure``) is what Terraform would reject: a missing attribute, a type
  mismatch, division by zero. ``try()`` and ``can()`` observe errors, exactly as in
  Terraform; at the top level an error becomes ``Unknown("<file>:<line>: <what went wrong>")``
  so that a mistake in one expression never stops a scan.

One more exception escapes, ``NotConstant``: a var file's value, a ``-var`` / ``TF_VAR_`` string
and a variable's ``default`` are evaluated by Terraform with no evaluation context at all, so a
function call or a reference in them (``default = lower("X")``) makes it refuse the whole
configuration, not one value. Such an expression is evaluated with ``Scope(constant=True)``,
and the caller reports the refusal as an error of the target.

Otherwise the only exception that escapes is ``EvaluationError``, for the hard limits that keep a hostile
or generated configuration from exhausting the Python stack, the CPU or the memory: nesting
deeper than ``MAX_DEPTH`` and an exhausted step budget. A value over the size limits (elements,
characters, nesting; see ``driftwatch.terraform.limits``) or another of driftwatch's own bounds
(``functions.FunctionLimit``) is a ``_Limit`` where it is made: an Unknown naming the file and
line, which ``try()`` and ``can()`` pass on as Unknown. Terraform computes such a value, so
choosing ``try()``'s fallback would be a value Terraform never makes.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hcl2.rules.base import AttributeRule
from hcl2.rules.containers import (
    ObjectElemKeyExpressionRule,
    ObjectElemKeyRule,
    ObjectElemRule,
    ObjectRule,
    TupleRule,
)
from hcl2.rules.directives import TemplateElseRule, TemplateForRule, TemplateForStartRule, TemplateIfRule
from hcl2.rules.expressions import BinaryOpRule, ConditionalRule, ExprTermRule, UnaryOpRule
from hcl2.rules.for_expressions import ForIntroRule, ForObjectExprRule, ForTupleExprRule
from hcl2.rules.functions import FunctionCallRule
from hcl2.rules.indexing import (
    AttrSplatExprTermRule,
    AttrSplatRule,
    FullSplatExprTermRule,
    FullSplatRule,
    GetAttrExprTermRule,
    GetAttrRule,
    IndexExprTermRule,
    ShortIndexRule,
    SqbIndexRule,
)
from hcl2.rules.literal_rules import FloatLitRule, IdentifierRule, IntLitRule, LiteralValueRule
from hcl2.rules.strings import (
    HeredocTemplateRule,
    HeredocTrimTemplateRule,
    InterpolationRule,
    StringPartRule,
    StringRule,
    TemplateStringRule,
)
from hcl2.utils import process_escape_sequences

from driftwatch.spec import PartlyListed, Unknown, first_unknown
from driftwatch.terraform import (
    file_functions,
    heredoc,
    limits,
    numbers,
    strip_markers,
    text_functions,
    unify,
)
from driftwatch.terraform import functions as fn
from driftwatch.terraform.data_sources import DataSources, DataSourceValues
from driftwatch.terraform.file_functions import FileReader
from driftwatch.terraform.functions import FunctionError, is_list, type_name
from driftwatch.terraform.limits import MAX_DEPTH as MAX_DEPTH
from driftwatch.terraform.limits import EvaluationError as EvaluationError
from driftwatch.terraform.limits import ValueTooLarge
from driftwatch.terraform.parse import DEFAULT_MAX_FILE_TOKENS, Literal, count_tokens
from driftwatch.terraform.references import InstanceValues, ResourceInstance

# path.cwd is the absolute directory `terraform` was run in: a fact of the machine that ran the
# apply, not of the configuration, so it is never guessed (a guess would be false drift).
PATH_CWD = Unknown("path.cwd is the directory Terraform was run in, which depends on where it ran")


class Scope:
    """Names visible to an expression (``var``, ``local``, ``module``, ``each``, ``count``, ...).

    Values may be lazy ``Mapping``s: ``local`` and module outputs are evaluated on first access,
    so only what an expression actually references is ever computed. A root name that is not
    here (a resource type, ``data``) evaluates to Unknown naming the whole reference.

    ``files`` is what ``file()`` and the other file functions read through (the module's
    reader, driftwatch.terraform.data_files); None: they are Unknown (a -var value, a test).
    ``providers`` maps the local names of the module's ``required_providers`` to their type
    (``aws``): Terraform offers ``provider::<name>::<function>`` only for those. None: not
    known (a -var value, a test), and provider functions are not checked against it.

    ``constant``: the expression is one Terraform evaluates with no context (a var file's
    value, a ``-var`` string, a variable's ``default``): a function call or a reference to
    anything but a ``for`` symbol raises ``NotConstant``.
    """

    def __init__(
        self,
        names: Mapping[str, Any],
        file: str | None = None,
        files: FileReader | None = None,
        providers: Mapping[str, str] | None = None,
        constant: bool = False,
    ):
        self.names = names
        self.file = file
        self.files = files
        self.providers = providers
        self.constant = constant

    def child(self, **names: Any) -> Scope:
        merged = dict(self.names)
        merged.update(names)
        return Scope(merged, self.file, self.files, self.providers, self.constant)


class NotConstant(Exception):
    """A function call or a reference where Terraform evaluates with no context: Terraform
    refuses the configuration ("Function calls not allowed", "Variables not allowed"), so the
    caller reports an error, never a value. Not a ``_Failure``: ``try()`` cannot observe it
    (it is refused itself), and neither can an untaken conditional branch."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


class _Failure(Exception):
    """A Terraform evaluation error; observable by try()/can(), else Unknown at the top."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


class _Limit(_Failure):
    """One of driftwatch's own bounds (a value's size, limits.MAX_VALUE_*; fn.FunctionLimit)
    reached where Terraform computes the value: Unknown at the top, and Unknown out of try()
    and can(), which must not take it for a Terraform error and choose their fallback."""


@dataclass(frozen=True)
class _Ctx:
    scope: Scope
    # Added to node line numbers: heredoc bodies are re-parsed on their own, from line 1.
    line_offset: int = 0
    # In a templatefile() template: names are its vars only, and templatefile cannot recurse.
    template: bool = False

    def line(self, node: Any) -> int | None:
        line = getattr(getattr(node, "_meta", None), "line", None)
        return None if line is None else int(line) + self.line_offset

    def fail(self, node: Any, message: str) -> _Failure:
        return _Failure(message, self.line(node))

    def limit(self, node: Any, message: str) -> _Limit:
        return _Limit(message, self.line(node))

    def with_names(self, **names: Any) -> _Ctx:
        return replace(self, scope=self.scope.child(**names))


# Nesting depth is shared by nested evaluate() calls in one thread: a local that references a
# local that references a local... is one deep Python stack, however many entry points it has.
_state = threading.local()


def _where(file: str | None, line: int | None) -> str:
    if file and line is not None:
        return f"{file}:{line}: "
    if file:
        return f"{file}: "
    return f"line {line}: " if line is not None else ""


def evaluate(node: Any, scope: Scope) -> Any:
    """Evaluate an expression node to a plain value or Unknown; see the module docstring.

    Steps are counted against the thread's budget (``limits.budget``), else against a budget
    of ``limits.DEFAULT_STEPS`` for this call and the evaluations nested in it.
    """
    if limits.current() is None:
        with limits.budget(limits.DEFAULT_STEPS):
            return evaluate(node, scope)
    ctx = _Ctx(scope)
    try:
        value = _plain(_eval(node, ctx))
    except _Failure as failure:
        return Unknown(_where(scope.file, failure.line) + failure.message)
    except ValueTooLarge as error:
        return Unknown(_where(scope.file, ctx.line(node)) + str(error))
    except RecursionError:
        raise EvaluationError("expression is nested too deeply to evaluate", ctx.line(node)) from None
    return value


def evaluate_text(text: str, scope: Scope) -> Any:
    """Parse one HCL expression from text (a ``-var`` value, a test) and evaluate it."""
    try:
        tree = strip_markers.parses(f"__x = {text}\n")
    except RecursionError:
        raise EvaluationError("expression is nested too deeply to parse") from None
    except Exception as error:  # lark and python-hcl2 raise several exception types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return Unknown(f"{_where(scope.file, None)}cannot parse {text!r} as an expression: {first_line}")
    children = list(tree.body.children)
    attributes = [c for c in children if isinstance(c, AttributeRule)]
    if len(attributes) != 1 or any(type(c).__name__ == "BlockRule" for c in children):
        return Unknown(f"{_where(scope.file, None)}{text!r} is not a single expression")
    return evaluate(attributes[0].expression, scope)


# --- dispatch --------------------------------------------------------------------------------


def _eval(node: Any, ctx: _Ctx) -> Any:
    depth: int = getattr(_state, "depth", 0)
    levels = 1
    while isinstance(node, ExprTermRule):
        levels += 1 if node.parentheses else 0
        node = node.expression
    if depth + levels > MAX_DEPTH:
        column = getattr(getattr(node, "_meta", None), "column", None)
        raise EvaluationError(f"expression nesting is deeper than {MAX_DEPTH} levels", ctx.line(node), column)
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise ctx.fail(node, f"unsupported expression ({type(node).__name__})")
    budget = limits.current()
    if budget is not None:
        budget.spend(1, ctx.line(node))
    _state.depth = depth + levels
    try:
        result = handler(node, ctx)
    finally:
        _state.depth = depth
    if handler is not _call and isinstance(result, Unknown) and result.not_null:
        # The "not null" refinement belongs to a function's own result. An unknown passed on by
        # anything else stands for a value that may be null: `cond ? null : x` with an unknown
        # condition, `m[upper(x)]`, `coalesce(a, b).attr`. Dropping it leaves the value
        # unresolved (never a guess); Terraform also keeps it through references, which
        # driftwatch does not follow.
        return replace(result, not_null=False)
    return result


def _plain(value: Any) -> Any:
    """Lazy mappings and tuples become dicts and lists, so callers get only plain values.

    This is also where values are bounded (``limits.MAX_VALUE_*``; raises ValueTooLarge) and
    paid for (a step per 8 elements): values can share parts (``[local.a, local.a]``), so one
    that is small in memory can be exponentially large as a tree, and every consumer of a
    value walks it as a tree.
    """
    walker = _Plain()
    try:
        return walker.convert(value, 0)
    finally:
        # copying an element costs ~1/8 of a node; characters are charged by the work they take
        limits.charge(1 + walker.elements // 8 + walker.chars // limits.CHARS_PER_STEP)


class _Plain:
    def __init__(self) -> None:
        self.elements = 0
        self.chars = 0

    def convert(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            self.chars += len(value)
            if self.chars > limits.MAX_VALUE_CHARS:
                raise ValueTooLarge(f"value has more than {limits.MAX_VALUE_CHARS:,} characters")
            return value
        if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
            return value
        if depth >= limits.MAX_VALUE_DEPTH:
            raise ValueTooLarge(f"value is nested deeper than {limits.MAX_VALUE_DEPTH} levels")
        self.elements += len(value)
        if self.elements > limits.MAX_VALUE_ELEMENTS:
            raise ValueTooLarge(f"value has more than {limits.MAX_VALUE_ELEMENTS:,} elements")
        if isinstance(value, (InstanceValues, ResourceInstance, DataSourceValues)):
            # a resource instance (a data source's result) stays one: its other attributes are
            # known only after apply (read from AWS)
            return value.plain({k: self.convert(value[k], depth + 1) for k in value})
        if isinstance(value, dict):
            return {k: self.convert(v, depth + 1) for k, v in value.items()}
        if isinstance(value, Mapping):
            return {k: self.convert(value[k], depth + 1) for k in value}
        if isinstance(value, fn.TfSet):
            return fn.TfSet(self.convert(v, depth + 1) for v in value)
        if isinstance(value, (list, tuple)):
            return [self.convert(v, depth + 1) for v in value]
        return fn.toset([self.convert(v, depth + 1) for v in value])


def _bounded(value: Any, node: Any, ctx: _Ctx) -> Any:
    """``value`` made plain (bounded and paid for) before it is walked; an error if too large."""
    try:
        return _plain(value)
    except ValueTooLarge as error:
        raise ctx.limit(node, str(error)) from None


def _text(node: Any) -> str:
    """The source text of an identifier-like node (IdentifierRule, LiteralValueRule, token)."""
    token = getattr(node, "token", node)
    return str(getattr(token, "value", token))


# --- literals --------------------------------------------------------------------------------


def _number(node: Any, ctx: _Ctx) -> Any:
    text = _text(node)
    try:
        return fn.to_number(text)
    except fn.FunctionLimit as error:
        raise ctx.limit(node, f"invalid number {text!r}: {error}") from None
    except FunctionError as error:
        raise ctx.fail(node, f"invalid number {text!r}: {error}") from None


_LITERALS = {"true": True, "false": False, "null": None}


def _literal(node: Any, ctx: _Ctx) -> Any:
    text = _text(node)
    if text not in _LITERALS:
        raise ctx.fail(node, f"unknown literal {text!r}")
    return _LITERALS[text]


def _tuple(node: Any, ctx: _Ctx) -> list[Any]:
    result = []
    for element in node.elements:
        result.append(_eval(element, ctx))
    return result


def _object(node: Any, ctx: _Ctx) -> Any:
    result: dict[str, Any] = {}
    unknown: Unknown | None = None
    for element in node.elements:
        key = _object_key(element.key, ctx)
        value = _eval(element.expression, ctx)
        if isinstance(key, Unknown):
            unknown = unknown or key
            continue
        result[key] = value
    return unknown if unknown is not None else result


def _object_key(key: Any, ctx: _Ctx) -> Any:
    """A bare identifier key is its own name; anything else is an expression converted to string."""
    if isinstance(key, ObjectElemKeyExpressionRule):
        value = _eval(key.expression, ctx)
    else:
        inner = key.value
        if isinstance(inner, IdentifierRule):
            return _text(inner)
        value = _eval(inner, ctx)
    if isinstance(value, Unknown):
        return value
    if value is None or not isinstance(value, (str, int, float)):
        raise ctx.fail(key, f"an object key must be a string, got {type_name(value)}")
    return fn.to_string(value)


# --- references ------------------------------------------------------------------------------

_SCOPED_ROOTS = frozenset({"var", "local", "module", "each", "count", "path", "terraform"})


def _traversal(node: Any, ctx: _Ctx) -> Any:
    """A reference chain like ``var.a.b[0][*].c``, flattened so the whole reference is known."""
    steps: list[Any] = []
    root = node
    while True:
        if isinstance(root, ExprTermRule):
            root = root.expression
        elif isinstance(root, GetAttrExprTermRule):
            steps.append(root.get_attr)
            root = root.expr_term
        elif isinstance(root, IndexExprTermRule):
            steps.append(root.children[1])
            root = root.children[0]
        elif isinstance(root, (FullSplatExprTermRule, AttrSplatExprTermRule)):
            steps.append(root.attr_splat)
            root = root.expr_term
        else:
            break
    steps.reverse()
    if isinstance(root, IdentifierRule):
        name = _text(root)
        names = ctx.scope.names
        if ctx.scope.constant and name not in names:
            reference = name + _static_steps(steps, ctx)
            # HCL's words: inside a `for` (a context with its symbols) the name is unknown
            message = (
                f'Unknown variable: there is no variable named "{name}" ({reference})'
                if names
                else f"Variables not allowed: variables may not be used here ({reference})"
            )
            raise NotConstant(message, ctx.line(node))
        sources = names.get("data", DataSources.NONE)
        if name == "data" and not ctx.template and isinstance(sources, DataSources):
            found = _data_source(sources, steps)
            if found is None:
                return _unresolved_root(name, steps, node, ctx)
            value, path, steps = found
        elif name not in names:
            if ctx.template:
                raise ctx.fail(node, f'vars map does not contain key "{name}"')
            return _unresolved_root(name, steps, node, ctx)
        else:
            value, path = names[name], name
    else:
        value, path = _eval(root, ctx), "value"
    for step in steps:
        if isinstance(value, Unknown):
            return value
        value, path = _apply(value, step, path, ctx)
    return value


def _data_source(sources: DataSources, steps: list[Any]) -> tuple[Any, str, list[Any]] | None:
    """``data.<kind>.<name>`` among the data sources the module's provider configuration fixes
    (driftwatch.terraform.data_sources, given as ``data`` in the scope, keyed by kind and name):
    its value, its path and the steps left to apply; None for any other data source (Unknown)."""
    if len(steps) >= 2 and all(isinstance(s, GetAttrRule) for s in steps[:2]):
        key = (_text(steps[0].identifier), _text(steps[1].identifier))
        if key in sources:
            return sources[key], f"data.{key[0]}.{key[1]}", steps[2:]
    return None


def _unresolved_root(name: str, steps: list[Any], node: Any, ctx: _Ctx) -> Any:
    reference = name + _static_steps(steps, ctx)
    if name == "data":
        # the reason a user reads: Terraform reads the data source when it plans, driftwatch never
        return Unknown(
            f"{reference} is read by a data source when Terraform plans, which driftwatch does not do"
        )
    if name == "self":
        return Unknown(f"{reference} refers to the resource itself, known only after apply")
    if name in _SCOPED_ROOTS:
        raise ctx.fail(node, f'"{name}" is not available here ({reference})')
    if not steps or not isinstance(steps[0], GetAttrRule):
        raise ctx.fail(node, f'unknown name "{name}"')
    if len(steps) == 1:
        return Unknown(
            f"{reference} is another resource as a whole, which driftwatch does not evaluate"
            " (Terraform keeps it in its state; a new one is known only after apply)"
        )
    # Terraform keeps it in its state (an argument set in the configuration too): "known only
    # after apply" alone was misread of a table applied long ago (terraform plan of an
    # aws_kms_alias: its name as written, its arn "(known after apply)")
    return Unknown(
        f"{reference} is a resource attribute driftwatch does not evaluate"
        " (Terraform keeps it in its state; a new one is known only after apply)"
    )


def _static_steps(steps: list[Any], ctx: _Ctx) -> str:
    """The reference as written, for a reason a user reads: an index that is not a literal is
    shown as the key or number it evaluates to (``aws_kms_key.k["orders"].arn`` for
    ``aws_kms_key.k[each.key].arn``), or as ``[…]`` where that cannot be told. Cutting the
    reference there named the resource as if it were the attribute ("aws_kms_key.k is ...")."""
    text = ""
    for step in steps:
        if isinstance(step, GetAttrRule):
            text += "." + _text(step.identifier)
        elif isinstance(step, ShortIndexRule):
            text += f"[{_text(step.index)}]"
        elif isinstance(step, SqbIndexRule):
            text += _index_text(step.index_expression, ctx)
        elif isinstance(step, (FullSplatRule, AttrSplatRule)):
            text += "[*]" + _static_steps(list(step.get_attrs), ctx)
        else:
            break
    return text


def _index_text(node: Any, ctx: _Ctx) -> str:
    """``[0]`` / ``["key"]`` for an index whose value is a known number or string, else ``[…]``."""
    try:
        value = _eval(node, ctx)
    except _Failure:
        return "[…]"
    if isinstance(value, str):
        return f"[{fn.jsonencode(value)}]"
    if type_name(value) == "number":
        return f"[{fn.to_string(value)}]"
    return "[…]"


def _unwrap(node: Any) -> Any:
    while isinstance(node, ExprTermRule):
        node = node.expression
    return node


def _apply(value: Any, step: Any, path: str, ctx: _Ctx) -> tuple[Any, str]:
    if isinstance(step, GetAttrRule):
        name = _text(step.identifier)
        return _get_attr(value, name, path, step, ctx), f"{path}.{name}"
    if isinstance(step, ShortIndexRule):
        key: Any = int(_text(step.index))
        return _index(value, key, path, step, ctx), f"{path}[{key}]"
    if isinstance(step, SqbIndexRule):
        key = _eval(step.index_expression, ctx)
        if isinstance(key, Unknown):
            return key, path
        return _index(value, key, path, step, ctx), f"{path}[{_show(key)}]"
    return _splat(value, step, path, ctx), f"{path}[*]"


def _show(key: Any) -> str:
    return f'"{key}"' if isinstance(key, str) else str(key)


def _get_attr(value: Any, name: str, path: str, step: Any, ctx: _Ctx) -> Any:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Mapping):
        try:
            return value[name]
        except KeyError:
            if path in ("var", "local"):
                raise ctx.fail(step, f"{path}.{name} is not declared") from None
            raise ctx.fail(step, f'{path} has no attribute "{name}"') from None
    if value is None:
        raise ctx.fail(step, f'{path} is null, so it has no attribute "{name}"')
    if is_list(value):
        raise ctx.fail(step, f'{path} is a list; use an index or a splat ([*].{name}) to get "{name}"')
    raise ctx.fail(step, f'{path} is a {type_name(value)}, which has no attribute "{name}"')


def _index(value: Any, key: Any, path: str, step: Any, ctx: _Ctx) -> Any:
    if isinstance(value, Unknown):
        return value
    if fn.is_set(value):
        raise ctx.fail(step, f"{path} is a set, whose elements have no index (convert it with tolist())")
    if is_list(value):
        try:
            position = fn.to_int(key)
        except FunctionError as error:
            raise ctx.fail(step, f"invalid index for {path}: {error}") from None
        if not 0 <= position < len(value):
            raise ctx.fail(step, f"index {position} is out of range for {path} (length {len(value)})")
        return value[position]
    if isinstance(value, Mapping):
        if key is None or not isinstance(key, (str, int, float)):
            raise ctx.fail(step, f"invalid key for {path}: a string is required, got {type_name(key)}")
        name = fn.to_string(key)
        try:
            return value[name]
        except KeyError:
            raise ctx.fail(step, f'{path} has no key "{name}"') from None
    if value is None:
        raise ctx.fail(step, f"{path} is null and cannot be indexed")
    raise ctx.fail(step, f"{path} is a {type_name(value)} and cannot be indexed")


def _splat(value: Any, splat: Any, path: str, ctx: _Ctx) -> Any:
    """``[*]`` applies every following step to each element; ``.*`` only the attribute steps.

    null splats to an empty list and a non-list value to a one-element list, as in Terraform.
    """
    if value is None:
        items: list[Any] = []
    elif is_list(value):
        items = list(value)
    else:
        items = [value]
    steps = list(splat.get_attrs)
    per_element = steps
    after: list[Any] = []
    if isinstance(splat, AttrSplatRule):
        cut = next((i for i, s in enumerate(steps) if not isinstance(s, GetAttrRule)), len(steps))
        per_element, after = steps[:cut], steps[cut:]
    results = []
    for position, item in enumerate(items):
        element_path = f"{path}[{position}]"
        for step in per_element:
            if isinstance(item, Unknown):
                break
            item, element_path = _apply(item, step, element_path, ctx)
        results.append(item)
    result: Any = results
    for step in after:
        if isinstance(result, Unknown):
            break
        result, path = _apply(result, step, path, ctx)
    return result


# --- operators -------------------------------------------------------------------------------


def _binary(node: Any, ctx: _Ctx) -> Any:
    operator = _text(node.binary_term.binary_operator).strip()
    left = _eval(node.expr_term, ctx)
    right_node = node.binary_term.expr_term
    if operator in ("&&", "||"):
        return _logical(operator, left, right_node, ctx)
    right = _eval(right_node, ctx)
    if operator in ("==", "!="):
        equal = fn.values_equal(left, right)
        if isinstance(equal, Unknown):
            return equal
        return equal if operator == "==" else not equal
    if isinstance(left, Unknown):
        return left
    if isinstance(right, Unknown):
        return right
    try:
        return _arithmetic(operator, fn.to_number(left), fn.to_number(right))
    except fn.FunctionLimit as error:
        raise ctx.limit(node, f"operator {operator}: {error}") from None
    except FunctionError as error:
        raise ctx.fail(node, f"operator {operator}: {error}") from None


def _arithmetic(operator: str, left: int | float, right: int | float) -> Any:
    if operator in _COMPARISONS:
        return _COMPARISONS[operator](numbers.compare(left, right))
    if operator in ("+", "-", "*", "/", "%"):
        return fn.arithmetic(operator, left, right)
    raise FunctionError(f"unsupported operator {operator}")


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "<": lambda order: order < 0,
    ">": lambda order: order > 0,
    "<=": lambda order: order <= 0,
    ">=": lambda order: order >= 0,
}


def _logical(operator: str, left: Any, right_node: Any, ctx: _Ctx) -> Any:
    """``false && x`` and ``true || x`` are decided by the left side, even if x is Unknown."""
    decisive = operator == "||"
    if not isinstance(left, Unknown) and _as_bool(left, right_node, ctx, operator) is decisive:
        return decisive
    right = _eval(right_node, ctx)
    if not isinstance(right, Unknown) and _as_bool(right, right_node, ctx, operator) is decisive:
        return decisive
    if isinstance(left, Unknown):
        return left
    if isinstance(right, Unknown):
        return right
    return not decisive


def _as_bool(value: Any, node: Any, ctx: _Ctx, what: str) -> bool:
    try:
        return fn.to_bool(value)
    except FunctionError as error:
        raise ctx.fail(node, f"{what}: {error}") from None


def _unary(node: Any, ctx: _Ctx) -> Any:
    operator = str(node.operator).strip()
    value = _eval(node.expr_term, ctx)
    if isinstance(value, Unknown):
        return value
    if operator == "!":
        return not _as_bool(value, node, ctx, "operator !")
    try:
        return numbers.negate(fn.to_number(value))
    except FunctionError as error:
        raise ctx.fail(node, f"operator -: {error}") from None


def _conditional(node: Any, ctx: _Ctx) -> Any:
    condition = _eval(node.condition, ctx)
    if isinstance(condition, Unknown):
        return _undecided(condition, node, ctx)
    if condition is None:
        raise ctx.fail(node, "the condition is null")
    chosen, other = node.if_true, node.if_false
    if not _as_bool(condition, node, ctx, "condition"):
        chosen, other = other, chosen
    value = _eval(chosen, ctx)
    if _is_constant(other):
        # Terraform unifies the two result types: `cond ? {a = 1} : {}` is the map {a = "1"},
        # `cond ? [1] : {}` an error. A constant other branch costs nothing to evaluate.
        try:
            return unify.conditional_result(value, _eval(other, ctx))
        except unify.UnifyError as error:
            raise ctx.fail(node, f"inconsistent conditional result types: {error}") from None
    if isinstance(value, (list, Mapping)) and not fn.is_set(value) and _is_toset_call(other):
        # `flag ? toset([...]) : []` is a set whichever branch is taken (a public module's
        # for_each, eighth survey). The other branch is one call, never a conditional chain, so
        # evaluating it costs once; its type alone decides when its value is not known.
        try:
            other_value = _eval(other, ctx)
        except _Failure:  # as in Terraform, only the chosen branch's errors count
            other_value = None
        if not fn.is_set(other_value):
            return fn.toset(value) if isinstance(value, list) else value
        try:
            return unify.conditional_result(value, other_value)
        except unify.UnifyError as error:
            raise ctx.fail(node, f"inconsistent conditional result types: {error}") from None
    # Any other branch is not evaluated, so that nested conditionals are never evaluated twice:
    # `cond ? 5 : "${x}"` still yields "5", not 5.
    if isinstance(value, (bool, int, float)) and _is_string_node(other):
        return fn.to_string(value)
    return value


# Syntax a constant is made of: literals, tuples, objects with plain keys, template text, a sign.
_CONSTANT_RULES = (
    ExprTermRule,
    TupleRule,
    ObjectRule,
    ObjectElemRule,
    IntLitRule,
    FloatLitRule,
    LiteralValueRule,
    StringRule,
    StringPartRule,
    UnaryOpRule,
)
_MAX_CONSTANT_NODES = 256


def _is_constant(node: Any) -> bool:
    """Whether ``node`` is a small constant (``{}``, ``[]``, ``"none"``, ``[{a = 1}]``): no
    reference, call, conditional or interpolation, so evaluating it is cheap and cannot fail."""
    stack, seen = [node], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > _MAX_CONSTANT_NODES:
            return False
        if isinstance(item, ObjectElemKeyRule):
            item = item.value
            if isinstance(item, IdentifierRule):
                continue
        if not hasattr(item, "children"):
            continue  # a token
        if not isinstance(item, _CONSTANT_RULES):
            return False
        stack.extend(child for child in item.children if child is not None)
    return True


def _undecided(condition: Unknown, node: Any, ctx: _Ctx) -> Any:
    """An Unknown condition still has a known result when both branches agree."""
    try:
        if_true = _eval(node.if_true, ctx)
        if_false = _eval(node.if_false, ctx)
    except _Failure:
        return condition
    if_true, if_false = _bounded(if_true, node, ctx), _bounded(if_false, node, ctx)
    known = first_unknown(if_true) is None and first_unknown(if_false) is None
    if known and type_name(if_true) == type_name(if_false) and fn.values_equal(if_true, if_false) is True:
        return if_true
    return condition


def _is_toset_call(node: Any) -> bool:
    call = _unwrap(node)
    return isinstance(call, FunctionCallRule) and [_text(i) for i in call.identifiers] == ["toset"]


def _is_string_node(node: Any) -> bool:
    return isinstance(_unwrap(node), (StringRule, HeredocTemplateRule, TemplateStringRule))


# --- functions -------------------------------------------------------------------------------


def _call(node: Any, ctx: _Ctx) -> Any:
    name = "::".join(_text(i) for i in node.identifiers)
    if ctx.scope.constant:
        message = f"Function calls not allowed: functions may not be called here ({name})"
        raise NotConstant(message, ctx.line(node))
    arguments_rule = node.arguments
    argument_nodes = list(arguments_rule.arguments) if arguments_rule is not None else []
    if name == "try":
        return _try(node, argument_nodes, ctx)
    if name == "can":
        return _can(node, argument_nodes, ctx)
    if name == "templatestring":
        return _templatestring(node, argument_nodes, ctx)
    if name.startswith("provider::"):
        name = _provider_function(node, name, ctx)
    if name not in fn.FUNCTIONS:
        return Unknown(f"function {name}() is not evaluated by driftwatch")
    if name == "basename":
        known = _basename_of_abspath(arguments_rule, ctx)
        if known is not None:
            return known
    arguments = []
    for argument in argument_nodes:
        arguments.append(_eval(argument, ctx))
    if arguments_rule is not None and arguments_rule.has_ellipsis and arguments:
        expanded = arguments.pop()
        if isinstance(expanded, Unknown):
            return expanded
        if not is_list(expanded):
            raise ctx.fail(
                node, f"{name}(): the argument before ... must be a list, not {type_name(expanded)}"
            )
        arguments.extend(expanded)
    reader = ctx.scope.files
    if name == "templatefile" and (reader is not None or ctx.template):
        return _templatefile(node, [_plain(a) for a in arguments], reader, ctx)
    try:
        if reader is not None and name in file_functions.FILE_FUNCTIONS:
            result = file_functions.call(name, reader, [_plain(a) for a in arguments])
        else:
            result = fn.call(name, [_plain(a) for a in arguments])
    except (fn.FunctionLimit, ValueTooLarge) as error:
        raise ctx.limit(node, f"{name}(): {error}") from None
    except FunctionError as error:
        raise ctx.fail(node, f"{name}(): {error}") from None
    except (RecursionError, EvaluationError):
        raise
    except Exception as error:  # a bug in one function must not stop the scan
        raise ctx.fail(node, f"{name}(): {type(error).__name__}: {error}") from None
    if isinstance(result, str):  # the string built is work done, whether or not it is kept
        limits.charge_size(len(result), ctx.line(node))
        return fn.nfc(result)
    return fn.nfc(result) if name in fn.MAKES_STRINGS_IN_COLLECTIONS else result


def _provider_function(node: Any, name: str, ctx: _Ctx) -> str:
    """``provider::<local name>::<function>`` as registered (``provider::aws::arn_parse``): by
    the type the module's ``required_providers`` gives the local name. Terraform refuses a
    function of a provider the module does not declare ("Unknown provider function")."""
    parts = name.split("::")
    if len(parts) != 3:
        return name  # not a provider function Terraform knows: Unknown, not evaluated
    _, local, function = parts
    providers = ctx.scope.providers
    if providers is None:
        return name
    if local not in providers:
        raise ctx.fail(
            node,
            f'there is no function named "{name}": Terraform requires provider name "{local}" to '
            "be declared in this module's required_providers block (Unknown provider function)",
        )
    return f"provider::{providers[local]}::{function}"


def _basename_of_abspath(arguments_rule: Any, ctx: _Ctx) -> str | None:
    """``basename(abspath(p))`` written as such, when it does not depend on the directory
    Terraform ran in (text_functions.basename_of_abspath): the module-name idiom
    ``basename(abspath(path.module))``. abspath's value on its own stays Unknown, so only this
    form, with a string, is worked out; anything else is None (the usual call)."""
    if arguments_rule is None or arguments_rule.has_ellipsis or len(arguments_rule.arguments) != 1:
        return None
    inner = _unwrap(arguments_rule.arguments[0])
    if not isinstance(inner, FunctionCallRule) or "::".join(_text(i) for i in inner.identifiers) != "abspath":
        return None
    inner_rule = inner.arguments
    if inner_rule is None or inner_rule.has_ellipsis or len(inner_rule.arguments) != 1:
        return None
    path = _eval(inner_rule.arguments[0], ctx)
    if not isinstance(path, str):
        return None
    result = text_functions.basename_of_abspath(path)
    return fn.nfc(result) if isinstance(result, str) else None


_TEMPLATE_NAME = re.compile(r"[^\W\d][\w-]*\Z")  # hclsyntax.ValidIdentifier


def _templatefile(node: Any, arguments: list[Any], reader: FileReader | None, ctx: _Ctx) -> Any:
    """``templatefile(path, vars)``: the file read through the module's reader, parsed as an HCL
    template (tokenised like a heredoc body, which is what hclsyntax does with a template file)
    and rendered with exactly ``vars`` in scope. Terraform's errors: vars not a map or naming an
    invalid identifier, a name the template uses (in any branch) that vars lacks, a null
    result, a nested templatefile call."""
    if ctx.template or reader is None:
        raise ctx.fail(
            node, "templatefile(): cannot recursively call templatefile from inside another template function"
        )
    if len(arguments) != 2:
        raise ctx.fail(node, f"templatefile(): wrong number of arguments ({len(arguments)})")
    path, variables = arguments
    if isinstance(path, Unknown):
        return path
    if isinstance(variables, Unknown):
        return variables
    _check_template_vars(node, "templatefile", variables, ctx)
    try:
        text = fn.to_string(path)
        data = reader.read(text)
    except FunctionError as error:
        raise ctx.fail(node, f"templatefile(): {error}") from None
    if isinstance(data, Unknown):
        return data
    shown = file_functions.clean(text)
    try:
        body = data.decode("utf-8").removeprefix("\ufeff")  # hclsyntax skips one leading BOM
    except UnicodeDecodeError:
        raise ctx.fail(node, f'templatefile(): contents of "{shown}" are not valid UTF-8') from None
    return _render_template(node, "templatefile", body, shown, variables, ctx)


def _check_template_vars(node: Any, function: str, variables: Any, ctx: _Ctx) -> None:
    """Terraform's checks of a template function's ``vars``: a map of valid identifiers."""
    if variables is None:
        raise ctx.fail(node, f"{function}(): vars: argument must not be null")
    if not isinstance(variables, dict):
        raise ctx.fail(node, f"{function}(): invalid vars value: must be a map")
    for key in variables:
        if not _TEMPLATE_NAME.match(key):
            raise ctx.fail(
                node,
                f'{function}(): invalid template variable name "{key}": must start with a letter, '
                "followed by zero or more letters, digits, and underscores",
            )


def _render_template(
    node: Any, function: str, body: str, shown: str, variables: dict[str, Any], ctx: _Ctx
) -> Any:
    """A template's text parsed and rendered with exactly ``variables`` in scope (a name it uses
    that they lack, or a null result, is Terraform's error)."""
    # Parsing is bounded as a .tf file's is (tokens, counted in one linear pass) and charged.
    tokens, over = count_tokens(body, DEFAULT_MAX_FILE_TOKENS)
    if over is not None:
        return Unknown(
            f"{function}({shown!r}): the template is too large to parse: more than "
            f"{DEFAULT_MAX_FILE_TOKENS:,} tokens (driftwatch's limit per file)"
        )
    limits.charge(tokens, ctx.line(node))
    try:
        expression, names = _template_expression(body)
    except ValueError as error:
        raise ctx.fail(node, f"{function}(): {shown}: cannot parse the template: {error}") from None
    missing = sorted(names - set(variables))
    if missing:
        raise ctx.fail(
            node, f'{function}(): vars map does not contain key "{missing[0]}", referenced in {shown}'
        )
    inner = _Ctx(Scope(variables, ctx.scope.file, ctx.scope.files), template=True)
    try:
        value = _eval(expression, inner)
    except _Failure as failure:
        where = f"{shown}:{failure.line}" if failure.line is not None else shown
        raise type(failure)(f"{function}(): {where}: {failure.message}", ctx.line(node)) from None
    except limits.BudgetExceeded as exceeded:  # the template's lines are not the .tf file's
        raise limits.BudgetExceeded(exceeded.budget, ctx.line(node)) from None
    except EvaluationError as error:
        where = f"{shown}:{error.line}" if error.line is not None else shown
        raise EvaluationError(f"{function}(): {where}: {error}", ctx.line(node)) from None
    if value is None:
        raise ctx.fail(node, f"{function}(): {shown}: the result of the template is null")
    return value


# The template argument of templatestring(): a reference to a value held elsewhere.
_REFERENCE_RULES = (IdentifierRule, GetAttrExprTermRule, IndexExprTermRule)


def _templatestring(node: Any, argument_nodes: list[Any], ctx: _Ctx) -> Any:
    """``templatestring(ref, vars)`` (Terraform 1.9): the string ``ref`` names rendered as a
    template with exactly ``vars``, as ``templatefile`` renders a file. Terraform takes only a
    direct reference (``local.x``, ``var.t[0]``), never a literal or another expression."""
    if ctx.template:
        raise ctx.fail(
            node,
            "templatestring(): cannot recursively call templatestring from inside another template function",
        )
    if len(argument_nodes) != 2:
        raise ctx.fail(node, f"templatestring(): wrong number of arguments ({len(argument_nodes)})")
    reference = _unwrap(argument_nodes[0])
    if isinstance(reference, (StringRule, TemplateStringRule, HeredocTemplateRule, HeredocTrimTemplateRule)):
        raise ctx.fail(
            node,
            'templatestring(): invalid value for "template" parameter: templatestring is only for '
            "rendering templates retrieved dynamically from elsewhere; to render an inline template, "
            "use a normal template expression",
        )
    if not isinstance(reference, _REFERENCE_RULES):
        raise ctx.fail(
            node,
            'templatestring(): invalid value for "template" parameter: must be a direct reference '
            "to a single string from elsewhere, containing valid template syntax",
        )
    template, variables = (_plain(_eval(argument, ctx)) for argument in argument_nodes)
    if isinstance(template, Unknown):
        return template
    if isinstance(variables, Unknown):
        return variables
    _check_template_vars(node, "templatestring", variables, ctx)
    if template is None:
        raise ctx.fail(node, 'templatestring(): invalid value for "template" parameter: must not be null')
    if not isinstance(template, str):
        raise ctx.fail(node, 'templatestring(): invalid value for "template" parameter: string required')
    value = _render_template(node, "templatestring", template, "the template", variables, ctx)
    if isinstance(value, (Unknown, str)):
        return value
    if isinstance(value, (bool, int, float)):  # "${a}" alone: the function returns a string
        return fn.to_string(value)
    raise ctx.fail(node, f"templatestring(): the result is a {fn.type_name(value)}: a string is required")


@functools.lru_cache(maxsize=16)
def _template_expression(body: str) -> tuple[Any, frozenset[str]]:
    """A template file's body parsed (once per distinct body), with the names it references
    outside its own for loops: Terraform checks them all against vars before rendering."""
    try:
        tree = strip_markers.parses(f"__x = {heredoc.strip(body, _sequence_end)}\n")
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except Exception as error:  # lark raises several types
        raise ValueError(
            str(error).strip().splitlines()[0][:200] if str(error).strip() else "invalid"
        ) from None
    expression = next(c for c in tree.body.children if isinstance(c, AttributeRule)).expression
    used: set[str] = set()
    bound: set[str] = set()
    stack = [expression]
    while stack:
        rule = stack.pop()
        children = [c for c in getattr(rule, "children", None) or () if c is not None]
        for child in children:
            if isinstance(child, IdentifierRule):
                if isinstance(rule, ExprTermRule):
                    used.add(_text(child))
                elif isinstance(rule, (ForIntroRule, TemplateForStartRule)):
                    bound.add(_text(child))
            else:
                stack.append(child)
    return expression, frozenset(used - bound)


def _try(node: Any, argument_nodes: list[Any], ctx: _Ctx) -> Any:
    """The first argument that evaluates without an error; Unknown if that one is not known.

    Terraform returns unknown when the chosen argument depends on unknown values, because it
    cannot yet tell whether that argument would fail once known.
    """
    if not argument_nodes:
        raise ctx.fail(node, "try(): at least one argument is required")
    for argument in argument_nodes:
        try:
            value = _bounded(_eval(argument, ctx), argument, ctx)
        except _Limit as limit:  # Terraform computes the value: which one try() gives is not known
            return Unknown(_where(ctx.scope.file, limit.line) + limit.message)
        except _Failure:
            continue
        unknown = first_unknown(value)
        return _unrefined(unknown) if unknown is not None else value
    raise ctx.fail(node, "try(): no argument could be evaluated without an error")


def _unrefined(unknown: Unknown) -> Unknown:
    """``try`` and ``can`` of an unknown value are unknown with no refinement: Terraform cannot
    tell yet whether the argument would fail, so ``try(length(x), 0) != null`` stays unknown."""
    return Unknown(unknown.reason) if unknown.not_null else unknown


def _can(node: Any, argument_nodes: list[Any], ctx: _Ctx) -> Any:
    if len(argument_nodes) != 1:
        raise ctx.fail(node, f"can(): exactly one argument is required, got {len(argument_nodes)}")
    try:
        value = _bounded(_eval(argument_nodes[0], ctx), argument_nodes[0], ctx)
    except _Limit as limit:  # Terraform computes the value: can() is true there, not false
        return Unknown(_where(ctx.scope.file, limit.line) + limit.message)
    except _Failure:
        return False
    unknown = first_unknown(value)
    return _unrefined(unknown) if unknown is not None else True


# --- for expressions -------------------------------------------------------------------------


def _for_items(node: Any, collection: Any, ctx: _Ctx) -> Iterator[tuple[Any, Any]]:
    """(key, value) pairs: a list's keys are positions, a map's its keys in lexical order, and
    a set's its elements themselves (a set has no positions)."""
    if fn.is_set(collection):
        return iter([(item, item) for item in collection])
    if is_list(collection):
        return iter(enumerate(collection))
    if isinstance(collection, Mapping):
        return iter([(key, collection[key]) for key in sorted(collection)])
    if collection is None:
        raise ctx.fail(node, "cannot iterate over a null value")
    raise ctx.fail(node, f"cannot iterate over a {type_name(collection)}")


def _iterations(intro: Any, ctx: _Ctx) -> Iterator[_Ctx] | Unknown:
    """Each iteration's context, with the iterator names bound (``for v in``/``for k, v in``)."""
    collection = _eval(intro.iterable, ctx)
    if isinstance(collection, PartlyListed):  # its other attributes would be iterated too
        return collection.unlisted()
    if isinstance(collection, Unknown):
        return collection
    items = _for_items(intro, collection, ctx)
    first = _text(intro.first_iterator)
    second = _text(intro.second_iterator) if intro.second_iterator is not None else None

    def contexts() -> Iterator[_Ctx]:
        for key, value in items:
            yield ctx.with_names(**({first: key, second: value} if second else {first: value}))

    return contexts()


def _keep(condition_rule: Any, ctx: _Ctx) -> bool | Unknown:
    if condition_rule is None:
        return True
    value = _eval(condition_rule.condition_expr, ctx)
    if isinstance(value, Unknown):
        return value
    return _as_bool(value, condition_rule, ctx, "for condition")


def _for_tuple(node: Any, ctx: _Ctx) -> Any:
    iterations = _iterations(node.for_intro, ctx)
    if isinstance(iterations, Unknown):
        return iterations
    result = []
    for inner in iterations:
        keep = _keep(node.condition, inner)
        if isinstance(keep, Unknown):
            return keep
        if keep:
            result.append(_eval(node.value_expr, inner))
    return result


def _for_object(node: Any, ctx: _Ctx) -> Any:
    iterations = _iterations(node.for_intro, ctx)
    if isinstance(iterations, Unknown):
        return iterations
    grouping = node.ellipsis is not None
    result: dict[str, Any] = {}
    for inner in iterations:
        keep = _keep(node.condition, inner)
        if isinstance(keep, Unknown):
            return keep
        if not keep:
            continue
        key = _eval(node.key_expr, inner)
        if isinstance(key, Unknown):
            return key
        if key is None or not isinstance(key, (str, int, float)):
            raise ctx.fail(node, f"a for expression key must be a string, got {type_name(key)}")
        name = fn.to_string(key)
        value = _eval(node.value_expr, inner)
        if grouping:
            result.setdefault(name, []).append(value)
        elif name in result:
            raise ctx.fail(node, f'duplicate key "{name}" in for expression (use ... to group values)')
        else:
            result[name] = value
    return result


# --- templates -------------------------------------------------------------------------------


class _TemplateUnknown(Exception):
    def __init__(self, unknown: Unknown):
        super().__init__(unknown.reason)
        self.unknown = unknown


def _string(node: Any, ctx: _Ctx) -> Any:
    return _template(list(node.string_parts), ctx)


def _template(parts: list[Any], ctx: _Ctx) -> Any:
    """A template's value. Its ``~`` strip markers were applied when it was parsed, to the
    literal parts beside them (driftwatch.terraform.strip_markers, heredoc), as HCL does: here
    every part is rendered as it is, a ``for`` body the same at each iteration."""
    # A template that is exactly one interpolation yields the value itself, unconverted.
    if len(parts) == 1 and isinstance(parts[0].content, InterpolationRule):
        return _eval(parts[0].content.expression, ctx)
    pieces: list[str] = []
    try:
        _render(parts, ctx, pieces)
    except _TemplateUnknown as unknown:
        return unknown.unknown
    size = sum(len(piece) for piece in pieces)
    if size > limits.MAX_VALUE_CHARS:  # checked before joining: pieces may share one long text
        message = f"string has more than {limits.MAX_VALUE_CHARS:,} characters"
        raise ctx.limit(parts[0] if parts else None, message)
    return fn.nfc("".join(pieces))  # pieces each NFC may join into a string that is not


def _render(parts: list[Any], ctx: _Ctx, out: list[str]) -> None:
    for part in parts:
        content = getattr(part, "content", part)
        if not isinstance(content, InterpolationRule):
            # A text part or a directive evaluates no expression of its own, and an expression
            # is what spends a step: a `%{ for }` over nothing but text (or nothing) was free,
            # 10^9 iterations in 90 bytes ran until parse.max_seconds. Each part spends one.
            limits.charge(1, ctx.line(content))
        if isinstance(content, InterpolationRule):
            value = _eval(content.expression, ctx)
            if isinstance(value, Unknown):
                raise _TemplateUnknown(value)
            if value is None or not isinstance(value, (str, int, float)):
                raise ctx.fail(content, f"cannot include a {type_name(value)} value in a string template")
            out.append(fn.to_string(value))
        elif isinstance(content, TemplateIfRule):
            _render_if(content, ctx, out)
        elif isinstance(content, TemplateForRule):
            _render_for(content, ctx, out)
        else:
            out.append(_literal_text(content))


def _literal_text(token: Any) -> str:
    kind = token.lark_name() if hasattr(token, "lark_name") else ""
    value = str(getattr(token, "value", token))
    if kind in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
        return value[1:]
    # HCL normalizes literal text to NFC: "e\u0301" is "\u00e9" in Terraform.
    return unicodedata.normalize("NFC", process_escape_sequences(value))


def _render_if(rule: Any, ctx: _Ctx, out: list[str]) -> None:
    children = list(rule.children)
    start = children[0]
    else_at = next((i for i, c in enumerate(children) if isinstance(c, TemplateElseRule)), None)
    condition = _eval(start.condition, ctx)
    if isinstance(condition, Unknown):
        raise _TemplateUnknown(condition)
    if _as_bool(condition, start, ctx, "template if"):
        body = children[1 : else_at if else_at is not None else -1]
    else:
        body = children[else_at + 1 : -1] if else_at is not None else []
    _render(body, ctx, out)


def _render_for(rule: Any, ctx: _Ctx, out: list[str]) -> None:
    children = list(rule.children)
    start, body = children[0], children[1:-1]
    collection = _eval(start.children[7], ctx)
    if isinstance(collection, PartlyListed):
        raise _TemplateUnknown(collection.unlisted())
    if isinstance(collection, Unknown):
        raise _TemplateUnknown(collection)
    first = _text(start.children[3])
    second = _text(start.children[5]) if start.children[5] is not None else None
    for key, value in _for_items(start, collection, ctx):
        limits.charge(1, ctx.line(start))  # an iteration, whatever its body (see _render)
        inner = ctx.with_names(**({first: key, second: value} if second else {first: value}))
        _render(body, inner, out)


def _template_string(node: Any, ctx: _Ctx) -> Any:
    return process_escape_sequences(node.inner_value)


# --- heredocs --------------------------------------------------------------------------------

_HEREDOC = re.compile(r"\A<<-?([A-Za-z][\w.-]*)\r?\n(.*?)^[ \t]*\1\r?\n?\Z", re.S | re.M)
_heredoc_cache: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_heredoc_lock = threading.Lock()


def _heredoc(node: Any, ctx: _Ctx) -> Any:
    """A heredoc is a template: its body is re-parsed as a quoted string and evaluated as one.

    Terraform keeps the final newline; the ``~`` strip markers trim the literal line next to them
    (``heredoc.strip``), and ``<<-`` removes the indentation after that, as HCL does
    (``heredoc.flush``). Quoted strings inside its interpolations may have markers of their own
    (``strip_markers.parses``).
    """
    with _heredoc_lock:
        expression = _heredoc_cache.get(node)
    if expression is None:
        raw = str(node.heredoc.value)
        match = _HEREDOC.match(raw)
        if match is None:
            raise ctx.fail(node, "malformed heredoc")
        body = match.group(2)  # a CRLF file's heredoc keeps its "\r\n" line ends, as in Terraform
        trim = isinstance(node, HeredocTrimTemplateRule)
        quoted = (heredoc.flush if trim else heredoc.strip)(body, _sequence_end)
        try:
            tree = strip_markers.parses(f"__x = {quoted}\n")
        except Exception as error:  # lark raises several types
            raise ctx.fail(node, f"cannot parse the heredoc's template: {str(error).strip()[:200]}") from None
        expression = next(c for c in tree.body.children if isinstance(c, AttributeRule)).expression
        with _heredoc_lock:
            _heredoc_cache[node] = expression
    return _eval(expression, replace(ctx, line_offset=ctx.line(node) or 0))


def _sequence_end(text: str, i: int) -> int:
    """Index just past the ``}`` closing an interpolation or directive that starts before ``i``
    (a ``}`` or ``"`` in a comment of it is no end and no string: ``strip_markers.comment_end``)."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _string_end(text, i + 1)
            continue
        comment = strip_markers.comment_end(text, i) if char in "#/" else None
        if comment is not None:
            i = comment
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    return len(text)


def _string_end(text: str, i: int) -> int:
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        elif text.startswith(("${", "%{"), i):
            i = _sequence_end(text, i + 2)
        else:
            i += 1
    return len(text)


def _json_literal(node: Any, ctx: _Ctx) -> Any:
    """A value of a ``.tf.json`` file that Terraform reads without evaluating it."""
    return node.value


_HANDLERS: dict[type, Callable[[Any, _Ctx], Any]] = {
    Literal: _json_literal,
    IntLitRule: _number,
    FloatLitRule: _number,
    LiteralValueRule: _literal,
    IdentifierRule: _traversal,
    GetAttrExprTermRule: _traversal,
    IndexExprTermRule: _traversal,
    FullSplatExprTermRule: _traversal,
    AttrSplatExprTermRule: _traversal,
    StringRule: _string,
    TemplateStringRule: _template_string,
    HeredocTemplateRule: _heredoc,
    HeredocTrimTemplateRule: _heredoc,
    TupleRule: _tuple,
    ObjectRule: _object,
    BinaryOpRule: _binary,
    UnaryOpRule: _unary,
    ConditionalRule: _conditional,
    FunctionCallRule: _call,
    ForTupleExprRule: _for_tuple,
    ForObjectExprRule: _for_object,
}
