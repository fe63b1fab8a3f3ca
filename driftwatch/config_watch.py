"""Whether the configuration file still says what the running daemon runs.

``driftwatch run`` reads its configuration once, at start: there is no reload (a half-applied
configuration would be worse). A file edited under a running daemon (``kubectl edit
configmap``: the mounted file changes, the pod does not restart; a VM's file edited in place)
was then silently not applied: a target added there was never scanned, and Slack's silence
about it read as "in sync". The daemon compares the file with what it runs at every scan and
says a difference (driftwatch.daemon); this module decides what the difference is.
"""

from __future__ import annotations

from pathlib import Path

from driftwatch.config import Config, ConfigError, load_config


def describe_change(running: Config, found: Config) -> str | None:
    """What ``found`` changes from ``running``, in words; None when they are the same (a
    comment or the layout changed). Targets by name, every other setting by its top-level key."""
    if found == running:
        return None
    parts: list[str] = []
    before = {target.name: target for target in running.targets}
    after = {target.name: target for target in found.targets}
    if added := [name for name in after if name not in before]:
        parts.append("targets added: " + ", ".join(added))
    if removed := [name for name in before if name not in after]:
        parts.append("targets removed: " + ", ".join(removed))
    if changed := [name for name in after if name in before and after[name] != before[name]]:
        parts.append("targets changed: " + ", ".join(changed))
    settings = [
        key
        for key in type(running).model_fields
        if key != "targets" and getattr(running, key) != getattr(found, key)
    ]
    if settings:
        parts.append("settings changed: " + ", ".join(settings))
    return "; ".join(parts) or "targets reordered"


def config_change(running: Config, path: Path) -> str | None:
    """What the file at ``path`` changes from ``running`` (None: nothing), including that it no
    longer loads: a restart would then fail, which is worth knowing before the restart."""
    try:
        found, _ = load_config(path)
    except (ConfigError, ValueError) as error:  # ValueError: bytes that are not UTF-8
        return f"the file no longer loads, so a restart would fail: {error}"
    return describe_change(running, found)
