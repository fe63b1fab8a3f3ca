"""Hard limits of the Terraform evaluator: what keeps a hostile repository from exhausting CPU,
memory or the Python stack.

A scanned repository is input, and Terraform's language is expressive enough to be a bomb: a
chain of locals that each double a string or a list grows exponentially, three nested ``for``
expressions over ``range(1000)`` are a billion iterations, ``count = 100000000`` is a hundred
million tables. Terraform itself would choke on these too; driftwatch must instead report them
and carry on with the rest. Three mechanisms, all reported as :class:`EvaluationError` (the
evaluator's one documented exception) or as an Unknown naming the file and line:

* every value an expression produces is bounded (elements, characters, nesting depth), checked
  where values are made plain -- the result of every expression and every function argument;
* every evaluation step is counted against a *budget*: one per expression node, per element
  made plain and per value comparison, and one per CHARS_PER_STEP characters of every string
  an argument or a result carries (``charge_size``): the budget charges the work done, so a
  thousand calls on a 590K-character string cost as much as they take, not a thousand steps.
  ``declare_target`` gives each target one budget, so
  the whole evaluation of a target is bounded, however the work is spread over expressions;
  inside it each table, and each value evaluated outside a table (a variable, a provider, a
  ``count``), has a budget of its own (TABLE_STEPS, VALUE_STEPS), so that one hostile value
  stops alone;
* module and resource expansion (``count``, ``for_each``, nested module calls) is bounded by
  the walker (``driftwatch.terraform.modules``).

The limits are far above what real configurations need (see TARGET_STEPS).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from driftwatch.errors import DriftwatchError

MAX_DEPTH = 200  # expression nesting, in evaluation levels
MAX_VALUE_ELEMENTS = 100_000  # elements of one value, nested ones included (counted as if copied)
MAX_VALUE_CHARS = 1_000_000  # characters of one string, and of all the strings in one value
MAX_VALUE_DEPTH = 100  # nesting of one value (lists, maps, objects)
DEFAULT_STEPS = 1_000_000  # one evaluate() call outside a budget (tests, a -var value)
# Evaluation runs at 0.15-0.3 M steps/s. A generated repository of 2,000 files and 200 tables
# takes 18,500 steps in all; the bundled examples 250. Each table gets its own budget, so that
# one hostile table does not starve the others, inside one budget for the whole target.
TABLE_STEPS = 250_000  # ~1-2 s of CPU at most
TARGET_STEPS = 2_500_000  # ~10-15 s of CPU at most
# A value evaluated outside any table (a variable, a provider, a count or for_each) has a budget
# of its own inside the target's: half of it, not a table's. A for_each is where a config-driven
# repository joins its tables (150 tables, each indexes filtered from a flattened list, take
# ~290,000 steps) and a table's budget stopped it, losing every table; a hostile value spending
# this much still leaves the target's other tables their share.
VALUE_STEPS = TARGET_STEPS // 2
# Characters handled per step: a step is ~4 us; a pass of Python's string code over 64
# characters (upper(), title()'s loop, a regex scan, a copy) costs about that or less.
CHARS_PER_STEP = 64


class EvaluationError(DriftwatchError):
    """The evaluator's one documented error type, raised only for hard limits: nesting deeper
    than MAX_DEPTH, or an exhausted step budget.

    Carries ``.line``/``.column`` when known, so callers can point at the expression.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


class BudgetExceeded(EvaluationError):
    """A step budget ran out; every later evaluation under it fails at once. ``budget`` is the
    one that ran out (its ``reported`` flag lets callers report it once)."""

    def __init__(self, budget: Budget, line: int | None = None):
        super().__init__(
            f"evaluation stopped after {budget.steps:,} steps (driftwatch's limit per {budget.scope}): "
            "the configuration builds values too large to evaluate",
            line,
        )
        self.budget = budget


class ValueTooLarge(Exception):
    """A value over one of the MAX_VALUE_* limits; the evaluator turns it into a Terraform-style
    error (Unknown naming the file and line) where the value was made."""


class Budget:
    """A number of evaluation steps. Budgets nest: a step is spent in the budget and in every
    budget around it, and the first one to run out stops the evaluation."""

    def __init__(self, steps: int, scope: str, parent: Budget | None = None):
        self.steps = steps
        self.remaining = steps
        self.scope = scope
        self.parent = parent
        self.reported = False

    @property
    def used(self) -> int:
        return self.steps - self.remaining

    def spend(self, steps: int = 1, line: int | None = None) -> None:
        budget: Budget | None = self
        while budget is not None:
            budget.remaining -= steps
            if budget.remaining < 0:
                raise BudgetExceeded(budget, line)
            budget = budget.parent


_state = threading.local()


def current() -> Budget | None:
    budget: Budget | None = getattr(_state, "budget", None)
    return budget


@contextmanager
def budget(steps: int, scope: str = "evaluation") -> Iterator[Budget]:
    """Count every evaluation step in this thread against ``steps`` (and any enclosing budget)."""
    previous = current()
    own = Budget(steps, scope, previous)
    _state.budget = own
    try:
        yield own
    finally:
        _state.budget = previous


def charge(steps: int = 1, line: int | None = None) -> None:
    """Spend ``steps``; raise BudgetExceeded when a budget is gone (no-op without a budget)."""
    active: Budget | None = getattr(_state, "budget", None)
    if active is not None:
        active.spend(steps, line)


def charge_size(chars: int, line: int | None = None) -> None:
    """Spend the steps that handling ``chars`` characters (or elements) costs."""
    if chars >= CHARS_PER_STEP:
        charge(chars // CHARS_PER_STEP, line)
