"""The one base class of driftwatch's own errors.

Why a shared base: an error driftwatch raises on purpose carries a message written for the
operator (it names the key, the file or the table, and the cause) and is printed as one line,
never as a traceback. The CLI catches ``DriftwatchError`` once instead of a list of classes
that goes stale whenever a module adds one; anything else that escapes is a bug, and keeps
its traceback.
"""

from __future__ import annotations


class DriftwatchError(Exception):
    """An expected failure whose message is fit to show the operator as it is."""
