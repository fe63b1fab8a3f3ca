"""Property-based fuzzing of the pure parts: never crash, never hang, never guess.

Each property feeds generated, often hostile, input to one component and checks its contract:
the result is a value, an ``Unknown``, or the component's own documented error type -- never a
TypeError, ValueError, OverflowError... escaping to cost more than the smallest unit. Every
defect these found has a deterministic regression test below its property (an ``@example`` or a
plain test); docs/reliability.md lists them. Derandomized, so CI runs the same examples every
time; bounded (``max_examples``) to a few seconds each.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_diff import UNKNOWNIFY, table_specs

from driftwatch.aws import responses
from driftwatch.aws.dynamodb import table_spec
from driftwatch.aws.responses import InvalidResponse
from driftwatch.diff import diff
from driftwatch.spec import Autoscaling, Drift, ScalingTarget, TableSpec, Unknown, first_unknown
from driftwatch.terraform import cloudposse, limits, numbers, validate_table
from driftwatch.terraform import functions as fn
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.label import ModuleInputError
from driftwatch.terraform.limits import EvaluationError, ValueTooLarge
from driftwatch.terraform.resource import ResourceDeclaration, resource_to_spec, uncompared_arguments

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# 1e4900 as the evaluator holds it: an int of 4,900 digits (rounded to 512 bits, as cty rounds).
# Python's str() refuses ints of over 4,300 digits; numbers in range have up to 4,933.
UNKNOWN = Unknown("not known")
HUGE = numbers.parse("1e4900")
assert isinstance(HUGE, int)
_SPECIAL_NUMBERS = [0, -1, 1, 2**53 + 1, 10**400, -(10**400), HUGE, -HUGE, 2**16383]

# --- generated values --------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    # drawn by index: hypothesis' repr of 2**16383 would itself hit str()'s limit
    st.integers(0, len(_SPECIAL_NUMBERS) - 1).map(lambda i: _SPECIAL_NUMBERS[i]),
    # Finite only: no evaluator value is infinite or NaN (``1 / 0`` and ``log(0, 10)`` are errors,
    # ``yamldecode(".inf")`` is Unknown, numbers beyond 2^16384 are refused where they are
    # written), so an infinite input tests nothing a configuration can reach, and collection
    # functions pass their elements through untouched (``setunion([inf])``). A function that
    # makes an infinity from finite numbers is still caught by ``_is_value``.
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 0.5, -0.5, 1e-320, 5e-324]),
    st.sampled_from(["0.1", "1e400", "-2.5", "1e-400", "1234567890123456789012.5"]).map(numbers.parse),
)
STRINGS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            *("", "a", "\x00", "\ud800", "e\u0301", "A\u0308\u0301", "\u0130", "ß", "\ufb01", "\U0001f600"),
            *("~", "~/x", "/", "5", "-1", "1e400", "true", "dns", "a,b", "YQ==", "a\tb \n", "\\"),
            *("(a)", "(?P<x>a)(b)", "[", "$1", '{"a":1}', "[1,2]", "1e99999"),
            *("%d", "%v", "%s%s", "%[2]d", "%.3f", "%e", "%g", "%9999999d", "%q", "%t", "%-5x", "%#v"),
        ]
    ),
    st.integers(2, 5).map(lambda n: "x" * 10**n),
)
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS, st.builds(Unknown, st.just("u")))
VALUES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(fn.TfSet),
        st.dictionaries(st.text(max_size=3), children, max_size=4),
    ),
    max_leaves=10,
)


def _is_value(value: Any) -> bool:
    """A plain value of the evaluator (or Unknown) that can be printed: every int of it too."""
    if isinstance(value, Unknown) or value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return False
        return bool(fn.format_number(value))
    if isinstance(value, list):
        return all(_is_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_value(v) for k, v in value.items())
    return False


# --- 1. every function, any arguments ------------------------------------------------------


@settings(FUZZ, max_examples=200)
@given(st.sampled_from(sorted(fn.FUNCTIONS)), st.lists(VALUES, max_size=4))
@example("tostring", [HUGE])
@example("format", ["%d", HUGE])
@example("format", ["%e", HUGE])
@example("format", ["%g", HUGE])
@example("min", [[HUGE]])
@example("setunion", [[[HUGE]], [[1]]])
@example("jsonencode", [{"a": [HUGE]}])
def test_a_function_returns_a_value_or_its_error(name: str, arguments: list[Any]) -> None:
    try:
        with limits.budget(200_000):
            result = fn.call(name, arguments)
    except (fn.FunctionError, ValueTooLarge, EvaluationError):
        return
    assert _is_value(result), (name, result)


def test_numbers_over_4300_digits_print_as_terraform_prints_them() -> None:
    """1e4900 is a number to Terraform and to driftwatch (MAX_BITS), but Python's str() of an int
    over 4,300 digits raises ValueError: "n${1e4900}" escaped the evaluator, tostring(), format()
    and min() raised it; a table with such a value was lost. Values from terraform console 1.11."""
    s = Scope({}, "n.tf")
    assert evaluate_text('"n${1e4900}"', s) == "n1" + "0" * 4900
    assert evaluate_text("tostring(1e4900)", s) == "1" + "0" * 4900
    # %d prints the exact (512-bit) value, as Go's big.Float does: 4,900 digits, 99999...30144
    formatted = evaluate_text('format("%d", 1e4900)', s)
    assert (len(formatted), formatted[:5], formatted[-5:]) == (4900, "99999", "30144")
    assert evaluate_text('format("%d", -1e4900) == "-${format("%d", 1e4900)}"', s) is True
    assert evaluate_text('format("%e|%.2e|%12.2e|", 1e4900, 123e400, -123e400)', s) == (
        "1.000000e+4900|1.23e+402|  -1.23e+402|"
    )
    assert evaluate_text('format("%e", 1e-400)', s) == "1.000000e-400"
    assert evaluate_text('format("%e|%E|%.2e|%-12e|", 1.5, 12345.678, 0.000123, 0)', s) == (
        "1.500000e+00|1.234568E+04|1.23e-04|0.000000e+00|"
    )
    assert evaluate_text("length(jsonencode(1e4900))", s) == 4901
    assert evaluate_text("length(setunion([[1e4900]], [[1]]))", s) == 2
    refused = evaluate_text("min([1e4900])", s)
    assert isinstance(refused, Unknown) and "a number is required, got list" in refused.reason
    # %g without a precision is Go's shortest form at any magnitude (realsurvey12, console-checked)
    assert evaluate_text('format("%g|%v|%g", 1e4900, 1e4900, -1e-400)', s) == "1e+4900|1e+4900|-1e-400"
    not_done = evaluate_text('format("%.3g", 1e4900)', s)
    assert isinstance(not_done, Unknown) and "beyond a float's range" in not_done.reason


def test_a_capacity_or_key_of_4900_digits_is_unknown_or_compared_not_a_crash() -> None:
    """validate_table printed such a capacity with repr() and a key with str(): ValueError."""
    rejected = validate_table.check(
        {"name": "t", "hash_key": HUGE, "read_capacity": HUGE, "write_capacity": 1, "attribute": []}
    )
    messages = [r.message for r in rejected]
    assert any("Unmatched indexes" in m and fn.format_number(HUGE)[:20] in m for m in messages), messages


# --- 4. AWS answers: read exactly, or refused ----------------------------------------------

_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
_KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
# Every optional part present and on, so that reading any of them as a default changes the spec.
VALID_ANSWERS: dict[str, Any] = {
    "table": {
        "Table": {
            "TableName": "orders",
            "TableArn": _ARN,
            "TableStatus": "ACTIVE",
            "CreationDateTime": datetime(2025, 1, 1, tzinfo=UTC),
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            "KeySchema": _KEYS,
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
            "BillingModeSummary": {"BillingMode": "PROVISIONED"},
            "TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
            "SSEDescription": {
                "Status": "ENABLED",
                "SSEType": "KMS",
                "KMSMasterKeyArn": "arn:aws:kms:x:1:key/k",
            },
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            "DeletionProtectionEnabled": True,
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-tenant",
                    "KeySchema": _KEYS,
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
                    "IndexStatus": "ACTIVE",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
                }
            ],
            "LocalSecondaryIndexes": [
                {"IndexName": "by-sk", "KeySchema": _KEYS, "Projection": {"ProjectionType": "KEYS_ONLY"}}
            ],
            "Replicas": [{"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"}],
        }
    },
    "ttl": {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}},
    "backups": {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"},
        }
    },
    "tags": {"Tags": [{"Key": "Team", "Value": "obs"}, {"Key": "Env", "Value": ""}]},
}


def _read_answers(answers: dict[str, Any]) -> Any:
    table = responses.describe_table(answers["table"], "orders")
    return table_spec(
        table,
        "us-east-1",
        ttl=responses.describe_time_to_live(answers["ttl"]),
        backups=responses.describe_continuous_backups(answers["backups"]),
        tags=dict(responses.list_tags_of_resource(answers["tags"])),
    )


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if len(prefix) >= 2:
        yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*prefix, key))


ANSWER_PATHS = sorted(_paths(VALID_ANSWERS), key=repr)
# Absences the API reference documents (dynamodb.table_spec cites it), or that make another valid
# answer (an element of a list dropped): read, and the spec may change.
DOCUMENTED_ABSENT = {
    "table.Table.CreationDateTime",
    "table.Table.DeletionProtectionEnabled",
    "table.Table.SSEDescription",
    "table.Table.StreamSpecification",
    "table.Table.TableClassSummary",
    "table.Table.GlobalSecondaryIndexes",
    "table.Table.GlobalSecondaryIndexes.*",
    "table.Table.GlobalSecondaryIndexes.*.IndexStatus",
    "table.Table.LocalSecondaryIndexes",
    "table.Table.LocalSecondaryIndexes.*",
    "table.Table.Replicas",
    "table.Table.Replicas.*",
    "table.Table.KeySchema.*",
    "table.Table.GlobalSecondaryIndexes.*.KeySchema.*",
    "table.Table.LocalSecondaryIndexes.*.KeySchema.*",
    # not refused (yet): an INCLUDE projection without its list; an enabled key without its ARN
    "table.Table.GlobalSecondaryIndexes.*.Projection.NonKeyAttributes",
    "table.Table.GlobalSecondaryIndexes.*.Projection.NonKeyAttributes.*",
    "table.Table.SSEDescription.KMSMasterKeyArn",
    "backups.ContinuousBackupsDescription.PointInTimeRecoveryDescription",
    "tags.Tags.*",
}
# Never a valid value of any field driftwatch reads.
GARBAGE = [[[1]], {"a": 1}, 5.5, math.nan, [{}], -1.5, ["x", 1]]


def _mutated(path: tuple[Any, ...], value: Any, document: dict[str, Any] | None = None) -> dict[str, Any]:
    answers = copy.deepcopy(VALID_ANSWERS) if document is None else document
    node: Any = answers
    for key in path[:-1]:
        node = node[key]
    if value is _DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)
    return answers


_DROP = object()
_BASE_SPEC = _read_answers(VALID_ANSWERS)


@FUZZ
@given(st.sampled_from(ANSWER_PATHS), st.sampled_from([_DROP, None, *GARBAGE]))
@example(("table", "Table", "KeySchema", 0, "KeyType"), [[1]])
@example(("table", "Table", "GlobalSecondaryIndexes", 0, "Projection"), _DROP)
@example(("table", "Table", "StreamSpecification", "StreamViewType"), _DROP)
@example(("table", "Table", "SSEDescription", "KMSMasterKeyArn"), {"a": 1})
@example(("table", "Table", "BillingModeSummary"), None)
@example(("ttl", "TimeToLiveDescription", "AttributeName"), _DROP)
def test_an_aws_answer_is_read_exactly_or_refused(path: tuple[Any, ...], value: Any) -> None:
    """Valid DescribeTable / DescribeTimeToLive / DescribeContinuousBackups / ListTagsOfResource
    answers with one thing broken: refused as InvalidResponse, or read as the same table --
    a changed reading only where the API reference documents what an absence means."""
    try:
        spec = _read_answers(_mutated(path, value))
    except InvalidResponse:
        return
    if spec == _BASE_SPEC:
        return
    pattern = ".".join("*" if isinstance(k, int) else str(k) for k in path)
    assert value in (_DROP, None) and pattern in DOCUMENTED_ABSENT, (path, value, spec)


# --- 3. resource mapping: a bad argument is Unknown, never a crash or a default --------------

VALID_ARGUMENTS: dict[str, Any] = {
    "name": "t",
    "billing_mode": "PROVISIONED",
    "hash_key": "pk",
    "range_key": "sk",
    "read_capacity": 5,
    "write_capacity": 5,
    "table_class": "STANDARD",
    "stream_enabled": True,
    "stream_view_type": "NEW_IMAGE",
    "deletion_protection_enabled": True,
    "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "N"}],
    "ttl": [{"enabled": True, "attribute_name": "exp"}],
    "point_in_time_recovery": [{"enabled": True}],
    "server_side_encryption": [{"enabled": True, "kms_key_arn": "arn:aws:kms:us-east-1:1:key/k"}],
    "global_secondary_index": [
        {"name": "g", "hash_key": "sk", "projection_type": "INCLUDE", "non_key_attributes": ["a"]}
    ],
    "local_secondary_index": [{"name": "l", "range_key": "sk", "projection_type": "ALL"}],
    "replica": [{"region_name": "eu-west-1"}],
    "tags": {"a": "b"},
    "lifecycle": [{"ignore_changes": ["read_capacity"]}],
}
ARGUMENT_PATHS = sorted(_paths({"": VALID_ARGUMENTS}), key=repr)
# Of no argument's type (a number or bool converts to a string, a string "true" to a bool, as in
# Terraform; these do not), or Unknown anywhere.
WRONG = [Unknown("u"), [["x"]], {"enabled": {"b": 1}}, [None], [{"a": 1}], 1.5, "yes", 10**40]


def _spec(arguments: dict[str, Any]) -> TableSpec:
    return resource_to_spec(ResourceDeclaration(arguments), region="us-east-1")


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if hasattr(value, "__dataclass_fields__"):
        return any(_has_unknown(getattr(value, name)) for name in value.__dataclass_fields__)
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_unknown(v) for v in value)
    return False


_VALID_SPEC = _spec(VALID_ARGUMENTS)
# A number or a string where a string or a number belongs converts (or is a value validate_table
# judges), as in Terraform; a list, a map, a null element or Unknown never does.
_SCALARS = (1.5, "yes", 10**40)


def _flags(spec: TableSpec) -> list[Any]:
    """The booleans a declaration sets: never bool() of something that is not one."""
    return [
        spec.deletion_protection,
        spec.point_in_time_recovery,
        spec.stream.enabled,
        spec.sse.enabled,
        spec.ttl.enabled,
    ]


@FUZZ
@given(st.sampled_from(ARGUMENT_PATHS), st.sampled_from(WRONG))
@example(("", "deletion_protection_enabled"), "yes")
@example(("", "billing_mode"), [["x"]])
@example(("", "ttl"), 1.5)
@example(("", "attribute"), 10**40)
@example(("", "global_secondary_index", 0, "non_key_attributes"), [None])
@example(("", "lifecycle", 0, "ignore_changes"), 1.5)
@example(("", "point_in_time_recovery", 0, "enabled"), "yes")
def test_a_bad_argument_is_unknown_never_a_crash_or_a_guess(path: tuple[Any, ...], value: Any) -> None:
    """One argument of an aws_dynamodb_table (or of a block of it) of the wrong type or shape:
    the table still maps; each field it changes is Unknown (the table is not compared there),
    never str()'s text of a list, bool()'s truth of "yes", or a TypeError losing the table."""
    arguments = _mutated(path[1:], value, copy.deepcopy(VALID_ARGUMENTS))
    spec = _spec(arguments)
    validate_table.check(arguments)
    uncompared_arguments(arguments)
    for flag, valid_flag in zip(_flags(spec), _flags(_VALID_SPEC), strict=True):
        assert flag == valid_flag or isinstance(flag, Unknown), (path, value, flag)
    if isinstance(value, (str, int, float)):  # one of _SCALARS
        return
    for name in spec.__dataclass_fields__:
        if name == "unmanaged":  # an ignore_changes that cannot be read ignores everything
            continue
        field, valid = getattr(spec, name), getattr(_VALID_SPEC, name)
        assert field == valid or _has_unknown(field), (path, value, name, field)


def test_pitr_or_sse_without_enabled_is_unknown_not_off() -> None:
    """terraform validate: 'The argument "enabled" is required' in both blocks (provider 5.x).
    The block without it was read as enabled = false: drift from a live PITR or SSE on."""
    spec = _spec({**VALID_ARGUMENTS, "point_in_time_recovery": [{}], "server_side_encryption": [{}]})
    assert isinstance(spec.point_in_time_recovery, Unknown)
    assert isinstance(spec.sse.enabled, Unknown)
    assert "enabled" in spec.point_in_time_recovery.reason


@FUZZ
@given(
    st.sampled_from(sorted(cloudposse.MODULE_INPUTS)),
    st.sampled_from([*WRONG, [{"name": "pk", "type": 1}], ["us-west-2", None], True, []]),
    st.sampled_from(sorted(cloudposse.KNOWN_VERSIONS)),
)
@example("global_secondary_index_map", ["x"], "0.37.0")
@example("local_secondary_index_map", [[1]], "0.29.2")
def test_a_bad_cloudposse_input_is_the_module_calls_error_or_unknown(
    name: str, value: Any, version: str
) -> None:
    """One input of the CloudPosse module of the wrong type: ModuleInputError (the module call's
    documented error, reported at the call), or a table whose bad parts are Unknown -- never
    another exception, which cost the module call an 'AttributeError' instead of its message."""
    inputs = {"name": "t", "hash_key": "pk", "enabled": True, name: copy.deepcopy(value)}
    try:
        declaration = cloudposse.module_to_resource(inputs, version)
    except ModuleInputError:
        return
    if declaration is not None:
        resource_to_spec(declaration, region="us-east-1")


def test_a_cloudposse_index_map_entry_that_is_not_an_object_makes_the_indexes_unknown() -> None:
    declaration = cloudposse.module_to_resource(
        {"name": "t", "hash_key": "pk", "global_secondary_index_map": ["by-tenant"]}, "0.37.0"
    )
    assert declaration is not None
    spec = resource_to_spec(declaration, region="us-east-1")
    assert isinstance(spec.gsis, Unknown) and "global_secondary_index_map" in spec.gsis.reason
    assert spec.hash_key == "pk"  # the rest of the table is compared


# --- 5. diff: an Unknown on the live side never yields drift either ---------------------------


@settings(FUZZ, max_examples=60)  # TableSpec pairs are costly to generate
@given(table_specs, table_specs, st.sampled_from(sorted(UNKNOWNIFY)))
def test_a_live_unknown_can_only_remove_drift(declared: TableSpec, live: TableSpec, field: str) -> None:
    """The mirror of test_diff's declared-side property. A live Unknown billing mode gated
    capacity as provisioned (Unknown != "PAY_PER_REQUEST"), a live Unknown sort key compared the
    sort key's type, a live scalable target with Unknown bounds did not own the capacity: each
    made drift that the known value would not have."""
    vague = UNKNOWNIFY[field](live)
    full = diff(declared, live).drift
    assert all(d in full for d in diff(declared, vague).drift)


def test_a_live_unknown_billing_mode_sort_key_or_scaling_bound_is_unresolved_not_drift() -> None:
    base = TableSpec(name="t", hash_key="pk", hash_key_type="S", billing_mode="PROVISIONED", read_capacity=5)
    on_demand = replace(base, billing_mode="PAY_PER_REQUEST", read_capacity=20)
    assert diff(base, replace(on_demand, billing_mode="PAY_PER_REQUEST")).drift == (
        Drift("billing_mode", "PROVISIONED", "PAY_PER_REQUEST"),
    )
    assert diff(base, replace(on_demand, billing_mode=UNKNOWN)).drift == ()
    ranged = replace(base, range_key="sk", range_key_type="N")
    assert diff(ranged, replace(base, range_key=UNKNOWN)).drift == ()
    scaled = replace(
        base, read_capacity=13, autoscaling=Autoscaling(read=ScalingTarget(UNKNOWN, UNKNOWN, UNKNOWN))
    )
    assert diff(base, scaled).drift == ()


# --- 2. the evaluator: Unknown in, never a known value out that depends on it -----------------

_TERMS = st.sampled_from(
    ["0", "1", "-1", "2.5", "true", "false", "null", '""', '"a"', '"1"', "[]", "{}", "[1, 2]", "{a = 1}"]
    + ["var.u"] * 4
)


def _expressions(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operators = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]
    functions = ["length", "tostring", "tolist", "keys", "flatten", "concat", "merge", "coalesce", "contains"]
    functions += ["lookup", "element", "jsonencode", "compact", "one", "sum", "max", "setunion", "try", "can"]
    return st.one_of(
        st.tuples(children, st.sampled_from(operators), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, children, children).map(lambda t: f"[for i, x in {t[0]} : {t[1]} if {t[2]}]"),
        st.tuples(children, children).map(lambda t: f"{{for k, v in {t[0]} : tostring(v) => {t[1]}...}}"),
        st.tuples(children, children).map(lambda t: f'"a${{{t[0]}}}%{{ if {t[1]} }}c%{{ endif }}"'),
        st.tuples(children, children).map(
            lambda t: f'"%{{ for x in {t[0]} }}${{x}}${{{t[1]}}}%{{ endfor }}"'
        ),
        children.map(lambda x: f"<<EOT\nx${{{x}}}\nEOT\n"),
        children.map(lambda x: f"({x})[*]"),
        st.tuples(st.sampled_from(functions), st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
    )


_CONCRETE = [0, 1, 2.5, "", "a", True, False, None, [], [1, "a"], {}, {"a": 1}]


@settings(FUZZ, max_examples=80)
@given(st.recursive(_TERMS, _expressions, max_leaves=8))
def test_a_known_result_of_an_unknown_input_is_the_result_of_every_value_it_may_take(text: str) -> None:
    """Evaluated with var.u Unknown, an expression is Unknown, or known only where var.u does not
    matter: then every concrete var.u gives that value (or an error, which the Unknown may hide)."""

    def evaluated(u: Any) -> Any:
        try:
            return evaluate_text(text, Scope({"var": {"u": u}}, "u.tf"))
        except EvaluationError:
            return UNKNOWN

    result = evaluated(UNKNOWN)
    if first_unknown(result) is not None:
        return
    for value in _CONCRETE:
        concrete = evaluated(value)
        if first_unknown(concrete) is None:
            assert concrete == result and type(concrete) is type(result), (text, value, concrete, result)
