"""The memo of declarations: a rescan of an unchanged repository reuses a target's declarations
without walking it, and any change to anything the evaluation read is picked up."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from driftwatch.scan import declare
from driftwatch.spec import TargetError, Unknown
from driftwatch.terraform import modules
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.observe import FileSystemView
from driftwatch.terraform.parse import MEMO_SLOTS_PER_TARGET, ParseCache

TABLE = """\
variable "table_name" {
  type = string
}

resource "aws_dynamodb_table" "this" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""

REPO = {
    "root/main.tf": """\
variable "name" {
  type = string
}

module "app" {
  source = "../modules/app"
  name   = var.name
}
""",
    "root/terraform.tfvars": 'name = "orders"\n',
    "modules/app/main.tf": """\
variable "name" {
  type = string
}

module "table" {
  source     = "../table"
  table_name = "${var.name}-${local.suffix}"
}
""",
    "modules/app/locals.tf": 'locals {\n  suffix = "v1"\n}\n',
    "modules/table/main.tf": TABLE,
}


def write_tree(base: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write_tree(repo, REPO)
    return repo


def target(repo: Path, root: str = "root", name: str = "t", **fields: Any) -> TargetInput:
    """A new TargetInput each time, as the daemon builds them for every scan."""
    fields.setdefault("env", {})
    return TargetInput(name=name, repo=repo, root=repo / root, region="us-east-1", **fields)


def names(result: TargetDeclarations) -> list[str]:
    return sorted(str(t.spec.name) for t in result.tables)


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every target actually walked and evaluated (not answered from the memo)."""
    walked: list[str] = []
    evaluate = modules._evaluate_target

    def spy(target: TargetInput, cache: ParseCache, fs: FileSystemView) -> TargetDeclarations:
        walked.append(target.name)
        return evaluate(target, cache, fs)

    monkeypatch.setattr(modules, "_evaluate_target", spy)
    return walked


def test_unchanged_repository_is_neither_parsed_nor_walked_again(repo: Path, walks: list[str]) -> None:
    cache = ParseCache()
    first = declare_target(target(repo), cache)
    assert names(first) == ["orders-v1"] and not first.errors
    misses = cache.misses
    (repo / "root" / "README.md").write_text("not Terraform: no input of the evaluation\n")

    second = declare_target(target(repo), cache)

    assert walks == ["t"]
    assert cache.misses == misses
    assert second.tables[0] is first.tables[0]  # the very same declaration, not a re-evaluation
    assert (cache.declarations.hits, cache.declarations.misses) == (1, 1)


def test_the_daemon_path_reuses_declarations_across_scans(repo: Path, walks: list[str]) -> None:
    cache = ParseCache()  # what the daemon keeps; each scan builds new targets and calls declare
    jobs = [declare([target(repo)], cache).jobs for _ in range(3)]
    assert walks == ["t"]
    assert [[job.name for job in scan] for scan in jobs] == [["orders-v1"]] * 3


def test_a_result_changed_by_its_caller_does_not_change_the_memo(repo: Path) -> None:
    cache = ParseCache()
    first = declare_target(target(repo), cache)
    first.tables.clear()
    first.errors.append(TargetError("t", "added by a caller"))
    second = declare_target(target(repo), cache)
    assert names(second) == ["orders-v1"] and not second.errors


def test_editing_a_file_of_a_nested_module_is_reflected(repo: Path, walks: list[str]) -> None:
    cache = ParseCache()
    declare_target(target(repo), cache)
    misses = cache.misses
    path = repo / "modules" / "table" / "main.tf"
    path.write_text(TABLE.replace("= var.table_name", '= "${var.table_name}-x"'))

    assert names(declare_target(target(repo), cache)) == ["orders-v1-x"]
    assert cache.misses == misses + 1  # only the edited file is parsed again
    assert walks == ["t", "t"]


def test_adding_then_deleting_a_file_in_a_module_is_reflected(repo: Path) -> None:
    cache = ParseCache()
    declare_target(target(repo), cache)
    extra = repo / "modules" / "table" / "audit.tf"
    extra.write_text(
        TABLE.replace('"this"', '"audit"').replace("var.table_name", '"audit"').split("\n\n", 1)[1]
    )
    assert names(declare_target(target(repo), cache)) == ["audit", "orders-v1"]
    extra.unlink()
    assert names(declare_target(target(repo), cache)) == ["orders-v1"]


def test_deleting_a_file_a_value_came_from_is_reflected(repo: Path) -> None:
    cache = ParseCache()
    declare_target(target(repo), cache)
    (repo / "modules" / "app" / "locals.tf").unlink()
    (table,) = declare_target(target(repo), cache).tables
    assert isinstance(table.spec.name, Unknown)


def test_tfvars_and_auto_tfvars_changes_are_reflected(repo: Path) -> None:
    cache = ParseCache()
    declare_target(target(repo), cache)
    (repo / "root" / "terraform.tfvars").write_text('name = "payments"\n')
    assert names(declare_target(target(repo), cache)) == ["payments-v1"]
    (repo / "root" / "z.auto.tfvars").write_text('name = "auto"\n')
    assert names(declare_target(target(repo), cache)) == ["auto-v1"]
    (repo / "root" / "terraform.tfvars").unlink()
    (repo / "root" / "z.auto.tfvars").unlink()
    result = declare_target(target(repo), cache)
    assert [type(t.spec.name) for t in result.tables] == [Unknown]


def test_a_var_file_of_the_target_changing_is_reflected(repo: Path) -> None:
    cache = ParseCache()
    (repo / "root" / "prod.tfvars").write_text('name = "prod"\n')
    assert names(declare_target(target(repo, var_files=("prod.tfvars",)), cache)) == ["prod-v1"]
    (repo / "root" / "prod.tfvars").write_text('name = "prod2"\n')
    assert names(declare_target(target(repo, var_files=("prod.tfvars",)), cache)) == ["prod2-v1"]
    (repo / "root" / "prod.tfvars").unlink()
    result = declare_target(target(repo, var_files=("prod.tfvars",)), cache)
    assert [e.message for e in result.errors] == ["var file not found"]


def test_env_vars_and_the_targets_own_fields_are_part_of_the_key(repo: Path) -> None:
    (repo / "root" / "terraform.tfvars").unlink()
    cache = ParseCache()
    assert names(declare_target(target(repo, env={"TF_VAR_name": "one"}), cache)) == ["one-v1"]
    assert names(declare_target(target(repo, env={"TF_VAR_name": "two"}), cache)) == ["two-v1"]
    assert names(declare_target(target(repo, env={"TF_VAR_name": "two"}, vars={"name": "v"}), cache)) == [
        "v-v1"
    ]
    assert names(declare_target(target(repo, env={"TF_VAR_name": "two"}), cache)) == ["two-v1"]


def test_a_file_read_by_file_is_a_recorded_input(repo: Path, walks: list[str]) -> None:
    """file() reads through the walk's view: the read is in the fingerprint, so changing only
    the file (not a .tf file) makes the next scan evaluate the target again."""
    (repo / "modules" / "app" / "locals.tf").write_text(
        'locals {\n  suffix = trimspace(file("${path.module}/suffix.txt"))\n}\n'
    )
    (repo / "modules" / "app" / "suffix.txt").write_text("v1\n")
    cache = ParseCache()
    assert names(declare_target(target(repo), cache)) == ["orders-v1"]
    assert names(declare_target(target(repo), cache)) == ["orders-v1"]
    assert walks == ["t"]  # unchanged: reused
    (repo / "modules" / "app" / "suffix.txt").write_text("v2\n")
    assert names(declare_target(target(repo), cache)) == ["orders-v2"]
    (repo / "modules" / "app" / "suffix.txt").unlink()  # an error now, as in Terraform
    (table,) = declare_target(target(repo), cache).tables
    assert isinstance(table.spec.name, Unknown) and "no file exists at" in table.spec.name.reason
    assert walks == ["t", "t", "t"]


def test_targets_sharing_files_do_not_mix(repo: Path, walks: list[str]) -> None:
    write_tree(repo, {"other/main.tf": REPO["root/main.tf"], "other/terraform.tfvars": 'name = "other"\n'})
    cache = ParseCache()
    a, b = target(repo, "root", name="a"), target(repo, "other", name="b")
    assert [names(declare_target(t, cache)) for t in (a, b)] == [["orders-v1"], ["other-v1"]]
    (repo / "other" / "terraform.tfvars").write_text('name = "changed"\n')
    assert [names(declare_target(t, cache)) for t in (a, b)] == [["orders-v1"], ["changed-v1"]]
    assert walks == ["a", "b", "b"]
    # The same name for another root (a renamed target's root, say): evaluated, not mixed up.
    assert names(declare_target(target(repo, "other", name="a"), cache)) == ["changed-v1"]
    assert names(declare_target(a, cache)) == ["orders-v1"]


def test_a_module_directory_swapped_for_a_symlink_out_of_the_repository_is_refused(
    repo: Path, tmp_path: Path
) -> None:
    cache = ParseCache()
    declare_target(target(repo), cache)
    outside = tmp_path / "outside"
    shutil.move(repo / "modules" / "table", outside)  # same files, now outside the repository
    os.symlink(outside, repo / "modules" / "table")
    result = declare_target(target(repo), cache)
    assert not result.tables
    assert any("outside the repository" in e.message for e in result.errors)


def test_errors_are_memoised_and_cleared_by_a_fix(repo: Path, walks: list[str]) -> None:
    broken = repo / "modules" / "table" / "broken.tf"
    broken.write_text("locals {\n  x = = 1\n}\n")
    cache = ParseCache()
    first = declare_target(target(repo), cache)
    second = declare_target(target(repo), cache)
    assert [e.file for e in first.errors] == [e.file for e in second.errors] == ["modules/table/broken.tf"]
    assert walks == ["t"]
    broken.write_text("locals {\n  x = 1\n}\n")
    assert not declare_target(target(repo), cache).errors


def test_an_evaluation_that_raises_leaves_nothing_in_the_memo(
    repo: Path, monkeypatch: pytest.MonkeyPatch, walks: list[str]
) -> None:
    cache = ParseCache()

    def crash(self: object, instance: object) -> None:
        raise RuntimeError("interrupted half-way")

    with monkeypatch.context() as patch:
        patch.setattr(modules._TableCollector, "collect", crash)
        with pytest.raises(RuntimeError):
            declare_target(target(repo), cache)
    assert len(cache.declarations) == 0
    assert names(declare_target(target(repo), cache)) == ["orders-v1"]
    assert names(declare_target(target(repo), cache)) == ["orders-v1"]
    assert walks == ["t", "t"]


def test_the_memo_is_bounded_by_targets(repo: Path) -> None:
    """Three slots per target (the work tree's, and pending applies' previous and HEAD ones)."""
    others = ["b", "c", "d"]
    for other in others:
        files = {f"{other}/main.tf": REPO["root/main.tf"], f"{other}/terraform.tfvars": f'name = "{other}"\n'}
        write_tree(repo, files)
    cache = ParseCache(max_targets=1)
    for _ in range(2):
        assert names(declare_target(target(repo, "root", name="a"), cache)) == ["orders-v1"]
        for other in others:
            assert names(declare_target(target(repo, other, name=other), cache)) == [f"{other}-v1"]
    assert len(cache.declarations) == MEMO_SLOTS_PER_TARGET == 3


def test_a_reused_targets_trees_stay_recent_in_the_parse_cache(repo: Path) -> None:
    """Reusing declarations touches their trees, so another target's parses evict older ones."""
    write_tree(repo, {"other/main.tf": "locals {\n  a = 1\n}\n", "third/main.tf": "locals {\n  b = 2\n}\n"})
    probe = ParseCache()
    declare_target(target(repo), probe)
    files = probe.misses  # the .tf files and terraform.tfvars of the first target
    cache = ParseCache(max_entries=files + 1)
    declare_target(target(repo), cache)
    declare_target(target(repo, "other", name="b"), cache)
    declare_target(target(repo), cache)  # reused: its trees are the most recent again
    declare_target(target(repo, "third", name="c"), cache)  # evicts the least recent: other's
    misses = cache.misses
    (repo / "modules" / "app" / "locals.tf").write_text('locals {\n  suffix = "v2"\n}\n')
    assert names(declare_target(target(repo), cache)) == ["orders-v2"]
    assert cache.misses == misses + 1


def test_no_memo_inside_an_enclosing_budget(repo: Path, walks: list[str]) -> None:
    """Inside a caller's step budget the result depends on the steps left, which is no input."""
    from driftwatch.terraform import limits

    cache = ParseCache()
    with limits.budget(10_000_000):
        declare_target(target(repo), cache)
        declare_target(target(repo), cache)
    assert walks == ["t", "t"]


def test_threads_sharing_a_cache_get_the_same_declarations(repo: Path) -> None:
    cache = ParseCache()
    results: list[list[str]] = []

    def scan() -> None:
        for _ in range(3):
            results.append(names(declare_target(target(repo), cache)))

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["orders-v1"]] * 12


def test_a_module_directory_appearing_is_reflected(repo: Path) -> None:
    shutil.move(repo / "modules" / "table", repo / "table-elsewhere")
    cache = ParseCache()
    result = declare_target(target(repo), cache)
    assert not result.tables and "is not a directory" in result.errors[0].message
    shutil.move(repo / "table-elsewhere", repo / "modules" / "table")
    assert names(declare_target(target(repo), cache)) == ["orders-v1"]


def test_a_terraform_tfvars_that_becomes_a_file_is_reflected(repo: Path) -> None:
    """Listed the same (a name, not a symlink) whether a directory or a file: only "is it a
    file?" tells, so that question is recorded too."""
    (repo / "root" / "terraform.tfvars").unlink()
    (repo / "root" / "terraform.tfvars").mkdir()
    cache = ParseCache()
    assert [type(t.spec.name) for t in declare_target(target(repo), cache).tables] == [Unknown]
    (repo / "root" / "terraform.tfvars").rmdir()
    (repo / "root" / "terraform.tfvars").write_text('name = "orders"\n')
    assert names(declare_target(target(repo), cache)) == ["orders-v1"]
