"""Terraform's file functions inside the scanned repository: ``for_each = yamldecode(file(...))``
declares its tables, reads are confined to the repository, bounded, recorded for the memo and
noted as the tables' inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from driftwatch.spec import TargetError, Unknown
from driftwatch.terraform import limits
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache

TABLES = """\
locals {
  tables = yamldecode(file("${path.module}/tables.yaml"))
}

resource "aws_dynamodb_table" "t" {
  for_each     = local.tables
  name         = each.key
  billing_mode = each.value.billing
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""

YAML = "orders:\n  billing: PAY_PER_REQUEST\nusers:\n  billing: PAY_PER_REQUEST\n"

# One table whose name is the expression under test: its value, or the Unknown's reason.
PROBE = """\
resource "aws_dynamodb_table" "t" {
  name         = %s
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


def write_tree(base: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def target(repo: Path, root: str = "root", **fields: Any) -> TargetInput:
    fields.setdefault("env", {})
    return TargetInput(name="t", repo=repo, root=repo / root, region="us-east-1", **fields)


def declare(repo: Path, root: str = "root", cache: ParseCache | None = None) -> TargetDeclarations:
    return declare_target(target(repo, root), cache if cache is not None else ParseCache())


def names(result: TargetDeclarations) -> list[str]:
    return sorted(str(t.spec.name) for t in result.tables)


def probe(tmp_path: Path, expression: str, files: dict[str, str | bytes] | None = None) -> Any:
    """The value of ``expression`` as a table name in root/main.tf (files placed in the repo)."""
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": PROBE % expression, **(files or {})})
    result = declare(repo)
    assert len(result.tables) == 1, result.errors
    return result.tables[0].spec.name


# --- the config-driven pattern ------------------------------------------------------------------


def test_yamldecode_of_a_file_declares_its_tables(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": TABLES, "root/tables.yaml": YAML})
    result = declare(repo)
    assert names(result) == ["orders", "users"] and not result.errors and not result.not_evaluated
    assert all("root/tables.yaml" in table.inputs for table in result.tables)
    assert all("root/main.tf" in table.inputs for table in result.tables)


def test_a_child_module_reads_relative_to_the_root_with_path_module(tmp_path: Path) -> None:
    """Terraform resolves file paths against the root directory; path.module names the child."""
    repo = tmp_path / "repo"
    write_tree(
        repo,
        {
            "root/main.tf": 'module "m" {\n  source = "../modules/m"\n}\n',
            "modules/m/main.tf": TABLES.replace("tables.yaml", "conf/tables.json").replace(
                "yamldecode", "jsondecode"
            ),
            "modules/m/conf/tables.json": '{"events": {"billing": "PAY_PER_REQUEST"}}',
        },
    )
    result = declare(repo)
    assert names(result) == ["events"] and not result.errors
    assert "modules/m/conf/tables.json" in result.tables[0].inputs


def test_csvdecode_of_a_file_and_a_root_in_a_subdirectory_reading_above_it(tmp_path: Path) -> None:
    """A root below the repository top may read ../ as long as the file stays in the repository."""
    repo = tmp_path / "repo"
    main = TABLES.replace(
        'yamldecode(file("${path.module}/tables.yaml"))',
        '{ for row in csvdecode(file("../../common/tables.csv")) : row.name => row }',
    )
    write_tree(
        repo,
        {"envs/prod/main.tf": main, "common/tables.csv": "name,billing\nledger,PAY_PER_REQUEST\n"},
    )
    result = declare(repo, "envs/prod")
    assert names(result) == ["ledger"] and not result.errors
    assert "common/tables.csv" in result.tables[0].inputs


# --- Terraform's errors and values ----------------------------------------------------------------


def test_a_missing_file_is_an_error_that_try_observes(tmp_path: Path) -> None:
    assert probe(tmp_path, 'try(file("missing.txt"), "fallback")') == "fallback"
    assert probe(tmp_path / "b", 'can(file("missing.txt")) ? "yes" : "no"') == "no"
    value = probe(tmp_path / "c", 'file("missing.txt")')
    assert isinstance(value, Unknown) and 'no file exists at "missing.txt"' in value.reason


def test_fileexists_and_lexical_cleaning(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"root/x.txt": "hello"}
    assert probe(tmp_path, 'fileexists("x.txt") ? "yes" : "no"', files) == "yes"
    assert probe(tmp_path / "b", 'fileexists("nope.txt") ? "yes" : "no"', files) == "no"
    # Go's filepath.Clean before reading: "missing/.." is gone even though missing is absent.
    assert probe(tmp_path / "c", 'file("missing/../x.txt")', files) == "hello"


def test_a_directory_is_an_error(tmp_path: Path) -> None:
    value = probe(tmp_path, 'file("sub")', {"root/sub/a.txt": "a"})
    assert isinstance(value, Unknown) and "read sub: is a directory" in value.reason
    value = probe(tmp_path / "b", 'try(fileexists("sub"), "err")', {"root/sub/a.txt": "a"})
    assert value == "err"


def test_invalid_utf8_is_an_error_for_file_but_not_for_filebase64_or_hashes(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"root/bin.dat": b"\xff\xfe"}
    value = probe(tmp_path, 'file("bin.dat")', files)
    assert isinstance(value, Unknown) and "not valid UTF-8" in value.reason
    assert probe(tmp_path / "b", 'filebase64("bin.dat")', files) == "//4="
    assert probe(tmp_path / "c", 'filemd5("bin.dat")', files) == "f3b25701fe362ec84616a93a45ce9998"


# --- confinement and bounds -------------------------------------------------------------------


def _unknown(value: Any, *words: str) -> None:
    assert isinstance(value, Unknown), value
    for word in words:
        assert word in value.reason, value.reason


def test_a_path_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    _unknown(probe(tmp_path, 'file("../../secret.txt")'), "outside the repository")
    _unknown(probe(tmp_path / "b", f'file("{tmp_path / "secret.txt"}")'), "absolute path")
    _unknown(probe(tmp_path / "c", 'file("~/x")'), "home directory")
    # not even its existence is told
    _unknown(probe(tmp_path / "d", 'fileexists("../../secret.txt")'), "outside the repository")


def test_the_repositorys_git_directory_is_not_read(tmp_path: Path) -> None:
    """CI checkouts write the runner's credentials into .git/config (an authorization header, a
    token in the remote's URL). Terraform would read them into a tag; driftwatch's reports and
    Slack messages would then carry them. Any path through a .git directory is Unknown."""
    secret = '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n'
    git_files: dict[str, str | bytes] = {".git/config": secret, "root/.git/HEAD": "ref: refs/heads/main\n"}
    for case, expression in {
        "a": 'file("../.git/config")',
        "b": 'file("${path.root}/../.git/config")',
        "c": 'file(".git/HEAD")',
        "d": 'base64encode(filebase64("../.GIT/config"))',
        "f": 'templatefile("../.git/config", {})',
        "h": 'file("link/config")',
    }.items():
        files = dict(git_files)
        if case == "h":
            write_tree(tmp_path / case / "repo", files)
            os.symlink("../.git", tmp_path / case / "repo" / "root" / "link")
        value = probe(tmp_path / case, expression, files)
        _unknown(value, ".git directory")
        assert "c2VjcmV0" not in value.reason
    # Names and existence are no secret: fileset and fileexists answer as Terraform does.
    assert probe(tmp_path / "e", 'tostring(fileexists("../.git/config"))', git_files) == "true"
    assert probe(tmp_path / "g", 'join(",", fileset("..", ".git/*"))', git_files) == ".git/config"
    # Files named like it elsewhere are read as before.
    assert probe(tmp_path / "z", 'file("x.git/config")', {"root/x.git/config": "plain"}) == "plain"
    assert probe(tmp_path / "y", 'file("git/config")', {"root/git/config": "plain"}) == "plain"


def test_a_symlink_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": PROBE % 'file("link.txt")'})
    os.symlink(tmp_path / "secret.txt", repo / "root" / "link.txt")
    value = declare(repo).tables[0].spec.name
    _unknown(value, "outside the repository")


def test_a_symlink_inside_the_repository_is_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": PROBE % 'file("link.txt")', "data/real.txt": "inside"})
    os.symlink(repo / "data" / "real.txt", repo / "root" / "link.txt")
    result = declare(repo)
    assert result.tables[0].spec.name == "inside"
    assert "data/real.txt" in result.tables[0].inputs


def test_a_fifo_is_not_read_and_does_not_hang(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": PROBE % 'file("pipe")'})
    os.mkfifo(repo / "root" / "pipe")
    _unknown(declare(repo).tables[0].spec.name, "FIFO", "not read")
    write_tree(repo, {"root/main.tf": PROBE % 'try(fileexists("pipe"), "err")'})
    assert declare(repo).tables[0].spec.name == "err"  # Terraform: "is a named pipe" error


def test_an_oversized_file_is_not_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": PROBE % 'file("big.txt")', "root/big.txt": "x" * 5000})
    result = declare_target(target(repo), ParseCache(max_file_bytes=4096))
    _unknown(result.tables[0].spec.name, "over the 4096-byte limit", "limit per file")


def test_the_target_byte_budget_covers_data_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from driftwatch.terraform import modules

    monkeypatch.setattr(modules, "MAX_TARGET_BYTES", 1000)
    repo = tmp_path / "repo"
    write_tree(
        repo,
        {
            "root/main.tf": PROBE % 'join("", [file("a.txt"), file("b.txt")])',
            "root/a.txt": "a" * 1500,
            "root/b.txt": "b",
        },
    )
    _unknown(declare(repo).tables[0].spec.name, "limit per target")


# --- the memo ---------------------------------------------------------------------------------


def test_a_rescan_sees_a_changed_yaml_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": TABLES, "root/tables.yaml": YAML})
    cache = ParseCache()
    assert names(declare(repo, cache=cache)) == ["orders", "users"]
    hits = cache.declarations.hits
    assert names(declare(repo, cache=cache)) == ["orders", "users"]
    assert cache.declarations.hits == hits + 1  # unchanged: reused
    (repo / "root" / "tables.yaml").write_text(YAML + "audit:\n  billing: PAY_PER_REQUEST\n")
    assert names(declare(repo, cache=cache)) == ["audit", "orders", "users"]


def test_a_rescan_sees_a_file_appear(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": PROBE % 'fileexists("flag") ? "on" : "off"'})
    cache = ParseCache()
    assert names(declare(repo, cache=cache)) == ["off"]
    (repo / "root" / "flag").write_text("")
    assert names(declare(repo, cache=cache)) == ["on"]


def test_errors_do_not_stop_other_tables(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": TABLES})  # tables.yaml is missing: for_each errors
    result = declare(repo)
    assert result.tables == [] and (result.not_evaluated or result.errors)
    assert all(isinstance(e, TargetError) for e in result.errors)


# --- templatefile ------------------------------------------------------------------------------


def test_templatefile_renders_with_exactly_its_vars_and_declares_tables(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    template = "%{ for name in names ~}\n${prefix}-${name}:\n  billing: PAY_PER_REQUEST\n%{ endfor ~}\n"
    main = TABLES.replace(
        'yamldecode(file("${path.module}/tables.yaml"))',
        'yamldecode(templatefile("${path.module}/tables.yaml.tpl", { prefix = "prod", names = ["a", "b"] }))',
    )
    write_tree(repo, {"root/main.tf": main, "root/tables.yaml.tpl": template})
    result = declare(repo)
    assert names(result) == ["prod-a", "prod-b"] and not result.errors
    assert "root/tables.yaml.tpl" in result.tables[0].inputs


def test_templatefile_errors_are_terraforms(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"root/t.tpl": "${name}-${var.x}"}
    # var is not in vars: the template sees nothing but vars (Terraform's error, try() sees it)
    assert probe(tmp_path, 'try(templatefile("t.tpl", { name = "a" }), "err")', files) == "err"
    value = probe(tmp_path / "b", 'templatefile("t.tpl", { name = "a" })', files)
    _unknown(value, 'vars map does not contain key "var"')
    files = {"root/t.tpl": '${templatefile("t.tpl", {})}'}
    _unknown(
        probe(tmp_path / "c", 'templatefile("t.tpl", {})', files), "cannot recursively call templatefile"
    )
    _unknown(probe(tmp_path / "d", 'templatefile("../../x.tpl", {})'), "outside the repository")


# --- fetched modules ---------------------------------------------------------------------------


def test_a_fetched_module_reads_its_own_files_confined_to_its_package(tmp_path: Path) -> None:
    """A git module's path.module is .terraform/modules/<key> (as in Terraform); its file()
    reads from where driftwatch fetched it, and may not leave that package."""
    import subprocess

    from driftwatch.terraform.sources import ModuleSettings

    remote = tmp_path / "remote"
    module = TABLES.replace("each.key", '"${each.key}-${trimspace(file("${path.module}/VERSION"))}"')
    write_tree(remote, {"main.tf": module, "tables.yaml": YAML, "VERSION": "v1\n"})

    def git(*argv: str) -> None:
        config = ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
        subprocess.run(["git", *config, *argv], cwd=remote, check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "v1")
    git("tag", "v1")
    repo = tmp_path / "repo"
    source = f"git::file://{remote}?ref=v1"
    write_tree(repo, {"root/main.tf": f'module "t" {{\n  source = "{source}"\n}}\n'})
    settings = ModuleSettings(cache_dir=str(tmp_path / "cache"), allow_file_git=True, timeout=30)
    result = declare_target(target(repo, modules=settings), ParseCache())
    assert names(result) == ["orders-v1", "users-v1"] and not result.errors, result.errors

    # .terraform/modules/t/../x is another package's directory for Terraform: not this one's
    escaping = module.replace("${path.module}/VERSION", "${path.module}/../x/VERSION")
    write_tree(remote, {"main.tf": escaping})
    git("commit", "-qam", "v2")
    git("tag", "v2")
    write_tree(repo, {"root/main.tf": f'module "t" {{\n  source = "{source.replace("v1", "v2")}"\n}}\n'})
    result = declare_target(target(repo, modules=settings), ParseCache())
    reasons = [str(t.spec.name) for t in result.tables]
    assert len(reasons) == 2 and all("resolves outside its module package" in r for r in reasons), reasons


def test_path_module_of_a_fetched_subdirectory_is_terraforms(tmp_path: Path) -> None:
    """terraform init puts git::…//modules/table under .terraform/modules/<key>/modules/table,
    and that is path.module (checked with terraform 1.11.4: modules.json's Dir and the console);
    driftwatch said .terraform/modules/<key>, so ${path.module}/../../VERSION missed the file."""
    import subprocess

    from driftwatch.terraform.sources import ModuleSettings

    remote = tmp_path / "remote"
    module = PROBE % '"${path.module}|${trimspace(file("${path.module}/../../VERSION"))}"'
    write_tree(remote, {"modules/table/main.tf": module, "VERSION": "v1\n"})
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "v1"]):
        config = ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
        subprocess.run(["git", *config, *argv], cwd=remote, check=True, capture_output=True)
    repo = tmp_path / "repo"
    write_tree(
        repo, {"root/main.tf": f'module "t" {{\n  source = "git::file://{remote}//modules/table"\n}}\n'}
    )
    settings = ModuleSettings(cache_dir=str(tmp_path / "cache"), allow_file_git=True, timeout=30)
    result = declare_target(target(repo, modules=settings), ParseCache())
    assert names(result) == [".terraform/modules/t/modules/table|v1"], result.errors


def test_the_daemons_worker_sees_a_changed_yaml_file_on_the_next_scan(tmp_path: Path) -> None:
    """The daemon's evaluation worker keeps its memo between scans: a commit that changes only
    tables.yaml must still give the new tables (the read is in the memo's fingerprint)."""
    from driftwatch.terraform.worker import WorkerEvaluator, WorkerOptions

    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": TABLES, "root/tables.yaml": YAML})
    evaluator = WorkerEvaluator(WorkerOptions(max_seconds=30))
    try:
        assert names(evaluator.declare(target(repo))) == ["orders", "users"]
        assert names(evaluator.declare(target(repo))) == ["orders", "users"]
        (repo / "root" / "tables.yaml").write_text("events:\n  billing: PAY_PER_REQUEST\n")
        assert names(evaluator.declare(target(repo))) == ["events"]
    finally:
        evaluator.close()


def test_a_file_read_by_many_instances_is_read_and_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 instances reading one 600-byte file cost 600 bytes of the target's budget, not 30,000."""
    from driftwatch.terraform import modules

    monkeypatch.setattr(modules, "MAX_TARGET_BYTES", 1000)
    repo = tmp_path / "repo"
    main = (PROBE % '"t${count.index}-${length(file("t.txt"))}"').replace("{\n", "{\n  count = 50\n", 1)
    write_tree(repo, {"root/main.tf": main, "root/t.txt": "x" * 600, "root/missing.tf": ""})
    result = declare(repo)
    assert len(result.tables) == 50 and all(str(t.spec.name).endswith("-600") for t in result.tables)


def test_a_template_too_large_to_parse_is_not_parsed(tmp_path: Path) -> None:
    """A template is bounded like a .tf file: 150,000 interpolations are over the token limit."""
    files: dict[str, str | bytes] = {"root/t.tpl": "${x}" * 150_000}
    value = probe(tmp_path, 'templatefile("t.tpl", { x = "a" })', files)
    _unknown(value, "too large to parse", "limit per file")


def test_a_template_past_a_limit_is_reported_at_its_call_not_at_its_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template that spends the table's step budget (a million ``%{ for }`` iterations) or
    nests too deeply was reported at the template's own line, as if it were a line of the
    ``.tf`` file (``root/main.tf:1`` for a call on line 3): the wrong place. It is the call's
    line, naming the template and its line."""
    monkeypatch.setattr(limits, "TABLE_STEPS", 20_000)  # a smaller table budget: a faster test
    repo = tmp_path / "repo"
    loops = "\n%{ for i in range(1000) }%{ for j in range(1000) }%{ endfor }%{ endfor }"
    deep = "\n\n\n\n${" + "(" * 300 + "1" + ")" * 300 + "}"
    main = "\n\n" + PROBE % 'templatefile("loop.tpl", {})'
    main += PROBE.replace('"t"', '"d"') % 'templatefile("deep.tpl", {})'
    write_tree(repo, {"root/main.tf": main, "root/loop.tpl": loops, "root/deep.tpl": deep})
    result = declare(repo)
    nested, loop = (t.spec.name for t in sorted(result.tables, key=lambda t: t.address))
    _unknown(nested, "root/main.tf:13: ", "deep.tpl:5", "deeper than 200 levels")
    _unknown(loop, "root/main.tf:4: ", "evaluation stopped after 20,000 steps")


def test_tables_read_under_try_from_a_file_past_a_driftwatch_bound_are_not_evaluated(
    tmp_path: Path,
) -> None:
    """``for_each = try(jsondecode(file("tables.json")), {})`` of a 1.2 MB file (under the 2 MiB
    per-file limit, over driftwatch's 1,000,000 characters per value; Terraform reads it): try()
    took the bound for an error and chose ``{}``, so the resource declared no table and the
    scan said nothing. Now the resource is not evaluated, with the bound as the reason."""
    repo = tmp_path / "repo"
    main = TABLES.replace(
        'yamldecode(file("${path.module}/tables.yaml"))', 'try(jsondecode(file("tables.json")), {})'
    )
    tables = {"orders": {"billing": "PAY_PER_REQUEST", "note": "x" * 1_200_000}}
    write_tree(repo, {"root/main.tf": main, "root/tables.json": json.dumps(tables)})
    result = declare(repo)
    assert not result.tables
    (skipped,) = result.not_evaluated
    assert "more than 1,000,000 characters" in skipped.reason, skipped


_LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
)


def test_a_git_lfs_pointer_is_said_to_be_one_never_read_as_the_file(tmp_path: Path) -> None:
    """A checkout made without Git LFS (git-sync's default) holds a pointer where CI's
    terraform, with LFS, reads the file. A ``.tf`` pointer was ``unexpected `:`; expected `=`
    or a block`` (true, but no clue); a data file's pointer was read as its content: a tag of
    ``version https://git-lfs…`` compared with AWS, a false alarm. Both now say what it is."""
    repo = tmp_path / "repo"
    main = PROBE % 'file("owner.txt")'
    write_tree(repo, {"root/main.tf": main, "root/tables.tf": _LFS_POINTER, "root/owner.txt": _LFS_POINTER})
    result = declare(repo)
    (error,) = result.errors
    assert (error.file, error.line) == ("root/tables.tf", 1) and "Git LFS pointer" in error.message, error
    (table,) = result.tables
    _unknown(table.spec.name, "owner.txt", "Git LFS pointer")


def test_a_symlink_loop_or_a_path_the_os_refuses_is_unknown(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": PROBE % 'file("loop.txt")'})
    os.symlink("loop.txt", repo / "root" / "loop.txt")
    _unknown(declare(repo).tables[0].spec.name, "symlink loop")
    _unknown(probe(tmp_path / "b", 'file("a\\u0000b")'), "not a path driftwatch can read")
    # ENAMETOOLONG: Terraform's os.ReadFile fails too, an error that try() sees
    assert probe(tmp_path / "c", f'try(file("{"x" * 5000}"), "err")') == "err"
