"""``fileset()`` as Terraform 1.11.4 evaluates it (doublestar v1.1.5's glob): the pure matcher,
every ``terraform console`` case recorded in tests/fileset_tree.py, the config-driven pattern
``for_each = fileset("${path.module}/tables", "*.yaml")`` declaring its tables, the memo and the
git revision view seeing the listing, and what is Unknown (outside the repository, symlink
loops, the bounds) rather than a partial list."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fileset_tree import ORACLE, Err, build
from realestate import commit_all, git, write_repo
from test_differential_console import _reader
from test_file_functions import PROBE, declare, names, probe, target, write_tree
from test_revision_view import through_git

from driftwatch.spec import Unknown
from driftwatch.terraform import doublestar, limits, observe
from driftwatch.terraform.doublestar import BadPattern, go_join, go_rel, match_component, split_unescaped
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.limits import BudgetExceeded
from driftwatch.terraform.modules import declare_target
from driftwatch.terraform.parse import ParseCache

# A table per YAML file of tables/, named in the file: the real-estate pattern.
FROM_FILES = """\
resource "aws_dynamodb_table" "t" {
  for_each     = fileset("${path.module}/tables", "*.yaml")
  name         = yamldecode(file("${path.module}/tables/${each.value}")).name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


def _unknown(value: Any, *words: str) -> None:
    assert isinstance(value, Unknown), value
    for word in words:
        assert word in value.reason, value.reason


def _tables(names_: list[str]) -> dict[str, str | bytes]:
    return {f"root/tables/{n}.yaml": f"name: {n}\n" for n in names_}


# --- the matcher -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*", ".hidden", True),  # no dot rule
        ("*.yaml", "a.yml", False),
        ("*.yaml", "a.YAML", False),  # case-sensitive
        ("a*", "a", True),
        ("?", "é", True),  # one character, two bytes
        ("??", "é", False),
        ("*b.txt", "aéb.txt", True),
        ("*b.txt", "éab.txt", False),  # v1.1.5's * steps by the width of é (Terraform's answer)
        ("*b.txt", "日本b.txt", True),
        ("[a-c]", "b", True),
        ("[^a-c]", "b", False),
        ("[!a]", "!", True),  # ! is not a negation
        ("[\\]]", "]", True),
        ("[a\\-c]", "-", True),
        ("[^]", "x", True),
        ("{a,b}.txt", "b.txt", True),
        ("{a,}x", "x", True),
        ("{a\\,b,c}", "a,b", True),
        ("\\*", "*", True),
        ("\\*", "a", False),
        ("*[", "abc", False),  # after a star, the malformed rest is not an error
        ("a*", "b", False),
        ("**", "abc", True),
        ("t**", "tables", True),
    ],
)
def test_match_component(pattern: str, name: str, expected: bool) -> None:
    assert match_component(pattern.encode(), name.encode()) is expected


@pytest.mark.parametrize("pattern", ["[", "[]", "[a-]", "[-a]", "[a", "{a", "a\\", "\\", "{[,a}"])
def test_a_malformed_pattern_is_an_error_where_the_match_reaches_it(pattern: str) -> None:
    with pytest.raises(BadPattern):
        match_component(pattern.encode(), b"ab")
    assert str(BadPattern()) == "syntax error in pattern"


def test_split_respects_escapes_and_keeps_an_empty_last_part() -> None:
    assert split_unescaped(b"a/b\\/c/", ord("/")) == [b"a", b"b\\/c", b""]
    assert split_unescaped(b"/a", ord("/")) == [b"", b"a"]
    assert split_unescaped(b"a,b,", ord(",")) == [b"a", b"b", b""]
    assert split_unescaped(b"abc", ord(",")) == [b"abc"]


def test_go_join_and_rel_are_lexical() -> None:
    assert go_join(".", "") == "." and go_join("fs", "/a.txt") == "fs/a.txt"
    assert go_join("fs/tables", "../*.txt") == "fs/*.txt" and go_join("", "x/") == "x"
    assert go_rel("a", "a/b") == "b" and go_rel("a", "a") == "."
    assert go_rel("..", "../x") == "x" and go_rel("a/b", "x") == "../../x"
    with pytest.raises(ValueError, match=r"can't make x relative to \.\./a"):
        go_rel("../a", "x")


# --- Terraform's answers -------------------------------------------------------------------------


def test_every_recorded_terraform_answer(tmp_path: Path) -> None:
    """The console cases of tests/fileset_tree.py, evaluated by driftwatch over the same tree:
    values equal (as sets), errors with Terraform's text, which try() observes."""
    build(tmp_path)
    scope = Scope({"path": {"module": ".", "root": "."}}, "console.tf", _reader(tmp_path))
    differences = []
    for expression, expected in ORACLE.items():
        value = evaluate_text(expression, scope)
        if isinstance(expected, Err):
            caught = evaluate_text(f'try({expression}, "ERR")', scope)
            if not (isinstance(value, Unknown) and expected.message in value.reason and caught == "ERR"):
                differences.append(
                    f"{expression}: {value!r} (try: {caught!r}), want error {expected.message}"
                )
        elif value != expected:
            differences.append(f"{expression}: {value!r}, want {expected!r}")
    assert not differences, "\n".join(differences)


# --- the configuration-driven pattern -----------------------------------------------------------


def test_for_each_over_fileset_declares_a_table_per_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(
        repo, {"root/main.tf": FROM_FILES, **_tables(["orders", "users"]), "root/tables/README.md": ""}
    )
    result = declare(repo)
    assert names(result) == ["orders", "users"] and not result.errors and not result.not_evaluated
    assert sorted(t.address for t in result.tables) == [
        'aws_dynamodb_table.t["orders.yaml"]',
        'aws_dynamodb_table.t["users.yaml"]',
    ]
    for table in result.tables:  # every listed file is an input: a commit adding one is seen
        assert {"root/tables/orders.yaml", "root/tables/users.yaml"} <= set(table.inputs)


def test_a_child_module_lists_relative_to_the_root_with_path_module(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(
        repo,
        {
            "root/main.tf": 'module "m" {\n  source = "../modules/m"\n}\n',
            "modules/m/main.tf": FROM_FILES.replace("*.yaml", "**/*.yaml"),
            "modules/m/tables/a.yaml": "name: a\n",
            "modules/m/tables/team/b.yaml": "name: b\n",
        },
    )
    result = declare(repo)
    assert names(result) == ["a", "b"] and not result.errors
    assert sorted(t.address for t in result.tables) == [
        'module.m.aws_dynamodb_table.t["a.yaml"]',
        'module.m.aws_dynamodb_table.t["team/b.yaml"]',
    ]


def test_a_rescan_sees_a_file_added_to_the_listed_directory(tmp_path: Path) -> None:
    """The listing is a recorded answer of the memo: a new YAML file is a new table."""
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": FROM_FILES, **_tables(["orders"])})
    cache = ParseCache()
    assert names(declare(repo, cache=cache)) == ["orders"]
    hits = cache.declarations.hits
    assert names(declare(repo, cache=cache)) == ["orders"]
    assert cache.declarations.hits == hits + 1  # unchanged: reused
    write_tree(repo, _tables(["users"]))
    assert names(declare(repo, cache=cache)) == ["orders", "users"]
    (repo / "root/tables/orders.yaml").unlink()
    assert names(declare(repo, cache=cache)) == ["users"]


def test_an_older_revision_lists_the_commits_tree(tmp_path: Path) -> None:
    """The previous revision (pending applies) lists git's tree, not the work tree: a file
    added by a later commit, or not committed, is not there."""
    repo = write_repo(tmp_path / "infra", {"root/main.tf": FROM_FILES, **_tables(["orders"])})
    git(repo, "init", "-q")
    when = datetime.now(UTC) - timedelta(days=1)
    first = commit_all(repo, "one", when)
    write_repo(repo, _tables(["users"]))
    commit_all(repo, "two", when + timedelta(hours=1))
    write_repo(repo, _tables(["audit"]))  # not committed
    cache = ParseCache()
    assert names(through_git(target(repo), first, cache)) == ["orders"]
    assert names(through_git(target(repo), "HEAD", cache)) == ["orders", "users"]
    assert names(declare_target(target(repo), cache)) == ["audit", "orders", "users"]


def test_a_committed_symlink_is_followed_in_the_revision_as_on_disk(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "infra", {"root/main.tf": FROM_FILES, "common/orders.yaml": "name: orders\n"}
    )
    (repo / "root/tables").mkdir()
    os.symlink("../../common/orders.yaml", repo / "root/tables/orders.yaml")
    os.symlink("../../common", repo / "root/tables/more")
    git(repo, "init", "-q")
    commit_all(repo, "one", datetime.now(UTC) - timedelta(days=1))
    main = FROM_FILES.replace('"*.yaml"', '"**/*.yaml"')
    write_repo(repo, {"root/main.tf": main})
    commit_all(repo, "two", datetime.now(UTC) - timedelta(hours=1))
    old, new = through_git(target(repo), "HEAD~1"), through_git(target(repo))
    assert [t.address for t in old.tables] == ['aws_dynamodb_table.t["orders.yaml"]']
    assert sorted(t.address for t in new.tables) == sorted(t.address for t in declare(repo).tables)
    assert len(new.tables) == 2  # orders.yaml and more/orders.yaml, as Terraform lists them


# --- what is not listed -----------------------------------------------------------------------


def test_a_path_outside_the_repository_is_not_listed(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("x")
    _unknown(probe(tmp_path, 'join(",", fileset("../..", "*.yaml"))'), "outside the repository")
    _unknown(probe(tmp_path / "b", f'join(",", fileset("{tmp_path}", "*"))'), "absolute path")
    # a pattern climbing out is cleaned with the path first, as Terraform joins them
    _unknown(probe(tmp_path / "c", 'join(",", fileset(".", "../../*.yaml"))'), "outside the repository")


def test_a_symlink_out_of_the_repository_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_tree(outside, {"a.yaml": "x", "deep/b.yaml": "x"})
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": "", "root/tables/orders.yaml": "name: orders\n"})
    os.symlink(outside, repo / "root" / "tables" / "ext")
    os.symlink(outside / "a.yaml", repo / "root" / "tables" / "ext.yaml")

    def value(expression: str) -> Any:
        (repo / "root/main.tf").write_text(PROBE % expression)
        return declare(repo).tables[0].spec.name

    # the walk would enter it, or the match would be stat-ed: Terraform reads outside
    _unknown(value('join(",", fileset("tables", "**/*.yaml"))'), "'tables/ext'", "outside the repository")
    _unknown(value('join(",", fileset("tables", "*.yaml"))'), "'tables/ext.yaml'", "outside the repository")
    # a link the pattern never reaches is not looked at
    assert value('join(",", fileset("tables", "o*.yaml"))') == "orders.yaml"


def test_a_symlink_loop_under_a_double_star_is_unknown(tmp_path: Path) -> None:
    """Terraform follows loops/up -> .. until the OS's symlink limit (41 matches on Linux, fewer
    on macOS): not a value driftwatch can know."""
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": "", "root/loops/f.txt": "x", "root/loops/loopdir/g.txt": "x"})
    os.symlink("..", repo / "root/loops/loopdir/up")
    os.symlink("me", repo / "root/loops/me")
    (repo / "root/main.tf").write_text(PROBE % 'join(",", fileset("loops", "**/f.txt"))')
    _unknown(declare(repo).tables[0].spec.name, "symlink loop", "'loops/loopdir/up'")
    (repo / "root/main.tf").write_text(  # a pattern of fixed depth crosses the loop once
        PROBE % 'join(",", fileset("loops", "*/*/f.txt"))'
    )
    assert declare(repo).tables[0].spec.name == "loopdir/up/f.txt"
    (repo / "root/main.tf").write_text(  # a self-link matched: Terraform's stat error
        PROBE % 'try(join(",", fileset("loops", "m*")), "err")'
    )
    assert declare(repo).tables[0].spec.name == "err"


def test_past_the_bounds_the_value_is_unknown_never_a_partial_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files: dict[str, str | bytes] = {f"root/tables/t{i}.yaml": "" for i in range(30)}
    files["root/deep/a/b/c/d/e.yaml"] = ""
    monkeypatch.setattr(doublestar, "MAX_ENTRIES", 20)
    _unknown(
        probe(tmp_path / "a", 'join(",", fileset("tables", "*.yaml"))', files),
        "more than 20 directory entries",
    )
    monkeypatch.setattr(doublestar, "MAX_ENTRIES", 1000)
    monkeypatch.setattr(observe, "MAX_LISTING", 25)
    _unknown(probe(tmp_path / "b", 'join(",", fileset("tables", "*.yaml"))', files), "more than 25 entries")
    monkeypatch.setattr(doublestar, "MAX_DEPTH", 3)
    _unknown(probe(tmp_path / "c", 'join(",", fileset("deep", "**"))', files), "more than 3 directories deep")
    assert probe(tmp_path / "d", 'join(",", fileset("deep/a/b", "**"))', files) == "c/d/e.yaml"
    _unknown(probe(tmp_path / "e", 'join(",", fileset(".", "%s"))' % ("*" * 70)), "more than 64 * and {")


def test_the_walk_spends_the_evaluation_budget(tmp_path: Path) -> None:
    build(tmp_path)
    scope = Scope({}, "console.tf", _reader(tmp_path))
    assert len(evaluate_text('fileset("fs", "**")', scope)) == 33
    with pytest.raises(BudgetExceeded), limits.budget(40):
        evaluate_text('fileset("fs", "**")', scope)


def test_an_error_inside_a_subdirectory_depends_on_the_listing_order(tmp_path: Path) -> None:
    """v1.1.5 keeps an error met in a subdirectory only if that directory was listed last: the
    answer depends on the order the OS lists entries in, so it is Unknown; an error in the
    first directory of the walk is Terraform's error whatever the order."""
    build(tmp_path)
    scope = Scope({}, "console.tf", _reader(tmp_path))
    _unknown(evaluate_text('fileset("fs", "*/[")', scope), "depends on the order")
    assert evaluate_text('try(fileset("fs", "tables/["), "ERR")', scope) == "ERR"


def test_without_a_reader_fileset_is_unknown() -> None:
    _unknown(evaluate_text('fileset(".", "*")', Scope({})), "reads files")


def test_a_fetched_module_lists_its_own_package_and_nothing_beyond(tmp_path: Path) -> None:
    """A git module's path.module is .terraform/modules/<key>: fileset lists where driftwatch
    fetched it, and may not climb out of that package."""
    import subprocess

    from driftwatch.terraform.sources import ModuleSettings

    remote = tmp_path / "remote"
    write_tree(remote, {"main.tf": FROM_FILES, "tables/a.yaml": "name: a\n", "tables/b.yaml": "name: b\n"})
    config = ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "v1"], ["tag", "v1"]):
        subprocess.run(["git", *config, *argv], cwd=remote, check=True, capture_output=True)
    repo = tmp_path / "repo"
    write_tree(repo, {"root/main.tf": f'module "t" {{\n  source = "git::file://{remote}?ref=v1"\n}}\n'})
    settings = ModuleSettings(cache_dir=str(tmp_path / "cache"), allow_file_git=True, timeout=30)
    result = declare_target(target(repo, modules=settings), ParseCache())
    assert names(result) == ["a", "b"] and not result.errors, result.errors
    write_tree(
        remote,
        {
            "main.tf": FROM_FILES.replace(
                '"${path.module}/tables", "*.yaml"', '"${path.module}/../other", "*"'
            )
        },
    )
    for argv in (["commit", "-qam", "v2"], ["tag", "v2"]):
        subprocess.run(["git", *config, *argv], cwd=remote, check=True, capture_output=True)
    write_tree(repo, {"root/main.tf": f'module "t" {{\n  source = "git::file://{remote}?ref=v2"\n}}\n'})
    result = declare_target(target(repo, modules=settings), ParseCache())
    assert not result.tables and result.not_evaluated
    assert "resolves outside its module package" in result.not_evaluated[0].reason


def test_a_walk_into_the_root_s_terraform_directory_needs_the_checkout_to_have_it(tmp_path: Path) -> None:
    """terraform init makes .terraform in the root before any plan: ``**`` from the root would
    list it (fetched modules may hold YAML files). Without one in the checkout, driftwatch
    cannot know that part of the answer; with one (CI ran init), it lists it as Terraform would."""
    repo = tmp_path / "repo"
    main = FROM_FILES.replace('"${path.module}/tables", "*.yaml"', 'path.module, "**/*.yaml"').replace(
        '"${path.module}/tables/${each.value}"', '"${path.module}/${each.value}"'
    )
    write_tree(repo, {"root/main.tf": main, "root/tables/orders.yaml": "name: orders\n"})
    result = declare(repo)
    assert not result.tables and "terraform init" in result.not_evaluated[0].reason
    write_tree(repo, {"root/.terraform/modules/m/tables.yaml": "name: fetched\n"})
    assert names(declare(repo)) == ["fetched", "orders"]
    # a pattern that cannot reach .terraform does not need it
    assert probe(tmp_path / "b", 'join(",", fileset(".", "*.tf"))') == "main.tf"
    _unknown(probe(tmp_path / "c", 'join(",", fileset(".", "*/*.tf"))'), "would enter '.terraform'")
