"""The provider-defined functions of hashicorp/aws (``provider::aws::arn_parse`` ...) give
Terraform's values, and only in a module that declares the provider (eighth survey: a table's
tag built with ``arn_parse`` was left unresolved although Terraform knows it).

The expected values are ``terraform console`` 1.11.4 with hashicorp/aws 5.100.0 (the local
mirror), recorded here: the console differential suite runs without a provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform.evaluate import Scope, evaluate_text
from tests.test_modules import declare, write_tree

AWS = {"aws": "aws"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (
            'provider::aws::arn_parse("arn:aws:dynamodb:us-east-1:123456789012:table/legacy-orders")',
            {
                "account_id": "123456789012",
                "partition": "aws",
                "region": "us-east-1",
                "resource": "table/legacy-orders",
                "service": "dynamodb",
            },
        ),
        (
            'provider::aws::arn_parse("arn:aws:s3:::bucket/key:with:colons").resource',
            "bucket/key:with:colons",
        ),
        ('provider::aws::arn_parse("arn:aws::::").service', ""),
        (
            'provider::aws::arn_build("aws", "dynamodb", "us-east-1", "1", "table/x")',
            "arn:aws:dynamodb:us-east-1:1:table/x",
        ),
        ('provider::aws::arn_build("", "", "", "", "")', "arn:::::"),
        (
            'provider::aws::trim_iam_role_path("arn:aws:iam::123456789012:role/a/b/role-name")',
            "arn:aws:iam::123456789012:role/role-name",
        ),
    ],
)
def test_provider_functions_give_terraforms_values(expression: str, expected: Any) -> None:
    assert evaluate_text(expression, Scope({}, "main.tf", providers=AWS)) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ('provider::aws::arn_parse("not-an-arn")', "arn: invalid prefix"),
        ('provider::aws::arn_parse("arn:aws:s3")', "arn: not enough sections"),
        ("provider::aws::arn_parse(null)", "must not be null"),
    ],
)
def test_an_argument_the_provider_refuses_is_its_error(expression: str, reason: str) -> None:
    value = evaluate_text(expression, Scope({}, "main.tf", providers=AWS))
    assert isinstance(value, Unknown) and reason in value.reason


_TABLE = """
resource "aws_dynamodb_table" "t" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Source = provider::%s::arn_parse("arn:aws:dynamodb:us-east-1:1:table/legacy").resource }
}
"""


@pytest.mark.parametrize(
    ("required", "local", "expected"),
    [
        ('aws = { source = "hashicorp/aws" }', "aws", "table/legacy"),
        ('amazon = { source = "hashicorp/aws", version = "~> 5.40" }', "amazon", "table/legacy"),
        # Terraform: "Unknown provider function ... Ensure that provider name "aws" is declared
        # in this module's required_providers block" (the whole configuration refused)
        (None, "aws", "required_providers"),
        ('aws = { source = "hashicorp/aws" }', "awscc", "required_providers"),
    ],
)
def test_a_provider_function_needs_the_provider_in_the_modules_required_providers(
    tmp_path: Path, required: str | None, local: str, expected: str
) -> None:
    terraform = (
        "" if required is None else f"terraform {{\n  required_providers {{\n    {required}\n  }}\n}}\n"
    )
    write_tree(tmp_path, {"root/main.tf": terraform + _TABLE % local})
    (table,) = declare(tmp_path).tables
    tags = table.spec.tags
    if expected == "table/legacy":
        assert not isinstance(tags, Unknown) and tags["Source"] == expected
    else:  # never compared: unresolved with Terraform's reason
        source = tags if isinstance(tags, Unknown) else tags["Source"]
        assert isinstance(source, Unknown) and expected in source.reason
