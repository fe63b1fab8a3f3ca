"""What a target is and what its evaluation yields: the values that cross between the CLI or
the daemon and the evaluation worker.

They live apart from driftwatch.terraform.modules (the walk that produces them) so that a
process that only sends targets and receives declarations -- the one-shot CLI, whose worker
evaluates -- does not import the evaluator, python-hcl2 and lark.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from driftwatch.spec import DeclaredTable, NotEvaluated, TargetError
from driftwatch.terraform.sources import OFFLINE, ModuleSettings


@dataclass(frozen=True)
class TargetInput:
    """One Terraform root to evaluate, as the config or the ad-hoc CLI flags describe it."""

    name: str
    repo: Path
    root: Path
    var_files: tuple[str, ...] = ()
    vars: Mapping[str, str] = field(default_factory=dict)
    workspace: str = "default"
    region: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # How the scan reaches and judges the target's tables (not used to evaluate Terraform):
    role_arn: str | None = None  # assume this role for the target's AWS calls
    external_id: str | None = None  # ExternalId of that AssumeRole
    unmanaged_prefixes: tuple[str, ...] | None = None  # None: no discovery of unmanaged tables
    unmanaged_alert: bool = False
    pending_grace: timedelta = timedelta(minutes=30)
    # How remote module sources are fetched; the default fetches nothing (the config's
    # `modules` section, through driftwatch.targets, turns fetching on).
    modules: ModuleSettings = OFFLINE
    allow_empty: bool = False  # a target that declares no table is an error unless set


@dataclass
class TargetDeclarations:
    """What one root declares: its tables, and every problem met on the way (never raised)."""

    tables: list[DeclaredTable] = field(default_factory=list)
    errors: list[TargetError] = field(default_factory=list)
    # Module calls and resources that may declare tables and were not evaluated, with why.
    not_evaluated: list[NotEvaluated] = field(default_factory=list)
    # An answer came from the network and something could not be fetched: a later scan may
    # succeed, so the result must not be memoised.
    volatile: bool = False
    # When a module resolved from a moving reference (a branch, a version range) is due to be
    # resolved again (time.time()): the result is not reused past it. None: nothing moving.
    expires_at: float | None = None
    # The remote module sources, as the repository's calls write them, that declared a table
    # here: the repository survey (driftwatch.terraform.roots) knows from them that another
    # directory calling the same module declares tables, though its address names no DynamoDB.
    table_sources: set[str] = field(default_factory=set)
