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

``flush`` returns the body with that done and the ``~`` markers removed, written as a native
quoted string ready to be parsed and evaluated as a plain template. Whitespace is Go's
``unicode.IsSpace`` (driftwatch.terraform.strip_markers), as HCL trims it and counts
indentation (U+001C is text, not indentation). A CRLF file's lines end with ``\\r\\n``, and the
value keeps them, as Terraform's does: the ``\\r`` is whitespace to a marker, like the ``\\n``.

The quoted string is written token by token, never by re-reading the joined text: a literal
left ending in ``$`` by a ``~`` (``$ ${~ x}``) must not run into the next ``${`` as the
``$${`` escape, so such a ``$`` (or ``%`` before ``%{``) is written ``\u0024`` (``\u0025``),
and so is the ``$`` of a literal ``$${`` (python-hcl2 would read its own ``$${`` escape up to
the next ``}``, even one of a following interpolation).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from driftwatch.terraform.strip_markers import lstrip_space, rstrip_space

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
                tokens[index - 1].text = rstrip_space(tokens[index - 1].text)
        if token.text.endswith("~}") and len(token.text) > 3:
            token.text = token.text[:-2] + "}"
            if index + 1 < len(tokens) and tokens[index + 1].literal:
                tokens[index + 1].text = lstrip_space(tokens[index + 1].text)


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
                trimmed = lstrip_space(token.text)
                if trimmed or not token.text.endswith("\n"):  # a blank line does not count
                    spaces = len(token.text) - len(trimmed)
                    margin = spaces if margin is None else min(margin, spaces)
                    adjust.append(token)
        if token.literal and token.text.endswith("\n"):
            line_start = True
    for token in adjust:
        token.text = token.text[margin or 0 :]


_QUOTE_ESCAPES = {"\\": "\\\\", '"': '\\"'}


def escape_quoted(text: str) -> str:
    """Literal text as a native quoted string holds it: backslashes and quotes escaped (a
    heredoc's newlines, ``\\r\\n`` included, stay as they are, so that its lines keep their
    numbers; python-hcl2 keeps a raw CR in a quoted string's text)."""
    return "".join(_QUOTE_ESCAPES.get(char, char) for char in text)


def _quoted(tokens: list[_Token], escape: Callable[[str], str]) -> str:
    out: list[str] = ['"']
    for index, token in enumerate(tokens):
        if not token.literal:
            out.append(token.text)
            continue
        text = escape(token.text).replace("$${", "\\u0024{").replace("%%{", "\\u0025{")
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if text.endswith("$") and following.startswith("${"):
            text = text[:-1] + "\\u0024"
        elif text.endswith("%") and following.startswith("%{"):
            text = text[:-1] + "\\u0025"
        out.append(text)
    kept = [text for text in out[1:] if text]
    if len(tokens) > 1 and len(kept) == 1 and kept[0].startswith("${"):
        # Only one interpolation is left, but its neighbours were trimmed away, not absent: HCL
        # still converts its value to a string ("  ${~ 5}" is "5", "${5}" is 5). An empty
        # directive keeps the template more than that interpolation.
        out.append("%{ if true }%{ endif }")
    out.append('"')
    return "".join(out)


def flush(
    body: str, sequence_end: Callable[[str, int], int], escape: Callable[[str], str] = escape_quoted
) -> str:
    """``body`` of a ``<<-`` heredoc after HCL's strip markers and indentation removal, as a
    native quoted string (``escape`` writes its literal text).

    ``sequence_end(text, i)`` is the index just past the ``}`` closing the sequence whose
    contents start at ``i`` (the evaluator's, which knows quoted strings and nesting).
    """
    tokens = _tokens(body, sequence_end)
    _strip(tokens)
    _dedent(tokens)
    return _quoted(tokens, escape)


def strip(
    body: str, sequence_end: Callable[[str, int], int], escape: Callable[[str], str] = escape_quoted
) -> str:
    """``body`` after HCL's strip markers only, as a native quoted string: a ``<<`` heredoc, a
    template file (``templatefile``) or a ``.tf.json`` string, which hclsyntax tokenises as it
    does a heredoc's body (one literal token per line) but does not dedent."""
    tokens = _tokens(body, sequence_end)
    _strip(tokens)
    return _quoted(tokens, escape)
