"""Bad and hostile input: every case of ``tests/corpus/`` through declare, inspect and scan.

A scanned repository is input that driftwatch does not control. For each case (see
``tests/corpus/README.md``) the expected error or Unknown names the file and line, the good
table beside the bad thing is still declared and found in sync, nothing prints a traceback,
nothing outside the repository is read, and the run ends in bounded time and memory (the
cases marked ``isolate`` run the CLI in a subprocess under a 1 GiB address-space limit and a
timeout, and must peak under 512 MiB RSS).
"""

from __future__ import annotations

import functools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import re2

from driftwatch.cli import main
from driftwatch.demo.provision import create_table
from driftwatch.scan import DeclaredSet, declare
from driftwatch.spec import TableSpec, Unknown
from driftwatch.terraform import functions as fn
from driftwatch.terraform import limits
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.modules import TargetInput, declare_target
from driftwatch.terraform.parse import DEFAULT_MAX_FILE_BYTES, ParseCache

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.json").is_file())
REPO_ROOT = Path(__file__).resolve().parents[1]
GOOD = "corpus-good"
CANARY = "LEAKED-CANARY"  # in tests/corpus/_outside/: must never appear anywhere
REGION = "us-east-1"
ISOLATED_TIMEOUT = 60  # seconds, for one CLI run of one case
ADDRESS_SPACE = 1024**3  # RLIMIT_AS of that run
PEAK_RSS_LIMIT = 512 * 1024**2  # what one case may use at most (the daemon's pod limit)


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    name: str
    spec: dict[str, Any]
    repo: Path

    @property
    def root(self) -> Path:
        return self.repo / "root"

    @property
    def expect(self) -> list[dict[str, Any]]:
        return list(self.spec.get("expect", []))

    @property
    def unresolved(self) -> list[dict[str, Any]]:
        return list(self.spec.get("unresolved", []))

    @property
    def tables(self) -> list[str]:
        return list(self.spec.get("tables", [GOOD]))

    def target_flags(self) -> list[str]:
        flags = ["--root", str(self.root), "--repo", str(self.repo), "--region", REGION]
        for var_file in self.spec.get("var_files", []):
            flags += ["--var-file", var_file]
        for name, value in self.spec.get("vars", {}).items():
            flags += ["--var", f"{name}={value}"]
        return flags

    def target(self) -> TargetInput:
        return TargetInput(
            name=self.name,
            repo=self.repo,
            root=self.root,
            var_files=tuple(self.spec.get("var_files", [])),
            vars=dict(self.spec.get("vars", {})),
            region=REGION,
            env={},
        )


def _generate(path: Path, kind: str) -> None:
    if kind == "oversize":  # one byte over the per-file size limit, in comment lines
        line = "# " + "x" * 77 + "\n"
        text = line * (DEFAULT_MAX_FILE_BYTES // len(line) + 1)
        path.write_text(text[: DEFAULT_MAX_FILE_BYTES + 1])
    elif kind == "tokens":  # 120,000 tokens in 120 KB: under the size limit, over the token limit
        path.write_text("locals {\n  many = [" + "1," * 60_000 + "1]\n}\n")
    elif kind == "json_deep":  # a .tf.json nested 20,000 deep: under the token limit, over the depth one
        path.write_text('{"locals": {"a":\n' + "[" * 20_000 + "]" * 20_000 + "}}\n")
    elif kind == "json_tokens":  # 120,000 tokens of JSON in 240 KB
        path.write_text('{"locals": {\n"many": [' + "1," * 60_000 + "1]}}\n")
    elif kind == "fan_out":  # 16 levels, each module calling the next twice: 2^16 instances
        for level in range(16):
            calls = "".join(f'module "{side}" {{\n  source = "../l{level + 1}"\n}}\n' for side in ("a", "b"))
            (path / f"l{level}").mkdir(parents=True)
            (path / f"l{level}" / "main.tf").write_text(calls)
        (path / "l16").mkdir()
        (path / "l16" / "main.tf").write_text("# the leaves declare nothing\n")
    elif kind == "chain":  # 40 modules, each calling the next
        for level in range(40):
            (path / f"m{level}").mkdir(parents=True)
            call = f'module "next" {{\n  source = "../m{level + 1}"\n}}\n'
            (path / f"m{level}" / "main.tf").write_text(call)
        (path / "m40").mkdir()
        (path / "m40" / "main.tf").write_text("# the end of the chain\n")
    elif kind == "fifo":  # opening it for reading would block until a writer came
        os.mkfifo(path)
    elif kind == "undecodable_name":  # a file name that is not UTF-8 (git could not keep it)
        good = (CORPUS / "empty_file" / "root" / "good.tf").read_text().replace('"good"', '"bad_name"')
        with open(os.fsencode(path) + b"/bad\xff.tf", "w", encoding="utf-8") as file:
            file.write(good.replace("corpus-good", "corpus-bad-name"))
    else:
        raise ValueError(f"unknown generator {kind!r}")


def materialise(name: str, base: Path) -> Case:
    """The case copied under ``base`` (with ``_outside`` beside it), symlinks and generated files
    made: the corpus in git stays small and free of symlinks."""
    spec = json.loads((CORPUS / name / "case.json").read_text())
    repo = base / name
    shutil.copytree(CORPUS / name, repo, symlinks=True)
    (repo / "case.json").unlink()
    shutil.copytree(CORPUS / "_outside", base / "_outside", dirs_exist_ok=True)
    for link, target in spec.get("symlinks", {}).items():
        os.symlink(target, repo / link)
    for item in spec.get("generate", []):
        _generate(repo / item["path"], item["kind"])
    return Case(name, spec, repo)


# --------------------------------------------------------------------------- matching


def _same_file(actual: str | None, expected: str | None) -> bool:
    if expected is None:
        return True
    if actual is None:
        return False
    return actual == expected or actual.replace(os.sep, "/").endswith("/" + expected)


def _found(expected: dict[str, Any], problems: list[tuple[str, str | None, int | None]]) -> bool:
    """Whether (message, file, line) of one problem matches the expectation."""
    return any(
        expected["message"] in message
        and _same_file(file, expected["file"])
        and (expected["line"] is None or line == expected["line"])
        for message, file, line in problems
    )


def _declared_problems(declared: DeclaredSet) -> list[tuple[str, str | None, int | None]]:
    problems = [(e.message, e.file, e.line) for e in declared.errors]
    problems += [
        (row.error or "", row.source.file if row.source else None, row.source.line if row.source else None)
        for row in declared.early
    ]
    problems += [
        (item.reason, item.source.file if item.source else None, item.source.line if item.source else None)
        for item in declared.not_evaluated
    ]
    return problems


def _unknown_reasons(value: Any) -> Iterator[str]:
    if isinstance(value, Unknown):
        yield value.reason
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _unknown_reasons(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _unknown_reasons(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _unknown_reasons(item)


def _no_leak_and_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text[-2000:]
        assert CANARY not in text


# --------------------------------------------------------------------------- the three runs


def _check_declare(case: Case) -> DeclaredSet:
    declared = declare([case.target()], ParseCache())
    names = [job.name for job in declared.jobs]
    assert set(case.tables) <= set(names), (names, declared.errors)
    problems = _declared_problems(declared)
    for expected in case.expect:
        assert _found(expected, problems), (expected, problems)
    if not case.expect:
        assert problems == []
    for expected in case.unresolved:
        reasons = [
            (reason, job.table.source.file, None)
            for job in declared.jobs
            for reason in _unknown_reasons(job.table.spec)
        ]
        assert _found(expected, reasons), (expected, reasons)
    assert CANARY not in repr(declared)
    return declared


def _run_cli_isolated(case: Case, argv: list[str]) -> tuple[int, str, str]:
    """The CLI in a subprocess under RLIMIT_AS and a timeout; it reports its peak RSS."""

    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    program = (  # the peak of the CLI and of its evaluation worker, whichever is higher
        "import resource, sys\n"
        "from driftwatch.cli import main\n"
        "from driftwatch.terraform import worker\n"
        "code = main(sys.argv[1:])\n"
        "worker._close_shared()\n"
        "usage = resource.getrusage\n"
        "peak = max(usage(resource.RUSAGE_SELF).ru_maxrss, usage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(f'\\nPEAK_RSS_KB={peak}\\n')\n"
        "sys.exit(code)\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", program, *argv],
        capture_output=True,
        text=True,
        timeout=ISOLATED_TIMEOUT,
        preexec_fn=limit,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        check=False,
    )
    elapsed = time.monotonic() - started
    found = re.search(r"PEAK_RSS_KB=(\d+)", result.stderr)
    assert found is not None, result.stderr[-3000:]
    peak = int(found.group(1)) * 1024
    print(f"{case.name}: inspect in {elapsed:.1f}s, peak RSS {peak // 1024**2} MiB")
    assert peak < PEAK_RSS_LIMIT, f"{case.name}: peak RSS {peak // 1024**2} MiB"
    return result.returncode, result.stdout, result.stderr


def _run_cli(case: Case, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _check_inspect(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["inspect", *case.target_flags(), "--format", "json"]
    if case.spec.get("isolate"):
        code, out, err = _run_cli_isolated(case, argv)
    else:
        code, out, err = _run_cli(case, argv, capsys)
    _no_leak_and_no_traceback(out, err)
    report = json.loads(out)
    assert set(case.tables) <= {t["spec"]["name"] for t in report["tables"]}
    errors = [(e["message"], e["file"], e["line"]) for e in report["errors"]]
    errors += [(e["reason"], e["file"], e["line"]) for e in report["not_evaluated"]]
    # "Not checkable" tables carry no source in inspect's JSON (the scan's rows do): the message.
    rows = [(row["error"], None, None) for row in report["not_checkable"]]
    for expected in case.expect:
        anywhere = {**expected, "file": None, "line": None}
        assert _found(expected, errors) or _found(anywhere, rows), (expected, errors, rows)
    assert code == (1 if case.expect else 0), err[-2000:]


@functools.cache
def _good_spec() -> TableSpec:
    """The good table as declared: every case's root/good.tf is this same file."""
    repo = CORPUS / "empty_file"
    target = TargetInput(name="good", repo=repo, root=repo / "root", region=REGION, env={})
    (job,) = declare([target], ParseCache()).jobs
    return job.table.spec


def _check_scan(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    assert (case.root / "good.tf").read_text() == (CORPUS / "empty_file" / "root" / "good.tf").read_text()
    create_table(
        boto3.client("dynamodb", region_name=REGION),
        boto3.client("application-autoscaling", region_name=REGION),
        _good_spec(),
    )
    code, out, err = _run_cli(case, ["scan", *case.target_flags(), "--format", "json"], capsys)
    _no_leak_and_no_traceback(out, err)
    report = json.loads(out)
    rows = {row["table_name"]: row for row in report["tables"]}
    assert rows[GOOD]["status"] == "in_sync", rows[GOOD]
    problems = [(e["message"], e["file"], e["line"]) for e in report["errors"]]
    problems += [(e["reason"], e["file"], e["line"]) for e in report["not_evaluated"]]
    problems += [
        (row["error"] or "", (row["source"] or {}).get("file"), (row["source"] or {}).get("line"))
        for row in report["tables"]
        if row["status"] == "error"
    ]
    for expected in case.expect:
        assert _found(expected, problems), (expected, problems)
    for expected in case.unresolved:
        reasons = [
            (item["reason"], (row["source"] or {}).get("file"), None)
            for row in report["tables"]
            for item in row["unresolved"]
        ]
        assert _found(expected, reasons) or any(  # a table missing in AWS lists nothing unresolved
            row["status"] == "missing" for row in report["tables"] if row["table_name"] != GOOD
        ), (expected, reasons)
    if case.expect:
        assert code == 1  # "could not check" wins over drift
    else:
        assert code in (0, 2)  # 2: the case's extra tables are not created in AWS
    assert sum(1 for row in report["tables"] if row["status"] == "in_sync") >= 1


@pytest.mark.parametrize("name", CASES)
def test_hostile_input(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], embedded_aws: None
) -> None:
    case = materialise(name, tmp_path)
    if not case.spec.get("isolate"):
        _check_declare(case)
    _check_inspect(case, capsys)  # isolated cases: in a subprocess, so a hang or blow-up fails here
    _check_scan(case, capsys)


def test_the_corpus_covers_the_issue() -> None:
    """Every kind of bad input the issue names has at least one case."""
    required = {
        "malformed_hcl", "non_utf8", "empty_file", "oversize_file", "deep_brackets", "deep_expression",
        "cyclic_locals", "module_calls_itself", "modules_call_each_other", "for_each_unknown",
        "unknown_function", "var_file_wrong_type", "var_file_missing", "module_source_parent",
        "module_source_absolute", "module_source_symlink", "var_file_parent", "var_file_absolute",
        "var_file_symlink",
    }  # fmt: skip
    assert required <= set(CASES)


# --------------------------------------------------------------------------- limits, directly


@pytest.mark.parametrize(
    "pattern",
    ["(a+)+$", "(a*)*b", "(a|aa)+$", "(x+x+)+y", r"^(\w+\s?)*$", "(?:a?){40}a{40}", "a*a*a*a*a*a*a*a*b"],
)
def test_patterns_that_backtrack_exponentially_run_in_linear_time(pattern: str) -> None:
    """RE2 (Terraform's engine) has no backtracking: these give Terraform's answer, at once.

    Linear time is RE2's guarantee, so the test checks the engine, not a stopwatch (a time
    bound fails on a loaded machine): regex() and regexall() evaluate the pattern compiled by
    ``_compile`` (its cache is hit once by each call), and that is an RE2 program. A backtracking
    engine (``re``, ``regex``) in its place fails the type check, or never finishes the calls."""
    compiled = fn._compile(pattern)
    assert type(compiled) is re2._Regexp
    before = fn._compile.cache_info()
    fn.regexall(pattern, "a" * 100_000 + "!")
    with pytest.raises(fn.FunctionError, match="did not match"):  # none matches 39 a's and a "!"
        fn.regex(pattern, "a" * 39 + "!")
    after = fn._compile.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 0)


@pytest.mark.parametrize("call", ["regexall", "replace"])
def test_a_regex_over_many_matches_converts_the_text_once(call: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """RE2 matches UTF-8 bytes, and google-re2's wrapper converts a ``str`` to bytes (and counts
    its characters up to the position) at every search. Searching match after match therefore
    cost the text's length per match: ``regexall("a", local.s)`` over 900,000 characters took
    43 s (quadratic), so a few calls passed the worker's time limit and lost every table of the
    target. The text is converted once per call. Counted, not timed: every conversion of a
    text this long goes through ``re2._encode``."""
    text = "\u00e9-" * 5_000
    conversions = 0
    encode = re2._encode

    def counting(value: Any) -> Any:
        nonlocal conversions
        conversions += len(value) >= len(text)
        if conversions > 1:
            raise AssertionError("the text is converted at every search: quadratic")
        return encode(value)

    monkeypatch.setattr(re2, "_encode", counting)
    if call == "regexall":
        assert fn.regexall("-", text) == ["-"] * 5_000
    else:
        assert fn.replace(text, "/-/", "+") == "\u00e9+" * 5_000


@pytest.mark.parametrize("call", ["regexall", "replace"])
def test_every_match_of_a_regex_spends_a_step(call: str) -> None:
    """A match costs ~5 us of Python (a search, its groups, the text between), a step's worth;
    a call over 100,000 matches was charged as its text's length only (1,600 steps), so a
    table's budget bought ~15 s of such calls and a target's more than ``parse.max_seconds``
    (its every table lost). Counted, not timed."""
    text = "a" * 20_000
    with limits.budget(limits.TABLE_STEPS, "table") as budget:
        if call == "regexall":
            fn.regexall("a", text)
        else:
            fn.replace(text, "/a/", "b")
    assert budget.used >= 20_000  # it was 312


@pytest.mark.parametrize(
    ("pattern", "refusal"),
    [
        (r"(a)\1", "invalid escape sequence"),
        ("(?=a)", "invalid perl operator"),
        ("(?<!a)b", "invalid"),
        (r"\C", "invalid escape sequence"),  # RE2's one byte, not Go's: terraform console refuses it
        (r"a\\\C", "invalid escape sequence"),
    ],
)
def test_what_re2_refuses_is_refused(pattern: str, refusal: str) -> None:
    """Backreferences and lookaround are not RE2: Terraform refuses them, and so does driftwatch.
    ``\\C`` is RE2's and not Go's: it matched one byte of a character (a UnicodeDecodeError)."""
    with pytest.raises(fn.FunctionError, match=refusal):
        fn.regex(pattern, "a\u00e9")


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("[a-z]+", "abc1", "abc"),
        ("^([a-z]+)-([0-9]+)$", "a-1", ["a", "1"]),
        ("a{2,3}", "aaaa", "aaa"),
        (r"\\C", r"a\C", r"\C"),
        (r"\Q\C\E", r"\C", r"\C"),
    ],
)
def test_ordinary_patterns_still_work(pattern: str, text: str, expected: Any) -> None:
    """Including a ``\\C`` that is text (escaped, or quoted by ``\\Q…\\E``), as terraform console reads it."""
    assert fn.regex(pattern, text) == expected


def test_sets_of_many_strings_are_deduplicated_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strings are deduplicated by hashing, never compared pair by pair (the old pairwise
    comparison took hours). Counted, not timed: every pairwise comparison goes through
    ``values_equal``, and more of them than there are items stops the test at once."""
    items = [f"k{i % 50_000}" for i in range(100_000)]
    compared = 0
    equal = fn.values_equal

    def counting(left: Any, right: Any) -> Any:
        nonlocal compared
        compared += 1
        if compared > len(items):
            raise AssertionError("strings are compared pairwise: quadratic")
        return equal(left, right)

    monkeypatch.setattr(fn, "values_equal", counting)
    assert len(fn.distinct(items)) == 50_000
    assert len(fn.toset(items)) == 50_000
    assert compared <= len(items)


@pytest.mark.parametrize("call", ["setintersection", "setsubtract"])
def test_set_intersection_and_difference_of_strings_take_linear_time(
    call: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each element was compared with every element of the other set: two sets of 50,000
    strings took 126 s (100 million steps), and two of 600 spent a table's whole budget, so
    the value was Unknown where Terraform has it at once. Strings, numbers and bools are
    hashed now; only collections are compared pair by pair. Counted, not timed: every pairwise
    comparison goes through ``values_equal``."""
    left = [f"k{i}" for i in range(20_000)]
    right = [f"k{i}" for i in range(10_000, 30_000)] + [1, True]
    compared = 0
    equal = fn.values_equal

    def counting(a: Any, b: Any) -> Any:
        nonlocal compared
        compared += 1
        if compared > 1_000:
            raise AssertionError("strings are compared pairwise: quadratic")
        return equal(a, b)

    monkeypatch.setattr(fn, "values_equal", counting)
    if call == "setintersection":
        assert sorted(fn.setintersection(left, right)) == sorted(left[10_000:])
    else:
        assert sorted(fn.setsubtract(left, right)) == sorted(left[:10_000])
    monkeypatch.setattr(fn, "values_equal", equal)  # Terraform's equality, as before:
    assert list(fn.setsubtract([1, 2, 3], [2.0, "3"])) == [1, 3]  # a number is not its string
    assert list(fn.setsubtract(["a", None], [None])) == ["a"]
    assert list(fn.setintersection([["a"], ["b"]], [["b"]])) == [["b"]]
    assert list(fn.setintersection([True, False], [True, 1])) == [True]  # true is not 1


def test_string_results_are_bounded_before_they_are_built() -> None:
    big = "x" * 2000
    with pytest.raises(fn.FunctionError, match="more than"):
        fn.join("", [big] * 2000)
    with pytest.raises(fn.FunctionError, match="more than"):
        fn.replace(big, "x", big)
    with pytest.raises(fn.FunctionError, match="more than"):
        fn.format_("%9999d" * 200, *([1] * 200))


def test_the_parse_cache_is_bounded_by_the_tokens_it_holds(tmp_path: Path) -> None:
    """A daemon following a busy git history must not keep every old version of every file."""
    cache = ParseCache(max_cached_tokens=2_000)
    for version in range(50):
        path = tmp_path / f"v{version}.tf"
        path.write_text("locals {\n" + "".join(f"  a{i} = {version}\n" for i in range(40)) + "}\n")
        parsed = cache.parse_file(path, path.name)
        assert parsed.tokens >= 120  # a0 = 0: three tokens a line
    assert cache.cached_tokens <= 2_000
    assert cache.misses == 50


def test_a_target_reads_a_bounded_amount_of_terraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftwatch.terraform import modules

    monkeypatch.setattr(modules, "MAX_TARGET_TOKENS", 500)
    root = tmp_path / "root"
    root.mkdir()
    for index in range(30):
        (root / f"f{index:02d}.tf").write_text("locals {\n" + f"  a{index} = [{'1, ' * 40}1]\n" + "}\n")
    (root / "a_good.tf").write_text((CORPUS / "empty_file" / "root" / "good.tf").read_text())
    declared = declare([TargetInput(name="t", repo=tmp_path, root=root, region=REGION, env={})], ParseCache())
    assert [job.name for job in declared.jobs] == [GOOD]
    (error,) = [e for e in declared.errors if "tokens" in e.message]
    assert "the remaining files are not read" in error.message and error.file is not None


@pytest.mark.parametrize(
    "body",
    [
        '"%{ for i in range(100) }%{ for j in range(100) }%{ endfor }%{ endfor }"',
        '"%{ for i in range(100) }%{ for j in range(100) }x%{ endfor }%{ endfor }"',
        "<<EOT\n%{ for i in range(100) }%{ for j in range(100) }%{ endfor }%{ endfor }\nEOT\n",
    ],
    ids=["empty", "literal", "heredoc"],
)
def test_every_iteration_of_a_template_for_directive_spends_a_step(body: str) -> None:
    """A ``%{ for }`` directive whose body is empty or only text evaluates no expression, and an
    expression was what spent a step: three nested ``range(1000)`` directives with an empty body
    (10^9 iterations, 90 bytes) ran for as long as ``parse.max_seconds`` and every table of the
    target was lost; two of them with ``x`` made a million-character name in 6 s, uncharged.
    Each iteration and each text part now spends a step, as a ``for`` expression's element
    does. Counted, not timed: 10,000 iterations."""
    with limits.budget(limits.TABLE_STEPS, "table") as budget:
        value = evaluate_text(body, Scope({}, "bomb.tf"))
    assert not isinstance(value, Unknown)
    assert budget.used >= 10_000


_DEEP_JSON = '"' + "[" * 3_000 + "]" * 3_000 + '"'


@pytest.mark.parametrize(
    "expression",
    [
        'try(length(flatten([for i in range(300) : range(400)])), "FALLBACK")',
        'try(length(setproduct(range(400), range(300))), "FALLBACK")',
        f'try(length(jsondecode({_DEEP_JSON})), "FALLBACK")',
        'try(length(format("%20000d", 1)), "FALLBACK")',
        'try(length(join("", [for i in range(1000) : format("%1001s", "x")])), "FALLBACK")',
        'try(tostring(pow(2, 2000)), "FALLBACK")',
        'try(tostring(1e4900 * 1e4900), "FALLBACK")',
        'try(tostring(1e9999999), "FALLBACK")',
        "can(length(setproduct(range(400), range(300))))",
        f"can(jsondecode({_DEEP_JSON}))",
    ],
    ids=[
        "elements",
        "setproduct",
        "json-depth",
        "format-width",
        "characters",
        "pow",
        "number-product",
        "number-literal",
        "can",
        "can-json",
    ],
)
def test_a_driftwatch_limit_inside_try_or_can_is_unknown_never_the_fallback(expression: str) -> None:
    """Each value here is one Terraform computes (terraform 1.11.4's console: 120,000 elements,
    ``length(jsondecode(...))`` of JSON 3,000 deep is 1, ``pow(2, 2000)``), and driftwatch stops
    at a bound of its own. try() took that bound for a Terraform error and returned its
    fallback, and can() said false: ``for_each = try(jsondecode(file("tables.json")), {})`` of
    a large file declared no table, in silence. The value is Unknown, naming the bound."""
    with limits.budget(limits.TABLE_STEPS, "table"):
        value = evaluate_text(expression, Scope({}, "limit.tf"))
    assert isinstance(value, Unknown), value
    assert value.reason.startswith("limit.tf:1: "), value.reason
    assert evaluate_text('try(jsondecode("{"), "FALLBACK")', Scope({}, "limit.tf")) == "FALLBACK"


# A loop of 27,000 iterations (30 x 30 x 30) in 80 bytes: past the shrunk budget of its value
# (2,000 steps) and, without a budget of its own, past the shrunk target's (30,000) too.
_LOOP = "length(flatten([for i in range(30) : [for j in range(30) : [for k in range(30) : k]]]))"
# Terraform reads a default and a var file's value with no functions (realsurvey12's rule): the
# same iterations over a literal list.
_THIRTY = "[" + ", ".join(["0"] * 30) + "]"
_CONSTANT_LOOP = f"[for i in {_THIRTY} : [for j in {_THIRTY} : [for k in {_THIRTY} : k]]]"
_GOOD_TABLE = """
resource "aws_dynamodb_table" "c" {
  name         = "c"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
"""


_VALIDATION = f'  validation {{\n    condition = {_LOOP} > 0\n    error_message = "no"\n  }}\n'
_TAGS = f"  default_tags {{\n    tags = {{ a = {_LOOP} }}\n  }}\n"
_OUTSIDE_TABLES = {
    "validation": (f'variable "v" {{\n  default = "x"\n{_VALIDATION}}}\n', {}),
    "default": (f'variable "v" {{\n  default = {_CONSTANT_LOOP}\n}}\n', {}),
    "var file": ('variable "v" {}\n', {"root/terraform.tfvars": f"v = {_CONSTANT_LOOP}\n"}),
    "provider region": (f'provider "aws" {{\n  region = "us-east-${{{_LOOP}}}"\n}}\n', {}),
    "provider default_tags": (f'provider "aws" {{\n  region = "us-east-1"\n{_TAGS}}}\n', {}),
    "module count": (
        f'module "m" {{\n  source = "./m"\n  count = {_LOOP} > 0 ? 1 : 0\n}}\n',
        {"root/m/main.tf": "\n"},
    ),
    "module input": (
        f'module "m" {{\n  source = "./m"\n  x = {_LOOP}\n}}\n',
        {"root/m/main.tf": 'variable "x" {}\n'},
    ),
    "resource count": (f'resource "aws_dynamodb_table" "b" {{\n  count = {_LOOP} > 0 ? 1 : 0\n}}\n', {}),
    "resource for_each": (
        f'resource "aws_dynamodb_table" "b" {{\n  for_each = toset([tostring({_LOOP})])\n}}\n',
        {},
    ),
}


@pytest.mark.parametrize("where", list(_OUTSIDE_TABLES))
def test_a_value_outside_any_table_stops_at_its_own_budget_not_the_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Each table has its own step budget, but what is evaluated outside a table (a variable's
    default or validation, a var file's value, a provider's region or default tags, the count,
    for_each or inputs of a module call or a resource) drew on the target's directly: three
    nested ``for`` over ``range(1000)`` in any of them (10^9 iterations in 90 bytes) spent
    all 2,500,000 steps (13 s of CPU), and every table of the target was then Unknown
    (``evaluation stopped after 2,500,000 steps (driftwatch's limit per target)``), a table
    named by a literal ``"c"`` included. Each such value now has a budget of its own, as a
    table has: it stops alone, at its line, and the target's other tables are declared."""
    monkeypatch.setattr(limits, "TABLE_STEPS", 2_000)
    monkeypatch.setattr(limits, "VALUE_STEPS", 2_000)
    monkeypatch.setattr(limits, "TARGET_STEPS", 30_000)
    text, files = _OUTSIDE_TABLES[where]
    for name, content in {"root/main.tf": text + _GOOD_TABLE, **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path / "root", env={}, region="us-east-1")
    result = declare_target(target, ParseCache())
    assert "c" in [table.spec.name for table in result.tables], where
    stopped = [e for e in result.errors if "evaluation stopped after 2,000 steps" in e.message]
    assert stopped and stopped[0].file in ("root/main.tf", "root/terraform.tfvars"), result.errors
    assert not any("per target" in e.message for e in result.errors), result.errors


_JOINED_TABLES = """
locals {
  conf = yamldecode(file("tables.yaml"))
  gsis = flatten([for t in local.conf.tables : [for g in t.gsis : merge(g, { table = t.name })]])
  by_name = {
    for t in local.conf.tables : t.name => merge(t, { gsi = [for g in local.gsis : g if g.table == t.name] })
  }
}
resource "aws_dynamodb_table" "t" {
  for_each = local.by_name
  name = each.key
  hash_key = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  tags = each.value.tags
}
"""


def test_a_for_each_joining_a_large_config_file_is_not_held_to_one_tables_budget(tmp_path: Path) -> None:
    """The config-driven pattern joining each table's indexes from a flattened list (quadratic:
    150 tables of 3 indexes is ~290,000 steps, 1-2 s) was evaluated within the target's budget;
    held to a table's budget (250,000 steps) since values outside tables got one each, its
    for_each stopped and none of the 150 tables was declared. Such a value has more (half the
    target's): a hostile one still leaves the target's other tables their share."""
    lines = ["tables:"]
    for i in range(150):
        lines += [f"  - name: t{i}", "    tags: {team: a}", "    gsis:"]
        lines += [f"      - {{name: g{j}}}" for j in range(3)]
    (tmp_path / "root").mkdir()
    (tmp_path / "root/main.tf").write_text(_JOINED_TABLES)
    (tmp_path / "root/tables.yaml").write_text("\n".join(lines))
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path / "root", env={}, region="us-east-1")
    result = declare_target(target, ParseCache())
    assert not result.errors and not result.not_evaluated, (result.errors, result.not_evaluated)
    assert len(result.tables) == 150
