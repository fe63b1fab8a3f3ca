"""The module download cache as a whole: a total bound with least-recently-used eviction, the
leases that keep a module an evaluation (in any process) is reading from being evicted, and the
per-target budget of distinct remote sources. Archives are served by a local HTTP server on
127.0.0.1; a second process holding a lease is a real child process.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from driftwatch.scan import declare
from driftwatch.terraform import cache
from driftwatch.terraform.modules import declare_target
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.sources import Fetcher, ModuleSettings, NotFetched
from tests.test_sources import GOOD, TABLE_MODULE, tar_gz, target, write_tree

ROOT = Path(__file__).resolve().parent.parent
PAD = 20_000  # bytes of filler per module: each package is ~20.6 kB
ROOM_FOR_TWO = 50_000  # a cache bound that holds two packages, not three


def serve(httpserver: HTTPServer, *names: str) -> dict[str, str]:
    """One distinct module archive per name; name -> its source address."""
    sources = {}
    for name in names:
        files = {**TABLE_MODULE, "pad.bin": name * (PAD // len(name))}
        httpserver.expect_request(f"/{name}.tar.gz").respond_with_data(tar_gz(files))
        sources[name] = f"http://127.0.0.1:{httpserver.port}/{name}.tar.gz"
    return sources


def options(tmp_path: Path, **changes: Any) -> ModuleSettings:
    base = ModuleSettings(
        cache_dir=str(tmp_path / "cache"),
        allowed_hosts=("127.0.0.1",),
        insecure_http_hosts=("127.0.0.1",),
        timeout=5,
        cache_max_bytes=ROOM_FOR_TWO,
        credentials_file=str(tmp_path / "no-credentials.tfrc.json"),
    )
    return dataclasses.replace(base, **changes)


def fetch_once(settings: ModuleSettings, source: str) -> Path:
    """One evaluation that uses one module (its lease released when it ends)."""
    fetcher = Fetcher(settings)
    try:
        return fetcher.fetch(source, None).root
    finally:
        fetcher.close()


def cached(tmp_path: Path) -> set[Path]:
    return set((tmp_path / "cache" / "packages").iterdir())


def test_the_cache_stays_under_its_bound_by_evicting_the_least_recently_used(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Three modules under a bound that holds two: the one used longest ago goes, the one
    used again (from the cache, without a download) stays; the cache never passes the bound."""
    sources = serve(httpserver, "a", "b", "c")
    settings = options(tmp_path)
    a = fetch_once(settings, sources["a"])
    b = fetch_once(settings, sources["b"])
    downloads = len(httpserver.log)
    assert fetch_once(settings, sources["a"]) == a and len(httpserver.log) == downloads  # a used again
    c = fetch_once(settings, sources["c"])
    assert cached(tmp_path) == {a, c} and not b.exists()
    usage = cache.usage(tmp_path / "cache")
    assert usage is not None and usage.evictions == 1
    held = sum(cache.tree_bytes(p) for p in cached(tmp_path))
    assert held <= usage.bytes <= ROOM_FOR_TWO
    # b evicted: fetched again (the cache is a cache, not a loss), evicting a, now the oldest
    assert fetch_once(settings, sources["b"]).is_dir() and not a.exists()


def test_a_module_an_evaluation_holds_is_never_evicted_and_what_does_not_fit_is_refused(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    sources = serve(httpserver, "a", "b")
    settings = options(tmp_path, cache_max_bytes=30_000)  # one package
    reading = Fetcher(settings)  # an evaluation still walking module a
    a = reading.fetch(sources["a"], None).root
    with pytest.raises(NotFetched, match=r"modules\.cache_max_bytes: 30,000 bytes.*in use"):
        fetch_once(settings, sources["b"])
    assert (a / "main.tf").is_file() and cached(tmp_path) == {a}
    assert not list((tmp_path / "cache" / "tmp").iterdir())  # the refused download is not left behind
    reading.close()
    b = fetch_once(settings, sources["b"])
    assert cached(tmp_path) == {b}


def test_a_module_larger_than_the_whole_cache_is_refused_with_the_key(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    sources = serve(httpserver, "a")
    with pytest.raises(NotFetched, match=r"at most 10,000 bytes \(modules\.cache_max_bytes\)"):
        fetch_once(options(tmp_path, cache_max_bytes=10_000), sources["a"])


HOLDER = """
import sys
from pathlib import Path
from driftwatch.terraform.cache import Leases
leases = Leases(Path(sys.argv[1]))
leases.hold(sys.argv[2])
print("held", flush=True)
sys.stdin.read()
"""


def test_a_lease_held_by_another_process_protects_its_module_until_that_process_dies(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Another worker (or a one-shot CLI next to the daemon) reading a module: eviction leaves
    it; once that worker is killed (no clean-up runs), the kernel drops its lock and the
    module can go."""
    sources = serve(httpserver, "a", "b")
    settings = options(tmp_path, cache_max_bytes=30_000)
    a = fetch_once(settings, sources["a"])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "cache"), a.name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(NotFetched, match="in use"):
            fetch_once(settings, sources["b"])
        assert a.is_dir()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    b = fetch_once(settings, sources["b"])
    assert cached(tmp_path) == {b} and not a.exists()


def test_the_walk_reports_modules_that_do_not_fit_as_not_evaluated(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """One target whose modules alone exceed the bound: those that fit are evaluated, the rest
    are not evaluated with the reason (never a crash, never silently absent tables)."""
    sources = serve(httpserver, "a", "b", "c")
    calls = "".join(
        f'module "{name}" {{\n  source = "{source}"\n  name = "{name}"\n  hash_key = "id"\n}}\n'
        for name, source in sources.items()
    )
    write_tree(tmp_path / "repo", {"root/main.tf": calls + GOOD})
    declared = declare([target(tmp_path / "repo", options(tmp_path))], ParseCache())
    assert declared.errors == []
    (skipped,) = declared.not_evaluated
    assert skipped.address == "module.c" and "modules.cache_max_bytes" in skipped.reason
    assert sorted(job.table.spec.name for job in declared.jobs) == ["a", "b", "good"]
    # the evaluation is over: its leases are released, its modules may go for the next one
    assert fetch_once(options(tmp_path), sources["c"]).is_dir()


def test_a_target_may_use_a_bounded_number_of_distinct_remote_sources(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """modules.max_sources: a repository naming many sources cannot take the scan's time and
    the cache; past the budget, calls are not evaluated, the same ones at every scan (modules
    already cached count too). A source called twice counts once."""
    sources = serve(httpserver, "a", "b", "c")
    calls = "".join(
        f'module "{call}" {{\n  source = "{sources[name]}"\n  name = "{call}"\n  hash_key = "id"\n}}\n'
        for call, name in (("a", "a"), ("a_again", "a"), ("b", "b"), ("c", "c"))
    )
    write_tree(tmp_path / "repo", {"root/main.tf": calls})
    settings = options(tmp_path, cache_max_bytes=10_000_000, max_sources=2)
    for _ in range(2):  # the second time every fetched module is in the cache
        result = declare_target(target(tmp_path / "repo", settings), ParseCache())
        assert sorted(t.spec.name for t in result.tables) == ["a", "a_again", "b"]
        (skipped,) = result.not_evaluated
        assert skipped.address == "module.c"
        assert "already uses 2 distinct remote module sources (modules.max_sources)" in skipped.reason
    assert len(cached(tmp_path)) == 2


def test_trim_brings_a_cache_under_a_lowered_bound_and_keeps_what_is_held(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    sources = serve(httpserver, "a", "b", "c")
    roomy = options(tmp_path, cache_max_bytes=10_000_000)
    a, b = (fetch_once(roomy, sources[name]) for name in ("a", "b"))
    reading = Fetcher(roomy)
    c = reading.fetch(sources["c"], None).root  # the newest, and held
    fetch_once(roomy, sources["a"])  # a used again: b is now the least recently used
    usage = cache.trim(tmp_path / "cache", ROOM_FOR_TWO, timeout=5)
    assert cached(tmp_path) == {a, c} and not b.exists()
    assert usage.evictions == 1 and usage.bytes <= ROOM_FOR_TWO
    cache.trim(tmp_path / "cache", 1024, timeout=5)  # below what is held
    assert cached(tmp_path) == {c}  # c is held by an evaluation still running
    reading.close()
    assert cache.trim(tmp_path / "cache", 1024, timeout=5).bytes <= 1024 and cached(tmp_path) == set()


def test_modules_cache_keys_are_read_from_the_config(tmp_path: Path) -> None:
    from driftwatch.config import ConfigError, parse_config
    from driftwatch.targets import targets_from_config

    config = parse_config(
        {
            "targets": [{"name": "t", "root": ".", "allow_empty": True}],
            "modules": {"cache_max_bytes": "2GiB", "max_sources": 10},
        }
    )
    (only,) = targets_from_config(config, tmp_path)
    assert (only.modules.cache_max_bytes, only.modules.max_sources) == (2 * 1024**3, 10)
    defaults = parse_config({"targets": [{"name": "t", "root": "."}]}).modules
    assert (defaults.cache_max_bytes, defaults.max_sources) == (256 * 1024**2, 200)
    with pytest.raises(ConfigError, match=r"modules\.cache_max_bytes"):
        parse_config({"targets": [{"name": "t", "root": "."}], "modules": {"cache_max_bytes": "10K"}})


def test_a_module_used_through_the_declaration_memo_counts_as_used(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A daemon's unchanged target is answered from the memo and reads no package: its modules
    must still count as recently used, not be the first evicted by another target's fetch."""
    sources = serve(httpserver, "a", "b", "c")
    call = f'module "a" {{\n  source = "{sources["a"]}"\n  name = "a"\n  hash_key = "id"\n}}\n'
    write_tree(tmp_path / "repo", {"root/main.tf": call})
    settings = options(tmp_path)
    parse_cache = ParseCache()
    steady = target(tmp_path / "repo", settings)
    assert [t.spec.name for t in declare_target(steady, parse_cache).tables] == ["a"]
    (a,) = cached(tmp_path)
    b = fetch_once(settings, sources["b"])  # another target's module, used after a
    assert [t.spec.name for t in declare_target(steady, parse_cache).tables] == ["a"]
    assert parse_cache.declarations.hits == 1  # from the memo: nothing fetched or recalled
    fetch_once(settings, sources["c"])
    assert a.is_dir() and not b.exists()


def test_the_daemon_trims_the_cache_after_a_scan_and_shows_it_in_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bound lowered in the config (here: 1 MiB for 1.8 MB of modules cached before) is
    applied after the next scan, whether or not it fetched; /metrics shows size and evictions."""
    from driftwatch.config import load_config
    from driftwatch.daemon import Daemon
    from driftwatch.targets import targets_from_config
    from tests.test_daemon_unit import write_config

    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    packages = tmp_path / "cache" / "packages"
    for age, name in enumerate(("newest", "middle", "oldest")):
        (packages / name).mkdir(parents=True)
        (packages / name / "pad.bin").write_bytes(b"x" * 600_000)
        os.utime(packages / name, (1_000_000 - age, 1_000_000 - age))
    extra = f"modules: {{cache_dir: {tmp_path / 'cache'}, cache_max_bytes: 1MiB}}"
    config, base = load_config(write_config(tmp_path, extra))
    daemon = Daemon(config, base)
    try:
        daemon.observe_module_cache(targets_from_config(config, base))
        text = daemon.metrics.render().decode()
    finally:
        daemon.history.close()
    assert {p.name for p in packages.iterdir()} == {"newest"}
    assert "driftwatch_module_cache_bytes 600000.0" in text
    assert "driftwatch_module_cache_max_bytes 1.048576e+06" in text
    assert "driftwatch_module_cache_evictions_total 2.0" in text


PUBLISHER = """
import sys, tempfile
from pathlib import Path
from driftwatch.terraform import cache
root, who, bound = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
highest = 0
for index in range(25):
    leases = cache.Leases(root)
    name = f"{who}{index:02d}"
    leases.hold(name)
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root / "tmp"))
    (staging / "main.tf").write_text(name)
    (staging / "pad.bin").write_bytes(b"p" * 10_000)
    cache.publish(root, staging, name, leases, bound, 30)
    highest = max(highest, cache.tree_bytes(root / "packages"))
    leases.release()
print(highest)
"""


def test_two_processes_filling_the_cache_at_once_keep_it_bounded_and_whole(tmp_path: Path) -> None:
    """Two workers publishing 25 modules each into one cache that holds three: publication and
    eviction are serialised, so the bound holds at every step and no module is left half
    there (every cached package is complete, nothing is left in tmp/)."""
    root, bound = tmp_path / "cache", 35_000
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(root), who, str(bound)], stdout=subprocess.PIPE, env=env
        )
        for who in ("a", "b")
    ]
    highest = [int(worker.communicate(timeout=60)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert max(highest) <= bound and cache.tree_bytes(root / "packages") <= bound
    packages = list((root / "packages").iterdir())
    assert packages and all((p / "main.tf").read_text() == p.name for p in packages)
    assert all((p / "pad.bin").stat().st_size == 10_000 for p in packages)
    assert not list((root / "tmp").iterdir())
    usage = cache.usage(root)
    assert usage is not None and usage.evictions == 50 - len(packages)
