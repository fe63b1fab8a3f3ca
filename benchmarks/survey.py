"""Benchmark 13: the repository survey (directories that declare tables and that no target
evaluates), on a generated monorepo.

Every scan with a configuration surveys the whole repository, also the directories nobody asked
driftwatch to watch, so its cost must stay small beside a scan: the survey reads each Terraform
file lexically (driftwatch.terraform.outline), one pass over the text. This prints the survey's
wall time and throughput on a monorepo of N roots (each a main.tf calling a local module, a
variables.tf, an outputs.tf and a networking file with no table), and the same files parsed by
python-hcl2 for comparison (what a parser-based survey would cost).

    python benchmarks/survey.py            # 1,000 roots (4,000 files)
    python benchmarks/survey.py --quick    # 200 roots
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from driftwatch.terraform.roots import roots_not_covered, survey_repository

_MAIN = """\
terraform {
  backend "s3" {}
}
module "orders" {
  source = "../../modules/table"
  name   = "acme-%(i)d-orders"
  tags   = { Team = "t%(i)d", Note = "a } brace ${var.x}" }
}
"""
_VARIABLES = "".join(
    f'variable "v{j}" {{\n  type    = string\n  default = "value {j}"\n}}\n' for j in range(20)
)
_OUTPUTS = "".join(f'output "o{j}" {{\n  value = module.orders.arn\n}}\n' for j in range(10))
_NETWORK = "".join(
    f'resource "aws_security_group_rule" "r{j}" {{\n  type = "ingress"\n  from_port = {j}\n'
    f'  to_port = {j}\n  protocol = "tcp"\n  cidr_blocks = ["10.0.{j}.0/24"]\n}}\n'
    for j in range(30)
)
_MODULE = """\
resource "aws_dynamodb_table" "this" {
  name     = var.name
  hash_key = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = var.tags
}
variable "name" {}
variable "tags" { default = {} }
"""


def build(root: Path, roots: int) -> int:
    (root / "modules" / "table").mkdir(parents=True)
    (root / "modules" / "table" / "main.tf").write_text(_MODULE)
    size = len(_MODULE)
    for i in range(roots):
        directory = root / "envs" / f"env{i:05d}"
        directory.mkdir(parents=True)
        for name, text in (
            ("main.tf", _MAIN % {"i": i}),
            ("variables.tf", _VARIABLES),
            ("outputs.tf", _OUTPUTS),
            ("network.tf", _NETWORK),
        ):
            (directory / name).write_text(text)
            size += len(text)
    return size


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--roots", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    roots = 200 if args.quick else args.roots
    with tempfile.TemporaryDirectory() as work:
        repo = Path(work)
        size = build(repo, roots)
        covered = [f"envs/env{i:05d}" for i in range(0, roots, 2)]  # every other root is a target
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = roots_not_covered(survey_repository(repo), covered)
            times.append(time.perf_counter() - started)
        assert len(found) == roots - len(covered), len(found)
        import hcl2  # only for the comparison

        files = sorted(repo.rglob("*.tf"))
        started = time.perf_counter()
        for path in files:
            hcl2.loads(path.read_text())
        parsed = time.perf_counter() - started
    median = statistics.median(times)
    figures = {
        "roots": roots,
        "files": roots * 4 + 1,
        "bytes": size,
        "survey_seconds_median": round(median, 4),
        "survey_seconds_min": round(min(times), 4),
        "survey_mb_per_second": round(size / median / 1e6, 1),
        "hcl2_parse_seconds": round(parsed, 3),
        "reported": len(found),
    }
    print(
        f"survey of {roots} roots ({figures['files']} files, {size / 1e6:.1f} MB): "
        f"median {median * 1000:.0f} ms (min {min(times) * 1000:.0f} ms), "
        f"{figures['survey_mb_per_second']} MB/s; {len(found)} directories reported"
    )
    print(f"the same files parsed by python-hcl2: {parsed:.2f} s ({parsed / median:.0f}x the survey)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
