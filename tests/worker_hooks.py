"""Evaluation functions that misbehave on purpose, run inside the worker by tests/test_worker.py
and the daemon test (the worker imports them by name, as it would any evaluation function)."""

from __future__ import annotations

import collections
import os
import re
import resource
import signal
import time
from pathlib import Path
from typing import Any

from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache


def overflow(target: TargetInput, cache: ParseCache) -> TargetDeclarations:
    raise OverflowError("integer division result too large for a float")


def sleep_forever(target: TargetInput, cache: ParseCache) -> TargetDeclarations:
    time.sleep(3600)
    raise AssertionError("unreachable")


def hang_if_named_hang(target: TargetInput, cache: ParseCache) -> TargetDeclarations:
    """A target named ``hang`` never finishes: an exponential regular expression, one C call
    holding the GIL for hours; the other targets evaluate as usual."""
    if target.name == "hang":
        re.fullmatch(r"(a|aa)+b", "a" * 80)
    return declare_target(target, cache)


def allocate(target: TargetInput, cache: ParseCache) -> TargetDeclarations:
    hog = bytearray(8 * 1024**3)  # over any max_memory of the tests
    raise AssertionError(f"allocated {len(hog)} bytes")


def segfault(target: TargetInput, cache: ParseCache) -> TargetDeclarations:
    os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(10)
    raise AssertionError("unreachable")


def limits(target: TargetInput, cache: ParseCache) -> dict[str, Any]:
    """The soft limits in force during an evaluation, and what the worker holds and used."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        held = int(statm.read().split()[0]) * resource.getpagesize()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
        "cpu_used": usage.ru_utime + usage.ru_stime,
        "as": resource.getrlimit(resource.RLIMIT_AS)[0],
        "held": held,
        "pid": os.getpid(),
        "env": dict(os.environ),
        "oom_score_adj": Path("/proc/self/oom_score_adj").read_text(encoding="ascii").strip(),
    }


def foreign_class(target: TargetInput, cache: ParseCache) -> Any:
    return collections.Counter("abc")


def cached_files(target: TargetInput, cache: ParseCache) -> int:
    return cache.misses


def root_files(target: TargetInput, cache: ParseCache) -> list[str]:
    return sorted(p.name for p in Path(target.root).iterdir())
