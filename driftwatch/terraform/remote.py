"""Which module a remote call resolves to, where that needs the walk: modules.json entries
matched to calls, and how a ``cloudposse/dynamodb/aws`` or ``cloudposse/label/null`` call is
evaluated (a known release emulated by driftwatch.terraform.cloudposse or .label, its fetched
source, or not at all).

Kept apart from driftwatch.terraform.modules (the walk) and driftwatch.terraform.sources (the
fetching): these are the decisions between the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftwatch.terraform import cloudposse
from driftwatch.terraform.addresses import (
    GitSource,
    RegistrySource,
    SourceError,
    parse_source,
    select_version,
)
from driftwatch.terraform.sources import NotFetched, Package

if TYPE_CHECKING:
    from driftwatch.terraform.modules import ModuleInstance


def same_source(recorded: str, source: str) -> bool:
    """modules.json's Source and the call's, as the same address (host spelled out or not)."""
    try:
        return parse_source(recorded) == parse_source(source)
    except SourceError:
        return False


def admitted(installed: str | None, constraint: str | None) -> bool:
    """The version ``terraform init`` installed still satisfies the call's constraint."""
    if not constraint:
        return True
    try:
        return installed is not None and select_version([installed], constraint) is not None
    except SourceError:
        return False


@dataclass(frozen=True)
class Releases:
    """What resolving a call of one emulated module needs to know about its releases."""

    known: tuple[str, ...]  # the releases driftwatch emulates
    known_version: Callable[[str | None], str | None]  # the known release a version text names
    newest_release: Callable[[str | None], str | None]  # offline: the release a constraint picks
    ref_version: Callable[[str | None], str | None]  # the known release a git ref names


DYNAMODB_RELEASES = Releases(
    cloudposse.KNOWN_VERSIONS, cloudposse.known_version, cloudposse.newest_release, cloudposse.ref_version
)
LABEL_RELEASES = Releases(
    (cloudposse.LABEL_VERSION,),
    cloudposse.label_known_version,
    cloudposse.label_newest_release,
    cloudposse.label_ref_version,
)


def cloudposse_plan(
    instance: ModuleInstance,
    name: str,
    source: str,
    constraint: str | None,
    releases: Releases = DYNAMODB_RELEASES,
) -> str | Package:
    """How a ``cloudposse/dynamodb/aws`` (or, with LABEL_RELEASES, ``cloudposse/label/null``)
    call is evaluated: a known release (a name from ``releases.known``), the fetched source (a
    Package), or why neither (a sentence).

    Order: the version modules.json installed; for a registry source, the newest release the
    registry lists that the constraint admits (when fetching is on), else the newest known
    release it admits; for git, the ``ref``. A known release is emulated; any other is
    evaluated from its source, or not evaluated."""
    walk = instance.walk
    key = ".".join((*instance.key, name))
    entry = walk.manifest().get(key)
    if entry is not None and same_source(entry[0], source) and admitted(entry[1], constraint):
        known = releases.known_version(entry[1])
        if known is not None:
            return known
        package = instance.remote_package(name)  # the installed source of a release not known
        if isinstance(package, Package):
            return package
    try:
        parsed = parse_source(source)
    except SourceError as error:
        return str(error)
    wanted: str | None = None
    if isinstance(parsed, RegistrySource):
        try:
            if not walk.target.modules.offline and walk.target.modules.cache_dir is not None:
                wanted = walk.fetcher.resolve_version(parsed, constraint)
        except NotFetched as error:
            if str(error).startswith("no version of"):
                return str(error)
            # The registry cannot be reached: the releases driftwatch knows stand in (and the
            # result may be memoised); only a call left unevaluated waits for the network.
        except SourceError as error:
            return str(error)
        if wanted is None:  # offline, or the registry cannot be reached: the releases driftwatch lists
            try:
                wanted = releases.newest_release(constraint)
            except (ValueError, SourceError) as error:
                return str(error)
    elif isinstance(parsed, GitSource):
        known_ref = releases.ref_version(parsed.ref)
        if known_ref is not None:
            return known_ref
        wanted = parsed.ref
    known = releases.known_version(wanted) if wanted is not None else None
    if known is not None:
        return known
    package = instance.remote_package(name)
    if isinstance(package, Package):
        return package
    what = f"release {wanted}" if wanted else f"the version constraint {constraint!r}"
    return (
        f"{what} is not one driftwatch knows ({', '.join(releases.known)}) and its source "
        f"cannot be evaluated: {package}"
    )
