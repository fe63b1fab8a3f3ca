"""The module walker: Terraform's variable precedence, locals, module expansion, confinement."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from driftwatch.spec import SourceLocation, Unknown
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache
from tests.terraform_support import REQUIRES_TERRAFORM_CLI, terraform

TABLE = """
resource "aws_dynamodb_table" "t" {
  name     = var.name
  hash_key = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


def write_tree(base: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def declare(
    repo: Path, root: str = "root", env: dict[str, str] | None = None, **kwargs: object
) -> TargetDeclarations:
    target = TargetInput(name="t", repo=repo, root=repo / root, env=env or {}, region="us-east-1", **kwargs)  # type: ignore[arg-type]
    return declare_target(target, ParseCache())


def names(result: TargetDeclarations) -> list[object]:
    return [t.spec.name for t in result.tables]


def addresses(result: TargetDeclarations) -> list[str]:
    return [t.address for t in result.tables]


# --- variables -------------------------------------------------------------------------------

PRECEDENCE_LEVELS = [
    # (what is added at this level, expected table name)
    ({}, "from-default"),
    ({"env": {"TF_VAR_name": "from-env"}}, "from-env"),
    ({"files": {"root/terraform.tfvars": 'name = "from-tfvars"'}}, "from-tfvars"),
    ({"files": {"root/terraform.tfvars.json": '{"name": "from-tfvars-json"}'}}, "from-tfvars-json"),
    ({"files": {"root/a.auto.tfvars": 'name = "from-auto-a"'}}, "from-auto-a"),
    ({"files": {"root/b.auto.tfvars.json": '{"name": "from-auto-b"}'}}, "from-auto-b"),
    ({"files": {"root/x.tfvars": 'name = "from-var-file"'}, "var_files": ("x.tfvars",)}, "from-var-file"),
    ({"vars": {"name": "from-var"}}, "from-var"),
]


@pytest.mark.parametrize("level", range(len(PRECEDENCE_LEVELS)))
def test_variable_precedence_matches_terraform(tmp_path: Path, level: int) -> None:
    """Each level, added on top of all lower ones, wins: Terraform's documented order."""
    write_tree(tmp_path, {"root/main.tf": TABLE + 'variable "name" {\n  default = "from-default"\n}\n'})
    env: dict[str, str] = {}
    var_files: tuple[str, ...] = ()
    variables: dict[str, str] = {}
    for added, _ in PRECEDENCE_LEVELS[: level + 1]:
        write_tree(tmp_path, added.get("files", {}))  # type: ignore[arg-type]
        env.update(added.get("env", {}))  # type: ignore[arg-type]
        var_files = added.get("var_files", var_files)  # type: ignore[assignment]
        variables.update(added.get("vars", {}))  # type: ignore[arg-type]
    result = declare(tmp_path, env=env, var_files=var_files, vars=variables)
    assert result.errors == []
    assert names(result) == [PRECEDENCE_LEVELS[level][1]]


def test_later_var_files_override_earlier_ones(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/main.tf": TABLE + 'variable "name" {}\n',
            "root/one.tfvars": 'name = "one"',
            "root/two.tfvars": 'name = "two"',
        },
    )
    assert names(declare(tmp_path, var_files=("one.tfvars", "two.tfvars"))) == ["two"]
    assert names(declare(tmp_path, var_files=("two.tfvars", "one.tfvars"))) == ["one"]


def test_variable_without_value_is_unknown_not_a_guess(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": TABLE + 'variable "name" {\n  type = string\n}\n'})
    result = declare(tmp_path)
    (name,) = names(result)
    assert isinstance(name, Unknown)
    assert "var.name has no value" in name.reason


def test_dash_var_of_complex_type_is_parsed_as_hcl(tmp_path: Path) -> None:
    main = (
        TABLE.replace("var.name", 'join("-", var.parts)') + 'variable "parts" {\n  type = list(string)\n}\n'
    )
    write_tree(tmp_path, {"root/main.tf": main})
    assert names(declare(tmp_path, vars={"parts": '["a", "b"]'})) == ["a-b"]


# A -var or TF_VAR_ string: parsed as HCL when the variable has a type that is not primitive,
# `any` included; taken as it is when it has no type (Terraform's VariableParsingMode).
# Measured with terraform 1.11.4 console: each expected name is its jsonencode(var.v).
RAW_VARIABLES = [
    ("type = any", '"q"', '"q"'),  # before: the quotes kept, "\\"q\\"" (a false drift)
    ("type = any", "5", "5"),
    ("type = any", '["x"]', '["x"]'),
    ("", "[1]", '"[1]"'),  # before: parsed, [1] (a false drift)
    ("", "{a=1}", '"{a=1}"'),
    ("", '"q"', '"\\"q\\""'),
    ("type = string", "[1]", '"[1]"'),
    ("type = map(any)", "{a=1}", '{"a":1}'),
]


@pytest.mark.parametrize("via", ["var", "env"])
@pytest.mark.parametrize(("type_line", "raw", "expected"), RAW_VARIABLES)
def test_a_var_string_is_parsed_by_terraforms_rule_for_its_type(
    tmp_path: Path, type_line: str, raw: str, expected: str, via: str
) -> None:
    main = TABLE.replace("var.name", "jsonencode(var.v)") + f'variable "v" {{\n  {type_line}\n}}\n'
    write_tree(tmp_path, {"root/main.tf": main})
    result = declare(tmp_path, **({"vars": {"v": raw}} if via == "var" else {"env": {"TF_VAR_v": raw}}))
    assert result.errors == []
    assert names(result) == [expected]


# Tables in a map(any) whose objects have different attributes: Terraform makes them maps of
# strings (terraform 1.11.4 plan, eleventh survey), so `pitr == true` is false and the default
# of lookup() is a string where the table has the key.
MAP_ANY_TABLES = """
variable "tables" {
  type = map(any)
  default = {
    users = { hash_key = "id", pitr = true, ttl = "exp" }
    audit = { hash_key = "id", pitr = false }
  }
}
resource "aws_dynamodb_table" "t" {
  for_each     = var.tables
  name         = "mapany-${each.key}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = each.value.hash_key
  attribute {
    name = each.value.hash_key
    type = "S"
  }
  point_in_time_recovery {
    enabled = each.value.pitr == true
  }
  deletion_protection_enabled = lookup(each.value, "pitr", false)
}
"""


def test_a_map_of_any_holds_one_type_as_terraform_converts_it(tmp_path: Path) -> None:
    """terraform plan: PITR off on both tables (``"true" == true`` is false), deletion protection
    on for users. driftwatch kept the bool, declared PITR on for users, and so called a table
    whose PITR was turned on in the console in sync while terraform plan turns it off."""
    write_tree(tmp_path, {"root/main.tf": MAP_ANY_TABLES})
    result = declare(tmp_path)
    assert result.errors == []
    declared = {
        table.spec.name: (table.spec.point_in_time_recovery, table.spec.deletion_protection)
        for table in result.tables
    }
    assert declared == {"mapany-users": (False, True), "mapany-audit": (False, False)}


def test_a_map_of_any_without_one_type_is_refused_as_terraform_refuses_it(tmp_path: Path) -> None:
    """A number beside a map in the same map(any) (a table with tags, one without and a
    capacity): Terraform refuses the variable ("all map elements must have the same type")."""
    main = MAP_ANY_TABLES.replace("pitr = false }", 'pitr = false, tags = { a = "b" } }')
    write_tree(tmp_path, {"root/main.tf": main})
    result = declare(tmp_path)
    assert any("all map elements must have the same type" in str(e) for e in result.errors)
    assert result.tables == [] or all(isinstance(t.spec.name, Unknown) for t in result.tables)


def test_a_map_of_any_with_a_null_beside_an_object_is_refused_as_terraform_refuses_it(tmp_path: Path) -> None:
    """``ttl = null`` for one table, ``ttl = { ... }`` for another, in a root map(any): terraform
    1.11.4 refuses the default ("attribute types must all match for conversion to map"); driftwatch
    read it and compared the tables."""
    main = MAP_ANY_TABLES.replace('ttl = "exp" }', "ttl = { enabled = true } }").replace(
        "pitr = false }", "pitr = false, ttl = null }"
    )
    write_tree(tmp_path, {"root/main.tf": main})
    result = declare(tmp_path)
    assert any("all map elements must have the same type" in str(e) for e in result.errors)
    assert result.tables == [] or all(isinstance(t.spec.name, Unknown) for t in result.tables)


@pytest.mark.parametrize("where", ["root/main.tf", "root/modules/tables/versions.tf"])
def test_a_module_using_experiments_is_an_error_as_terraform_refuses_it(tmp_path: Path, where: str) -> None:
    """``terraform { experiments = [module_variable_optional_attrs] }`` (a public module of the
    Terraform 0.14-1.2 years, code index file 2300671863; eleventh survey): terraform 1.11.4
    refuses the configuration ("Module uses experimental features", even for ``[]``). driftwatch
    compared its tables as if it planned."""
    call = 'module "tables" {\n  source = "./modules/tables"\n}\n'
    files = {
        "root/main.tf": TABLE.replace("var.name", '"t"') + call,
        "root/modules/tables/main.tf": TABLE.replace("var.name", '"u"'),
    }
    files[where] = files.get(where, "") + "terraform {\n  experiments = [module_variable_optional_attrs]\n}\n"
    write_tree(tmp_path, files)
    result = declare(tmp_path)
    (error,) = [e for e in result.errors if "experimental" in str(e)]
    assert "Module uses experimental features" in str(error)
    assert error.file is not None and error.file.endswith(where.removeprefix("root/")) and error.line


@REQUIRES_TERRAFORM_CLI
def test_terraform_console_reads_var_strings_as_recorded(tmp_path: Path) -> None:
    """RAW_VARIABLES measured: one ``terraform console`` (no provider, no init), half of the
    cases through -var and half through TF_VAR_."""
    import json

    (tmp_path / "cli.tfrc").write_text("")
    declared = "".join(f'variable "v{i}" {{\n  {t}\n}}\n' for i, (t, _, _) in enumerate(RAW_VARIABLES))
    (tmp_path / "main.tf").write_text(declared)
    args, env = [], {}
    for i, (_, raw, _) in enumerate(RAW_VARIABLES):
        if i % 2:
            env[f"TF_VAR_v{i}"] = raw
        else:
            args += ["-var", f"v{i}={raw}"]
    listed = ", ".join(f"jsonencode(var.v{i})" for i in range(len(RAW_VARIABLES)))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        shown = terraform(tmp_path, "console", *args, stdin=f"jsonencode([{listed}])\n").stdout
    assert json.loads(json.loads(shown)) == [expected for _, _, expected in RAW_VARIABLES]


def test_tfvars_of_the_wrong_type_is_reported_with_the_variable(tmp_path: Path) -> None:
    main = TABLE.replace("var.name", '"x${var.n}"') + 'variable "n" {\n  type = number\n}\n'
    write_tree(tmp_path, {"root/main.tf": main, "root/terraform.tfvars": 'n = "many"'})
    result = declare(tmp_path)
    assert any("invalid value for variable 'n'" in e.message for e in result.errors)
    assert isinstance(result.tables[0].spec.name, Unknown)


def test_missing_var_file_is_an_error_naming_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": TABLE + 'variable "name" {\n  default = "x"\n}\n'})
    result = declare(tmp_path, var_files=("nope.tfvars",))
    assert [(e.file, e.message) for e in result.errors] == [("root/nope.tfvars", "var file not found")]
    # The missing file may set var.name: its default is not what Terraform would use (it stops)
    (name,) = names(result)
    assert isinstance(name, Unknown) and "root/nope.tfvars could not be read" in name.reason


def test_object_variable_optional_defaults_are_filled(tmp_path: Path) -> None:
    main = TABLE.replace("var.name", 'var.cfg.prefix == "" ? "empty" : var.cfg.prefix') + (
        'variable "cfg" {\n  type = object({ prefix = optional(string, "") })\n  default = {}\n}\n'
    )
    write_tree(tmp_path, {"root/main.tf": main})
    assert names(declare(tmp_path)) == ["empty"]


# --- locals ----------------------------------------------------------------------------------


def test_locals_resolve_in_any_order_across_files(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/a.tf": TABLE.replace("var.name", "local.full"),
            "root/b.tf": 'locals {\n  full = "${local.prefix}-${local.suffix}"\n}\n',
            "root/c.tf": 'locals {\n  prefix = upper(local.suffix)\n  suffix = "t"\n}\n',
        },
    )
    assert names(declare(tmp_path)) == ["T-t"]


def test_cyclic_locals_are_reported_and_unknown(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/main.tf": TABLE.replace("var.name", "local.a")
            + "locals {\n  a = local.b\n  b = local.a\n}\n"
        },
    )
    result = declare(tmp_path)
    assert isinstance(result.tables[0].spec.name, Unknown)
    cycle_errors = [e for e in result.errors if "cycle in local" in e.message]
    assert cycle_errors and cycle_errors[0].file == "root/main.tf"
    assert "a -> b -> a" in cycle_errors[0].message or "b -> a -> b" in cycle_errors[0].message


def test_workspace_is_visible_as_terraform_workspace(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": TABLE.replace("var.name", '"t-${terraform.workspace}"')})
    assert names(declare(tmp_path, workspace="blue")) == ["t-blue"]


# --- modules ---------------------------------------------------------------------------------

CHILD = {
    "modules/table/main.tf": TABLE + 'variable "name" {}\noutput "name" {\n  value = var.name\n}\n',
}


def test_count_and_for_each_expand_with_terraform_addresses(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            **CHILD,
            "root/main.tf": """
module "counted" {
  count  = 2
  source = "../modules/table"
  name   = "c${count.index}"
}
module "each" {
  for_each = { orders = "o", users = "u" }
  source   = "../modules/table"
  name     = "${each.key}-${each.value}"
}
module "set" {
  for_each = toset(["x"])
  source   = "../modules/table"
  name     = each.value
}
module "none" {
  count  = 0
  source = "../modules/table"
  name   = "never"
}
""",
        },
    )
    result = declare(tmp_path)
    assert result.errors == []
    assert sorted(zip(addresses(result), names(result), strict=True)) == [
        ("module.counted[0].aws_dynamodb_table.t", "c0"),
        ("module.counted[1].aws_dynamodb_table.t", "c1"),
        ('module.each["orders"].aws_dynamodb_table.t', "orders-o"),
        ('module.each["users"].aws_dynamodb_table.t', "users-u"),
        ('module.set["x"].aws_dynamodb_table.t', "x"),
    ]
    first = next(t for t in result.tables if t.address.startswith("module.counted[0]"))
    assert (first.source.file, first.source.line) == ("modules/table/main.tf", 2)


def test_outputs_of_local_modules_feed_other_expressions(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            **CHILD,
            "modules/naming/main.tf": 'variable "base" {}\noutput "id" {\n  value = "${var.base}-v2"\n}\n',
            "root/main.tf": """
module "naming" {
  source = "../modules/naming"
  base   = "orders"
}
module "table" {
  source = "../modules/table"
  name   = module.naming.id
}
""",
        },
    )
    assert names(declare(tmp_path)) == ["orders-v2"]


def test_for_each_over_an_unknown_value_is_not_evaluated_with_the_line(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            **CHILD,
            "root/main.tf": 'module "t" {\n  for_each = data.aws_x.y.names\n  source = "../modules/table"\n'
            "  name = each.key\n}\n",
        },
    )
    result = declare(tmp_path)
    assert result.tables == []
    assert result.errors == []
    (skipped,) = result.not_evaluated
    assert skipped.address == "module.t"
    assert (skipped.source.file, skipped.source.line) == ("root/main.tf", 1)
    assert "for_each of module.t is unknown" in skipped.reason


def test_module_that_calls_itself_is_refused(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/main.tf": 'module "a" {\n  source = "../modules/a"\n}\n',
            "modules/a/main.tf": 'module "b" {\n  source = "../b"\n}\n',
            "modules/b/main.tf": 'module "a" {\n  source = "../a"\n}\n' + TABLE.replace("var.name", '"b"'),
        },
    )
    result = declare(tmp_path)
    assert any("module calls itself" in e.message for e in result.errors)
    assert names(result) == ["b"]


@pytest.mark.parametrize("source", ["../../outside", "/etc", "./escape"])
def test_module_sources_outside_the_repository_are_refused(tmp_path: Path, source: str) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    write_tree(outside, {"main.tf": TABLE.replace("var.name", '"stolen"')})
    (repo / "root").mkdir(parents=True)
    os.symlink(outside, repo / "root" / "escape")
    write_tree(repo, {"root/main.tf": f'module "x" {{\n  source = "{source}"\n}}\n'})
    result = declare(repo)
    assert result.tables == []
    assert any("outside the repository root" in e.message for e in result.errors)


def test_var_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(tmp_path, {"secret.tfvars": 'name = "leak"'})
    write_tree(repo, {"root/main.tf": TABLE + 'variable "name" {\n  default = "safe"\n}\n'})
    result = declare(repo, var_files=("../../secret.tfvars",))
    (name,) = names(result)  # not "leak": the file is not read, so the value is not known
    assert isinstance(name, Unknown) and "could not be read" in name.reason
    assert any("outside the repository root" in e.message for e in result.errors)


def test_a_file_that_does_not_parse_does_not_hide_the_others(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/good.tf": TABLE.replace("var.name", '"good"'),
            "root/bad.tf": "locals {\n  a = = 1\n}\n",
        },
    )
    result = declare(tmp_path)
    assert names(result) == ["good"]
    assert [(e.file, e.line) for e in result.errors] == [("root/bad.tf", 2)]


# --- CloudPosse label context, providers -----------------------------------------------------


def test_label_context_flows_through_a_wrapper_into_the_table_module(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/main.tf": """
module "this" {
  source    = "cloudposse/label/null"
  version   = "0.25.0"
  namespace = "eg"
  stage     = "dev"
  tags      = { Team = "data" }
}
module "wrapper" {
  source  = "../modules/wrapper"
  context = module.this.context
}
""",
            "modules/wrapper/main.tf": """
variable "context" {
  type = any
}
module "label" {
  source     = "cloudposse/label/null"
  context    = var.context
  attributes = ["v2"]
}
module "table" {
  source   = "cloudposse/dynamodb/aws"
  version  = "~> 0.37"
  context  = module.label.context
  name     = "events"
  hash_key = "id"
}
""",
        },
    )
    result = declare(tmp_path)
    assert result.errors == []
    (table,) = result.tables
    assert table.address == "module.wrapper.module.table"
    assert table.spec.name == "eg-dev-events-v2"
    assert dict(table.spec.tags) == {  # type: ignore[arg-type]
        "Attributes": "v2",
        "Name": "eg-dev-events-v2",
        "Namespace": "eg",
        "Stage": "dev",
        "Team": "data",
    }


def test_region_comes_from_the_provider_block_and_aliases_passed_to_modules(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            **CHILD,
            "root/main.tf": """
variable "home" {
  default = "eu-west-1"
}
provider "aws" {
  region = var.home
  default_tags {
    tags = { Owner = "platform" }
  }
}
provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
module "home" {
  source = "../modules/table"
  name   = "home"
}
module "west" {
  source    = "../modules/table"
  name      = "west"
  providers = { aws = aws.west }
}
""",
        },
    )
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path / "root", env={"AWS_REGION": "ap-south-1"})
    result = declare_target(target, ParseCache())
    regions = {t.spec.name: t.spec.region for t in result.tables}
    assert regions == {"home": "eu-west-1", "west": "us-west-2"}
    home = next(t for t in result.tables if t.spec.name == "home")
    assert dict(home.spec.tags)["Owner"] == "platform"  # type: ignore[arg-type]


def test_region_falls_back_to_the_environment_without_a_provider_region(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": TABLE.replace("var.name", '"t"')})
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path / "root", env={"AWS_REGION": "ap-south-1"})
    assert [t.spec.region for t in declare_target(target, ParseCache()).tables] == ["ap-south-1"]


def test_dynamic_blocks_and_lifecycle_ignore_changes(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/main.tf": """
variable "indexes" {
  default = { by_tenant = "tenant_id", by_day = "day" }
}
resource "aws_dynamodb_table" "t" {
  name           = "t"
  hash_key       = "id"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "id"
    type = "S"
  }
  dynamic "global_secondary_index" {
    for_each = var.indexes
    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value
      projection_type = "ALL"
      read_capacity   = 1
      write_capacity  = 1
    }
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}
""",
        },
    )
    (table,) = declare(tmp_path).tables
    gsis = {g.name: g.hash_key for g in table.spec.gsis}  # type: ignore[union-attr]
    assert gsis == {"by_day": "day", "by_tenant": "tenant_id"}
    assert not table.spec.is_managed("read_capacity")
    assert not table.spec.is_managed("write_capacity")
    assert table.spec.is_managed("table_class")


def test_examples_repository_resolves_with_nothing_unresolved() -> None:
    repo = Path(__file__).resolve().parents[1] / "examples"
    target = TargetInput(name="prod", repo=repo, root=repo / "envs/prod", var_files=("prod.tfvars",), env={})
    result = declare_target(target, ParseCache())
    assert result.errors == []
    specs = {t.address: t.spec for t in result.tables}
    assert set(specs) == {
        "module.mimir_index.module.mimir_index_table",
        'module.tables["orders"]',
        'module.tables["sessions"]',
    }
    mimir = specs["module.mimir_index.module.mimir_index_table"]
    assert (mimir.name, mimir.region, mimir.table_class) == (
        "acme-prod-mimir-index",
        "us-east-1",
        "STANDARD_INFREQUENT_ACCESS",
    )
    assert mimir.autoscaling.read is not None and mimir.autoscaling.read.max == 40
    from driftwatch.report.inspect import unresolved_paths

    assert [p for spec in specs.values() for p in unresolved_paths(spec)] == []


def test_a_broken_child_file_is_one_error_not_a_cascade(tmp_path: Path) -> None:
    """Inputs for variables of the unparseable file are not also reported as undeclared."""
    write_tree(
        tmp_path,
        {
            "modules/table/main.tf": TABLE,
            "modules/table/variables.tf": 'variable "name" {\n  default = = "x"\n}\n',
            "root/main.tf": 'module "t" {\n  source = "../modules/table"\n  name = "t"\n}\n',
        },
    )
    result = declare(tmp_path)
    assert [(e.file, e.line) for e in result.errors] == [("modules/table/variables.tf", 2)]


def test_syntax_errors_carry_the_column_into_reports(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from driftwatch.report.json import report_to_dict
    from driftwatch.spec import ScanReport

    write_tree(tmp_path, {"root/main.tf": "locals {\n  a = = 1\n}\n"})
    result = declare(tmp_path)
    (error,) = result.errors
    assert (error.file, error.line, error.column) == ("root/main.tf", 2, 7)
    assert error.location == "root/main.tf:2:7"
    report = ScanReport(generated_at=datetime.now(UTC), commit=None, tables=(), errors=(error,))
    assert report_to_dict(report)["errors"][0]["column"] == 7


def test_ignore_changes_on_one_tag_key_leaves_the_other_tags_compared(tmp_path: Path) -> None:
    """``ignore_changes = [tags["Touched"]]`` ignores that key only (terraform plan still wants a
    changed default tag back); the index of a reference is kept, not dropped to ``tags``."""
    write_tree(
        tmp_path,
        {
            "root/main.tf": """
resource "aws_dynamodb_table" "t" {
  name         = "t"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Team = "a" }
  lifecycle {
    ignore_changes = [tags["Touched"], tags_all["kubernetes.io/x"], ttl[0].enabled, ttl.0.attribute_name]
  }
}
""",
        },
    )
    (table,) = declare(tmp_path).tables
    assert not table.spec.is_managed("tags.Touched")
    assert not table.spec.is_managed("tags.kubernetes.io/x")
    assert table.spec.is_managed("tags.Team")
    assert table.spec.is_managed("tags.Env")
    assert not table.spec.is_managed("ttl.enabled")
    assert not table.spec.is_managed("ttl.attribute")


def test_a_setting_driftwatch_does_not_compare_is_a_note_of_the_table(tmp_path: Path) -> None:
    """A plain table with ``on_demand_throughput`` carries a note (reported as unresolved)."""
    write_tree(
        tmp_path,
        {
            "root/main.tf": """
resource "aws_dynamodb_table" "t" {
  name         = "t"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  on_demand_throughput {
    max_read_request_units = 100
  }
}
""",
        },
    )
    (table,) = declare(tmp_path).tables
    assert [note.attribute for note in table.notes] == ["on_demand_throughput"]


def test_a_null_for_a_non_nullable_variable_takes_its_default(tmp_path: Path) -> None:
    """``nullable = false``: a null from tfvars or from a module call (``try(each.value.pitr,
    null)``, common in wrappers) means the default, as in Terraform; without a usable default
    Terraform refuses the value, so it is Unknown, never null's "false"."""
    write_tree(
        tmp_path,
        {
            "root/main.tf": """
variable "pitr" {
  type     = bool
  default  = true
  nullable = false
}
variable "class" {
  type     = string
  nullable = false
}
module "t" {
  source = "../mod"
  pitr   = null
  name   = "m"
}
resource "aws_dynamodb_table" "t" {
  name         = "t"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  table_class  = var.class
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery {
    enabled = var.pitr
  }
}
""",
            "root/terraform.tfvars": "pitr = null\nclass = null\n",
            "mod/main.tf": """
variable "name" {
  type = string
}
variable "pitr" {
  type     = bool
  default  = true
  nullable = false
}
variable "ttl" {
  type    = bool
  default = true
}
resource "aws_dynamodb_table" "t" {
  name         = var.name
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery {
    enabled = var.pitr
  }
}
""",
        },
    )
    specs = {t.address: t.spec for t in declare(tmp_path).tables}
    assert specs["aws_dynamodb_table.t"].point_in_time_recovery is True
    assert isinstance(specs["aws_dynamodb_table.t"].table_class, Unknown)
    assert "nullable = false" in specs["aws_dynamodb_table.t"].table_class.reason
    assert specs["module.t.aws_dynamodb_table.t"].point_in_time_recovery is True


def test_an_ephemeral_variable_in_a_tables_arguments_is_unknown_not_drift(
    embedded_aws: None, tmp_path: Path
) -> None:
    """An ``ephemeral = true`` variable (Terraform 1.10) in a table's tags: terraform 1.11.4 plan
    refuses it ("Invalid use of ephemeral value: Ephemeral values are not valid for "tags",
    because it is not a write-only attribute and must be persisted to state"), so nothing was
    applied from it and there is nothing to compare. Before, driftwatch compared the default and
    called the live table drifted (``tags.E``) where Terraform plans nothing (fourteenth survey).
    A provider block may read one: terraform plan took ``region`` and ``default_tags`` from it."""
    from realestate import provision, run_scan, target

    from driftwatch.spec import TableStatus

    write_tree(
        tmp_path,
        {
            "root/main.tf": """
variable "token" {
  type      = string
  ephemeral = false
  default   = "applied-before"
}
variable "region" {
  type      = string
  ephemeral = false
  default   = "us-east-1"
}
provider "aws" {
  region = var.region
  default_tags {
    tags = { Region = var.region }
  }
}
resource "aws_dynamodb_table" "t" {
  name         = "eph"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { E = var.token, Team = "obs" }
}
""",
        },
    )
    watched = target(tmp_path, root="root", region=None)
    provision([watched])  # the table as applied before both variables became ephemeral
    main = tmp_path / "root" / "main.tf"
    main.write_text(main.read_text().replace("= false", "= true").replace("applied-before", "e1"))
    (found,) = run_scan([watched]).tables
    assert found.status is TableStatus.IN_SYNC, found.drift
    (unresolved,) = [u for u in found.unresolved if u.attribute.startswith("tags")]
    assert "ephemeral" in unresolved.reason


def test_an_ephemeral_variable_is_validated_and_read_as_terraform_decodes_it(tmp_path: Path) -> None:
    """terraform 1.11.4 plan: an ephemeral variable's failing ``validation`` stops the plan
    ("Invalid value for variable"), as any variable's does; ``ephemeral = "true"`` and
    ``nullable = "false"`` are decoded to bools (the table then refused: "Ephemeral value not
    allowed"; a module input null takes the default). Before, the validation ran on the Unknown
    an ephemeral variable becomes, so it never failed, and the strings read as not set: the
    variable's value was compared (a false drift) and a null stayed null. Terraform does not
    show an error message that reads an ephemeral value; nor does driftwatch."""
    validated = (
        'variable "name" {\n  type = string\n  ephemeral = true\n  default = "bad"\n'
        '  validation {\n    condition = var.name != "bad"\n    error_message = "not bad"\n  }\n}\n'
    )
    write_tree(tmp_path / "a", {"root/main.tf": TABLE + validated})
    assert [e.message for e in declare(tmp_path / "a").errors] == [
        "invalid value for variable 'name': not bad (its validation fails: Terraform refuses to plan)"
    ]
    # Its error message is not shown when it reads the value (a token): nor by Terraform.
    telling = validated.replace('"not bad"', '"not ${var.name}"')
    write_tree(tmp_path / "a", {"root/main.tf": TABLE + telling})
    (error,) = declare(tmp_path / "a").errors
    assert "bad" not in error.message and "not shown" in error.message
    quoted = 'variable "name" {\n  type = string\n  ephemeral = "true"\n  default = "orders"\n}\n'
    write_tree(tmp_path / "b", {"root/main.tf": TABLE + quoted})
    (name,) = names(declare(tmp_path / "b"))
    assert isinstance(name, Unknown) and "ephemeral" in name.reason
    write_tree(
        tmp_path / "c",
        {
            "root/main.tf": 'module "t" {\n  source = "../mod"\n  name = null\n}\n',
            "mod/main.tf": TABLE + 'variable "name" {\n  nullable = "false"\n  default = "orders"\n}\n',
        },
    )
    assert names(declare(tmp_path / "c")) == ["orders"]
    # A provider block reads one through a local too: the target's region is not taken for it
    # (the table read in another region: a false "missing").
    via_local = (
        'variable "region" {\n  ephemeral = true\n  default = "eu-west-1"\n}\n'
        'locals {\n  region = var.region\n}\nprovider "aws" {\n  region = local.region\n}\n'
        'variable "name" {\n  default = "orders"\n}\n'
    )
    write_tree(tmp_path / "d", {"root/main.tf": TABLE + via_local})
    (table,) = declare(tmp_path / "d").tables
    assert table.spec.region == "eu-west-1"


def test_a_var_for_an_undeclared_variable_is_an_error_as_terraform_refuses_it(tmp_path: Path) -> None:
    """terraform plan -var typo=x stops ("Value for undeclared variable"). Before, driftwatch
    ignored it, so a misspelt ``vars: {enviroment: prod}`` silently left the default in place
    and watched another environment's tables. A var file's undeclared names stay a warning in
    Terraform, and are ignored here too."""
    write_tree(
        tmp_path,
        {
            "root/main.tf": TABLE + 'variable "name" {\n  default = "dev"\n}\n',
            "root/x.tfvars": 'other = "y"\n',
        },
    )
    result = declare(tmp_path, vars={"nmae": "prod"}, var_files=("x.tfvars",))
    assert [e.message for e in result.errors] == [
        "--var nmae: the root module declares no variable 'nmae' (terraform plan refuses it: "
        '"Value for undeclared variable")'
    ]
    assert declare(tmp_path, var_files=("x.tfvars",)).errors == []


def test_a_table_replica_resource_is_not_evaluated_never_silently_unwatched(tmp_path: Path) -> None:
    """``aws_dynamodb_table_replica`` manages a table of its own (the replica, in its provider's
    region), which terraform plan compares and driftwatch does not. Before, it was not listed
    anywhere: its table was unwatched in silence. Each instance is now not evaluated."""
    table = TABLE.replace("var.name", '"t"')
    replica = (
        'resource "aws_dynamodb_table_replica" "r" {\n  for_each = toset(KEYS)\n'
        "  global_table_arn = aws_dynamodb_table.t.arn\n}\n"
    )
    write_tree(tmp_path, {"root/main.tf": table + replica.replace("KEYS", '["a"]')})
    result = declare(tmp_path)
    assert [t.address for t in result.tables] == ["aws_dynamodb_table.t"]
    (skipped,) = result.not_evaluated
    assert (skipped.address, skipped.source) == (
        'aws_dynamodb_table_replica.r["a"]',
        SourceLocation("root/main.tf", 11),
    )
    assert "not compared by driftwatch" in skipped.reason
    write_tree(tmp_path, {"root/main.tf": table + replica.replace("KEYS", "[]")})
    assert declare(tmp_path).not_evaluated == []  # no instance, no replica table


@pytest.mark.parametrize(
    "kind", ["aws_dynamodb_global_table", "awscc_dynamodb_table", "awscc_dynamodb_global_table"]
)
def test_other_resources_that_manage_a_table_are_not_evaluated(tmp_path: Path, kind: str) -> None:
    """The 2017 global tables resource and the Cloud Control (awscc) provider's tables are
    tables terraform plan compares; driftwatch reads only aws_dynamodb_table, so each is listed
    as not evaluated (with count, per instance) instead of being unwatched in silence."""
    block = f'resource "{kind}" "g" {{\n  count = 2\n  name  = "orders-${{count.index}}"\n}}\n'
    write_tree(tmp_path, {"root/main.tf": block})
    result = declare(tmp_path)
    assert result.tables == []
    assert [(s.address, s.source) for s in result.not_evaluated] == [
        (f"{kind}.g[{index}]", SourceLocation("root/main.tf", 1)) for index in (0, 1)
    ]
    assert all(f"this {kind} manages is not compared by driftwatch" in s.reason for s in result.not_evaluated)


def test_a_directory_named_like_a_terraform_file_is_skipped_as_terraform_skips_it(tmp_path: Path) -> None:
    """Terraform lists only files of a module directory: ``x.tf/`` (a vendored tree, a
    module kept in a folder named after its file) is passed over (terraform 1.11.4 validate:
    valid). It was a target error, "not a regular file (a directory)". A symlink named
    ``link.tf`` to a directory is still an error: Terraform fails to read it."""
    write_tree(
        tmp_path,
        {"root/main.tf": 'variable "name" {\n  default = "t"\n}\n' + TABLE, "root/x.tf/README": "notes\n"},
    )
    (tmp_path / "root" / "y.tf.json").mkdir()
    found = declare(tmp_path)
    assert found.errors == [] and names(found) == ["t"]
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "link.tf").symlink_to(tmp_path / "elsewhere")
    # named by where the link leads, as every symlinked file is
    assert [(e.file, e.message) for e in declare(tmp_path).errors] == [
        ("elsewhere", "not a regular file (a directory); not read")
    ]


def test_an_input_the_cloudposse_module_does_not_declare_is_an_error_once_per_call(tmp_path: Path) -> None:
    """Terraform refuses a call with an input the module does not declare ("Unsupported
    argument"). A typo such as ``point_in_time_recovery_enabled = false`` was passed over in
    silence: the emulated table kept PITR on, the default, and nobody was told the setting meant
    was not the one compared. It is now the error a module evaluated from its code gives, once
    for a call of two instances; inputs of the module and of its context.tf are not."""
    write_tree(
        tmp_path,
        {
            "root/main.tf": """
module "table" {
  source   = "cloudposse/dynamodb/aws"
  version  = "0.37.0"
  for_each = toset(["a", "b"])
  name     = each.key
  stage    = "prod"
  hash_key = "id"
  point_in_time_recovery_enabled = false
  autoscaler_tags = {}
  label_value_case = "lower"
}
"""
        },
    )
    result = declare(tmp_path)
    assert [(e.message, e.file, e.line) for e in result.errors] == [
        (
            "the module call module.table sets 'point_in_time_recovery_enabled', which the module does not"
            " declare",
            "root/main.tf",
            2,
        )
    ]
    assert sorted(names(result)) == ["prod-a", "prod-b"]


@pytest.mark.parametrize("entry", ["x.tf/README", ".backup.tf"])
def test_a_root_whose_only_terraform_names_terraform_does_not_read_has_no_files(
    tmp_path: Path, entry: str
) -> None:
    """A root whose only ``.tf`` names are a directory (``x.tf/``) or a hidden file, which
    Terraform passes over ("No configuration files"), was a root of no tables: silently in
    sync. It is the root's error, as a root with no ``.tf`` name at all is."""
    write_tree(tmp_path, {f"root/{entry}": TABLE})
    found = declare(tmp_path)
    assert found.tables == []
    assert [e.message for e in found.errors] == ["no .tf or .tf.json files in root"]


# Values Terraform reads with no evaluation context: a variable's default, a var file's value,
# a -var / TF_VAR_ string for a variable of a complex type. Terraform 1.11.4 (console, validate):
# a literal, an operator, a template, a `for` over its own symbols are values; a function call
# or a reference to anything is refused for the whole configuration (realsurvey12).
CONSTANT_VALUES = [
    ('"a-${1 + 1}"', "a-2"),
    ('"a$${b}"', "a${b}"),
    ('"%{if true}t%{endif}"', "t"),
    ('"%{for x in ["p", "q"]}${x}%{endfor}"', "pq"),
    ('[for s in ["a", "b"] : s][1]', "b"),
    ("{ for k, v in { a = 1 } : k => v * 2 }", {"a": 2}),
    ('true ? "y" : "n"', "y"),
    ("1 + 2", 3),
]
NOT_CONSTANT = [
    ('upper("a")', "Function calls not allowed"),
    ('"t-${lower("A")}"', "Function calls not allowed"),
    ('[for s in ["a"] : upper(s)][0]', "Function calls not allowed"),
    ('try(var.x, "d")', "Function calls not allowed"),
    ('provider::aws::arn_parse("arn:aws:s3:::b")', "Function calls not allowed"),
    ("var.other", "Variables not allowed"),
    ('"${terraform.workspace}"', "Variables not allowed"),
    ('[for s in ["a"] : t][0]', "Unknown variable"),
]
CONSTANT_ROOT = (
    TABLE.replace("var.name", "jsonencode(var.name)")
    + 'variable "other" {\n  default = "o"\n}\nvariable "name" {\n  type = any\nDEFAULT}\n'
)


@pytest.mark.parametrize("where", ["default", "terraform.tfvars", "-var", "TF_VAR_"])
def test_a_value_terraform_reads_without_context_refuses_functions_and_references(
    tmp_path: Path, where: str
) -> None:
    """``variable "x" { default = lower("X") }``, ``x = upper("a")`` in a tfvars file: Terraform
    refuses the configuration ("Function calls not allowed"), so nothing is planned. Before,
    driftwatch evaluated them, watched the table ``t-A`` and exited 0 (found by the twelfth
    survey). Now each is an error of the target at its line, and the value Unknown."""
    for expression, expected in [*CONSTANT_VALUES, *NOT_CONSTANT]:
        default = f"  default = {expression}\n" if where == "default" else ""
        files = {"root/main.tf": CONSTANT_ROOT.replace("DEFAULT", default)}
        if where == "terraform.tfvars":
            files["root/terraform.tfvars"] = f"name = {expression}\n"
        write_tree(tmp_path, files)
        result = declare(
            tmp_path,
            vars={"name": expression} if where == "-var" else {},
            env={"TF_VAR_name": expression} if where == "TF_VAR_" else {},
        )
        if (expression, expected) in NOT_CONSTANT:
            (name,) = names(result)
            assert isinstance(name, Unknown) and expected in name.reason, expression
            (error,) = result.errors
            assert expected in error.message and "Terraform refuses" in error.message, error
            if where in ("default", "terraform.tfvars"):
                assert error.line is not None and error.file is not None, error
        else:
            assert (names(result), result.errors) == ([json.dumps(expected, separators=(",", ":"))], [])


@pytest.mark.terraform
@REQUIRES_TERRAFORM_CLI
def test_terraform_reads_values_without_context_as_recorded(tmp_path: Path) -> None:
    """CONSTANT_VALUES and NOT_CONSTANT measured: one ``terraform console`` with the values in
    terraform.tfvars, one with the refused ones there, one ``terraform validate`` with the
    refused ones as defaults (each refused expression is one error of its kind)."""
    (tmp_path / "cli.tfrc").write_text("")
    typed = "".join(f'variable "v{i}" {{\n  type = any\n}}\n' for i in range(len(NOT_CONSTANT)))
    (tmp_path / "main.tf").write_text('variable "x" {\n  default = 1\n}\n' + typed)
    tfvars = "".join(f"v{i} = {expression}\n" for i, (expression, _) in enumerate(CONSTANT_VALUES))
    (tmp_path / "terraform.tfvars").write_text(tfvars)
    listed = ", ".join(f"var.v{i}" for i in range(len(CONSTANT_VALUES)))
    shown = terraform(tmp_path, "console", stdin=f"jsonencode([{listed}])\n").stdout
    assert json.loads(json.loads(shown)) == [expected for _, expected in CONSTANT_VALUES]

    def refusals(text: str) -> list[str]:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
        found = [line.split("Error: ", 1)[1].strip() for line in plain.splitlines() if "Error: " in line]
        return sorted(kind for kind in found if kind.endswith(" not allowed") or kind == "Unknown variable")

    tfvars = "".join(f"v{i} = {expression}\n" for i, (expression, _) in enumerate(NOT_CONSTANT))
    (tmp_path / "terraform.tfvars").write_text(tfvars)
    refused = terraform(tmp_path, "console", ok=(1,), stdin="1\n").stderr
    assert refusals(refused) == sorted(kind for _, kind in NOT_CONSTANT)
    (tmp_path / "terraform.tfvars").unlink()
    defaults = "".join(
        f'variable "v{i}" {{\n  type = any\n  default = {expression}\n}}\n'
        for i, (expression, _) in enumerate(NOT_CONSTANT)
    )
    (tmp_path / "main.tf").write_text(defaults)
    refused = terraform(tmp_path, "validate", "-no-color", ok=(1,)).stderr
    assert refusals(refused) == sorted(kind for _, kind in NOT_CONSTANT)


DUPLICATE_DECLARATIONS = {  # kind: (second file, reference, Terraform's words, line it names)
    "local": (
        'locals {\n  name = "a"\n}\nlocals {\n  name = "b"\n}\n',
        "local.name",
        "Duplicate local value definition",
        5,
    ),
    "variable": (
        'variable "name" {\n  default = "a"\n}\nvariable "name" {\n  default = "b"\n}\n',
        "var.name",
        "Duplicate variable declaration",
        4,
    ),
}


@pytest.mark.parametrize("kind", sorted(DUPLICATE_DECLARATIONS))
def test_a_local_or_variable_declared_twice_is_an_error_as_terraform_refuses_it(
    tmp_path: Path, kind: str
) -> None:
    """Two ``locals`` blocks (often two files after a merge) defining one name, or two
    ``variable`` blocks of one name: Terraform refuses the configuration. Before, driftwatch
    took the last one in silence and compared the table it names (realsurvey12)."""
    text, reference, message, line = DUPLICATE_DECLARATIONS[kind]
    table = TABLE.replace("var.name", reference)
    write_tree(tmp_path / "a", {"root/main.tf": table, "root/two.tf": text})
    call = 'module "m" {\n  source = "../m"\n  count = 2\n}\n'
    write_tree(tmp_path / "b", {"root/main.tf": call, "m/main.tf": table, "m/two.tf": text})
    for repo, file in ((tmp_path / "a", "root/two.tf"), (tmp_path / "b", "m/two.tf")):
        result = declare(repo)  # said once, however many instances evaluate the module
        (error,) = result.errors
        assert error.message.startswith(message) and (error.file, error.line) == (file, line), error
        assert all(isinstance(name, Unknown) for name in names(result)), names(result)


@pytest.mark.terraform
@REQUIRES_TERRAFORM_CLI
def test_terraform_refuses_names_declared_twice_as_recorded(tmp_path: Path) -> None:
    """DUPLICATE_DECLARATIONS and an argument set twice, in one ``terraform validate``."""
    (tmp_path / "cli.tfrc").write_text("")
    (tmp_path / "two.tf").write_text("".join(text for text, _, _, _ in DUPLICATE_DECLARATIONS.values()))
    (tmp_path / "three.tf").write_text('resource "terraform_data" "t" {\n  input = 1\n  input = 2\n}\n')
    shown = terraform(tmp_path, "validate", "-no-color", ok=(1,)).stderr
    found = re.findall(r"Error: (.+)\n\n  on (\S+) line (\d+)", shown)
    assert sorted(found) == sorted(
        [("Attribute redefined", "three.tf", "3")]
        + [
            (message, "two.tf", str(line + 6 * (kind == "variable")))
            for kind, (_, _, message, line) in DUPLICATE_DECLARATIONS.items()
        ]
    )
