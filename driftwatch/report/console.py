"""One way to build a rich Console for reports, so piped output is never truncated.

On a terminal rich uses the terminal's width. Written to a file or a pipe (CI logs, ``| less``)
rich would assume 80 columns and cut long attribute names with an ellipsis; a report must
never hide what drifted, so non-terminal output gets a wide fixed width instead.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console

PIPED_WIDTH = 200


def make_console(out: TextIO) -> Console:
    is_terminal = hasattr(out, "isatty") and out.isatty()
    return Console(file=out, highlight=False, soft_wrap=True, width=None if is_terminal else PIPED_WIDTH)
