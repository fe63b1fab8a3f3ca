"""Which AWS account a declared table belongs to, and whether the scan reads that account.

A ``provider "aws"`` block (the root's, or a legacy child module's own) binds its tables to an
account: ``assume_role`` makes the provider act in the role's account, ``allowed_account_ids`` /
``forbidden_account_ids`` make Terraform refuse to plan in any other (spec.AccountBinding, evaluated by
driftwatch.terraform.modules). driftwatch reads every table with its target's credentials (the
target's ``role_arn``, else the base identity) and never assumes the provider's role -- that is
usually a write role, and driftwatch's access is read-only by rule. So when the account it reads
is not the table's, the table is not compared (it would be compared with that account's
same-named table: a wrong "in sync" or a false "missing"): it is an error row saying which
account the table is declared for and how to give the target that account.

Pure decisions over plain values, as driftwatch.diff: the scan supplies the account it reads.
A part of the binding that could not be evaluated is not checked (never a false alarm); it is
shown as unresolved instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from driftwatch.spec import AccountBinding, Unknown, Unresolved

_ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")
ATTRIBUTE: Final = "account"  # the name of an unresolved binding in reports and inspect


def is_account_id(value: Any) -> bool:
    """An AWS account id: exactly twelve ASCII digits."""
    return isinstance(value, str) and _ACCOUNT_ID.fullmatch(value) is not None


def role_account(arn: str) -> str | None:
    """The account of an IAM role ARN (``arn:<partition>:iam::<account>:role/<name>``: its fifth
    field), or None when ``arn`` is not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[4] if is_account_id(parts[4]) else None


def account_set(value: Any, name: str) -> frozenset[str] | Unknown | None:
    """``allowed_account_ids`` / ``forbidden_account_ids`` as evaluated: a set of ids, None when
    unset or empty (the provider then checks nothing), Unknown when it cannot be judged."""
    if value is None:
        return None
    if isinstance(value, Unknown):
        return Unknown(f"{name}: {value.reason}")
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return Unknown(f"{name} is not a list of account ids")
    ids: set[str] = set()
    for item in value:
        if isinstance(item, Unknown):
            return Unknown(f"{name}: {item.reason}")
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            return Unknown(f"{name} is not a list of account ids")
        ids.add(str(item))  # Terraform converts a number to the string of a set(string)
    return frozenset(ids) or None


def unresolved(binding: AccountBinding | None) -> tuple[Unresolved, ...]:
    """The parts of the binding that could not be evaluated, as unresolved notes: the table is
    still compared (as before driftwatch knew about accounts), and the report says which
    account check it could not make."""
    if binding is None:
        return ()
    parts = (
        (f"{binding.via}.role_arn", binding.assumed),
        ("allowed_account_ids", binding.allowed),
        ("forbidden_account_ids", binding.forbidden),
    )
    return tuple(
        Unresolved(ATTRIBUTE, f"provider {binding.provider}: {value.reason}; the account is not checked")
        for _, value in parts
        if isinstance(value, Unknown)
    )


def checked_anyway(binding: AccountBinding) -> bool:
    """Whether the binding names its account whatever credentials the provider uses: a role
    (its ARN's account) or allowed_account_ids (known or not: Unknown is noted on its own)."""
    return binding.assumed is not None or binding.allowed is not None


def mixed_credentials(bindings: Iterable[AccountBinding | None]) -> dict[str, Unresolved]:
    """Notes for the providers of one target whose tables Terraform reads with credentials of
    their own, when the target's tables are read under more than one choice of credentials.

    driftwatch reads every table of a target with the target's credentials, one account. A root
    whose ``aws`` provider reads with profile "dev" and ``aws.prod`` with profile "prod" (or
    with static keys) spans accounts, so some of its tables would be compared with another
    account's same-named table: a wrong "in sync" or a false "missing". When every provider
    makes the same choice (one profile for the whole root, the usual local set-up) the target
    is configured for that one account, and nothing is said. A provider whose account is checked
    anyway (a role_arn, allowed_account_ids) gets no note."""
    listed = list(bindings)
    choices = {(b.credentials, b.credentials_choice) if b is not None else ((), 0) for b in listed}
    if len(choices) < 2:
        return {}
    notes: dict[str, Unresolved] = {}
    for binding in listed:
        if binding is None or not binding.credentials or checked_anyway(binding):
            continue
        own = (binding.credentials, binding.credentials_choice)
        others = sorted({", ".join(c) or "the environment's" for c, n in choices if (c, n) != own})
        notes[binding.provider] = Unresolved(
            ATTRIBUTE,
            f"provider {binding.provider} reads with its own credentials ({', '.join(binding.credentials)}), "
            f"other tables of this target with others ({'; '.join(others)}): driftwatch reads all of them "
            "with the target's, so the account is not checked (set allowed_account_ids in each provider "
            "block, or split the tables into targets with their own role_arn)",
        )
    return notes


def checkable(binding: AccountBinding | None) -> bool:
    """Whether the binding says anything the account read can be checked against."""
    if binding is None:
        return False
    return any(
        value is not None and not isinstance(value, Unknown)
        for value in (binding.assumed, binding.allowed, binding.forbidden)
    )


def describe(binding: AccountBinding) -> str:
    """What the binding declares, for an error row: ``provider aws.prod (assume_role 2222...)``."""
    parts = []
    if isinstance(binding.assumed, str):
        parts.append(f"{binding.via} {binding.assumed}")
    if isinstance(binding.allowed, frozenset):
        parts.append("allowed_account_ids " + ", ".join(sorted(binding.allowed)[:5]))
    if isinstance(binding.forbidden, frozenset):
        parts.append("forbidden_account_ids " + ", ".join(sorted(binding.forbidden)[:5]))
    parts.extend(binding.credentials)
    return f"provider {binding.provider}" + (f" ({'; '.join(parts)})" if parts else "")


def problem(binding: AccountBinding | None, account: str, how: str) -> str | None:
    """Why a table bound by ``binding`` must not be read in ``account`` (the account the scan
    reads, which ``how`` names: "the target's role_arn", ...), in one line; None when it may.

    In the order Terraform would stop: the provider acts in the role's account, then refuses an
    account its lists exclude."""
    if binding is None:
        return None
    provider = f"provider {binding.provider}"
    reads = f"driftwatch reads account {account} ({how})"
    if isinstance(binding.assumed, str) and binding.assumed != account:
        return (
            f"declared for account {binding.assumed} ({provider}, {binding.via}), but {reads}: "
            f"give the target a role_arn in {binding.assumed}"
        )
    if isinstance(binding.allowed, frozenset) and account not in binding.allowed:
        ids = ", ".join(sorted(binding.allowed)[:5]) + (", ..." if len(binding.allowed) > 5 else "")
        noun = "account" if len(binding.allowed) == 1 else "accounts"
        return (
            f"declared for {noun} {ids} ({provider}, allowed_account_ids), but {reads}: "
            "give the target a role_arn in an allowed account"
        )
    if isinstance(binding.forbidden, frozenset) and account in binding.forbidden:
        return (
            f"not for account {account} ({provider}, forbidden_account_ids), but {reads}: "
            "give the target a role_arn in the account the table is in"
        )
    return None
