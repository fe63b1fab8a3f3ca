"""Custom conditions Terraform refuses to plan with: a variable's failing ``validation`` and a
table's failing ``lifecycle { precondition }``. Both stop ``terraform plan`` (measured with
terraform 1.11.4: "Invalid value for variable", "Resource precondition failed", the latter even
when the table has no change), so driftwatch must not call such a table in sync: before, both
were ignored and the scan said in sync (exit 0) while the plan failed.

A condition that cannot be evaluated (it reads a data source, a local driftwatch cannot know)
decides nothing: never an error Terraform would not give.
"""

from __future__ import annotations

from pathlib import Path

from driftwatch.spec import Unknown
from tests.terraform_support import REQUIRES_TERRAFORM_CLI, terraform
from tests.test_modules import TABLE, declare, names, write_tree

VALIDATED = """
variable "name" {
  type    = string
  default = "orders"
  validation {
    condition     = length(var.name) > ${min}
    error_message = "name is too short"
  }
}
"""


def test_a_failing_variable_validation_is_an_error_and_the_value_unknown(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": TABLE + VALIDATED.replace("${min}", "10")})
    result = declare(tmp_path)
    (error,) = result.errors
    assert "invalid value for variable 'name': name is too short" in error.message
    assert "Terraform refuses to plan" in error.message
    assert (error.file, error.line) == ("root/main.tf", 15)  # the validation block
    (name,) = names(result)
    assert isinstance(name, Unknown)
    assert "validation" in name.reason


def test_a_passing_variable_validation_changes_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": TABLE + VALIDATED.replace("${min}", "2")})
    result = declare(tmp_path)
    assert result.errors == []
    assert names(result) == ["orders"]


def test_a_validation_may_read_other_variables_and_one_it_cannot_evaluate_decides_nothing(
    tmp_path: Path,
) -> None:
    main = TABLE + (
        'variable "other" {\n  default = "orders"\n}\n'
        'variable "name" {\n  default = "orders"\n'
        '  validation {\n    condition = var.name != var.other\n    error_message = "same"\n  }\n'
        '  validation {\n    condition = data.x.y.ok\n    error_message = "unknowable"\n  }\n}\n'
    )
    write_tree(tmp_path, {"root/main.tf": main})
    result = declare(tmp_path)
    assert [e.message for e in result.errors] == [
        "invalid value for variable 'name': same (its validation fails: Terraform refuses to plan)"
    ]
    result = declare(tmp_path, vars={"other": "users"})
    assert result.errors == []
    assert names(result) == ["orders"]


def test_a_child_modules_failing_validation_is_an_error(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "modules/t/main.tf": TABLE + VALIDATED.replace("${min}", "3"),
            "root/main.tf": 'module "a" {\n  source = "../modules/t"\n  name = "ab"\n}\n'
            'module "b" {\n  source = "../modules/t"\n  name = "abcd"\n}\n',
        },
    )
    result = declare(tmp_path)
    assert ["name is too short" in e.message for e in result.errors] == [True]
    assert names(result)[1] == "abcd"
    assert isinstance(names(result)[0], Unknown)


PRECONDITION = """
resource "aws_dynamodb_table" "t" {
  for_each     = toset(["orders", "users"])
  name         = each.key
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  lifecycle {
    precondition {
      condition     = each.key != "users"
      error_message = "no ${each.key} table here"
    }
    precondition {
      condition     = data.aws_region.current.name == "us-east-1"
      error_message = "unknowable"
    }
  }
}
"""


def test_a_failing_precondition_makes_the_table_rejected(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": PRECONDITION})
    result = declare(tmp_path)
    rejected = {t.address: [(r.rule, r.message, r.when) for r in t.rejections] for t in result.tables}
    assert rejected == {
        'aws_dynamodb_table.t["orders"]': [],
        'aws_dynamodb_table.t["users"]': [
            ("precondition", "Resource precondition failed: no users table here", "always")
        ],
    }


@REQUIRES_TERRAFORM_CLI
def test_terraform_refuses_to_plan_with_either_failing_condition(tmp_path: Path) -> None:
    """What the module docstring says, measured on ``terraform_data`` (no provider, no init):
    a failing precondition stops the plan of a resource that has no change."""
    (tmp_path / "cli.tfrc").write_text("")
    (tmp_path / "main.tf").write_text(
        'variable "gate" {\n  default = "open"\n}\n'
        'variable "name" {\n  default = "orders"\n  validation {\n'
        '    condition = length(var.name) > 2\n    error_message = "too short"\n  }\n}\n'
        'resource "terraform_data" "t" {\n  input = var.name\n  lifecycle {\n    precondition {\n'
        '      condition = var.gate == "open"\n      error_message = "closed"\n    }\n  }\n}\n'
    )
    terraform(tmp_path, "apply", "-auto-approve", "-no-color", "-input=false")
    closed = terraform(tmp_path, "plan", "-no-color", "-input=false", "-var", "gate=shut", ok=(1,))
    assert "Resource precondition failed" in closed.stderr
    short = terraform(tmp_path, "plan", "-no-color", "-input=false", "-var", "name=ab", ok=(1,))
    assert "Invalid value for variable" in short.stderr
