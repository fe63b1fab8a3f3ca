"""Benchmark 12: the module download cache's bound (driftwatch.terraform.cache).

A hostile repository's stream of distinct modules, each under ``modules.max_bytes``, published
one after the other into a cache bounded by ``modules.cache_max_bytes`` (no network: staging
directories of ``--module-kb`` are published directly, as a fetch does once its download is
unpacked). Reported: the most the cache ever held against the bound, the evictions, and the
cost of the bookkeeping -- a pass over the cache (what each publication and each daemon scan
adds) at the cache's steady size, and the first pass over a cache written before the bound
existed (sizes measured once, then recorded).

    python benchmarks/module_cache.py            # 1,500 modules of 20 kB under 10 MB: ~45 s
    python benchmarks/module_cache.py --quick    # 600 modules under 4 MB: ~13 s
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _harness as h


def staged(area: Path, index: int, size: int) -> Path:
    directory = Path(tempfile.mkdtemp(dir=area))
    (directory / "main.tf").write_text(f'output "i" {{ value = {index} }}\n')
    (directory / "pad.bin").write_bytes(bytes([index % 251]) * size)
    return directory


def main() -> int:
    from driftwatch.terraform import cache

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=1500)
    parser.add_argument("--module-kb", type=int, default=20)
    parser.add_argument("--bound-mb", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.quick:
        args.modules, args.bound_mb = 600, 4.0
    h.print_machine()
    bound = int(args.bound_mb * 1_000_000)
    root = Path(tempfile.mkdtemp(prefix="driftwatch-cache-bench-"))
    try:
        area = root / "cache" / "tmp"
        area.mkdir(parents=True)
        highest = 0
        publish_seconds: list[float] = []
        started = time.perf_counter()
        for index in range(args.modules):
            leases = cache.Leases(root / "cache")
            name = f"m{index:06d}"
            leases.hold(name)
            staging = staged(area, index, args.module_kb * 1000)
            began = time.perf_counter()
            cache.publish(root / "cache", staging, name, leases, bound, 60)
            publish_seconds.append(time.perf_counter() - began)
            leases.release()
            usage = cache.usage(root / "cache")
            highest = max(highest, usage.bytes if usage else 0)
        total_seconds = time.perf_counter() - started
        usage = cache.usage(root / "cache")
        held = len(list((root / "cache" / "packages").iterdir()))
        steady, _ = h.timed(lambda: cache.trim(root / "cache", bound, 60))
        # A cache written before the bound: no recorded sizes, every package measured once.
        shutil.rmtree(root / "cache" / "leases")
        legacy, _ = h.timed(lambda: cache.trim(root / "cache", bound, 60))
        again, _ = h.timed(lambda: cache.trim(root / "cache", bound, 60))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    evictions = usage.evictions if usage else 0
    print(
        f"{args.modules} modules of {args.module_kb} kB into a {bound:,}-byte cache: at most "
        f"{highest:,} bytes held, {held} modules at the end, {evictions} evictions, {total_seconds:.1f} s"
    )
    print(
        f"publish: median {h.median(publish_seconds) * 1000:.1f} ms, "
        f"slowest {max(publish_seconds) * 1000:.1f} ms"
    )
    print(
        f"a pass over {held} cached modules: {steady * 1000:.1f} ms; over a cache without recorded sizes: "
        f"{legacy * 1000:.1f} ms the first time, {again * 1000:.1f} ms after"
    )
    h.write_json(
        args.json,
        {
            "machine": h.machine(),
            "modules": args.modules,
            "module_bytes": args.module_kb * 1000,
            "bound": bound,
            "highest": highest,
            "held": held,
            "evictions": evictions,
            "publish_median_seconds": h.median(publish_seconds),
            "publish_max_seconds": max(publish_seconds),
            "pass_seconds": steady,
            "legacy_pass_seconds": legacy,
        },
    )
    verdict = "PASS" if highest <= bound and evictions == args.modules - held else "MISS"
    print(f"TARGET the cache never passes modules.cache_max_bytes: {highest:,} <= {bound:,} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
