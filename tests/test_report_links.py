"""Links from reports and Slack to a declaration's file and line (driftwatch.report.links).

A declaration's ``file`` is relative to the configuration's ``repo``; the repository's web
address (``slack.repo_url``, ``--repo-url``) counts from the top of the git checkout. With
``repo`` below the top (the bundled ``repo: ../examples``, a ``terraform/`` directory of a
monorepo), every link pointed at a file that does not exist.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from driftwatch.report.links import source_url
from driftwatch.spec import SourceLocation


def test_a_link_puts_the_repos_place_in_its_checkout_before_the_file() -> None:
    where = SourceLocation("envs/prod/main.tf", 7)
    base = "https://github.com/acme/infra"
    assert source_url(base + "/", "abc", where) == f"{base}/blob/abc/envs/prod/main.tf#L7"
    assert source_url(base, "abc", where, "terraform") == f"{base}/blob/abc/terraform/envs/prod/main.tf#L7"
    assert source_url(base, "abc", where, "/a b/") == f"{base}/blob/abc/a%20b/envs/prod/main.tf#L7"


def test_the_place_of_a_directory_in_its_checkout_is_what_links_count_from(tmp_path: Path) -> None:
    """``repo: ../examples`` in a checkout: report links to the repository's web address need
    ``examples/`` before each file (they pointed at files that do not exist)."""
    from driftwatch.gitinfo import path_in_checkout

    checkout = tmp_path / "checkout"
    (checkout / "examples" / "envs").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    assert path_in_checkout(checkout) == ""
    assert path_in_checkout(checkout / "examples") == "examples"
    assert path_in_checkout(checkout / "examples" / "envs") == "examples/envs"
    outside = tmp_path / "plain"
    outside.mkdir()
    assert path_in_checkout(outside) == ""  # no checkout: links as before
    (tmp_path / "link").symlink_to(checkout / "examples")  # git-sync's link: resolved
    assert path_in_checkout(tmp_path / "link") == "examples"
