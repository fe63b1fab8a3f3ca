"""Targets of a scan, from the config file: each Terraform root with its var files and vars."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from driftwatch.config import Config, ModulesConfig
from driftwatch.errors import DriftwatchError
from driftwatch.gitinfo import origin_url, path_in_checkout
from driftwatch.terraform.roots import Checkout, RepoSurvey, repository_key
from driftwatch.terraform.sources import ModuleSettings
from driftwatch.terraform.target import TargetInput


class UnknownTargetError(DriftwatchError, ValueError):
    """``--target`` named a target the config does not have."""


class RepoPathError(DriftwatchError):
    """The configuration's ``repo`` cannot be resolved to a directory path."""


def resolved_repo(path: Path) -> Path:
    """``path`` with every symlink resolved, or ``RepoPathError`` saying why it cannot be.

    A checkout's path is a symlink that git-sync swaps, so it can be broken into a loop by
    whoever manages it; that is a one-line error of the configuration, not a traceback (pathlib
    reports a loop as ``RuntimeError`` before Python 3.13, as ``OSError`` after)."""
    try:
        return path.resolve()
    except RuntimeError:
        raise RepoPathError(f"repo {path}: a symlink loop, not a directory") from None
    except OSError as error:
        raise RepoPathError(f"repo {path}: cannot be resolved ({error.strerror or error})") from None


def terraform_workspace(environ: Mapping[str, str]) -> str:
    """The workspace Terraform selects when nothing names one: ``TF_WORKSPACE``, else
    ``default``. A CI job that runs ``terraform plan`` with ``TF_WORKSPACE=prod`` and then
    driftwatch in the same environment must see the same ``terraform.workspace``: evaluated as
    ``default``, names and settings derived from it were another environment's (a false
    ``missing``, or tables compared with the wrong settings)."""
    return environ.get("TF_WORKSPACE") or "default"


def targets_from_config(
    config: Config,
    base: Path,
    only: Sequence[str] = (),
    region_override: str | None = None,
    pending_grace: timedelta | None = None,
) -> list[TargetInput]:
    """TargetInputs for the config's targets (or only those named).

    The repository path is resolved once here, symlinks included, so that every target of one
    scan reads the same snapshot even while git-sync swaps the checkout's symlink under it.
    ``pending_grace`` (the ``--pending-grace`` flag) overrides the config's for every target.
    Remote module sources are fetched as the config's ``modules`` section says.
    """
    names = {t.name for t in config.targets}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UnknownTargetError(
            f"no target named {', '.join(unknown)} in the config (targets: {', '.join(sorted(names))})"
        )
    repo = resolved_repo(config.repo_path(base))
    state = Path(config.state.path)
    default_cache = (state if state.is_absolute() else Path.cwd() / state).parent / "driftwatch-modules"
    modules = config.modules.settings(default_cache, os.environ)
    return [
        TargetInput(
            name=t.name,
            repo=repo,
            root=repo / t.root,
            var_files=tuple(t.var_files),
            vars=dict(t.vars),
            workspace=t.workspace or terraform_workspace(os.environ),
            region=region_override or t.region,
            role_arn=t.role_arn,
            external_id=t.external_id,
            unmanaged_prefixes=tuple(t.unmanaged.prefixes) if t.unmanaged else None,
            unmanaged_alert=bool(t.unmanaged and t.unmanaged.alert),
            pending_grace=(
                pending_grace
                if pending_grace is not None
                else t.pending_grace
                if t.pending_grace is not None
                else config.pending_grace
            ),
            modules=modules,
            allow_empty=t.allow_empty,
        )
        for t in config.targets
        if not only or t.name in only
    ]


def repo_survey(config: Config, repo: Path) -> RepoSurvey:
    """The survey of the configuration's repository, ``repo`` as ``targets_from_config``
    resolved it (the snapshot the scan's targets read, while git-sync may swap the link),
    covering every target's root (also those a ``--target`` leaves out of this scan: they are
    watched by the scans that name them)."""
    roots: list[str] = []
    for target in config.targets:
        try:
            root = (repo / target.root).resolve()
        except (OSError, RuntimeError):  # a loop: that target's own error says so
            continue
        if root.is_relative_to(repo):
            roots.append(root.relative_to(repo).as_posix())
    origin = origin_url(repo)
    checkout = Checkout(repository_key(origin) if origin else None, path_in_checkout(repo))
    return RepoSurvey(repo, tuple(roots), tuple(config.coverage.ignore), checkout)


def adhoc_module_settings(env: Mapping[str, str]) -> ModuleSettings:
    """Module fetching for ``--root`` scans (no config): the defaults of ``modules``, cached in
    ``$DRIFTWATCH_MODULE_CACHE``, else ``$XDG_CACHE_HOME/driftwatch/modules``, else
    ``~/.cache/driftwatch/modules``."""
    cache = env.get("DRIFTWATCH_MODULE_CACHE") or str(
        Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "driftwatch" / "modules"
    )
    return ModulesConfig().settings(Path(cache), env)
