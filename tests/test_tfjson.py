"""Terraform's JSON syntax translated into driftwatch's blocks (driftwatch.terraform.tfjson), no I/O.

Each case is a ``.tf.json`` text and what the evaluator must read from it: the block structure
Terraform's JSON mapping defines, each argument's value (template, literal or reference, as
Terraform reads that argument), lines, and an error with file, line and column for anything
Terraform refuses or driftwatch bounds. terraform 1.11.4 checks the same mapping on a CDKTF
stack in tests/test_override_terraform.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform.evaluate import Scope, evaluate
from driftwatch.terraform.modules import _provider_alias, reference_list, reference_map, reference_text
from driftwatch.terraform.parse import Block, HclSyntaxError, ParseCache, node_line
from driftwatch.terraform.tfjson import MAX_JSON_DEPTH, quoted_template, translate
from driftwatch.terraform.types import parse_type

FILE = "stack/cdk.tf.json"
SCOPE = Scope({"var": {"env": "prod", "ids": ["a", "b"], "m": {"k": "v"}}, "local": {"n": 2}}, FILE)


def _blocks(document: Any) -> tuple[Block, ...]:
    text = document if isinstance(document, str) else json.dumps(document, indent=1)
    return translate(text, FILE)


def _values(block: Block, scope: Scope = SCOPE) -> dict[str, Any]:
    return {name: evaluate(attribute.expression, scope) for name, attribute in block.items[0].items()}


def _resource(body: dict[str, Any], kind: str = "aws_dynamodb_table") -> Block:
    (block,) = _blocks({"resource": {kind: {"t": body}}})
    return block


def _error(document: Any) -> HclSyntaxError:
    with pytest.raises(HclSyntaxError) as raised:
        _blocks(document)
    assert raised.value.file == FILE
    return raised.value


# --- structure -------------------------------------------------------------------------------


def test_labels_are_object_levels_and_arrays_are_several_blocks() -> None:
    blocks = _blocks(
        {
            "//": {"metadata": {"stackName": "s"}},
            "resource": {"aws_dynamodb_table": {"a": {"name": "a"}, "b": [{"name": "b1"}, {"name": "b2"}]}},
            "module": [{"m": {"source": "./m"}}, {"n": {"source": "./n"}}],
            "locals": [{"x": 1}, {"y": 2}],
            "provider": {"aws": [{"region": "us-east-1"}, {"alias": "west", "region": "us-west-2"}]},
            "data": {"aws_caller_identity": {"me": {}}},
            "output": {"gone": None},
            "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},
        }
    )
    shown = [(b.type, b.labels) for b in blocks]
    assert shown == [
        ("resource", ("aws_dynamodb_table", "a")),
        ("resource", ("aws_dynamodb_table", "b")),
        ("resource", ("aws_dynamodb_table", "b")),
        ("module", ("m",)),
        ("module", ("n",)),
        ("locals", ()),
        ("locals", ()),
        ("provider", ("aws",)),
        ("provider", ("aws",)),
        ("data", ("aws_caller_identity", "me")),
        ("terraform", ()),
    ]
    assert [_values(b) for b in blocks if b.type == "locals"] == [{"x": 1}, {"y": 2}]
    assert [_values(b) for b in blocks[1:3]] == [{"name": "b1"}, {"name": "b2"}]
    assert _values(blocks[8])["alias"] == "west"


def test_a_repeated_block_type_key_adds_blocks() -> None:
    """Terraform accepts ``"resource"`` twice in one object (each adds its blocks)."""
    text = '{"resource": {"aws_dynamodb_table": {"a": {}}}, "resource": {"aws_dynamodb_table": {"b": {}}}}'
    assert [b.labels[1] for b in _blocks(text)] == ["a", "b"]


def test_nested_blocks_follow_the_resource_schema_and_the_rest_are_arguments() -> None:
    table = _resource(
        {
            "//": {"metadata": {"path": "stack/t", "uniqueId": "t"}},
            "name": "t",
            "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "N"}],
            "ttl": {"attribute_name": "exp", "enabled": True},
            "point_in_time_recovery": [{"enabled": True}],
            "global_secondary_index": [{"name": "g", "on_demand_throughput": {"max_read_request_units": 5}}],
            "replica": [],
            "server_side_encryption": None,
            "tags": {"Team": "a", "//": "a tag named //"},
            "lifecycle": {"prevent_destroy": False},
        }
    )
    attributes, nested = table.items
    assert sorted(attributes) == ["name", "tags"]
    assert _values(table)["tags"] == {"Team": "a", "//": "a tag named //"}  # an object, not a body
    assert [b.type for b in nested] == [
        "attribute",
        "attribute",
        "ttl",
        "point_in_time_recovery",
        "global_secondary_index",
        "lifecycle",
    ]
    assert [_values(b) for b in nested[:3]] == [
        {"name": "pk", "type": "S"},
        {"name": "sk", "type": "N"},
        {"attribute_name": "exp", "enabled": True},
    ]
    (throughput,) = nested[4].items[1]
    assert (throughput.type, _values(throughput)) == ("on_demand_throughput", {"max_read_request_units": 5})


def test_a_module_call_and_an_unknown_resource_type_hold_only_arguments() -> None:
    (module,) = _blocks(
        {"module": {"m": {"source": "./m", "ttl": {"enabled": True}, "attribute": [{"a": 1}]}}}
    )
    assert module.items[1] == [] and _values(module)["ttl"] == {"enabled": True}
    other = _resource({"ttl": {"enabled": True}}, kind="null_resource")
    assert other.items[1] == [] and _values(other) == {"ttl": {"enabled": True}}


def test_provider_blocks_follow_the_aws_provider_schema() -> None:
    (provider,) = _blocks(
        {
            "provider": {
                "aws": {
                    "region": '${var.env == "prod" ? "us-east-1" : "eu-west-1"}',
                    "default_tags": [{"tags": {"Env": "${var.env}"}}],
                    "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/x"},
                    "endpoints": [{"dynamodb": "http://127.0.0.1:1"}],
                }
            }
        }
    )
    assert _values(provider) == {"region": "us-east-1"}
    assert [(b.type, _values(b)) for b in provider.items[1]] == [
        ("default_tags", {"tags": {"Env": "prod"}}),
        ("assume_role", {"role_arn": "arn:aws:iam::123456789012:role/x"}),
        ("endpoints", {"dynamodb": "http://127.0.0.1:1"}),
    ]


def test_dynamic_blocks_generate_blocks_of_their_labelled_type() -> None:
    table = _resource(
        {
            "dynamic": {
                "global_secondary_index": {
                    "for_each": "${var.ids}",
                    "iterator": "gsi",
                    "content": {
                        "name": "${gsi.value}",
                        "on_demand_throughput": {"max_read_request_units": 1},
                    },
                }
            }
        }
    )
    (dynamic,) = table.items[1]
    assert (dynamic.type, dynamic.labels) == ("dynamic", ("global_secondary_index",))
    assert reference_text(dynamic.items[0]["iterator"].expression) == "gsi"
    assert evaluate(dynamic.items[0]["for_each"].expression, SCOPE) == ["a", "b"]
    (content,) = dynamic.items[1]
    assert [b.type for b in content.items[1]] == ["on_demand_throughput"]


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("plain", "plain", id="plain-string"),
        pytest.param("${var.ids}", ["a", "b"], id="single-interpolation-keeps-its-type"),
        pytest.param("${local.n}", 2, id="single-interpolation-number"),
        pytest.param("acme-${var.env}-${local.n}", "acme-prod-2", id="template"),
        pytest.param('${lookup(var.m, "k", "d")}', "v", id="quotes-inside-interpolation"),
        pytest.param('${"x-${var.env}"}', "x-prod", id="nested-template"),
        pytest.param("$${var.env}", "${var.env}", id="escaped-interpolation"),
        pytest.param("%%{ if }", "%{ if }", id="escaped-directive"),
        pytest.param('%{ if var.env == "prod" }P%{ else }D%{ endif }', "P", id="directive"),
        pytest.param('a"b\\c\nd\te\u00e9\u0001', 'a"b\\c\nd\te\u00e9\u0001', id="escapes-in-literal-text"),
        pytest.param('q"${var.env}"\n', 'q"prod"\n', id="escapes-around-interpolation"),
        pytest.param(5, 5, id="number"),
        pytest.param(1.5, 1.5, id="fraction"),
        pytest.param(True, True, id="bool"),
        pytest.param(None, None, id="null"),
        pytest.param(["${var.env}", 1, [None]], ["prod", 1, [None]], id="array"),
        pytest.param(
            {"k-${var.env}": "${local.n}", "//": 1}, {"k-prod": 2, "//": 1}, id="object-keys-are-templates"
        ),
    ],
)
def test_an_argument_is_a_template_expression(value: Any, expected: Any) -> None:
    assert _values(_resource({"name": value}))["name"] == expected


def test_literal_arguments_are_read_without_templates() -> None:
    """Terraform evaluates these with no context: ``${`` is text (terraform 1.11.4 outputs
    ``${nope}`` for such a variable default)."""
    blocks = _blocks(
        {
            "variable": {"v": {"default": {"a": "${nope}", "n": [1, "$${x}"]}, "description": "${d}"}},
            "module": {"m": {"source": "./m-${x}", "version": "${v}", "input": "${var.env}"}},
            "provider": {"aws": {"alias": "${a}", "region": "${var.env}"}},
        }
    )
    variable, module, provider = blocks
    assert _values(variable) == {"default": {"a": "${nope}", "n": [1, "$${x}"]}, "description": "${d}"}
    assert _values(module) == {"source": "./m-${x}", "version": "${v}", "input": "prod"}
    assert _values(provider) == {"alias": "${a}", "region": "prod"}


def test_reference_arguments_are_native_syntax() -> None:
    blocks = _blocks(
        {
            "resource": {
                "aws_dynamodb_table": {
                    "t": {
                        "provider": "aws.west",
                        "depends_on": ["aws_s3_bucket.b", "module.m"],
                        "lifecycle": {"ignore_changes": ['tags["Touched"]', "ttl"]},
                    },
                    "u": {"lifecycle": [{"ignore_changes": "all"}]},
                }
            },
            "module": {"m": {"source": "./m", "providers": {"aws": "aws.west", "aws.east": "aws"}}},
            "variable": {"v": {"type": "object({a = string, b = optional(list(number), [1])})"}},
        }
    )
    t, u, module, variable = blocks
    assert _provider_alias(t) == "west"
    assert reference_list(t.items[0]["depends_on"].expression) == ["aws_s3_bucket.b", "module.m"]
    assert reference_list(t.items[1][0].items[0]["ignore_changes"].expression) == ['tags["Touched"]', "ttl"]
    assert reference_list(u.items[1][0].items[0]["ignore_changes"].expression) == ["all"]
    assert reference_map(module.items[0]["providers"].expression) == {"aws": "aws.west", "aws.east": "aws"}
    spec = parse_type(variable.items[0]["type"].expression, lambda node: evaluate(node, SCOPE))
    assert spec.kind == "object" and set(spec.attributes or {}) == {"a", "b"}


def test_lines_are_those_of_the_json_file() -> None:
    text = """{
 "resource": {
  "aws_dynamodb_table": {
   "t": {
    "name": "x",
    "read_capacity": "${1 / 0}"
   }
  }
 }
}
"""
    (table,) = _blocks(text)
    assert table.line == 4
    assert [node_line(a) for a in table.items[0].values()] == [5, 6]
    failed = _values(table)["read_capacity"]
    assert isinstance(failed, Unknown) and failed.reason.startswith(f"{FILE}:6: ")


def test_quoted_template_copies_interpolations_and_escapes_the_rest() -> None:
    assert quoted_template('a"${x("}")}"') == '"a\\"${x("}")}\\""'
    assert quoted_template("${unclosed") == '"${unclosed"'  # the parser reports it, at the line


# --- what Terraform refuses, and what driftwatch bounds -----------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        pytest.param('{\n "resource": {,\n}', 2, "property name", id="malformed"),
        pytest.param('{"a": 1} {"b": 2}', 1, "extra data", id="two-documents"),
        pytest.param('{"locals": {"a": "x\ny"}}', 1, "control character", id="raw-newline-in-string"),
        pytest.param("[]", 1, "must hold a JSON object", id="array"),
        pytest.param('"resource"', 1, "must hold a JSON object", id="string"),
        pytest.param("", 1, "end of file", id="empty"),
        pytest.param("{\n", 2, "property name", id="unterminated"),
        pytest.param('{"locals": {"a": NaN}}', 1, "unexpected character", id="nan"),
        pytest.param(
            '{"resource": {"aws_dynamodb_table": "t"}}', 1, "must be a JSON object", id="label-not-object"
        ),
        pytest.param(
            '{"resource": {"aws_dynamodb_table": {"t": 5}}}', 1, "object or an array", id="body-number"
        ),
        pytest.param('{"resource": {"aws_dynamodb_table": {}}}', 1, "needs a label", id="no-label"),
        pytest.param(
            '{"locals": {\n"a": 1,\n"a": 2}}', 3, 'argument "a" is set twice', id="duplicate-argument"
        ),
        pytest.param('{"locals": {"a": {"k": 1,\n "k": 2}}}', 2, 'duplicate "k"', id="duplicate-object-key"),
        pytest.param(
            '{"locals": {"a": {"k": "${1}", "k": 2}}}', 1, 'duplicate "k"', id="duplicate-template-key"
        ),
        pytest.param(
            '{"variable": {"v": {"default": {"k": 1, "k": 2}}}}',
            1,
            'duplicate "k"',
            id="duplicate-literal-key",
        ),
        pytest.param('{"locals": {\n"a": "${"}}', 2, "unexpected", id="bad-template"),
        pytest.param('{"locals": {"a": "${var.x"}}', 1, "unexpected", id="unclosed-interpolation"),
        pytest.param('{"module": {"m": {"depends_on": ["a b"]}}}', 1, "", id="bad-reference"),
        pytest.param(
            '{"module": {"m": {"depends_on": [1]}}}', 1, "must be a JSON string", id="reference-number"
        ),
        pytest.param(
            '{"resource": {"x": {"t": {"provider": "aws.west\\n}\\nresource \\"x\\" \\"y\\" {"}}}}',
            1,
            "not a reference",
            id="reference-injection",
        ),
        pytest.param('{"locals": {"a": 1e999999}}', 1, "invalid number", id="huge-exponent"),
        pytest.param('{"locals": {"a": ' + "1" * 5000 + "}}", 1, "invalid number", id="5000-digits"),
    ],
)
def test_what_terraform_refuses_is_an_error_with_its_line(text: str, line: int, words: str) -> None:
    error = _error(text)
    assert error.line == line and error.column is not None
    assert words in error.message


def test_deep_nesting_is_refused_at_its_line_without_recursing() -> None:
    """100,000 nested arrays: an error naming the depth limit, in far less than a second, no
    RecursionError."""
    text = '{"locals": {"a":\n' + "[" * 100_000 + "]" * 100_000 + "}}"
    started = time.process_time()
    error = _error(text)
    assert f"deeper than {MAX_JSON_DEPTH}" in error.message and error.line == 2
    assert time.process_time() - started < 5


def test_nesting_within_the_limit_is_read() -> None:
    depth = MAX_JSON_DEPTH - 5
    (block,) = _blocks('{"locals": {"a": ' + "[" * depth + "]" * depth + "}}")
    value = _values(block)["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


def test_a_huge_tf_json_file_is_refused_by_the_per_file_limits(tmp_path: Any) -> None:
    """The same limits as HCL: bytes (checked before reading) and tokens (before parsing)."""
    body = ", ".join(f'"k{i}": {i}' for i in range(60_000))
    path = tmp_path / "big.tf.json"
    path.write_text('{"locals": {' + body + "}}")
    with pytest.raises(HclSyntaxError, match="too large to parse"):
        ParseCache().parse_file(path, "big.tf.json")
    with pytest.raises(HclSyntaxError, match="byte limit"):
        ParseCache(max_file_bytes=100_000).parse_file(path, "big.tf.json")


def test_the_same_bytes_are_json_or_hcl_by_the_file_name(tmp_path: Any) -> None:
    """The parse cache is keyed by content: ``{}`` as HCL is an error, as JSON an empty file."""
    cache = ParseCache()
    (tmp_path / "a.tf.json").write_text('{"locals": {"a": 1}}')
    (tmp_path / "a.tf").write_text('{"locals": {"a": 1}}')
    assert [b.type for b in cache.parse_file(tmp_path / "a.tf.json", "a.tf.json").blocks or ()] == ["locals"]
    with pytest.raises(HclSyntaxError):
        cache.parse_file(tmp_path / "a.tf", "a.tf")
