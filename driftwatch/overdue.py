"""When is a scheduled scan overdue? Decided on the monotonic clock, never the wall clock.

APScheduler's interval trigger keeps its next run time in wall-clock time. A wall clock set
back (an NTP step, a VM restored from a snapshot) moves the next scan out by as much as the
clock went back, and nothing scans meanwhile while /metrics keeps showing the last results.
The daemon asks ``overdue`` periodically, on a thread that waits on the monotonic clock, and
starts the scan itself when the answer is yes. Pure, so the rule is tested without threads.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_MARGIN_SECONDS = 10.0
MARGIN_FRACTION = 0.1  # of the interval: an executor a little late is not a stalled schedule


@dataclass(frozen=True)
class Mark:
    """The last moment a scan started or finished, on both clocks."""

    monotonic: float
    wall: float  # Unix seconds


@dataclass(frozen=True)
class Overdue:
    idle_seconds: float
    limit_seconds: float
    wall_shift_seconds: float  # wall-clock time elapsed minus real time elapsed since the mark

    @property
    def reason(self) -> str:
        said = f"no scan started for {self.idle_seconds:.0f}s (limit {self.limit_seconds:.0f}s)"
        if self.wall_shift_seconds <= -1:
            return (
                f"{said}: the wall clock was set back {-self.wall_shift_seconds:.0f}s since the last "
                "scan, and the scheduler counts its interval on the wall clock"
            )
        return f"{said}: the scheduler did not start it"


def limit_seconds(interval: float, jitter: float) -> float:
    """How long after the last scan started or finished the next one must have started."""
    return interval + jitter + max(MIN_MARGIN_SECONDS, MARGIN_FRACTION * interval)


def check_period(interval: float) -> float:
    """How often to ask: often enough that a stalled schedule costs little more than its limit."""
    return min(30.0, max(1.0, interval / 4))


def overdue(mark: Mark, *, now_monotonic: float, now_wall: float, limit: float) -> Overdue | None:
    """Overdue if more than ``limit`` real seconds passed since ``mark`` without a scan start."""
    idle = now_monotonic - mark.monotonic
    if idle <= limit:
        return None
    return Overdue(idle, limit, (now_wall - mark.wall) - idle)
