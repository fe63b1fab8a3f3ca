"""Benchmark 3: cold and warm evaluation of a generated 2,000-file repository (200 tables).

The repository looks like a service monorepo: ``envs/prod`` calls 200 service modules
(``services/svc-NNN``, eight or nine files each: the table, IAM, alarms, queues, parameters,
a function), and each service declares its table through one shared wrapper module
(``modules/dynamodb-table``) around ``cloudposse/dynamodb/aws``. Every file is parsed; only
what a table depends on is evaluated.

Measured, in one process after a warm-up parse (so lark's grammar is loaded), as CPU time of
the process (the work is single-threaded, and CPU time is not inflated by whatever else runs on
the machine; wall time is printed alongside):

- **bare parse**: read + ``hcl2.api.parses`` (the typed tree driftwatch uses) of every file;
- **cold**: ``driftwatch.scan.declare`` with an empty ``ParseCache`` (read, hash, parse, walk,
  evaluate, build 200 TableSpecs) -- per file, as a ratio of the bare parse;
- **warm**: ``declare`` again with the same cache, nothing changed: a daemon rescan, which
  builds new TargetInputs (with a copy of the environment) every scan and keeps the cache, so
  the memo of declarations must prove every input unchanged (re-read and re-hash every file,
  re-list every directory) to skip the walk;
- **one file changed**: one service's ``main.tf`` edited; exactly one file must be re-parsed.

    python benchmarks/evaluation.py            # 2,000 files: about 1 minute here
    python benchmarks/evaluation.py --quick    # 500 files, one run each: about 10 seconds
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import _harness as h

WRAPPER = {
    "main.tf": """\
module "table" {
  source  = "cloudposse/dynamodb/aws"
  version = "~> 0.37.0"

  namespace = var.namespace
  stage     = var.stage
  name      = var.name

  hash_key                      = var.hash_key
  range_key                     = var.range_key
  dynamodb_attributes           = var.attributes
  global_secondary_index_map    = var.global_secondary_indexes
  billing_mode                  = var.billing_mode
  enable_autoscaler             = false
  ttl_enabled                   = var.ttl_attribute != ""
  ttl_attribute                 = var.ttl_attribute != "" ? var.ttl_attribute : "Expires"
  enable_point_in_time_recovery = var.point_in_time_recovery
  deletion_protection_enabled   = var.stage == "prod"

  tags = merge(local.tags, var.tags)
}
""",
    "variables.tf": """\
variable "namespace" {
  type = string
}

variable "stage" {
  type = string
}

variable "name" {
  type = string
}

variable "hash_key" {
  type = string
}

variable "range_key" {
  type    = string
  default = ""
}

variable "attributes" {
  type = list(object({
    name = string
    type = string
  }))
  default = []
}

variable "global_secondary_indexes" {
  type    = any
  default = []
}

variable "billing_mode" {
  type    = string
  default = "PAY_PER_REQUEST"
}

variable "ttl_attribute" {
  type    = string
  default = ""
}

variable "point_in_time_recovery" {
  type    = bool
  default = true
}

variable "tags" {
  type    = map(string)
  default = {}
}
""",
    "locals.tf": """\
locals {
  tags = {
    ManagedBy = "terraform"
    Module    = "dynamodb-table"
  }
}
""",
    "outputs.tf": """\
output "table_name" {
  value = module.table.table_name
}

output "table_arn" {
  value = module.table.table_arn
}
""",
}

ROOT = {
    "versions.tf": """\
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
""",
    "providers.tf": """\
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Environment = var.environment
    }
  }
}
""",
    "variables.tf": """\
variable "region" {
  type    = string
  default = "us-east-1"
}

variable "namespace" {
  type    = string
  default = "acme"
}

variable "environment" {
  type    = string
  default = "prod"
}
""",
    "alarms.tf": """\
resource "aws_sns_topic" "alarms" {
  name = "${var.namespace}-${var.environment}-alarms"
}
""",
}


def service_files(i: int) -> dict[str, str]:
    name = f"svc-{i:03d}"
    gsi = (
        """
  attributes = [
    { name = "gsi_pk", type = "S" },
  ]
  global_secondary_indexes = [
    {
      name               = "by-gsi-pk"
      hash_key           = "gsi_pk"
      range_key          = ""
      projection_type    = "KEYS_ONLY"
      non_key_attributes = []
      read_capacity      = null
      write_capacity     = null
    },
  ]
"""
        if i % 3 == 0
        else ""
    )
    return {
        "main.tf": f"""\
module "table" {{
  source = "../../modules/dynamodb-table"

  namespace              = var.namespace
  stage                  = var.stage
  name                   = local.service
  hash_key               = "pk"
  range_key              = local.range_key
  ttl_attribute          = {'"expires_at"' if i % 4 == 0 else '""'}
  point_in_time_recovery = {"true" if i % 5 else "false"}
  tags                   = local.tags
{gsi}}}
""",
        "variables.tf": """\
variable "namespace" {
  type = string
}

variable "stage" {
  type = string
}

variable "alarm_topic_arn" {
  type    = string
  default = null
}

variable "log_retention_days" {
  type    = number
  default = 30
}
""",
        "locals.tf": f"""\
locals {{
  service   = "{name}"
  team      = "team-{i % 10}"
  range_key = {'"sk"' if i % 2 == 0 else '""'}
  tags = {{
    Service = local.service
    Owner   = local.team
    Tier    = {'"critical"' if i % 7 == 0 else '"standard"'}
  }}
}}
""",
        "outputs.tf": """\
output "table_name" {
  value = module.table.table_name
}

output "queue_url" {
  value = aws_sqs_queue.events.url
}
""",
        "iam.tf": """\
data "aws_iam_policy_document" "table_access" {
  statement {
    sid     = "TableReadWrite"
    actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = [
      module.table.table_arn,
      "${module.table.table_arn}/index/*",
    ]
  }
}

resource "aws_iam_policy" "table_access" {
  name   = "${local.service}-table-access"
  policy = data.aws_iam_policy_document.table_access.json
  tags   = local.tags
}
""",
        "alarms.tf": """\
resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${local.service}-dynamodb-throttles"
  namespace           = "AWS/DynamoDB"
  metric_name         = "ThrottledRequests"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 10
  comparison_operator = "GreaterThanThreshold"
  dimensions = {
    TableName = module.table.table_name
  }
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags          = local.tags
}
""",
        "sqs.tf": """\
resource "aws_sqs_queue" "events_dlq" {
  name                      = "${local.service}-events-dlq"
  message_retention_seconds = 1209600
  tags                      = local.tags
}

resource "aws_sqs_queue" "events" {
  name                       = "${local.service}-events"
  visibility_timeout_seconds = 60
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq.arn
    maxReceiveCount     = 5
  })
  tags = local.tags
}
""",
        "ssm.tf": """\
resource "aws_ssm_parameter" "table_name" {
  name  = "/${var.stage}/${local.service}/table-name"
  type  = "String"
  value = module.table.table_name
  tags  = local.tags
}
""",
        "lambda.tf": """\
resource "aws_cloudwatch_log_group" "consumer" {
  name              = "/aws/lambda/${local.service}-consumer"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_lambda_event_source_mapping" "consumer" {
  event_source_arn = aws_sqs_queue.events.arn
  function_name    = "${local.service}-consumer"
  batch_size       = 10
  enabled          = true
}
""",
    }


def generate(repo: Path, tables: int, files: int) -> list[Path]:
    """Write the repository; returns every .tf file. ``files`` >= 4 + 4 + 9 x tables is not
    needed: services get 9 files while the total allows, then 8 (no lambda.tf)."""
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)

    for name, text in WRAPPER.items():
        write(repo / "modules" / "dynamodb-table" / name, text)
    root = repo / "envs" / "prod"
    for name, text in ROOT.items():
        write(root / name, text)
    for i in range(tables):
        write(
            root / f"svc_{i:03d}.tf",
            f'module "svc_{i:03d}" {{\n  source = "../../services/svc-{i:03d}"\n\n'
            f"  namespace       = var.namespace\n  stage           = var.environment\n"
            f"  alarm_topic_arn = aws_sns_topic.alarms.arn\n}}\n",
        )
    budget = files - len(written)
    for i in range(tables):
        service = service_files(i)
        keep = 9 if budget - 9 >= 8 * (tables - i - 1) else 8
        for name in list(service)[:keep]:
            # A header makes every file unique, as in a real repository: the parse cache is
            # keyed by content, and identical files would be parsed once.
            header = f"# svc-{i:03d} ({name}): owned by team-{i % 10}\n\n"
            write(repo / "services" / f"svc-{i:03d}" / name, header + service[name])
        budget -= keep
    return written


def bare_parse(files: list[Path], gc_paused: bool = False) -> tuple[float, float]:
    """(wall, CPU) seconds to read and parse every file with python-hcl2's typed-tree API.

    ``gc_paused``: with Python's cyclic collector off during each parse, as driftwatch's
    ``parse_text`` does -- the like-for-like baseline for driftwatch's own overhead.
    """
    from hcl2.api import parses

    def parse(path: Path) -> Any:
        if not gc_paused:
            return parses(path.read_text())
        gc.disable()
        try:
            return parses(path.read_text())
        finally:
            gc.enable()

    wall, cpu, _ = h.timed_cpu(lambda: [parse(path) for path in files])
    return wall, cpu


def bare_loads(files: list[Path]) -> tuple[float, float]:
    import hcl2

    wall, cpu, _ = h.timed_cpu(lambda: [hcl2.loads(path.read_text()) for path in files])
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="cold and bare runs (median); warm runs x2")
    parser.add_argument("--quick", action="store_true", help="500 files / 50 tables, one run each")
    parser.add_argument(
        "--loads", action="store_true", help="also time hcl2.loads (the dict API), for reference"
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    files_wanted, tables, repeat = (500, 50, 1) if args.quick else (args.files, args.tables, args.repeat)

    from hcl2.api import parses

    from driftwatch.scan import declare
    from driftwatch.terraform.modules import TargetInput
    from driftwatch.terraform.parse import ParseCache

    h.print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "monorepo"
        files = generate(repo, tables, files_wanted)
        lines = sum(p.read_text().count("\n") for p in files)
        print(f"# {len(files)} .tf files, {lines} lines, {tables} tables via modules/dynamodb-table")

        def target() -> TargetInput:
            """A new TargetInput per scan, as the daemon's targets_from_config builds them: with a
            copy of the process environment (TF_VAR_ left out, so the result does not depend on it)."""
            env = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
            return TargetInput(name="prod", repo=repo, root=repo / "envs" / "prod", env=env)

        # Warm-ups outside the measurements: lark's grammar, and driftwatch's first-call costs
        # (lazy imports, regex compilation) on a two-table repository.
        parses('x = "warm up"\n')
        warm_up = Path(tmp) / "warm-up"
        generate(warm_up, 2, 30)
        declare([TargetInput(name="w", repo=warm_up, root=warm_up / "envs" / "prod", env={})], ParseCache())

        def cold() -> tuple[float, float, ParseCache]:
            cache = ParseCache()
            wall, cpu, declared = h.timed_cpu(lambda: declare([target()], cache))
            if declared.errors or declared.early or len(declared.jobs) != tables:
                raise RuntimeError(
                    f"generated repo: {len(declared.jobs)} tables, errors {declared.errors[:3]}"
                )
            if cache.misses != len(files):
                raise RuntimeError(f"expected {len(files)} parses, got {cache.misses}")
            return wall, cpu, cache

        # (wall, cpu) per run; bare and cold interleaved so that machine noise hits both alike
        colds: list[tuple[float, float]] = []
        bares: list[tuple[float, float]] = []
        bares_paused: list[tuple[float, float]] = []
        cache = ParseCache()
        for _ in range(repeat):
            gc.collect()
            bares.append(bare_parse(files))
            gc.collect()
            bares_paused.append(bare_parse(files, gc_paused=True))
            gc.collect()
            wall_s, cpu_s, cache = cold()
            colds.append((wall_s, cpu_s))
        warms: list[tuple[float, float]] = []
        for _ in range(repeat * 2):
            misses, recalled = cache.misses, cache.declarations.hits
            wall_s, cpu_s, declared = h.timed_cpu(lambda: declare([target()], cache))
            if cache.misses != misses:
                raise RuntimeError("a warm rescan re-parsed files")
            if cache.declarations.hits != recalled + 1 or len(declared.jobs) != tables:
                raise RuntimeError("a warm rescan did not reuse the target's declarations")
            warms.append((wall_s, cpu_s))

        changed = repo / "services" / "svc-007" / "main.tf"
        changed.write_text(
            changed.read_text().replace("name                   = local.service", 'name = "svc-007-v2"')
        )
        misses = cache.misses
        # The earlier runs' dropped caches are garbage only the full collector frees (trees are
        # cycles): collected here, so that this one run does not pay for them (a daemon keeps one).
        gc.collect()
        one_file_wall, one_file_cpu, declared = h.timed_cpu(lambda: declare([target()], cache))
        reparsed = cache.misses - misses
        if not any(job.name.endswith("svc-007-v2") for job in declared.jobs):
            raise RuntimeError("the edited table name was not picked up")
        loads = bare_loads(files) if args.loads else None

        # What the cache holds: memory still allocated after a cold declare (tracemalloc slows
        # this run down, so it is separate from the timed ones).
        cache = ParseCache()  # drop the timed runs' trees
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = ParseCache()
        declare([target()], kept)
        gc.collect()
        cache_bytes = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del kept

    def med(runs: list[tuple[float, float]], which: int) -> float:
        return h.median([run[which] for run in runs])

    wall, cpu = 0, 1
    bare_cpu, cold_cpu, warm_cpu = med(bares, cpu), med(colds, cpu), med(warms, cpu)
    bare_wall, cold_wall, warm_wall = med(bares, wall), med(colds, wall), med(warms, wall)
    paused_cpu = med(bares_paused, cpu)
    result: dict[str, Any] = {
        "machine": h.machine(),
        "files": len(files),
        "lines": lines,
        "tables": tables,
        "measure": "CPU seconds of this process (process_time); wall seconds alongside",
        "bare_parse_cpu_seconds": bare_cpu,
        "bare_parse_cpu_ms_per_file": bare_cpu / len(files) * 1000,
        "cold_cpu_seconds": cold_cpu,
        "cold_cpu_ms_per_file": cold_cpu / len(files) * 1000,
        "cold_vs_bare": cold_cpu / bare_cpu,
        "bare_parse_gc_paused_cpu_seconds": paused_cpu,
        "cold_vs_bare_gc_paused": cold_cpu / paused_cpu,
        "warm_cpu_seconds": warm_cpu,
        "warm_vs_cold": warm_cpu / cold_cpu,
        "bare_parse_wall_seconds": bare_wall,
        "cold_wall_seconds": cold_wall,
        "warm_wall_seconds": warm_wall,
        "cold_vs_bare_wall": cold_wall / bare_wall,
        "warm_vs_cold_wall": warm_wall / cold_wall,
        "one_file_change_cpu_seconds": one_file_cpu,
        "one_file_change_wall_seconds": one_file_wall,
        "one_file_change_reparsed": reparsed,
        "loads_cpu_seconds": loads[1] if loads else None,
        "cache_bytes": cache_bytes,
        "cache_bytes_per_file": cache_bytes / len(files),
        "runs_wall_cpu": {"bare": bares, "bare_gc_paused": bares_paused, "cold": colds, "warm": warms},
    }

    def runs(values: list[tuple[float, float]]) -> str:
        return ", ".join(f"{c:.2f}" for _, c in values)

    print(
        f"bare parse (read + hcl2.api.parses): {bare_cpu:.2f} s CPU = "
        f"{result['bare_parse_cpu_ms_per_file']:.2f} ms/file (runs {runs(bares)}; wall {bare_wall:.2f} s)"
    )
    print(
        f"bare parse with the cyclic GC paused per file (as driftwatch parses): {paused_cpu:.2f} s CPU "
        f"(runs {runs(bares_paused)})"
    )
    if loads is not None:
        print(f"hcl2.loads, for reference: {loads[1]:.2f} s CPU")
    print(
        f"cold declare: {cold_cpu:.2f} s CPU = {result['cold_cpu_ms_per_file']:.2f} ms/file = "
        f"{result['cold_vs_bare']:.2f}x bare, {result['cold_vs_bare_gc_paused']:.2f}x bare with the GC "
        f"paused (runs {runs(colds)}; wall {cold_wall:.2f} s = {result['cold_vs_bare_wall']:.2f}x)"
    )
    print(
        f"warm rescan, nothing changed: {warm_cpu * 1000:.0f} ms CPU = {result['warm_vs_cold']:.1%} of cold "
        f"(wall {warm_wall * 1000:.0f} ms = {result['warm_vs_cold_wall']:.1%})"
    )
    print(f"one file changed: {one_file_cpu * 1000:.0f} ms CPU, {reparsed} file re-parsed")
    print(
        f"parse cache holds {cache_bytes / 2**20:.0f} MiB for {len(files)} files "
        f"({cache_bytes / len(files) / 1024:.0f} KiB per file, {cache_bytes / lines:.0f} bytes per line)"
    )
    # The issue's baseline is python-hcl2's bare parse as a caller gets it (collector on). The
    # like-for-like figure (the same collector pause, so only driftwatch's own reading, hashing,
    # walking and evaluating remain) is printed next to it, so the pause cannot hide overhead.
    ok_cold = result["cold_vs_bare"] <= 1.2
    ok_warm = result["warm_vs_cold"] < 0.05
    verdict = "PASS" if ok_cold else "MISS"
    print(
        f"TARGET cold per file within 1.2x of bare parse: {result['cold_vs_bare']:.2f}x "
        f"({result['cold_vs_bare_gc_paused']:.2f}x of a bare parse with the GC paused too) {verdict}"
    )
    print(
        f"TARGET warm rescan under 5% of cold: {result['warm_vs_cold']:.1%} {'PASS' if ok_warm else 'MISS'}"
    )
    print(f"TARGET one-file change re-parses one file: {reparsed} {'PASS' if reparsed == 1 else 'MISS'}")
    h.write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
