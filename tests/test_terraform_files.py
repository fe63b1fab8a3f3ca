"""Which files of a module directory Terraform reads, and how driftwatch follows it.

Terraform ignores hidden files (``.x.tf``), reads ``.tf.json`` files (its JSON syntax) and
merges override files (``override.tf``, ``*_override.tf``) into the other files' blocks.
driftwatch does the same (the merge rules themselves: tests/test_override.py); what it cannot
evaluate like Terraform is said, never silently dropped (a table not watched) nor read as a
plain file (a false alarm).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftwatch.spec import SourceLocation, Unknown
from driftwatch.terraform import modules, observe
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache


def _table(label: str, name: str) -> str:
    return f"""
resource "aws_dynamodb_table" "{label}" {{
  name         = {name}
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
}}
"""


def _declare(repo: Path, files: dict[str, str], root: str = "root") -> TargetDeclarations:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    target = TargetInput(name="t", repo=repo, root=repo / root, env={}, region="us-east-1")
    return declare_target(target, ParseCache())


def _names(result: TargetDeclarations) -> list[object]:
    return sorted(str(table.spec.name) for table in result.tables)


def test_hidden_files_are_ignored_as_terraform_ignores_them(tmp_path: Path) -> None:
    """``.x.tf`` is not part of the configuration for Terraform; reading it declared a table
    Terraform never creates, reported missing."""
    result = _declare(
        tmp_path,
        {"root/main.tf": _table("good", '"good"'), "root/.backup.tf": _table("old", '"hidden-by-terraform"')},
    )
    assert _names(result) == ["good"]
    assert result.errors == [] and result.not_evaluated == []


def test_a_module_directory_that_cannot_be_listed_is_an_error_not_an_empty_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory driftwatch's user may not list (git-sync under another uid, a mode 0700
    directory) was read as holding no files: an empty module, its tables unwatched and nothing
    said. Terraform refuses it: "Module directory … does not exist or cannot be read"."""
    scandir = observe.os.scandir

    def refusing(path: Any) -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(observe.os, "scandir", refusing)
    result = _declare(
        tmp_path,
        {
            "root/main.tf": _table("good", '"good"') + 'module "m" {\n  source = "../locked"\n}\n',
            "locked/main.tf": _table("hidden", '"unwatched"'),
        },
    )
    assert _names(result) == ["good"]
    (error,) = result.errors
    assert (error.file, error.message) == (
        "locked",
        "the module directory cannot be listed (Permission denied): its files are not read",
    )
    (error,) = _declare(tmp_path, {}, root="locked").errors  # a root too, said once
    assert (error.file, error.message) == (
        "locked",
        "the module directory cannot be listed (Permission denied): its files are not read",
    )


def test_a_terraform_or_var_file_linked_into_dot_git_is_not_read(tmp_path: Path) -> None:
    """``leak.tf`` or ``leak.auto.tfvars`` linked to ``.git/config`` (where CI checkouts write
    the runner's token): it was parsed, and the parse error quoted the line holding the token
    in every output. Refused as ``file()`` of ``.git`` is."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git/config").write_text("url = https://x-access-token:SECRET@github.com/o/r\n")
    (tmp_path / "root").mkdir()
    (tmp_path / "root/leak.tf").symlink_to("../.git/config")
    (tmp_path / "root/leak.auto.tfvars").symlink_to("../.git/config")
    result = _declare(tmp_path, {"root/main.tf": _table("good", '"good"')})
    assert _names(result) == ["good"]
    messages = sorted(error.message for error in result.errors)
    assert "SECRET" not in repr(result) and len(messages) == 2
    assert all("is in a .git directory, which driftwatch does not read" in m for m in messages)


def test_a_tf_json_file_is_read_as_terraform_reads_it(tmp_path: Path) -> None:
    """Terraform reads ``main.tf.json``; driftwatch first skipped it without a word (the table
    in it unwatched, the scan in sync), then named it as not read. Now its tables are declared."""
    document = (
        '{"resource": {"aws_dynamodb_table": {"j": {"name": "json-table", "hash_key": "id",'
        ' "billing_mode": "PAY_PER_REQUEST", "attribute": [{"name": "id", "type": "S"}]}}}}'
    )
    result = _declare(tmp_path, {"root/main.tf": _table("good", '"good"'), "root/tables.tf.json": document})
    assert _names(result) == ["good", "json-table"]
    assert result.errors == [] and result.not_evaluated == []
    (table,) = [t for t in result.tables if t.address == "aws_dynamodb_table.j"]
    assert (table.source.file, table.spec.hash_key_type) == ("root/tables.tf.json", "S")


def test_a_root_of_only_tf_json_files_is_a_root(tmp_path: Path) -> None:
    """A CDKTF stack's directory holds only ``cdk.tf.json``: it used to be "no .tf files"."""
    document = '{"resource": {"aws_dynamodb_table": {"j": {"name": "only-json", "hash_key": "id"}}}}'
    result = _declare(tmp_path, {"root/cdk.tf.json": document})
    assert _names(result) == ["only-json"] and result.errors == []


def test_an_override_file_is_merged_into_the_table_it_names(tmp_path: Path) -> None:
    """Terraform merges ``override.tf`` into the table it names. Read as a plain file it declared
    a second table and kept the first (a false alarm); then every table of the module was left
    unwatched. Now the table is declared as Terraform applies it, and a drifted attribute the
    override sets points at the override file."""
    result = _declare(
        tmp_path,
        {
            "root/main.tf": _table("t", '"base-name"') + 'module "kid" {\n  source = "../kid"\n}\n',
            "root/override.tf": 'resource "aws_dynamodb_table" "t" {\n  name = "overridden-name"\n}\n',
            "kid/main.tf": _table("k", '"kid-table"'),
        },
    )
    assert _names(result) == ["kid-table", "overridden-name"]
    assert result.errors == [] and result.not_evaluated == []
    (table,) = [t for t in result.tables if t.address == "aws_dynamodb_table.t"]
    assert (table.source.file, table.source.line) == ("root/main.tf", 2)
    assert table.locations["billing_mode"].file == "root/main.tf"
    assert "root/override.tf" in table.inputs


def test_a_child_modules_override_file_changes_its_outputs(tmp_path: Path) -> None:
    """The outputs of a module with an override file are the merged outputs (they used to be
    Unknown, and the module's tables not evaluated)."""
    result = _declare(
        tmp_path,
        {
            "root/main.tf": _table("named", "module.kid.name") + 'module "kid" {\n  source = "../kid"\n}\n',
            "kid/main.tf": _table("k", "local.name") + 'output "name" {\n  value = "kid-output"\n}\n'
            'locals {\n  name = "kid-base"\n}\n',
            "kid/names_override.tf": 'output "name" {\n  value = "changed-output"\n}\n'
            'locals {\n  name = "kid-over"\n}\n',
        },
    )
    assert _names(result) == ["changed-output", "kid-over"]
    assert result.errors == [] and result.not_evaluated == []


def test_override_files_are_merged_in_lexical_order(tmp_path: Path) -> None:
    """``a_override.tf``, then ``override.tf``, then ``z_override.tf``: the last one sets the name."""
    over = 'resource "aws_dynamodb_table" "t" {{\n  name = "{}"\n}}\n'
    result = _declare(
        tmp_path,
        {
            "root/main.tf": _table("t", '"base"'),
            "root/z_override.tf": over.format("z"),
            "root/override.tf": over.format("plain")
            + 'resource "aws_dynamodb_table" "t" {\n  hash_key = "k"\n}\n',
            "root/a_override.tf": over.format("a"),
        },
    )
    (table,) = result.tables
    assert (table.spec.name, table.spec.hash_key) == ("z", "k")
    assert table.locations["hash_key"] == SourceLocation("root/override.tf", 5)


def test_json_and_hcl_override_each_other(tmp_path: Path) -> None:
    """An override file in either syntax merges into a block of either syntax, and a value it
    sets is located in it: ``cdk_override.tf.json`` into an HCL table, ``override.tf`` into a
    ``cdk.tf.json`` table."""
    json_table = '{"resource": {"aws_dynamodb_table": {"j": {"name": "json-base", "hash_key": "id"}}}}'
    json_override = '{"resource": {"aws_dynamodb_table": {"h": {"name": "hcl-over"}}}}'
    result = _declare(
        tmp_path,
        {
            "root/main.tf": _table("h", '"hcl-base"'),
            "root/cdk.tf.json": json_table,
            "root/cdk_override.tf.json": json_override,
            "root/override.tf": 'resource "aws_dynamodb_table" "j" {\n  hash_key = "pk"\n}\n',
        },
    )
    assert result.errors == [] and _names(result) == ["hcl-over", "json-base"]
    tables = {t.address: t for t in result.tables}
    assert tables["aws_dynamodb_table.j"].spec.hash_key == "pk"
    assert tables["aws_dynamodb_table.j"].locations["hash_key"] == SourceLocation("root/override.tf", 2)
    assert tables["aws_dynamodb_table.h"].source == SourceLocation("root/main.tf", 2)
    assert tables["aws_dynamodb_table.h"].locations["hash_key"] == SourceLocation("root/main.tf", 5)


def test_an_override_file_that_overrides_nothing_is_an_error_naming_its_line(tmp_path: Path) -> None:
    """Terraform refuses an override of a table no primary file declares (a typo in its name):
    it used to be read as a table of its own. The error names the file and line; the other
    tables are still declared."""
    result = _declare(
        tmp_path,
        {
            "root/main.tf": _table("t", '"base"'),
            "root/main_override.tf": '\nresource "aws_dynamodb_table" "typo" {\n  name = "over"\n}\n',
        },
    )
    assert _names(result) == ["base"]
    (error,) = result.errors
    assert (error.file, error.line) == ("root/main_override.tf", 2)
    assert 'no aws_dynamodb_table resource named "typo"' in error.message


def test_a_tf_json_file_added_later_is_noticed_by_the_memo(tmp_path: Path) -> None:
    """The daemon reuses a target's declarations while its files are unchanged: a .tf.json file
    added between scans must count as a change, or its error (or tables) would not appear."""
    cache = ParseCache()
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path / "root", env={}, region="us-east-1")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "main.tf").write_text(_table("good", '"good"'))
    assert declare_target(target, cache).errors == []
    (tmp_path / "root" / "more.tf.json").write_text(
        '{"resource": {"aws_dynamodb_table": {"j": {"name": "j"}}}}'
    )
    assert _names(declare_target(target, cache)) == ["good", "j"]
    (tmp_path / "root" / "more.tf.json").write_text("[]")
    (error,) = declare_target(target, cache).errors
    assert (error.file, error.line) == ("root/more.tf.json", 1) and "JSON object" in error.message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param('{"cap": ' + "1" * 5000 + "}", "invalid number", id="5000-digit-integer"),
        pytest.param('{"cap": 1e999999}', "invalid number", id="huge-exponent"),
        pytest.param('{"tag": "a", "tag": "b"}', 'duplicate "tag"', id="repeated-key"),
    ],
)
def test_a_hostile_tfvars_json_costs_the_file_not_the_target(
    tmp_path: Path, document: str, message: str
) -> None:
    """A 5,000-digit integer or 1e999999 in terraform.tfvars.json raised ValueError /
    OverflowError out of the walk: every table of the target was lost. A repeated key is an
    error in Terraform (HCL's JSON: duplicate argument); Python's json kept the last value."""
    result = _declare(
        tmp_path,
        {"root/main.tf": _table("good", '"good"'), "root/terraform.tfvars.json": document},
    )
    assert _names(result) == ["good"]
    (error,) = result.errors
    assert error.file == "root/terraform.tfvars.json" and message in error.message


@pytest.mark.parametrize("capacity", ['"1e400"', '"inf"', "1e400", '"1.5"'])
def test_a_capacity_no_provider_accepts_is_that_tables_problem(tmp_path: Path, capacity: str) -> None:
    """``read_capacity = "1e400"`` raised OverflowError (int(float(...))) out of the walk: every
    table of the target was lost. Terraform refuses such a capacity (a whole number is
    required), so it is Unknown: never compared, the other tables still checked."""
    bad = _table("bad", '"bad"').replace(
        'billing_mode = "PAY_PER_REQUEST"',
        f'billing_mode = "PROVISIONED"\n  read_capacity = {capacity}\n  write_capacity = 1',
    )
    result = _declare(tmp_path, {"root/main.tf": _table("good", '"good"') + bad})
    assert _names(result) == ["bad", "good"]
    (table,) = [t for t in result.tables if t.spec.name == "bad"]
    assert isinstance(table.spec.read_capacity, Unknown) and table.spec.write_capacity == 1


def test_any_exception_building_one_table_is_that_tables_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while one table's declaration is built (an exception nothing expected) is that
    table's error, with its file and line; it used to be the whole target's."""
    real = modules.resource_to_spec

    def crash_on_bad(declaration: Any, **kwargs: Any) -> Any:
        if declaration.arguments.get("name") == "bad":
            raise ArithmeticError("unexpected")
        return real(declaration, **kwargs)

    monkeypatch.setattr(modules, "resource_to_spec", crash_on_bad)
    result = _declare(tmp_path, {"root/main.tf": _table("good", '"good"') + _table("bad", '"bad"')})
    assert _names(result) == ["good"]
    (error,) = result.errors
    assert (error.file, error.line) == ("root/main.tf", 12)
    assert "aws_dynamodb_table.bad" in error.message and "ArithmeticError: unexpected" in error.message


SCALED = """
resource "aws_dynamodb_table" "t" {
  name           = "as"
  billing_mode   = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 5
  hash_key       = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
resource "aws_appautoscaling_target" "r" {
  max_capacity       = 1e400
  min_capacity       = 5
  resource_id        = "table/${aws_dynamodb_table.t.name}"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_policy" "r" {
  name               = "r"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.r.resource_id
  scalable_dimension = aws_appautoscaling_target.r.scalable_dimension
  service_namespace  = aws_appautoscaling_target.r.service_namespace
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "DynamoDBReadCapacityUtilization"
    }
    target_value = 1e400
  }
}
"""


def test_autoscaling_numbers_past_a_float_cost_the_autoscaling_not_the_target(tmp_path: Path) -> None:
    """``max_capacity = 1e400`` (an integer of 401 digits) raised OverflowError while scalable
    targets were joined to their tables, after every table was declared: all were lost."""
    result = _declare(tmp_path, {"root/main.tf": _table("good", '"good"') + SCALED})
    assert _names(result) == ["as", "good"]
    assert not any("could not be evaluated" in error.message for error in result.errors)
    (table,) = [t for t in result.tables if t.spec.name == "as"]
    read = table.spec.autoscaling.read
    assert not isinstance(read, Unknown) and read is not None
    assert read.min == 5 and isinstance(read.max, Unknown) and isinstance(read.target, Unknown)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("./" + "a" * 5000, "is not a directory", id="name-too-long"),
        pytest.param("./" + "/".join(["b" * 200] * 40), "is not a directory", id="path-too-long"),
        pytest.param("./a\\u0000b", "is not a path driftwatch can read", id="nul-byte"),
    ],
)
def test_a_module_source_the_os_refuses_is_that_calls_error(
    tmp_path: Path, source: str, message: str
) -> None:
    """A source of 5,000 characters or with a NUL byte made the filesystem raise (ENAMETOOLONG,
    ValueError) out of the walk: every table of the target was lost."""
    call = f'module "odd" {{\n  source = "{source}"\n}}\n'
    result = _declare(tmp_path, {"root/main.tf": _table("good", '"good"') + call})
    assert _names(result) == ["good"]
    (error,) = result.errors
    assert error.file == "root/main.tf" and error.line == 11 and message in error.message
    assert "could not be evaluated" not in error.message


VARIABLE_TABLE = """
variable "billing" {
  type    = string
  default = "PAY_PER_REQUEST"
}
resource "aws_dynamodb_table" "v" {
  name           = "v"
  billing_mode   = var.billing
  read_capacity  = 5
  write_capacity = 5
  hash_key       = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


@pytest.mark.parametrize(
    "tfvars",
    [
        pytest.param({"root/terraform.tfvars": 'billing = "PROVISIONED"\nbroken = = 1\n'}, id="malformed"),
        pytest.param(
            {"root/terraform.tfvars.json": '{"billing": "PROVISIONED", "n": 1e999999}'}, id="bad-json"
        ),
        pytest.param({"root/x.auto.tfvars.json": '["PROVISIONED"]'}, id="not-an-object"),
    ],
)
def test_a_var_file_that_cannot_be_read_leaves_its_variables_unknown(
    tmp_path: Path, tfvars: dict[str, str]
) -> None:
    """A var file that cannot be read may set any variable: falling back to the default (here
    PAY_PER_REQUEST, where the file says PROVISIONED) reported drift on a table that matches
    its configuration, a false alarm. The variables it could set are Unknown; a value from a
    later source (--var) still stands."""
    result = _declare(tmp_path, {"root/main.tf": VARIABLE_TABLE, **tfvars})
    (table,) = result.tables
    assert isinstance(table.spec.billing_mode, Unknown)
    assert "could not be read" in table.spec.billing_mode.reason
    assert result.errors  # the file's own error is still reported
    target = TargetInput(
        name="t",
        repo=tmp_path,
        root=tmp_path / "root",
        env={},
        region="us-east-1",
        vars={"billing": "PROVISIONED"},
    )
    (overridden,) = declare_target(target, ParseCache()).tables
    assert overridden.spec.billing_mode == "PROVISIONED"


def test_a_table_or_module_declared_twice_is_not_evaluated(tmp_path: Path) -> None:
    """Terraform refuses two resources or module calls of the same address (a copied file,
    a bad merge). driftwatch compared both tables under one address (one of them surely
    'missing': a false alarm) and kept only the last module call, silently dropping the
    first's tables. Each duplicate is listed as not evaluated, naming every place."""
    twice = 'module "m" {\n  source = "../m"\n}\nmodule "m" {\n  source = "../m2"\n}\n'
    result = _declare(
        tmp_path,
        {
            "root/a.tf": _table("t", '"dup-a"'),
            "root/b.tf": _table("t", '"dup-b"') + _table("good", '"good"'),
            "root/c.tf": twice,
            "m/main.tf": _table("t", '"in-m"'),
            "m2/main.tf": _table("t", '"in-m2"'),
        },
    )
    assert _names(result) == ["good"]
    reasons = {item.address: item.reason for item in result.not_evaluated}
    assert set(reasons) == {"aws_dynamodb_table.t", "module.m"}
    table = reasons["aws_dynamodb_table.t"]
    assert "root/a.tf:2" in table and "root/b.tf:2" in table
    assert "root/c.tf:1" in reasons["module.m"] and "root/c.tf:4" in reasons["module.m"]
    assert all("Terraform refuses" in reason for reason in reasons.values())
