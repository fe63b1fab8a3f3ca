"""The body of an indented heredoc (``<<-``) as HCL reads it: strip markers, then indentation.

HCL cuts a heredoc's template into tokens: literal text, one token per line (the newline
included), and ``${ }`` / ``%{ }`` sequences. A ``~`` strip marker trims the whitespace of the
literal token next to it, at parse time (so once, not per loop iteration). Only then does ``<<-``
remove the indentation: the smallest count of leading spaces over the tokens that start a line,
where a token starts a line if the literal token before it ended with a newline, a whitespace-only
line does not count, and a sequence at the start of a line counts as zero. Trimming can change
which tokens start a line: after ``%{ for x in xs ~}`` eats a newline, the next line's
indentation is no longer at the start of a line and is kept (hclsyntax's
``flushHeredocTemplateParts``).

``flush`` returns the body with that done and the ``~`` markers removed, ready to be evaluated
as a plain template.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_LINES = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass
class _Token:
    text: str
    literal: bool


def _tokens(body: str, sequence_end: Callable[[str, int], int]) -> list[_Token]:
    tokens: list[_Token] = []

    def literal(text: str) -> None:
        tokens.extend(_Token(line, True) for line in _LINES.findall(text))

    i = start = 0
    while i < len(body):
        if body.startswith(("$${", "%%{"), i):  # escaped: literal text
            i += 3
        elif body.startswith(("${", "%{"), i):
            literal(body[start:i])
            end = sequence_end(body, i + 2)
            tokens.append(_Token(body[i:end], False))
            i = start = end
        else:
            i += 1
    literal(body[start:])
    return tokens


def _strip(tokens: list[_Token]) -> None:
    """Apply each ``~`` to the adjacent literal token, and drop the marker from its sequence."""
    for index, token in enumerate(tokens):
        if token.literal:
            continue
        if token.text[2:3] == "~":
            token.text = token.text[:2] + token.text[3:]
            if index > 0 and tokens[index - 1].literal:
                tokens[index - 1].text = tokens[index - 1].text.rstrip()
        if token.text.endswith("~}") and len(token.text) > 3:
            token.text = token.text[:-2] + "}"
            if index + 1 < len(tokens) and tokens[index + 1].literal:
                tokens[index + 1].text = tokens[index + 1].text.lstrip()


def _dedent(tokens: list[_Token]) -> None:
    margin: int | None = None
    adjust: list[_Token] = []
    line_start = True
    for token in tokens:
        if line_start:
            line_start = False
            if not token.literal:
                margin = 0
            else:
                trimmed = token.text.lstrip()
                if trimmed or not token.text.endswith("\n"):  # a blank line does not count
                    spaces = len(token.text) - len(trimmed)
                    margin = spaces if margin is None else min(margin, spaces)
                    adjust.append(token)
        if token.literal and token.text.endswith("\n"):
            line_start = True
    for token in adjust:
        token.text = token.text[margin or 0 :]


def flush(body: str, sequence_end: Callable[[str, int], int]) -> str:
    """``body`` of a ``<<-`` heredoc after HCL's strip markers and indentation removal.

    ``sequence_end(text, i)`` is the index just past the ``}`` closing the sequence whose
    contents start at ``i`` (the evaluator's, which knows quoted strings and nesting).
    """
    tokens = _tokens(body, sequence_end)
    _strip(tokens)
    _dedent(tokens)
    return "".join(token.text for token in tokens)


def strip(body: str, sequence_end: Callable[[str, int], int]) -> str:
    """``body`` after HCL's strip markers only: a template file (``templatefile``), which hclsyntax
    tokenises as it does a heredoc's body (one literal token per line) but does not dedent."""
    tokens = _tokens(body, sequence_end)
    _strip(tokens)
    return "".join(token.text for token in tokens)
