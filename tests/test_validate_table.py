"""Declarations Terraform would reject: the provider's rules for aws_dynamodb_table, without I/O.

The expected messages are the AWS provider's own, as ``terraform validate`` / ``terraform plan``
(Terraform 1.11.4, hashicorp/aws 5.100.0) printed them for the same declarations; the ``when``
of each rule was observed the same way (a plan against an existing table). The last tests run
``driftwatch scan`` against moto to show the rules where the table row is decided.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from driftwatch.cli import main
from driftwatch.spec import BillingMode, Rejection, Stream, TableSpec, Unknown
from driftwatch.terraform import cloudposse
from driftwatch.terraform.validate_table import check, rejection_error

REGION = "us-east-1"


def table(**arguments: Any) -> dict[str, Any]:
    """A valid on-demand table; ``arguments`` replace or add (None removes)."""
    base: dict[str, Any] = {
        "name": "t",
        "hash_key": "h",
        "billing_mode": "PAY_PER_REQUEST",
        "attribute": [{"name": "h", "type": "S"}],
    }
    base.update(arguments)
    return {k: v for k, v in base.items() if v is not None}


def provisioned(**arguments: Any) -> dict[str, Any]:
    return table(**{"billing_mode": "PROVISIONED", "read_capacity": 5, "write_capacity": 5, **arguments})


def rules(arguments: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r.rule, r.message, r.when) for r in check(arguments)]


GSI = {"name": "g", "hash_key": "gk", "projection_type": "ALL"}
LSI = {"name": "l", "range_key": "lk", "projection_type": "ALL"}
H = {"name": "h", "type": "S"}

VALID: dict[str, dict[str, Any]] = {
    "on-demand": table(),
    "provisioned": provisioned(),
    "range key": table(range_key="r", attribute=[H, {"name": "r", "type": "N"}]),
    "gsi": table(attribute=[H, {"name": "gk", "type": "S"}], global_secondary_index=[GSI]),
    "gsi range key": table(
        attribute=[H, {"name": "gk", "type": "S"}, {"name": "gr", "type": "B"}],
        global_secondary_index=[{**GSI, "range_key": "gr"}],
    ),
    "lsi": table(
        range_key="r",
        attribute=[H, {"name": "r", "type": "S"}, {"name": "lk", "type": "S"}],
        local_secondary_index=[LSI],
    ),
    "duplicate attribute names": table(attribute=[H, {"name": "h", "type": "S"}]),
    "stream with view type": table(stream_enabled=True, stream_view_type="NEW_IMAGE"),
    "stream off with empty view type": table(stream_enabled=False, stream_view_type=""),
    "ttl on": table(ttl=[{"enabled": True, "attribute_name": "exp"}]),
    "ttl off without name": table(ttl=[{"enabled": False}]),
    "on-demand capacity 0": table(read_capacity=0, write_capacity=0),
    "kms arn": table(
        server_side_encryption=[{"enabled": True, "kms_key_arn": "arn:aws:kms:us-east-1:1:key/k"}]
    ),
    "table class": table(table_class="STANDARD_INFREQUENT_ACCESS"),
    "restored without capacity": table(billing_mode="PROVISIONED", restore_source_name="old"),
    "numbers as strings": provisioned(read_capacity="5", write_capacity="5"),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_declarations_are_not_rejected(name: str) -> None:
    assert check(VALID[name]) == ()


# (arguments, [(rule, provider message, when)])
REJECTED: dict[str, tuple[dict[str, Any], list[tuple[str, str, str]]]] = {
    "unused attribute": (
        table(attribute=[H, {"name": "x", "type": "S"}]),
        [("attributes-indexed", 'all attributes must be indexed. Unused attributes: ["x"]', "always")],
    ),
    "gsi key without attribute": (
        table(global_secondary_index=[GSI]),
        [
            (
                "indexes-defined",
                'all indexes must match a defined attribute. Unmatched indexes: ["gk"]',
                "always",
            )
        ],
    ),
    "gsi range key without attribute": (
        table(
            attribute=[H, {"name": "gk", "type": "S"}], global_secondary_index=[{**GSI, "range_key": "gr"}]
        ),
        [
            (
                "indexes-defined",
                'all indexes must match a defined attribute. Unmatched indexes: ["gr"]',
                "always",
            )
        ],
    ),
    "lsi key without attribute": (
        table(range_key="r", attribute=[H, {"name": "r", "type": "S"}], local_secondary_index=[LSI]),
        [
            (
                "indexes-defined",
                'all indexes must match a defined attribute. Unmatched indexes: ["lk"]',
                "always",
            )
        ],
    ),
    "range key without attribute": (
        table(range_key="r"),
        [
            (
                "indexes-defined",
                'all indexes must match a defined attribute. Unmatched indexes: ["r"]',
                "always",
            )
        ],
    ),
    "both directions, sorted": (
        table(hash_key="z", attribute=[{"name": "b", "type": "S"}, {"name": "a", "type": "S"}]),
        [
            ("attributes-indexed", 'all attributes must be indexed. Unused attributes: ["a" "b"]', "always"),
            (
                "indexes-defined",
                'all indexes must match a defined attribute. Unmatched indexes: ["z"]',
                "always",
            ),
        ],
    ),
    "no hash key": (
        table(hash_key=None),
        [
            ("attributes-indexed", 'all attributes must be indexed. Unused attributes: ["h"]', "create"),
            ("hash-key", "hash_key is required to create the table (AWS needs a HASH key)", "create"),
        ],
    ),
    "no attribute blocks": (
        table(attribute=None),
        [
            (
                "indexes-defined",
                'all indexes must match a defined attribute. Unmatched indexes: ["h"]',
                "create",
            )
        ],
    ),
    "provisioned without capacity": (
        table(billing_mode="PROVISIONED"),
        [
            (
                "provisioned-capacity",
                'read_capacity must be at least 1 when billing_mode is "PROVISIONED"',
                "create",
            ),
            (
                "provisioned-capacity",
                'write_capacity must be at least 1 when billing_mode is "PROVISIONED"',
                "create",
            ),
        ],
    ),
    "billing mode defaults to provisioned": (
        table(billing_mode=None, write_capacity=1),
        [
            (
                "provisioned-capacity",
                'read_capacity must be at least 1 when billing_mode is "PROVISIONED"',
                "create",
            )
        ],
    ),
    "provisioned with zero capacity": (
        provisioned(read_capacity=0),
        [
            (
                "provisioned-capacity",
                'read_capacity must be at least 1 when billing_mode is "PROVISIONED"',
                "unless-live-on-demand",
            )
        ],
    ),
    "on-demand with capacity": (
        table(read_capacity=5),
        [
            (
                "on-demand-capacity",
                'read_capacity can not be set when billing_mode is "PAY_PER_REQUEST"',
                "unless-live-provisioned",
            )
        ],
    ),
    "stream without view type": (
        table(stream_enabled=True),
        [
            (
                "stream-view-type",
                "stream_view_type is required when stream_enabled = true",
                "unless-live-stream",
            )
        ],
    ),
    "stream with empty view type": (
        table(stream_enabled=True, stream_view_type=""),
        [
            (
                "stream-view-type",
                "stream_view_type is required when stream_enabled = true",
                "unless-live-stream",
            )
        ],
    ),
    "ttl on without name": (
        table(ttl=[{"enabled": True}]),
        [
            (
                "ttl-attribute-name",
                'Attribute "ttl[0].attribute_name" must be specified when "ttl[0].enabled" is "true"',
                "always",
            )
        ],
    ),
    "ttl on with empty name": (
        table(ttl=[{"enabled": True, "attribute_name": ""}]),
        [("ttl-attribute-name", 'Attribute "ttl[0].attribute_name" cannot have an empty value', "always")],
    ),
    "attribute type": (
        table(attribute=[{"name": "h", "type": "STRING"}]),
        [("attribute-type", 'expected type to be one of ["S" "N" "B"], got STRING', "always")],
    ),
    # yamldecode reads an unquoted `type: N` as YAML 1.1's false (go-cty-yaml, as Terraform);
    # the provider takes the bool as the string "false" and refuses it (terraform apply, the
    # code index's yamldecode(file(...)) tables)
    "attribute type from a YAML bool": (
        table(attribute=[{"name": "h", "type": False}]),
        [("attribute-type", 'expected type to be one of ["S" "N" "B"], got false', "always")],
    ),
    "billing mode": (
        table(billing_mode="ON_DEMAND"),
        [
            (
                "billing-mode",
                'expected billing_mode to be one of ["PROVISIONED" "PAY_PER_REQUEST"], got ON_DEMAND',
                "always",
            )
        ],
    ),
    "projection type": (
        table(
            attribute=[H, {"name": "gk", "type": "S"}],
            global_secondary_index=[{**GSI, "projection_type": "all"}],
        ),
        [
            (
                "projection-type",
                'expected projection_type to be one of ["ALL" "KEYS_ONLY" "INCLUDE"], got all',
                "always",
            )
        ],
    ),
    "stream view type": (
        table(stream_enabled=True, stream_view_type="new_image"),
        [
            (
                "stream-view-type",
                "expected stream_view_type to be one of"
                ' ["NEW_IMAGE" "OLD_IMAGE" "NEW_AND_OLD_IMAGES" "KEYS_ONLY" ""], got new_image',
                "always",
            )
        ],
    ),
    "table class": (
        table(table_class="IA"),
        [
            (
                "table-class",
                'expected table_class to be one of ["STANDARD" "STANDARD_INFREQUENT_ACCESS"], got IA',
                "always",
            )
        ],
    ),
    "kms key": (
        table(server_side_encryption=[{"enabled": True, "kms_key_arn": "alias/mykey"}]),
        [("kms-key-arn", '"server_side_encryption.0.kms_key_arn" (alias/mykey) is an invalid ARN', "always")],
    ),
    "replica kms key": (
        table(replica=[{"region_name": "eu-west-1", "kms_key_arn": "key-1"}]),
        [("kms-key-arn", '"replica.kms_key_arn" (key-1) is an invalid ARN', "always")],
    ),
    "capacity beside on_demand_throughput": (
        provisioned(on_demand_throughput=[{"max_read_request_units": 5}]),
        [
            ("capacity-conflict", '"read_capacity": conflicts with on_demand_throughput', "always"),
            ("capacity-conflict", '"write_capacity": conflicts with on_demand_throughput', "always"),
        ],
    ),
    "no name": (table(name=None), [("required-argument", 'the argument "name" is required', "always")]),
    "gsi without hash key": (
        table(global_secondary_index=[{"name": "g", "projection_type": "ALL"}]),
        [
            (
                "required-argument",
                'the argument "hash_key" is required in a global_secondary_index block',
                "always",
            )
        ],
    ),
    "lsi without range key": (
        table(local_secondary_index=[{"name": "l", "projection_type": "ALL"}]),
        [
            (
                "required-argument",
                'the argument "range_key" is required in a local_secondary_index block',
                "always",
            )
        ],
    ),
    "attribute without type": (
        table(attribute=[{"name": "h"}]),
        [("required-argument", 'the argument "type" is required in an attribute block', "always")],
    ),
    "replica without region": (
        table(replica=[{"kms_key_arn": None}]),
        [("required-argument", 'the argument "region_name" is required in a replica block', "always")],
    ),
    # terraform validate: "Too many ttl blocks" (MaxItems 1); driftwatch compared the first
    "two ttl blocks": (
        table(ttl=[{"enabled": True, "attribute_name": "a"}, {"enabled": False}]),
        [("too-many-blocks", 'Too many ttl blocks: no more than 1 "ttl" blocks are allowed', "always")],
    ),
    "two pitr blocks": (
        table(point_in_time_recovery=[{"enabled": True}, {"enabled": False}]),
        [
            (
                "too-many-blocks",
                'Too many point_in_time_recovery blocks: no more than 1 "point_in_time_recovery" blocks'
                " are allowed",
                "always",
            )
        ],
    ),
    # terraform validate (hashicorp/aws 5.100): 'The argument "enabled" is required, but no
    # definition was found.', for `point_in_time_recovery {}` and for `enabled = null` alike
    "pitr without enabled": (
        table(point_in_time_recovery=[{}]),
        [
            (
                "required-argument",
                'the argument "enabled" is required in a point_in_time_recovery block',
                "always",
            )
        ],
    ),
    "sse with enabled null": (
        table(server_side_encryption=[{"enabled": None, "kms_key_arn": None}]),
        [
            (
                "required-argument",
                'the argument "enabled" is required in a server_side_encryption block',
                "always",
            )
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_each_rule_with_the_providers_message(name: str) -> None:
    arguments, expected = REJECTED[name]
    assert sorted(rules(arguments)) == sorted(expected)


UNKNOWN = Unknown("var.x has no value")


@pytest.mark.parametrize(
    "arguments",
    [
        table(attribute=[H, {"name": UNKNOWN, "type": "S"}]),
        table(attribute=UNKNOWN, global_secondary_index=[GSI]),
        table(global_secondary_index=UNKNOWN),
        table(global_secondary_index=[{**GSI, "hash_key": UNKNOWN}]),
        table(hash_key=UNKNOWN, attribute=[H, {"name": "x", "type": "S"}]),
        table(billing_mode=UNKNOWN, read_capacity=5),
        provisioned(read_capacity=UNKNOWN),
        table(stream_enabled=True, stream_view_type=UNKNOWN),
        table(stream_enabled=UNKNOWN),
        table(ttl=[{"enabled": True, "attribute_name": UNKNOWN}]),
        table(ttl=[{"enabled": UNKNOWN}]),
        table(billing_mode=UNKNOWN),
        table(attribute=[{"name": "h", "type": UNKNOWN}]),
    ],
)
def test_unknown_values_are_never_a_rejection(arguments: dict[str, Any]) -> None:
    assert check(arguments) == ()


# --------------------------------------------------------------------------- when a rule applies

LIVE_ON_DEMAND = TableSpec(name="t", billing_mode=BillingMode.PAY_PER_REQUEST.value)
LIVE_PROVISIONED = TableSpec(name="t", billing_mode=BillingMode.PROVISIONED.value)
LIVE_STREAM = TableSpec(name="t", stream=Stream(enabled=True, view_type="NEW_IMAGE"))


@pytest.mark.parametrize(
    ("when", "missing", "on_demand", "provisioned_", "streaming"),
    [
        ("always", True, True, True, True),
        ("create", True, False, False, False),
        ("unless-live-on-demand", True, False, True, True),
        ("unless-live-provisioned", True, True, False, False),
        ("unless-live-stream", True, True, True, False),
    ],
)
def test_when_a_rule_applies_given_the_live_table(
    when: str, missing: bool, on_demand: bool, provisioned_: bool, streaming: bool
) -> None:
    rule = Rejection("r", "m", when)
    assert rule.applies(None) is missing
    assert rule.applies(LIVE_ON_DEMAND) is on_demand
    assert rule.applies(LIVE_PROVISIONED) is provisioned_
    assert rule.applies(LIVE_STREAM) is streaming


def test_error_text_names_every_rule() -> None:
    rejected = [Rejection("a-rule", "first"), Rejection("b-rule", "second")]
    assert rejection_error(rejected, True) == (
        "Terraform would reject this declaration: first [a-rule]; second [b-rule]"
    )
    assert rejection_error(rejected, False).startswith("the table does not exist and Terraform would refuse")


# --------------------------------------------------------------------------- the CloudPosse module


def cloudposse_rules(**inputs: Any) -> list[str]:
    declaration = cloudposse.module_to_resource({"name": "t", "hash_key": "id", **inputs}, "0.37.0")
    assert declaration is not None
    return [r.rule for r in check(declaration.arguments)]


def test_cloudposse_defaults_are_valid() -> None:
    assert cloudposse_rules() == []
    assert cloudposse_rules(range_key="sk", billing_mode="PAY_PER_REQUEST") == []


def test_cloudposse_tables_are_judged_on_the_attributes_the_module_builds() -> None:
    # The module adds hash and range key itself; dynamodb_attributes must hold the index keys.
    gsi = {
        "name": "g",
        "hash_key": "tenant",
        "projection_type": "ALL",
        "read_capacity": 1,
        "write_capacity": 1,
    }
    assert cloudposse_rules(global_secondary_index_map=[gsi]) == ["indexes-defined"]
    tenant = [{"name": "tenant", "type": "S"}]
    assert cloudposse_rules(global_secondary_index_map=[gsi], dynamodb_attributes=tenant) == []
    assert cloudposse_rules(dynamodb_attributes=tenant) == ["attributes-indexed"]
    # The module repeats the hash key when it is also listed: Terraform's set keeps one.
    assert cloudposse_rules(dynamodb_attributes=[{"name": "id", "type": "S"}]) == []


def test_cloudposse_stream_without_view_type_is_rejected_as_the_reference_records() -> None:
    assert cloudposse_rules(enable_streams=True) == ["stream-view-type"]
    assert cloudposse_rules(enable_streams=True, stream_view_type="NEW_IMAGE") == []


def test_cloudposse_zero_minimum_capacity_is_rejected() -> None:
    assert cloudposse_rules(autoscale_min_read_capacity=0) == ["provisioned-capacity"]


# --------------------------------------------------------------------------- through driftwatch scan

ROOT = """
provider "aws" {
  region = "us-east-1"
}
resource "aws_dynamodb_table" "unused" {
  name         = "unused"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "note"
    type = "S"
  }
}
resource "aws_dynamodb_table" "implicit" {
  name     = "implicit"
  hash_key = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


@pytest.fixture
def repo(tmp_path: Path, embedded_aws: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "main.tf").write_text(ROOT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def scan(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    capsys.readouterr()
    code = main(["scan", "--root", str(root), "--region", REGION, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    return code, {t["table_name"]: t for t in report["tables"]}


def create(name: str, **extra: Any) -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        **extra,
    )


def test_scan_reports_the_rejected_declaration_as_an_error_naming_the_rule(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create("unused", BillingMode="PAY_PER_REQUEST")
    create("implicit", ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 3})
    code, tables = scan(capsys, repo)
    assert code == 1
    assert tables["unused"]["status"] == "error"
    assert tables["unused"]["error"] == (
        'Terraform would reject this declaration: all attributes must be indexed. Unused attributes: ["note"]'
        " [attributes-indexed]"
    )
    # Capacity left out of an existing PROVISIONED table is the table's own (Optional+Computed):
    # terraform plan accepts it, and so does driftwatch.
    assert tables["implicit"]["status"] == "in_sync"


def test_a_missing_table_terraform_could_not_create_names_the_rule(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create("unused", BillingMode="PAY_PER_REQUEST")
    code, tables = scan(capsys, repo)
    assert code == 1
    assert tables["implicit"]["status"] == "error"
    assert tables["implicit"]["error"].startswith(
        "the table does not exist and Terraform would refuse to create it: "
        'read_capacity must be at least 1 when billing_mode is "PROVISIONED" [provisioned-capacity]'
    )


def test_inspect_and_validate_show_the_rules_without_aws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "main.tf").write_text(ROOT)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["inspect", "--root", str(tmp_path), "--region", REGION, "--format", "json"]) == 0
    shown = {t["address"]: t["rejections"] for t in json.loads(capsys.readouterr().out)["tables"]}
    assert [r["rule"] for r in shown["aws_dynamodb_table.unused"]] == ["attributes-indexed"]
    assert [(r["rule"], r["when"]) for r in shown["aws_dynamodb_table.implicit"]] == [
        ("provisioned-capacity", "create"),
        ("provisioned-capacity", "create"),
    ]
    (tmp_path / "driftwatch.yaml").write_text(
        f"repo: {tmp_path}\ntargets:\n  - name: t\n    root: .\n    region: {REGION}\n"
    )
    assert main(["validate", "--config", str(tmp_path / "driftwatch.yaml")]) == 1
    err = capsys.readouterr().err
    assert (
        "main.tf:5: aws_dynamodb_table.unused: Terraform would reject: all attributes must be indexed" in err
    )
    assert "implicit" not in err  # depends on the live table: decided by scan


@pytest.mark.parametrize(
    ("argument", "text"),
    [
        # Terraform 0.11's forms, still met in public repositories (fifth survey): terraform
        # 1.11.4 refuses both with this message, where driftwatch used to compare the table.
        ("global_secondary_index", '{\n    name = "g"\n    hash_key = "g"\n    projection_type = "ALL"\n  }'),
        ("attribute", '[{ name = "id", type = "S" }]'),
        ("ttl", '{ attribute_name = "exp", enabled = true }'),
    ],
)
def test_a_block_written_as_an_argument_is_rejected(tmp_path: Path, argument: str, text: str) -> None:
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    attributes = "" if argument == "attribute" else '  attribute {\n    name = "id"\n    type = "S"\n  }\n'
    main_tf = (
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        'resource "aws_dynamodb_table" "t" {\n  name = "t"\n  billing_mode = "PAY_PER_REQUEST"\n'
        f'  hash_key = "id"\n{attributes}  {argument} = {text}\n}}\n'
    )
    repo = write_repo(tmp_path / "repo", {"main.tf": main_tf})
    found = declare([target(repo)], ParseCache())
    (job,) = found.jobs
    assert (
        Rejection(
            "block-argument",
            f'An argument named "{argument}" is not expected here. '
            f'Did you mean to define a block of type "{argument}"?',
        )
        in job.table.rejections
    )


@pytest.mark.parametrize(
    ("block", "message"),
    [
        # Terraform 0.11's `tags { ... }` (a public configuration of 2018, fifth survey)
        (
            "tags",
            'Blocks of type "tags" are not expected here. Did you mean to define argument "tags"? '
            "If so, use the equals sign to assign it a value.",
        ),
        ("labels", 'Blocks of type "labels" are not expected here.'),
        # a dynamic block of such a type: the same error, no hint (terraform 1.11.4 validate)
        ('dynamic "tags"', 'Blocks of type "tags" are not expected here.'),
    ],
)
def test_a_block_terraform_does_not_know_is_rejected(tmp_path: Path, block: str, message: str) -> None:
    """terraform 1.11.4 refuses the resource ("Unsupported block type"); driftwatch used to
    compare the table, its tags unknown."""
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    main_tf = (
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        'resource "aws_dynamodb_table" "t" {\n  name = "t"\n  billing_mode = "PAY_PER_REQUEST"\n'
        '  hash_key = "id"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n'
        f'  {block} {{\n    Team = "x"\n  }}\n  lifecycle {{\n    prevent_destroy = true\n  }}\n}}\n'
    )
    repo = write_repo(tmp_path / "repo", {"main.tf": main_tf})
    (job,) = declare([target(repo)], ParseCache()).jobs
    assert job.table.rejections == (Rejection("block-type", message),)


_GSI_HEAD = (
    'provider "aws" {\n  region = "us-east-1"\n}\n'
    'variable "billing_mode" {\n  default = "PAY_PER_REQUEST"\n}\n'
    'resource "aws_dynamodb_table" "t" {\n  name = "t"\n  billing_mode = var.billing_mode\n'
    '  hash_key = "id"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n'
    '  attribute {\n    name = "g"\n    type = "S"\n  }\n'
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # a public module's GSI capacity written as dynamic blocks gated on the billing mode
        # (code index file 7881590631, eleventh survey): Terraform refuses the resource whatever
        # the for_each; driftwatch compared the table as if the GSI had no capacity
        (
            '  global_secondary_index {\n    name = "gi"\n    hash_key = "g"\n    projection_type = "ALL"\n'
            '    dynamic "read_capacity" {\n      for_each = var.billing_mode == "PROVISIONED" ? [1] : []\n'
            "      content {\n        read_capacity = 5\n      }\n    }\n  }\n",
            'Blocks of type "read_capacity" are not expected here.',
        ),
        # written as a static block: Terraform suggests the equals sign (terraform 1.11.4 validate)
        (
            '  global_secondary_index {\n    name = "gi"\n    hash_key = "g"\n    projection_type = "ALL"\n'
            "    read_capacity {\n      x = 1\n    }\n  }\n",
            'Blocks of type "read_capacity" are not expected here. Did you mean to define argument '
            '"read_capacity"? If so, use the equals sign to assign it a value.',
        ),
        # code index file 33500986852: a GSI's provisioned_throughput block, in a dynamic GSI
        (
            '  dynamic "global_secondary_index" {\n    for_each = [1]\n    content {\n'
            '      name = "gi"\n      hash_key = "g"\n      projection_type = "ALL"\n'
            '      dynamic "provisioned_throughput" {\n        for_each = []\n'
            "        content {\n          read_capacity = 1\n        }\n      }\n    }\n  }\n",
            'Blocks of type "provisioned_throughput" are not expected here.',
        ),
        (
            "  ttl {\n    enabled = false\n    lifecycle {\n      x = 1\n    }\n  }\n",
            'Blocks of type "lifecycle" are not expected here.',
        ),
    ],
    ids=[
        "gsi-dynamic-read-capacity",
        "gsi-read-capacity-block",
        "gsi-provisioned-throughput",
        "ttl-lifecycle",
    ],
)
def test_a_block_terraform_does_not_know_inside_a_nested_block_is_rejected(
    tmp_path: Path, body: str, message: str
) -> None:
    """terraform 1.11.4 refuses each ("Unsupported block type", ``terraform validate``); driftwatch
    checked the block types of the resource's body only, and compared the table."""
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    repo = write_repo(tmp_path / "repo", {"main.tf": _GSI_HEAD + body + "}\n"})
    (job,) = declare([target(repo)], ParseCache()).jobs
    assert Rejection("block-type", message) in job.table.rejections


_TABLE_HEAD = (
    'provider "aws" {\n  region = "us-east-1"\n}\n'
    'resource "aws_dynamodb_table" "t" {\n  name = "t"\n  billing_mode = "PAY_PER_REQUEST"\n'
    '  hash_key = "id"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n'
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('  hash_key_typ = "S"\n', 'An argument named "hash_key_typ" is not expected here.'),
        # Terraform 0.11's typo of a public module (sixth survey): a suggestion, as HCL makes it
        (
            "  server_side_encryption {\n    enabled = true\n    enable = true\n  }\n",
            'An argument named "enable" is not expected here. Did you mean "enabled"?',
        ),
        # a public module's SSE block written with kms_key_id, behind a for_each that is empty
        # by default: Terraform refuses the content all the same (sixth survey)
        (
            '  dynamic "server_side_encryption" {\n    for_each = []\n    content {\n'
            "      enabled    = true\n      kms_key_id = null\n    }\n  }\n",
            'An argument named "kms_key_id" is not expected here.',
        ),
        (
            '  dynamic "global_secondary_index" {\n    for_each = []\n    iterator = g\n    content {\n'
            '      name = g.value\n      hash_key = "id"\n      projection_type = "ALL"\n'
            "      on_demand_throughput {\n        max_read_units = 1\n      }\n    }\n  }\n",
            'An argument named "max_read_units" is not expected here.',
        ),
        (
            '  import_table {\n    input_format = "CSV"\n    s3_bucket_source = { bucket = "b" }\n  }\n',
            'An argument named "s3_bucket_source" is not expected here. '
            'Did you mean to define a block of type "s3_bucket_source"?',
        ),
    ],
)
def test_an_argument_terraform_does_not_know_is_rejected(tmp_path: Path, body: str, message: str) -> None:
    """terraform 1.11.4 with hashicorp/aws 5.100 refuses each ("Unsupported argument", checked
    with ``terraform validate``); driftwatch used to compare the table as if it were valid."""
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    repo = write_repo(tmp_path / "repo", {"main.tf": _TABLE_HEAD + body + "}\n"})
    (job,) = declare([target(repo)], ParseCache()).jobs
    rule = "block-argument" if "define a block" in message else "unsupported-argument"
    assert Rejection(rule, message) in job.table.rejections


def test_arguments_of_the_schema_meta_arguments_and_6x_names_are_not_rejected(tmp_path: Path) -> None:
    """Every argument of the 5.100 schema, Terraform's meta-arguments, a dynamic block's own
    arguments, and the names provider 6.x added (``region``, a replica's ``consistency_mode``):
    driftwatch does not know which provider version a repository pins, so those are compared."""
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    body = (
        '  count = 1\n  depends_on = []\n  provider = aws\n  region = "us-east-1"\n'
        '  table_class = "STANDARD"\n  deletion_protection_enabled = false\n  restore_to_latest_time = null\n'
        '  ttl {\n    enabled = false\n    attribute_name = ""\n  }\n'
        "  point_in_time_recovery {\n    enabled = true\n    recovery_period_in_days = 35\n  }\n"
        '  dynamic "replica" {\n    for_each = []\n    iterator = r\n    content {\n'
        "      region_name = r.value\n      kms_key_arn = null\n      propagate_tags = true\n"
        '      point_in_time_recovery = true\n      consistency_mode = "EVENTUAL"\n    }\n  }\n'
        '  timeouts {\n    create = "10m"\n  }\n  lifecycle {\n    ignore_changes = [tags]\n  }\n'
    )
    repo = write_repo(tmp_path / "repo", {"main.tf": _TABLE_HEAD + body + "}\n"})
    (job,) = declare([target(repo)], ParseCache()).jobs
    assert job.table.rejections == ()


_SET = (
    "is represented by a set of objects, and set elements do not have addressable keys. To find "
    'elements matching specific criteria, use a "for" expression with an "if" clause.'
)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        # a public module's entries (QuiNovas/terraform-aws-dynamodb-table, sixth survey): driftwatch
        # read them as ignoring every GSI, so nothing of the GSIs was compared
        ("global_secondary_index.read_capacity", f'Block type "global_secondary_index" {_SET}'),
        ("global_secondary_index.0.read_capacity", f'Block type "global_secondary_index" {_SET}'),
        ("global_secondary_index[0]", f'Block type "global_secondary_index" {_SET}'),
        ("replica.region_name", f'Block type "replica" {_SET}'),
        ("attribute[0].name", f'Block type "attribute" {_SET}'),
        (
            "ttl.enabled",
            'Block type "ttl" is represented by a list of objects, so it must be indexed using a '
            "numeric key, like .ttl[0].",
        ),
        (
            "on_demand_throughput.max_read_request_units",
            'Block type "on_demand_throughput" is represented by a list of objects, so it must be '
            "indexed using a numeric key, like .on_demand_throughput[0].",
        ),
        (
            "nonexistent_arg",
            'This object has no argument, nested block, or exported attribute named "nonexistent_arg".',
        ),
        (
            "read_capacty",
            'This object has no argument, nested block, or exported attribute named "read_capacty". '
            'Did you mean "read_capacity"?',
        ),
        # a string key into one element of a list block (review12): driftwatch read
        # ``ttl[0]["enabled"]`` as ignoring ``enabled``, where Terraform plans nothing
        (
            'ttl[0]["enabled"]',
            'Only attribute access is allowed here. Did you mean to access attribute "enabled" '
            "using the dot operator?",
        ),
        (
            'server_side_encryption.0["kms_key_arn"]',
            'Only attribute access is allowed here. Did you mean to access attribute "kms_key_arn" '
            "using the dot operator?",
        ),
        # Terraform 0.11's wildcard, written ["*"]: read as naming nothing, so every setting was
        # compared (a drift report on a table whose author meant to ignore everything)
        (
            "*",
            'The ["*"] form of ignore_changes wildcard is was deprecated and is now invalid. '
            'Use "ignore_changes = all" to ignore changes to all attributes.',
        ),
    ],
)
def test_an_ignore_changes_entry_terraform_refuses_is_rejected(entry: str, message: str) -> None:
    """Each message is terraform 1.11.4's ``validate`` with hashicorp/aws 5.100 for that entry."""
    arguments = table(lifecycle=[{"ignore_changes": ["write_capacity", entry]}])
    assert check(arguments) == (Rejection("ignore-changes", message),)


@pytest.mark.parametrize(
    "entry",
    [
        "all",
        "read_capacity",
        "ttl[0].enabled",
        'ttl["enabled"]',
        "point_in_time_recovery.0.enabled",
        "ttl",
        "global_secondary_index",
        "tags.Name",
        'tags["Name"]',
        'tags_all["x"]',
        "timeouts.create",
        "arn",
        "stream_label",
        "region",
    ],
)
def test_an_ignore_changes_entry_terraform_accepts_is_not_rejected(entry: str) -> None:
    """terraform 1.11.4 validates these (``region``: provider 6.x's, accepted as above)."""
    arguments = table(lifecycle=[{"ignore_changes": [entry]}])
    assert check(arguments) == ()


# Oracle: terraform 1.11.4 ``validate`` with hashicorp/aws 5.100.0, one table per entry (ignorechanges
# branch). A review found driftwatch accepted these and some silenced drift (``ttl["enabled"]["x"]``
# silenced the whole TTL block) on a table Terraform cannot plan. None is the entry validating.
_NO_INDICES = "This value does not have any indices."
_NO_ATTRIBUTE = 'This object has no argument, nested block, or exported attribute named "{}".'
_PRIMITIVE = "Can't access attributes on a primitive-typed value ({})."
_DOT = "Only attribute access is allowed here, using the dot operator."
_DID_YOU_MEAN_DOT = (
    'Only attribute access is allowed here. Did you mean to access attribute "{}" using the dot operator?'
)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('ttl["enabled"]["x"]', _DID_YOU_MEAN_DOT.format("x")),
        ('ttl["enabled"].x', _NO_ATTRIBUTE.format("x")),
        ('ttl["enabled"][0]', _DOT),
        ("ttl[0][0]", _DOT),
        ("ttl[0].nope", _NO_ATTRIBUTE.format("nope")),
        ("ttl.0.nope", _NO_ATTRIBUTE.format("nope")),
        ("ttl[0].enabled[0]", _NO_INDICES),
        ('ttl[0].enabled["x"]', _NO_INDICES),
        ("ttl[0].enabled.x", _PRIMITIVE.format("bool")),
        ("point_in_time_recovery[0].nope", _NO_ATTRIBUTE.format("nope")),
        ('point_in_time_recovery["x"]["y"]', _DID_YOU_MEAN_DOT.format("y")),
        ("point_in_time_recovery[0][0]", _DOT),
        ("server_side_encryption[0].kms_key_arn.x", _PRIMITIVE.format("string")),
        ("server_side_encryption[0].nope", _NO_ATTRIBUTE.format("nope")),
        ('server_side_encryption["x"].y', _NO_ATTRIBUTE.format("y")),
        ('global_secondary_index["x"]', f'Block type "global_secondary_index" {_SET}'),
        ('attribute["name"]', f'Block type "attribute" {_SET}'),
        ('replica["x"]', f'Block type "replica" {_SET}'),
        ('local_secondary_index["x"]', f'Block type "local_secondary_index" {_SET}'),
        ("global_secondary_index[0].name", f'Block type "global_secondary_index" {_SET}'),
        ("billing_mode[0]", _NO_INDICES),
        ('billing_mode["x"]', _NO_INDICES),
        ("billing_mode.x", _PRIMITIVE.format("string")),
        ("read_capacity[0]", _NO_INDICES),
        ("stream_enabled.x", _PRIMITIVE.format("bool")),
        ("name.x", _PRIMITIVE.format("string")),
        ("name[0]", _NO_INDICES),
        ('tags["a"]["b"]', _NO_INDICES),
        ('tags["a"][0]', _NO_INDICES),
        ('tags["a"].b', _PRIMITIVE.format("string")),
        ("tags.x.y", _PRIMITIVE.format("string")),
        ("tags[0].x", _PRIMITIVE.format("string")),
        ("timeouts.nope", _NO_ATTRIBUTE.format("nope")),
        ("timeouts[0]", _DOT),
        ("import_table[0].nope", _NO_ATTRIBUTE.format("nope")),
        ("import_table[0].s3_bucket_source[0].nope", _NO_ATTRIBUTE.format("nope")),
        (
            "import_table[0].s3_bucket_source.bucket",
            'Block type "s3_bucket_source" is represented by a list of objects, so it must be indexed '
            "using a numeric key, like .s3_bucket_source[0].",
        ),
        # a nested name close to one of the block's gets HCL's suggestion, as a top-level one does
        ("ttl[0].enable", _NO_ATTRIBUTE.format("enable") + ' Did you mean "enabled"?'),
        # HCL's identifiers take hyphens; a key that is none gets the plain message
        ('ttl["a-b"]["c-d"]', _DID_YOU_MEAN_DOT.format("c-d")),
        ('ttl[0]["1x"]', _DOT),
    ],
)
def test_a_deeper_ignore_changes_entry_terraform_refuses_is_rejected(entry: str, message: str) -> None:
    """Every step of an entry is checked against the resource's schema, as Terraform's
    ``StaticValidateTraversal`` does: a block takes attribute steps only, a list block one index
    (of any key), a set block none, an argument what its type allows (a map one step, a string,
    bool or number none)."""
    arguments = table(lifecycle=[{"ignore_changes": ["write_capacity", entry]}])
    assert check(arguments) == (Rejection("ignore-changes", message),)


@pytest.mark.parametrize(
    "entry",
    [
        'ttl["enabled"]',
        "ttl[0]",
        "ttl[0].enabled",
        "ttl[1].enabled",
        "ttl.0.enabled",
        'ttl["x"].enabled',
        "tags.x",
        "tags[0]",
        'tags["a"]',
        "timeouts.create",
        "import_table[0].s3_bucket_source[0].bucket",
        'tags["a-b"]',
        # 6.x's names are not judged past the name (validated where 6.x is the provider)
        "region",
        "warm_throughput[0].read_units_per_second",
    ],
)
def test_a_deeper_ignore_changes_entry_terraform_accepts_is_not_rejected(entry: str) -> None:
    """terraform 1.11.4 validate (hashicorp/aws 5.100.0) accepts each."""
    assert check(table(lifecycle=[{"ignore_changes": [entry]}])) == ()


def test_a_cloudposse_module_calls_inputs_are_not_checked_as_the_tables_arguments(tmp_path: Path) -> None:
    """A CloudPosse table's declaration is the module call: ``import_table = {...}`` is one of
    the module's inputs (0.35.0), not Terraform 0.11's block written as an argument. Checked as
    the table's block, the table was an error row terraform plan does not know."""
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    main_tf = (
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        'module "orders" {\n  source  = "cloudposse/dynamodb/aws"\n  version = "0.36.0"\n'
        '  name = "orders"\n  hash_key = "id"\n  enable_autoscaler = false\n'
        '  import_table = {\n    input_format = "CSV"\n    s3_bucket_source = { bucket = "b" }\n  }\n}\n'
    )
    repo = write_repo(tmp_path / "repo", {"main.tf": main_tf})
    found = declare([target(repo)], ParseCache())
    assert not found.errors, found.errors
    (job,) = found.jobs
    assert [r.rule for r in job.table.rejections] == []


@pytest.mark.parametrize(
    "entries",
    [
        # Real entries of public configurations (the tool library's code index, newaudit2):
        # terraform 1.11.4 validate with hashicorp/aws 5.100 accepts each, in one batch root.
        ["global_secondary_index", "read_capacity", "write_capacity"],
        ["global_secondary_index", "attribute"],
        ["replica"],
        ["point_in_time_recovery", "ttl"],
        ["tags"],
        # and spellings it accepts that a stricter reading could refuse
        ["ttl.0.attribute_name", 'ttl["enabled"]', "ttl[1]", "tags[0]"],
        ["import_table[0].s3_bucket_source[0].bucket", "server_side_encryption[0].kms_key_arn"],
        ["point_in_time_recovery[0]", "on_demand_throughput", "import_table", "timeouts", "id", "stream_arn"],
        ["restore_date_time", "restore_source_name", "restore_to_latest_time", "restore_source_table_arn"],
        ["local_secondary_index", "deletion_protection_enabled", "table_class", "tags_all"],
        ["stream_view_type"],
    ],
)
def test_ignore_changes_entries_terraform_validates_are_not_rejected(entries: list[str]) -> None:
    """A valid configuration refused is a table nobody compares: none of these is rejected."""
    assert check(table(lifecycle=[{"ignore_changes": entries}])) == ()


def test_resource_forms_terraform_validates_are_not_rejected(tmp_path: Path) -> None:
    """What terraform 1.11.4 validate accepts in a table's block (checked in one batch root,
    newaudit2): every lifecycle argument and condition, a provisioner with its connection, a
    dynamic block with an iterator holding another, a dynamic ``timeouts``, ``tags_all`` set,
    the same table in ``.tf.json`` (a ``dynamic`` list, ``//`` comments, a null block), and
    override files adding arguments, blocks and a dynamic block."""
    import json as json_module

    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    hcl = (
        _TABLE_HEAD
        + '  attribute {\n    name = "g"\n    type = "S"\n  }\n'
        + '  dynamic "global_secondary_index" {\n    for_each = { a = "g" }\n    iterator = gsi\n'
        + "    content {\n      name = gsi.key\n      hash_key = gsi.value\n"
        + '      projection_type = "ALL"\n      dynamic "on_demand_throughput" {\n'
        + "        for_each = [1]\n        iterator = odt\n        content {\n"
        + "          max_read_request_units = odt.value\n        }\n      }\n    }\n  }\n"
        + '  dynamic "timeouts" {\n    for_each = [1]\n    content {\n      create = "1m"\n    }\n  }\n'
        + '  tags_all = { a = "b" }\n'
        + '  provisioner "local-exec" {\n    command = "echo"\n    when = destroy\n'
        + "    on_failure = continue\n  }\n"
        + '  connection {\n    type = "ssh"\n    host = "x"\n  }\n'
        + "  lifecycle {\n    create_before_destroy = true\n    prevent_destroy = false\n"
        + "    ignore_changes = all\n    replace_triggered_by = [terraform_data.x]\n"
        + '    precondition {\n      condition = terraform_data.x.id != ""\n'
        + '      error_message = "x"\n    }\n'
        + '    postcondition {\n      condition = self.name != ""\n      error_message = "y"\n    }\n  }\n'
        + '}\nresource "terraform_data" "x" {}\n'
    )
    as_json = {
        "resource": {
            "aws_dynamodb_table": {
                "j": {
                    "//": "a comment",
                    "name": "j",
                    "billing_mode": "PAY_PER_REQUEST",
                    "hash_key": "id",
                    "attribute": {"name": "id", "type": "S"},
                    "ttl": None,
                    "dynamic": [
                        {
                            "replica": {
                                "for_each": [],
                                "iterator": "r",
                                "content": {"region_name": "${r.value}"},
                            }
                        }
                    ],
                    "lifecycle": {"ignore_changes": ["tags", "ttl[0].enabled"]},
                    "provisioner": [{"local-exec": {"command": "echo"}}],
                    "timeouts": {"create": "1m"},
                }
            }
        }
    }
    override = (
        'resource "aws_dynamodb_table" "t" {\n  deletion_protection_enabled = false\n'
        '  lifecycle {\n    ignore_changes = [tags["a"], ttl]\n  }\n'
        '  dynamic "replica" {\n    for_each = []\n    content {\n      region_name = "x"\n'
        "      propagate_tags = true\n    }\n  }\n}\n"
    )
    files = {"main.tf": hcl, "tables.tf.json": json_module.dumps(as_json), "main_override.tf": override}
    repo = write_repo(tmp_path / "repo", files)
    found = declare([target(repo)], ParseCache())
    assert not found.errors, found.errors
    assert {job.table.address: job.table.rejections for job in found.jobs} == {
        "aws_dynamodb_table.t": (),
        "aws_dynamodb_table.j": (),
    }


def test_a_gsi_keyed_by_key_schema_blocks_is_neither_refused_nor_compared_by_its_keys(tmp_path: Path) -> None:
    """Newer hashicorp/aws releases declare a GSI's (multi-attribute) keys in ``key_schema``
    blocks instead of ``hash_key``. driftwatch does not know which release a repository pins:
    the GSI was refused ('the argument "hash_key" is required'); now its keys are unknown,
    never compared as absent, and the rest of the table is compared."""
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.spec import Unknown
    from driftwatch.terraform.parse import ParseCache

    main_tf = (
        _TABLE_HEAD + '  attribute {\n    name = "tenant"\n    type = "S"\n  }\n'
        '  global_secondary_index {\n    name = "by-tenant"\n    projection_type = "ALL"\n'
        '    key_schema {\n      attribute_name = "tenant"\n      key_type = "HASH"\n    }\n  }\n}\n'
    )
    repo = write_repo(tmp_path / "repo", {"main.tf": main_tf})
    (job,) = declare([target(repo)], ParseCache()).jobs
    assert job.table.rejections == ()
    gsis = job.table.spec.gsis
    assert not isinstance(gsis, Unknown)
    (gsi,) = gsis
    assert isinstance(gsi.hash_key, Unknown) and "key_schema" in gsi.hash_key.reason
    assert isinstance(gsi.range_key, Unknown) and gsi.projection_type == "ALL"


def test_quoted_and_spaced_ignore_changes_entries_are_checked_as_terraform_reads_them(tmp_path: Path) -> None:
    """Terraform 0.11's quoted entries (a deprecation warning in 1.11.4) and spaced steps are
    the same traversal to terraform validate: ``"ttl[0].nope"`` is refused as ``ttl[0].nope``,
    ``"tags.x"`` and ``ttl . 0 . enabled`` validate (terraform 1.11.4, hashicorp/aws 5.100.0)."""
    from realestate import target, write_repo

    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    def table_with(entries: str) -> str:
        return (
            f'resource "aws_dynamodb_table" "t" {{\n  name = "t"\n  hash_key = "id"\n'
            '  billing_mode = "PAY_PER_REQUEST"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n'
            f"  lifecycle {{\n    ignore_changes = [{entries}]\n  }}\n}}\n"
        )

    refused = write_repo(
        tmp_path / "refused", {"main.tf": table_with('"ttl[0].nope", ttl [ "enabled" ] [ "x" ]')}
    )
    accepted = write_repo(
        tmp_path / "accepted", {"main.tf": table_with('"ttl[0].enabled", "tags.x", ttl . 0 . enabled')}
    )
    found = declare([target(refused), target(accepted)], ParseCache())
    assert not found.errors, found.errors
    assert sorted(tuple(r.message for r in job.table.rejections) for job in found.jobs) == [
        (),
        (
            'This object has no argument, nested block, or exported attribute named "nope".',
            _DID_YOU_MEAN_DOT.format("x"),
        ),
    ]
