"""The environment driftwatch runs git in: nothing inherited can redirect it or run a command.

Two callers: module downloads (driftwatch.terraform.sources), which fetch over the network, and
the scanned checkout (driftwatch.gitinfo), which must never touch the network. Both start from
an environment built from scratch -- a ``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_CONFIG_PARAMETERS``
or ``GIT_EXTERNAL_DIFF`` in driftwatch's own environment (a CI job, a hook) would otherwise send
git to another repository or run a program -- and without the system git configuration.
"""

from __future__ import annotations

import os


def base_env(*, user_config: bool) -> dict[str, str]:
    """PATH, HOME and a fixed locale; no prompt, no askpass program, no system config.

    ``user_config``: read the user's ``~/.gitconfig`` (a module download needs the operator's
    ``url.*.insteadOf`` and credentials); otherwise ``GIT_CONFIG_GLOBAL=/dev/null`` (git 2.32+).
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "true",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
    }
    if not user_config:
        env["GIT_CONFIG_GLOBAL"] = os.devnull
    return env


def offline_env(overrides: dict[str, str]) -> dict[str, str]:
    """For reading a local repository that is untrusted input: :func:`base_env` without the
    user's config, no network at all, and ``overrides`` (config key -> value) applied on top of
    the repository's own ``.git/config``.

    - ``GIT_NO_LAZY_FETCH=1``: in a partial clone (``--filter=blob:none``) a missing object is
      an error, not a fetch from the promisor remote (whose ``remote.*.uploadpack``,
      ``core.sshCommand`` or ``core.gitProxy`` the repository's config chooses). git 2.39.4+
      and 2.45+ know it; ``GIT_ALLOW_PROTOCOL`` below stops an older git's fetch too.
    - ``GIT_ALLOW_PROTOCOL=none``: no transport is allowed (the variable beats any
      ``protocol.*.allow`` the repository sets).
    - ``GIT_OPTIONAL_LOCKS=0``: a read never refreshes and writes the index.
    - The overrides go in as ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``
      (git 2.31+), which read after the repository's config and take any key, whatever its
      characters (``-c`` cannot hold a ``=`` in a filter's name).
    """
    env = base_env(user_config=False)
    env.update(GIT_NO_LAZY_FETCH="1", GIT_ALLOW_PROTOCOL="none", GIT_OPTIONAL_LOCKS="0")
    env["GIT_CONFIG_COUNT"] = str(len(overrides))
    for index, (key, value) in enumerate(overrides.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env
