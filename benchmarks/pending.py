"""Benchmark: what pending applies cost -- reading the previous declaration from git.

The generated 2,000-file monorepo of ``benchmarks/evaluation.py`` (200 tables) is committed
three days ago; then one service file is changed in a commit one minute old, so every scan
must evaluate the declaration at the older commit (through ``git cat-file``) beside the
current one. Measured in one process, as wall and CPU seconds of the process:

- **current, cold / warm**: ``declare`` of the work tree (empty cache, then the daemon's warm
  cache), for scale;
- **previous, first**: ``baselines`` right after the merge, with the parse cache warm from the
  current declaration (every unchanged file hits it): the chain walk, the object reads, the
  walk and the evaluation of the older commit;
- **previous, again**: the next scan -- the older commit's declaration is memoised, so only the
  git calls of the chain walk remain;
- **steady state**: HEAD older than the grace: nothing is evaluated.

    python benchmarks/pending.py            # 2,000 files
    python benchmarks/pending.py --quick    # 500 files
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _harness as h
from evaluation import generate


def git(repo: Path, *args: str, at: datetime | None = None) -> None:
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b"}
    env |= {"GIT_COMMITTER_EMAIL": "b@example.com", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    if at is not None:
        stamp = f"@{int(at.timestamp())} +0000"
        env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=repo, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="500 files / 50 tables")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    files_wanted, tables = (500, 50) if args.quick else (2000, 200)

    from driftwatch.baseline import baselines
    from driftwatch.scan import declare
    from driftwatch.terraform.modules import TargetInput
    from driftwatch.terraform.parse import ParseCache

    h.print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        files = generate(repo, tables, files_wanted)
        now = datetime.now(UTC)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "old", at=now - timedelta(days=3))
        target = TargetInput(name="prod", repo=repo, root=repo / "envs/prod", region="us-east-1", env={})

        cache = ParseCache()
        cold = h.timed_cpu(lambda: declare([target], cache))
        warm = h.timed_cpu(lambda: declare([target], cache))
        steady = h.timed_cpu(lambda: baselines([target], cache, datetime.now(UTC)))

        changed = repo / "services/svc-000/main.tf"
        changed.write_text(changed.read_text() + "# changed\n")
        git(repo, "commit", "-q", "-am", "new", at=now - timedelta(minutes=1))
        declare([target], cache)  # the scan evaluates the work tree first
        first = h.timed_cpu(lambda: baselines([target], cache, datetime.now(UTC)))
        again = h.timed_cpu(lambda: baselines([target], cache, datetime.now(UTC)))
        assert first[2]["prod"] is not None and len(first[2]["prod"].tables) == tables

    results = {
        "files": len(files),
        "tables": tables,
        "current_cold": cold[:2],
        "current_warm": warm[:2],
        "previous_first": first[:2],
        "previous_again": again[:2],
        "steady_state": steady[:2],
    }
    for key, value in results.items():
        if isinstance(value, tuple):
            print(f"{key:>16}: {value[0]:7.3f} s wall, {value[1]:7.3f} s CPU")
        else:
            print(f"{key:>16}: {value}")
    h.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
