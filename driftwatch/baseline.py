"""The previous declaration of each target, for pending applies (see driftwatch.settle).

For each repository of the scan: walk HEAD's first-parent history (driftwatch.gitinfo), give
each commit its time (driftwatch.settle.commit_times: first seen by the daemon, or the
committer date), take as *base* the newest commit whose time is older than the target's grace,
and evaluate the target as it was at the base -- the same entry point, evaluator, limits and
caches as the current declaration, reading git objects through a RevisionView instead of the
work tree. Which files changed after the base (and when) bounds how long a pending item waits.

Nothing to evaluate in the steady state: when HEAD itself is older than the grace, the base is
HEAD and nothing can be pending. When the history cannot be read (not a git checkout, no git,
a shallow clone without the base, a git failure) a target has no baseline: its drift is drift,
and the reason is logged once per process (and shown by ``driftwatch validate``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from driftwatch import gitinfo
from driftwatch.diff import DiffResult
from driftwatch.gitinfo import ChainCommit, Checkout, GitObjects, GitUnavailable
from driftwatch.log import get_logger
from driftwatch.settle import NOT_DECLARED, RecentChange, base_index, commit_times
from driftwatch.spec import DeclaredTable, Drift, TableSpec, Unknown
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.revision import RevisionView
from driftwatch.terraform.target import TargetDeclarations, TargetInput
from driftwatch.terraform.vet import vet_declarations
from driftwatch.terraform.worker import Evaluator, Failure

log = get_logger(__name__)

CHAIN_PAGE: Final = 200  # commits read per git log call while looking for the base
MAX_CHAIN: Final = 5_000  # more commits than this inside the grace: no pending applies

_WARNED: set[tuple[str, str]] = set()  # (what, detail) already logged: once per process


def warn_once(event: str, detail: str, **fields: Any) -> None:
    if (event, detail) not in _WARNED:
        _WARNED.add((event, detail))
        log.warning(event, **fields)


class SeenCommits(Protocol):
    """The daemon's record of when it first saw each commit (driftwatch.history.History)."""

    def commits_first_seen(self, commits: Iterable[str]) -> dict[str, datetime]: ...

    def remember_commits(self, first_seen: Mapping[str, datetime]) -> None: ...


@dataclass(frozen=True)
class Baseline:
    """A target's declaration at its base commit, and the changes after it."""

    base: str | None  # the base commit; None: the history starts inside the grace (nothing before)
    tables: Mapping[tuple[str, str], DeclaredTable] = field(default_factory=dict)  # (region, name)
    complete: bool = True  # the base evaluated without errors: an absent table was not declared
    changes: Mapping[str, RecentChange] = field(default_factory=dict)  # file (repo-relative) -> change
    # The work tree is modified: HEAD's declaration, so that pending looks at commits only.
    head: Mapping[tuple[str, str], DeclaredTable] | None = None

    def change_for(self, table: DeclaredTable) -> RecentChange | None:
        """The newest change after the base to a file the table's evaluation read."""
        found = [self.changes[f] for f in {*table.inputs, table.source.file} if f in self.changes]
        return max(found, key=lambda c: (c.at, c.file), default=None)

    def previous_values(
        self,
        region: str,
        name: str,
        drift: Sequence[Drift],
        compare: Callable[[TableSpec], DiffResult] | None,
    ) -> dict[str, Any]:
        """Each drifting attribute's previous declared value, for driftwatch.settle.settle.

        ``compare`` diffs a declared spec with the live table (None: the table is absent). Where
        the previous declaration agrees with AWS, its value is the live value; where it does not,
        the value it declared; Unknown where it could not be evaluated."""
        before = self.tables.get((region, name))
        values: dict[str, Any] = {}
        if before is None:
            fill: Any = NOT_DECLARED if self.complete else Unknown("the previous revision has errors")
            values = {item.attribute: fill for item in drift}
        else:
            result = compare(before.spec) if compare is not None else None
            declared = {d.attribute: d.declared for d in result.drift} if result else {}
            unresolved = {u.attribute for u in result.unresolved} if result else set()
            for item in drift:
                if item.attribute == "table":
                    values[item.attribute] = name
                elif item.attribute in declared:
                    values[item.attribute] = declared[item.attribute]
                elif item.attribute in unresolved:
                    values[item.attribute] = Unknown("unresolved in the previous revision")
                else:
                    values[item.attribute] = item.live
        if self.head is not None:
            self._commits_only(region, name, drift, compare, values)
        return values

    def _commits_only(
        self,
        region: str,
        name: str,
        drift: Sequence[Drift],
        compare: Callable[[TableSpec], DiffResult] | None,
        values: dict[str, Any],
    ) -> None:
        """An item whose declared value is not HEAD's (an uncommitted edit) cannot be pending."""
        assert self.head is not None
        committed = self.head.get((region, name))
        head_drift: dict[str, Any] = {}
        if committed is not None:
            if compare is None:
                head_drift = {"table": name}
            else:
                head_drift = {d.attribute: d.declared for d in compare(committed.spec).drift}
        for item in drift:
            if item.attribute not in head_drift or head_drift[item.attribute] != item.declared:
                values[item.attribute] = Unknown("the work tree is modified")


def baselines(
    targets: Sequence[TargetInput],
    evaluator: Evaluator,
    now: datetime,
    seen: SeenCommits | None = None,
) -> dict[str, Baseline | None]:
    """Target name -> its baseline; None when it has no pending applies (grace 0, no history).
    Why a target has none is logged once per process."""
    return baselines_and_reasons(targets, evaluator, now, seen)[0]


def baselines_and_reasons(
    targets: Sequence[TargetInput],
    evaluator: Evaluator,
    now: datetime,
    seen: SeenCommits | None = None,
) -> tuple[dict[str, Baseline | None], dict[str, str]]:
    """:func:`baselines`, and target name -> why it has no pending applies although its grace
    is on (the scan report says it, see driftwatch.spec.PendingUnavailable)."""
    found, problems, failed = _all_baselines(targets, evaluator, now, seen)
    for repo, reason in problems.items():
        warn_once("pending_applies_disabled", f"{repo}:{reason}", repo=str(repo), reason=reason)
    return found, _reasons(targets, problems, failed)


def unavailable(targets: Sequence[TargetInput], evaluator: Evaluator, now: datetime) -> dict[str, str]:
    """Target name -> why it has no pending applies although its grace is on (for ``validate``)."""
    _, problems, failed = _all_baselines(targets, evaluator, now, None)
    return _reasons(targets, problems, failed)


def _reasons(
    targets: Sequence[TargetInput], problems: Mapping[Path, str], failed: Mapping[str, str]
) -> dict[str, str]:
    reasons = {
        t.name: problems[t.repo] for t in targets if t.repo in problems and t.pending_grace > timedelta(0)
    }
    return {**reasons, **failed}


def _all_baselines(
    targets: Sequence[TargetInput], evaluator: Evaluator, now: datetime, seen: SeenCommits | None
) -> tuple[dict[str, Baseline | None], dict[Path, str], dict[str, str]]:
    """Baselines; why a repository has none (repository -> reason); why a target of a
    repository that has history has none (target name -> reason)."""
    result: dict[str, Baseline | None] = {t.name: None for t in targets}
    problems: dict[Path, str] = {}
    failed: dict[str, str] = {}
    by_repo: dict[Path, list[TargetInput]] = {}
    for target in targets:
        if target.pending_grace > timedelta(0):
            by_repo.setdefault(target.repo, []).append(target)
    for repo, group in by_repo.items():
        try:
            result.update(_repo_baselines(repo, group, evaluator, now, seen, failed))
        except GitUnavailable as error:
            problems[repo] = str(error)
    return result, problems, failed


def _repo_baselines(
    repo: Path,
    targets: Sequence[TargetInput],
    evaluator: Evaluator,
    now: datetime,
    seen: SeenCommits | None,
    failed: dict[str, str],
) -> dict[str, Baseline | None]:
    checkout = gitinfo.checkout_of(repo)
    longest = max(t.pending_grace for t in targets)
    chain, times = _walk(checkout, now, longest, seen)
    dirty: bool | None = None  # asked only when a target has something to compare
    at = {commit.sha: when for commit, when in zip(chain, times, strict=True)}
    result: dict[str, Baseline | None] = {}
    changed: dict[str | None, dict[str, RecentChange]] = {}  # base -> what changed after it
    for target in targets:
        index = base_index(times, now, target.pending_grace)
        if index == 0:  # HEAD is older than the grace: nothing can be pending
            result[target.name] = Baseline(chain[0].sha)
            continue
        base = chain[index].sha if index is not None else None
        if base not in changed:
            changed[base] = {}
            for file, (sha, _) in gitinfo.changes_since(checkout, base).items():
                when = at.get(sha)
                if when is not None:  # a commit that gives no grace cannot make anything pending
                    changed[base][file] = RecentChange(file, sha, when)
        changes = changed[base]
        moved = _in_checkout(target, checkout)
        if dirty is None:
            dirty = gitinfo.is_dirty(repo, checkout) is True
        try:
            if base is None:
                tables, complete = {}, True
            else:
                declared = _at_revision(evaluator, moved, checkout, base, "previous")
                tables, complete = _by_name(declared), _complete(declared)
            head: dict[tuple[str, str], DeclaredTable] | None = None
            if dirty:
                head = _by_name(_at_revision(evaluator, moved, checkout, chain[0].sha, "head"))
        except GitUnavailable:
            raise
        except Exception as error:  # the older revision cannot be evaluated: no pending for it
            reason = f"the declaration at {base} cannot be evaluated: {error!r}"
            warn_once(
                "pending_applies_disabled", f"{target.name}:{reason}", target=target.name, reason=reason
            )
            failed[target.name] = reason
            result[target.name] = None
            continue
        result[target.name] = Baseline(base, tables, complete, changes, head)
    return result


class RevisionNotEvaluated(Exception):
    """The older revision's evaluation failed (the reason is the target's error message)."""


def declare_at_revision(
    checkout: Checkout, revision: str, slot: str, target: TargetInput, cache: ParseCache
) -> TargetDeclarations | str:
    """``target`` as declared at commit ``revision``, read from git objects; or why git could not
    answer. A picklable call, so that it runs where every other evaluation runs (the bounded
    worker process, see driftwatch.terraform.worker), with the same limits and parse cache.
    The evaluator is imported here, where it runs: the process that sends the call needs none
    of it."""
    from driftwatch.terraform.modules import declare_target

    try:
        with GitObjects(checkout) as objects:
            view = RevisionView(checkout.top, revision, objects, cache.max_file_bytes, slot=slot)
            declared = declare_target(target, cache, view)
            if objects.failed is not None:
                return objects.failed
    except GitUnavailable as error:
        return str(error)
    return vet_declarations(declared, target.name)


def _at_revision(
    evaluator: Evaluator, target: TargetInput, checkout: Checkout, revision: str, slot: str
) -> TargetDeclarations:
    outcome = evaluator.call(functools.partial(declare_at_revision, checkout, revision, slot), target)
    if isinstance(outcome, str):
        raise GitUnavailable(outcome)
    if isinstance(outcome, Failure):
        raise RevisionNotEvaluated(outcome.message)
    return outcome


def _walk(
    checkout: Checkout, now: datetime, grace: timedelta, seen: SeenCommits | None
) -> tuple[list[ChainCommit], list[datetime | None]]:
    """HEAD's first-parent chain from HEAD down to the base of the longest grace (or its start)."""
    chain: list[ChainCommit] = []
    while True:
        page = gitinfo.first_parent_chain(checkout, len(chain), CHAIN_PAGE)
        chain.extend(page)
        if not chain:
            raise GitUnavailable("the checkout has no commits")
        known = _recall(seen, [c.sha for c in chain])
        found = commit_times([(c.sha, c.committed_at) for c in chain], now, known)
        index = base_index(found.times, now, grace)
        last = chain[-1]
        if index is not None or len(page) < CHAIN_PAGE or not last.has_parent:
            break
        if len(chain) >= MAX_CHAIN:
            raise GitUnavailable(f"more than {MAX_CHAIN} commits inside the pending grace")
    end = len(chain) if index is None else index + 1
    for sha in found.future:
        warn_once(
            "commit_dated_in_future",
            sha,
            commit=sha,
            note="a commit dated in the future gives no more than one grace from when it was first seen",
        )
    if seen is not None:  # sightings are facts, kept even when the history ends too early
        kept = {c.sha for c in chain[:end]}
        new = {sha: when for sha, when in found.new.items() if sha in kept}
        if new:
            try:
                seen.remember_commits(new)
            except Exception as error:  # the state database: the scan goes on, times as one-shot
                warn_once("commit_sightings_unavailable", repr(error), error=repr(error))
    if index is None and chain[-1].shallow:
        raise GitUnavailable(
            f"shallow clone: the history before {chain[-1].sha[:12]} is not in the clone, and every "
            "commit in it is inside the pending grace; clone deeper (see docs/deploy.md)"
        )
    return chain[:end], list(found.times[:end])


def _recall(seen: SeenCommits | None, commits: Sequence[str]) -> Mapping[str, datetime] | None:
    """The daemon's first sightings of ``commits``; None (times as in a one-shot scan) without
    them, or when the state database cannot be read (logged once: the scan itself goes on)."""
    if seen is None:
        return None
    try:
        return seen.commits_first_seen(commits)
    except Exception as error:
        warn_once("commit_sightings_unavailable", repr(error), error=repr(error))
        return None


def _in_checkout(target: TargetInput, checkout: Checkout) -> TargetInput:
    """The target with its paths in the work tree's real location, where the revision view is."""
    repo = checkout.top / checkout.prefix if checkout.prefix else checkout.top
    try:
        root = repo / target.root.relative_to(target.repo)
    except ValueError:
        root = target.root
    return dataclasses.replace(target, repo=repo, root=root)


def _complete(declared: TargetDeclarations) -> bool:
    """Whether a table absent from ``declared`` was surely not declared: no errors, and every
    table's name and region known (a var file git does not track leaves a name Unknown)."""
    return not declared.errors and all(
        isinstance(t.spec.name, str) and isinstance(t.spec.region, str) for t in declared.tables
    )


def _by_name(declared: TargetDeclarations) -> dict[tuple[str, str], DeclaredTable]:
    tables: dict[tuple[str, str], DeclaredTable] = {}
    for table in declared.tables:
        name, region = table.spec.name, table.spec.region
        if isinstance(name, str) and isinstance(region, str):
            tables.setdefault((region, name), table)
    return tables
