"""Template strip markers in quoted strings' interpolations (``"t-${~ var.env ~}-orders"``),
which python-hcl2's grammar lacks: before driftwatch.terraform.strip_markers a file holding one
was a parse error and every table in it went unwatched.

The values of ``CASES`` were printed by ``terraform console`` (Terraform 1.11.4), and
``test_the_table_is_what_terraform_console_prints`` checks them against terraform again where
it is installed. The cases cover whitespace and escaped whitespace on either side, markers on
both sides, adjacent and nested interpolations, a ``$`` or ``%`` left right before the ``${``,
``for`` expressions, function calls, directives beside interpolations, and heredocs (whose
markers work per line). The markers of ``%{ }`` directives follow the same rule, applied once
when the template is parsed (before, they were applied while rendering: other values); and a
heredoc in a file with CRLF line ends keeps its ``\\r\\n`` (``CRLF_CASES``, one CRLF file).
The tables also hold newlines and comments inside ``${ }`` and ``%{ }`` headers, which python-hcl2
read only inside brackets (a parse error before; driftwatch wraps the expression in parentheses).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from terraform_support import REQUIRES_TERRAFORM_CLI

from driftwatch.aws.clients import AwsClients
from driftwatch.scan import scan
from driftwatch.spec import TableStatus, Unknown
from driftwatch.terraform import strip_markers
from driftwatch.terraform.evaluate import Scope, evaluate
from driftwatch.terraform.parse import HclSyntaxError, ParseCache, body_items, parse_text
from driftwatch.terraform.target import TargetInput
from driftwatch.terraform.tfjson import translate

LOCALS = {"env": "dev", "y": "Y"}

# (expression as written in a .tf file, the value terraform console prints for it)
CASES: list[tuple[str, Any]] = [
    ('"t-${~ local.env ~}-orders"', "t-dev-orders"),
    ('"a  ${~ local.y}"', "aY"),
    ('"a \t ${~local.y~} \t b"', "aYb"),
    ('"a\\n${~ local.y ~}\\tb"', "aYb"),
    ('"a\\\\n${~ local.y}"', "a\\nY"),
    ('"a\\u0020${~ local.y}"', "aY"),
    ('"a\\u00a0${~ local.y}"', "aY"),
    ('"a\\u2003${~local.y}"', "aY"),
    ('"a\\u001c${~local.y}"', "a\x1cY"),
    ('"a\\u0085${~local.y}"', "aY"),
    ('"a\\u200b${~local.y}"', "a\u200bY"),
    ('"a\\u180e${~local.y}"', "a\u180eY"),
    ('"a\\u000b\\u000c${~local.y}"', "aY"),
    ('"${local.y} ${~local.y}"', "YY"),
    ('"${local.y ~} ${local.y}"', "YY"),
    ('"${local.y ~}${~local.y}"', "YY"),
    ('"$ ${~ local.y}"', "$Y"),
    ('"% %{~ if true}x%{endif}"', "%x"),
    ('"% ${~ local.y}"', "%Y"),
    ('"$ %{~ if true}x%{endif}"', "$x"),
    ('"$$ ${~ local.y}"', "$$Y"),
    ('"$${x}  ${~ local.y}"', "${x}Y"),
    ('"${ "in ${~ local.y ~} ner" }"', "inYner"),
    ('"a ${~ upper("b ${~ local.y}") ~} c"', "aBYc"),
    ('[for s in ["p", "q"] : "${s}  ${~ local.y}"]', ["pY", "qY"]),
    ('{ for s in ["p"] : "k ${~s}" => "v  ${~ s ~}  w" }', {"kp": "vpw"}),
    ('"  ${~ 5}"', "5"),
    ('"${~ 5 ~}"', 5),
    ('"${~ local.y ~}"', "Y"),
    ('"a ${~local.y}"', "aY"),
    ('"%{ if true } x %{ endif }  ${~ local.y}"', " x Y"),
    ('"%{ if true } x %{ endif }${~ local.y}"', " x Y"),
    ('"${local.y ~}%{ if true }  x%{ endif }"', "Y  x"),
    ('"a  ${~ local.y} # not a comment"', "aY # not a comment"),
    ('"\\t${~ local.y}"', "Y"),
    ('"a ${~ local.y ~}\\n"', "aY"),
    ('"${~ local.y ~}  "', "Y"),
    ('"  ${~ true}"', "true"),
    # $${ and %%{ escapes python-hcl2 reads up to the next "}" wherever it is: driftwatch
    # writes those as \u0024{ / \u0025{ (strip_markers._misread_escape). The case after the
    # first is the argument python-hcl2 used to swallow into it.
    # Terraform ends a heredoc at the first line that is its marker between any whitespace;
    # python-hcl2 read on past a marker followed by blanks, swallowing the cases after it.
    ("<<EOT\nz\nEOT  \n", "z\n"),
    ("<<-EOT\n    q\n    EOT\t \n", "q\n"),
    ("<<EOT\nz\n\tEOT\u00a0\n", "z\n"),
    ("<<EOT\nEOT x\nEOTX\n EOT\n", "EOT x\nEOTX\n"),
    ("<<-EOT\n  ${~ local.y}  \n  EOT \n", "Y  \n"),
    ('"$${ b"', "${ b"),
    ('"}"', "}"),
    ('"$${ ${local.y}"', "${ Y"),
    ('"$${a\\"b}"', '${a"b}'),
    ('"$${a\\\\b}"', "${a\\b}"),
    ('"%%{ if ${local.y} }"', "%{ if Y }"),
    ('"pre $${aws:username} ${local.y}"', "pre ${aws:username} Y"),
    ('"$${"', "${"),
    ('"$$${local.y}"', "$${local.y}"),
    ('"$${$${"', "${${"),
    ('"x$${\\n}"', "x${\n}"),
    ('"$${ %{ if true }y%{ endif } }"', "${ y }"),
    ('"$${ ${~ local.y ~} }"', "${Y}"),
    ('"$${ ${~ local.y}"', "${Y"),
    ('"${"$${"} ${~ local.y}"', "${Y"),
    ('"${~ true ~}"', True),
    ('"$${~ local.y}"', "${~ local.y}"),
    ('"a \\u0020 ${~local.y}"', "aY"),
    ('"${local.y}\\n${~local.y}"', "YY"),
    ('"a ${~ local.y ~} ${~ local.y ~} b"', "aYYb"),
    ('"x ${~ "  ${~ local.y ~}  " ~} z"', "xYz"),
    ('format("%s  ${~ local.y}", "a")', "aY"),
    ('join("  ${~ "-" ~}  ", ["a", "b"])', "a-b"),
    ('"\\\\ ${~ local.y}"', "\\Y"),
    ('"a \\r\\n ${~local.y}"', "aY"),
    ('"a\t\t${~ local.y}"', "aY"),
    ('"a %{~ if true ~} b %{~ endif ~} c"', "abc"),
    ('{ x = "a  ${~ local.y}" }', {"x": "aY"}),
    ('"$$${local.y}"', "$${local.y}"),
    ('"$$$${local.y}"', "$$${local.y}"),
    ('"%%%{ if true }x"', "%%{ if true }x"),
    ('"${~ local.y ~}${~ local.y ~}"', "YY"),
    ('"  ${~ "" ~}  "', ""),
    ('"x  ${~ local.y} ${local.y ~}  z"', "xY Yz"),
    ('"a  %{~ if false } b %{ endif }c"', "ac"),
    ('"%{ for v in ["a","b"] ~}  ${v} %{~ endfor }!"', "ab!"),
    ('"a \u3000${~local.y}"', "aY"),
    ("<<EOT\n  a ${~ local.y ~} b\nEOT\n", "  aYb\n"),
    ("<<-EOT\n  a \n  ${~ local.y}\nEOT\n", "  a \nY\n"),
    ("<<EOT\n  a \n  \n${~ local.y}\nEOT\n", "  a \nY\n"),
    ("<<EOT\n$ ${~ local.y}\nEOT\n", "$Y\n"),
    ("<<-EOT\n  $ ${~ local.y}\n  EOT\n", "$Y\n"),
    ("<<EOT\n% %{~ if true}x%{endif}\nEOT\n", "%x\n"),
    ('<<EOT\n${ "x  ${~ local.y}" }\nEOT\n', "xY\n"),
    ('<<-EOT\n  ${ "x  ${~ local.y ~}  z" }\n  EOT\n', "xYz\n"),
    ("<<EOT\na\x1c ${~ local.y}\nEOT\n", "a\x1cY\n"),
    ("<<EOT\n  ${local.y ~}\n  b\nEOT\n", "  Y  b\n"),
    ("<<EOT\na\\n ${~ local.y}\nEOT\n", "a\\nY\n"),
    ("<<EOT\n$$ ${~ local.y}\nEOT\n", "$$Y\n"),
    ("<<EOT\n$${ ${~ local.y}\nEOT\n", "${Y\n"),
    ('{ "k  ${~ local.y}" = 1 }', {"kY": 1}),
    ('"${~ true ? "a" : "b" ~}"', "a"),
    ('"%{ if "${~ local.y}" == "Y" }ok%{ endif }"', "ok"),
    ('"%{ for v in ["a  ${~ local.y}"] }${v}%{ endfor }"', "aY"),
    ('"é  ${~ local.y} ü  ${~ local.y}"', "éY üY"),
    ('"x /* ${~ local.y} */"', "x /*Y */"),
    ('"a  ${~ {a = "b"}["a"] ~}  c"', "abc"),
    ('"a  ${~ {for k, v in {x = "  ${~ local.y ~}  "} : k => v}["x"] ~}  c"', "aYc"),
    ('"${~local.y~}"', "Y"),
    ('"  \\u0009\\u000A ${~ local.y}"', "Y"),
    ('"a ${~ <<EOT\n  in ${~ local.y}\nEOT\n ~} b"', "a  inY\nb"),
    ("<<EOT\n$${ ${local.y} }\nEOT\n", "${ Y }\n"),
    ("<<-EOT\n  %%{ ${local.y} }\n  EOT\n", "%{ Y }\n"),
    # Directive markers (%{~ ... ~}) trim, when the template is parsed, the one literal part
    # beside them, never across another ${ } or %{ }, once (a for body is trimmed before it is
    # repeated; an untaken branch is trimmed too), with Go's whitespace.
    ('"a%{ if false ~}  b %{ endif }  c"', "a  c"),
    ('"%{ if true } x %{ endif }%{~ if true }y%{ endif }"', " x y"),
    ('"a %{ for v in [1,2] }%{~ endfor } b"', "a  b"),
    ('"a %{ if true ~}%{~ endif } b"', "a  b"),
    ('"a %{ if true }%{~ endif ~} b"', "a b"),
    ('"a %{ if true ~}   %{~ endif } b"', "a  b"),
    ('"a %{ if true ~}   %{ endif } b"', "a  b"),
    ('"a %{ if false }x%{ else ~}%{ endif } b"', "a  b"),
    ('"a %{ if false }x%{~ else }%{ endif } b"', "a  b"),
    ('"a %{ if false ~} b %{ else } c %{ endif } d"', "a  c  d"),
    ('"a %{ if false } b %{ else ~} c %{ endif } d"', "a c  d"),
    ('"a %{ if false } b %{ else } c %{~ endif } d"', "a  c d"),
    ('"a %{ if true } b %{~ else ~} c %{ endif } d"', "a  b d"),
    ('"a %{~ if false ~} b %{~ else ~} c %{~ endif ~} d"', "acd"),
    ('"a %{ if true } %{~ if true ~} b %{~ endif ~} %{ endif } c"', "a b c"),
    ('"a %{ if true ~} %{ if false } b %{ endif } %{~ endif } c"', "a  c"),
    ('"[%{ if true ~} %{ if true ~} x %{~ endif } %{~ endif }]"', "[x]"),
    ('"%{ for v in [1,2] ~}%{ if v == 2 } x%{ endif }%{ endfor }"', " x"),
    ('"%{ for v in ["a","b"] ~} ${v} %{ endfor }."', "a b ."),
    ('"%{ for v in ["a","b"] } ${v} %{~ endfor }."', " a b."),
    ('"x %{ for v in [] ~} y %{~ endfor } z"', "x  z"),
    ('"%{ for v in ["a","b"] }\\n  ${v},%{~ endfor }\\n"', "\n  a,\n  b,\n"),
    ('"%{ for v in [1,2] ~}  %{ if v == 1 ~} one %{~ else ~} two %{~ endif }  %{ endfor }"', "one  two  "),
    ('"${local.y} %{~ if true } x %{ endif }"', "Y x "),
    ('"a ${local.y ~}  %{~ if true } b %{ endif }"', "a Y b "),
    ('"a\\n %{~ if true }x%{ endif }"', "ax"),
    ('"a\\u00a0%{~ if true }x%{ endif }"', "ax"),
    ('"a\\u001c %{~ if true }x%{ endif }"', "a\x1cx"),
    ('"%{ if true ~}\\u001cx%{ endif }"', "\x1cx"),
    ('"%{ if true ~}\\u2003\\u001f x%{ endif }"', "\x1f x"),
    ('"a\\u200b %{~ if true }x%{ endif }"', "a\u200bx"),
    ('"%{ if true ~} $${x} %{~ endif }"', "${x}"),
    ('"$${ %{~ if true }y%{ endif }"', "${y"),
    ('"%{ if true ~}  %%{ x%{ endif }"', "%{ x"),
    ('"x%{ for v in ["a"] ~}\\t%{ for w in [1,2] ~}  ${w}  %{~ endfor } %{~ endfor }y"', "x12y"),
    ('"${ "a %{~ if true ~} b %{ endif }" }"', "ab "),
    ('"${ "a %{ if true ~}%{~ endif } b" }"', "a  b"),
    ('"  ${~ "%{ if true ~}  x  %{~ endif }" ~}  "', "x"),
    ('[for s in ["a", "b"] : "${s} %{~ if s == "a" ~} ! %{~ endif ~} ."]', ["a!.", "b."]),
    ('<<EOT\n${ "a%{ if false ~}  b %{ endif }  c" }\nEOT\n', "a  c\n"),
    ("<<EOT\na %{ for v in [1,2] }%{~ endfor } b\nEOT\n", "a  b\n"),
    ('<<-EOT\n  %{ for v in ["a","b"] ~}\n    ${v}\n  %{ endfor ~}\n  z\n  EOT\n', "    a\n    b\n  z\n"),
    # <<- counts indentation with Go's whitespace: U+001C is text, not indentation.
    ("<<-EOT\n  a\n\t\x1cb\n  EOT\n", " a\n\x1cb\n"),
    # A newline or a comment at the top level of an interpolation, or in an if / for directive's
    # header, which python-hcl2 reads only inside brackets: driftwatch puts the expression in
    # parentheses (strip_markers._wrap). The value keeps its type ("${\n5\n}" is the number 5),
    # and a <<- heredoc's indentation is counted as before: the lines an interpolation spans
    # are not lines of the template.
    ('"${\n  local.y\n}-orders"', "Y-orders"),
    ('"${\n5\n}"', 5),
    ('"${ /* c */ 5 }"', 5),
    ('"${ /* c */ local.y }"', "Y"),
    ('"${ local.y # c\n}"', "Y"),
    ('"${ local.y // c\n}"', "Y"),
    ('"${ /* a\nb */ local.y }"', "Y"),
    ('"a ${~\n local.y \n~} b"', "aYb"),
    ('"a  ${~ # c\n local.y} b"', "aY b"),
    ('"a  ${~ local.y\n ~}  b"', "aYb"),
    ('"a ${ /* c */ local.y ~}  b"', "a Yb"),
    ('"${ local.y ==\n "Y" ? 1 : 2 }"', 1),
    ('"${ true\n? 1\n: 2 }"', 1),
    ('"${ 1 +\n 2 }"', 3),
    ('"${ 1\n + 2 }"', 3),
    ('"${ local.y\n}${\nlocal.y }"', "YY"),
    ('"${\n"x ${\n local.y\n}"\n}"', "x Y"),
    ('"${ "in ${\n local.y\n} n" }"', "in Y n"),
    ('"${ local.y /* } */ }"', "Y"),
    ('"${ local.y # } \n }"', "Y"),
    ('"${ local.y /* " */ }"', "Y"),
    ('"%{ if\n true }x%{ endif }"', "x"),
    ('"%{ if true\n }x%{ endif }"', "x"),
    ('"%{\n if true }x%{ endif }"', "x"),
    ('"%{ for v in\n [1] }${v}%{ endfor }"', "1"),
    ('"%{ if true # c\n }x%{ endif }"', "x"),
    ('"a %{~ if\n true ~}  x  %{~ endif } b"', "ax b"),
    ('"%{ for k,\n v in\n {a = 1} }${k}${v}%{ endfor }"', "a1"),
    ('"%{ for /* c */ v in [1] }${v}%{ endfor }"', "1"),
    ('"${\n<<EOT\nh\nEOT\n}"', "h\n"),
    ('"${~\n5\n~}"', 5),
    ('"  ${~\n5}"', "5"),
    ('"$${ ${\n local.y\n}"', "${ Y"),
    ('"${\n  local.y\n} $${x}"', "Y ${x}"),
    ('{ "k ${\nlocal.y\n}" = 1 }', {"k Y": 1}),
    ('[for s in ["a"] : "${\n s\n}"]', ["a"]),
    ('"${ true ? # c\n 1 : 2 }"', 1),
    ('"${\n  local.y == "Y"\n  ? "a"\n  : "b"\n}"', "a"),
    ('"%{ if local.y\n == "Y" }ok%{ else }no%{ endif }"', "ok"),
    ('"${ # only\n local.y # comments\n /* here */ }"', "Y"),
    ('"${ upper(\n  local.y\n) }"', "Y"),
    ('"${\n  [for v in [1, 2] : v * 2]\n}"', [2, 4]),
    ("<<EOT\na ${\n  local.y\n} b\nEOT\n", "a Y b\n"),
    ("<<-EOT\n    a ${\n  local.y\n} b\n    c\n    EOT\n", "a Y b\nc\n"),
    ("<<-EOT\n    a ${\nlocal.y\n    } b\n    c\n    EOT\n", "a Y b\nc\n"),
    ("<<-EOT\n    ${\nlocal.y\n}\n    c\n    EOT\n", "Y\nc\n"),
    ("<<-EOT\n    a ${ local.y # c\n} b\n    c\n    EOT\n", "a Y b\nc\n"),
    ("<<EOT\n${ local.y /* } */ }\nEOT\n", "Y\n"),
    ("<<EOT\n${ local.y # }\n}\nEOT\n", "Y\n"),
    ("<<EOT\n${\n5\n}\nEOT\n", "5\n"),
    ("<<-EOT\n  a  ${~\n  local.y\n  ~}  b\n  EOT\n", "aYb\n"),
    ("<<-EOT\n  %{ if\n true ~}\n    x\n  %{ endif }\n  EOT\n", "    x\n\n"),
    ('<<-EOT\n  x\n  ${\n"  in ${\n local.y\n}"\n}\n  EOT\n', "x\n  in Y\n"),
    ('<<EOT\n${ "a" /* " */ }\nEOT\n', "a\n"),
    ("<<-EOT\n      a\n    ${ # c\n  local.y }\n    EOT\n", "  a\nY\n"),
    ('"${\n  local.y\n  }%{ if true }${\n5\n}%{ endif }"', "Y5"),
    ('"${ 2 *\n3 }"', 6),
    ('"${ true ?\n1\n:\n2 }"', 1),
    ('"${ local.y\n}${~\n"  "}"', "Y  "),
    ("<<-EOT\n  ${ local.y /* } */ ~}  b\n  EOT\n", "Yb\n"),
    # A "}" or a '"' in a comment of a heredoc's interpolation neither ends it nor opens a string
    # (before, a <<- heredoc counted the comment's lines, or none after it: other values).
    ('<<-EOT\n    a ${ local.y # "\n}\n    b\n    EOT\n', "a Y\nb\n"),
    ("<<-EOT\n    a ${ local.y /* }\n  x */ }\n    b\n    EOT\n", "a Y\nb\n"),
    ("<<EOT\na  ${~ local.y # }\n}  b\nEOT\n", "aY  b\n"),
    ('<<EOT\n${ "x" # }\n~}  b\nEOT\n', "xb\n"),
    # Comments holding "${", "}" or "~}" inside an interpolation are comments, not template syntax.
    ('"${ local.y\n# comment with ${ and }\n}"', "Y"),
    ('"a ${ local.y /* ~} */ }  b"', "a Y  b"),
    ('"a ${ local.y # ~}\n~}  b"', "a Yb"),
    ('"a  ${~ /* ${~ */ local.y}"', "aY"),
    ('"${ local.y }${ # c\n local.y }"', "YY"),
    ('"${ <<EOT\nx\nEOT\n\n}"', "x\n"),
    ('"${ local.y\n}" == "Y"', True),
    ('"%{ for i, v in\n ["a"] ~} ${i}${v} %{~ endfor }"', "0a"),
]

# .tf.json strings are templates too, read like a template file: one literal token per line.
JSON_CASES: dict[str, tuple[str, Any]] = {
    "j0": ("t-${~ local.y ~}-orders", "t-Y-orders"),
    "j1": ("a \n  \n${~ local.y}", "a \nY"),
    "j2": ("a\t ${~ local.y ~} \n b", "aY b"),
    "j3": ("$ ${~ local.y}", "$Y"),
    "j4": ('${ "x  ${~ local.y}" }', "xY"),
    "j5": ("a\u001c${~ local.y}", "a\u001cY"),
    "j6": ("  ${~ 5}", "5"),
    "j7": ("${~ 5 ~}", 5),
    "j8": ("${local.y ~}\n  \n b", "Y  \n b"),
    "j9": ("a %{~ if true ~} \n b \n %{~ endif ~} c", "a b \nc"),
    "j10": ('${ "a%{ if false ~}  b %{ endif }  c" }', "a  c"),
    "j11": ("a%{ if false ~}  b %{ endif }  c", "a  c"),
    "j12": ("a \r\n  ${~ local.y}", "a \r\nY"),
    "j13": ("${local.y ~}\r\n b", "Y b"),
    "j14": ("${\n  local.y\n}-orders", "Y-orders"),
    "j15": ("${\n5\n}", 5),
    "j16": ("${ local.y # c\n}", "Y"),
    "j17": ("a ${ /* c */ local.y }", "a Y"),
    "j18": ("%{ if\n true }x%{ endif }", "x"),
    "j19": ("a  ${~\n local.y\n~}  b", "aYb"),
    "j20": ("${ local.y /* } */ }", "Y"),
    "j21": ('a ${ local.y # "\n}  ${~ local.y}', "a YY"),
    "j22": ("a ${ local.y /* } */ ~}  b", "a Yb"),
}

# Template files for templatefile(): CRLF line ends are kept, and markers trim one line.
TEMPLATES: dict[str, str] = {
    "crlf.tpl": "  pq\r\n  ${~ x}\r\nz \r\n",
    "crlf-for.tpl": "%{ for v in [1,2] ~}\r\n  ${v}\r\n%{ endfor ~}\r\nend\r\n",
    "nested.tpl": '${ "a%{ if false ~}  b %{ endif }  c" }\n',
    "multiline.tpl": "a ${\n  x\n} b\n%{ for v in\n [1] }${v}%{ endfor }\n${ x # c\n}\n",
}

# (expression, value) in a file with CRLF line ends: a heredoc keeps its "\r\n" (a ~ or <<-
# trims it as whitespace, as any other), as does a template file read by templatefile().
CRLF_CASES: list[tuple[str, Any]] = [
    ("<<EOT\n  pq\nEOT\n", "  pq\r\n"),
    ("<<-EOT\n    pq\n  r\n  EOT\n", "  pq\r\nr\r\n"),
    ("<<EOT\n  a  \n  ${~ local.y ~}  \n  b\nEOT\n", "  a  \r\nY  b\r\n"),
    ("<<-EOT\n    a  \n    ${~ local.y ~}  \n    b\n  EOT\n", "    a  \r\nY    b\r\n"),
    ("<<EOT\n%{ for v in [1,2] ~}\n  ${v}\n%{ endfor ~}\nend\nEOT\n", "  1\r\n  2\r\nend\r\n"),
    (
        "<<-EOT\n  %{ for v in [1,2] ~}\n    ${v}\n  %{~ endfor }\n  end\n  EOT\n",
        "      1\r\n    2\r\n\r\n  end\r\n",
    ),
    ("<<-EOT\n\n    x\n  \n  y\n  EOT\n", "\r\n  x\r\n  \r\ny\r\n"),
    ('<<EOT\n${ "x  %{~ if true }y%{ endif }" }\nEOT\n', "xy\r\n"),
    ("<<EOT\na \n${~ local.y}\nEOT\n", "aY\r\n"),
    ("<<EOT\nEOT\n", ""),
    ("<<EOT\n  pq\nEOT \n", "  pq\r\n"),  # closed by "EOT \r\n", as Terraform closes it
    ('"a\\r\\n${~ local.y}"', "aY"),
    ('templatefile("crlf.tpl", { x = "X" })', "  pq\r\nX\r\nz \r\n"),
    ('templatefile("crlf-for.tpl", {})', "  1\r\n  2\r\nend\r\n"),
    ('templatefile("nested.tpl", {})', "a  c\n"),
    ('templatefile("multiline.tpl", { x = "X" })', "a X b\n1\nX\n"),
    ('"${\n  local.y\n}-orders"', "Y-orders"),
    ('"${ local.y # c\n}"', "Y"),
    ("<<-EOT\n    a ${\n  local.y\n} b\n    c\n    EOT\n", "a Y b\r\nc\r\n"),
]


class _Templates:
    """TEMPLATES as the module's file reader (what templatefile() reads through)."""

    def read(self, path: str) -> bytes:
        return TEMPLATES[path].encode()

    def exists(self, path: str) -> bool:
        return path in TEMPLATES

    def fileset(self, path: str, pattern: str) -> Any:
        raise NotImplementedError


def _crlf_text() -> str:
    lines = [f"  r{index} = {source}" for index, (source, _) in enumerate(CRLF_CASES)]
    return ("locals {\n" + "\n".join(lines) + "\n}\n").replace("\n", "\r\n")


def _tf_text() -> str:
    lines = [f"  c{index} = {source}" for index, (source, _) in enumerate(CASES)]
    return 'locals {\n  env = "dev"\n  y   = "Y"\n' + "\n".join(lines) + "\n}\n"


def _json_text() -> str:
    return json.dumps({"locals": {key: source for key, (source, _) in JSON_CASES.items()}}, indent=1)


def _evaluated(attributes: dict[str, Any], name: str, file: str) -> Any:
    value = evaluate(attributes[name].expression, Scope({"local": LOCALS}, file, _Templates()))
    return f"Unknown: {value.reason}" if isinstance(value, Unknown) else value


_PARSED: dict[str, Any] = {}


def _tf_attributes() -> dict[str, Any]:
    """The cases' attributes, all in one file parsed as a scan parses it (once per process)."""
    if "tf" not in _PARSED:
        tree = parse_text(_tf_text(), "main.tf")
        _PARSED["tf"] = body_items(tree.body)[1][0].items[0]
    return _PARSED["tf"]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[source[:40] for source, _ in CASES])
def test_a_strip_marker_evaluates_as_terraform_console_prints(index: int) -> None:
    """Each value is Terraform's, its type included (``"${~ 5 ~}"`` is the number 5,
    ``"  ${~ 5}"`` the string "5")."""
    source, expected = CASES[index]
    value = _evaluated(_tf_attributes(), f"c{index}", "main.tf")
    assert json.dumps(value) == json.dumps(expected), source


def test_a_crlf_file_keeps_its_line_ends_as_terraform_console_prints() -> None:
    """Before, a heredoc of a CRLF file lost each "\\r" (a silently different value)."""
    attributes = body_items(parse_text(_crlf_text(), "crlf.tf").body)[1][0].items[0]
    assert "\r\n" in _crlf_text() and "\n" not in _crlf_text().replace("\r\n", "")
    got = [_evaluated(attributes, f"r{index}", "crlf.tf") for index in range(len(CRLF_CASES))]
    assert got == [expected for _, expected in CRLF_CASES]


def test_tf_json_strip_markers_evaluate_as_terraform_console_prints() -> None:
    attributes = translate(_json_text(), "main.tf.json")[0].items[0]
    got = {key: _evaluated(attributes, key, "main.tf.json") for key in JSON_CASES}
    assert got == {key: expected for key, (_, expected) in JSON_CASES.items()}
    assert isinstance(got["j7"], int) and isinstance(got["j6"], str)


@pytest.mark.terraform
@REQUIRES_TERRAFORM_CLI
def test_the_table_is_what_terraform_console_prints(tmp_path: Path) -> None:
    """The recorded values stay Terraform's: one ``terraform console`` over every case."""
    (tmp_path / "main.tf").write_text(_tf_text())
    (tmp_path / "strings.tf.json").write_text(_json_text())
    (tmp_path / "crlf.tf").write_bytes(_crlf_text().encode())
    for name, template in TEMPLATES.items():
        (tmp_path / name).write_bytes(template.encode())
    names = [f"local.c{index}" for index in range(len(CASES))] + [f"local.{key}" for key in JSON_CASES]
    names += [f"local.r{index}" for index in range(len(CRLF_CASES))]
    environment = dict(os.environ, TF_CLI_CONFIG_FILE=os.devnull, CHECKPOINT_DISABLE="1")
    done = subprocess.run(
        ["terraform", "console"],
        input=f"jsonencode([{', '.join(names)}])",
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(json.loads(done.stdout.strip()))
    expected = [value for _, value in CASES] + [value for _, value in JSON_CASES.values()]
    assert printed == expected + [value for _, value in CRLF_CASES]


def test_a_malformed_marker_is_still_an_error_with_file_and_line() -> None:
    text = 'locals {\n  a = "ok"\n  b = "x-${~}-y"\n}\n'
    with pytest.raises(HclSyntaxError) as raised:
        parse_text(text, "envs/prod/main.tf")
    assert (raised.value.file, raised.value.line) == ("envs/prod/main.tf", 3)
    assert raised.value.message.startswith("unexpected `}")


def test_columns_after_a_marker_are_those_of_the_file() -> None:
    """The ``~`` becomes a space: an error later on the same line names its own column."""
    text = 'locals {\n  a = "x  ${~ local.y ~}  z" + ]\n}\n'
    with pytest.raises(HclSyntaxError) as raised:
        parse_text(text, "main.tf")
    assert (raised.value.line, raised.value.column) == (2, text.split("\n")[1].index("]") + 1)


def test_an_escape_python_hcl2_would_misread_keeps_the_lines_and_the_next_argument() -> None:
    """python-hcl2 reads a ``$${`` escape up to the next ``}``, across the string's end and the
    next lines: ``b`` vanished into ``a`` (a silently wrong value, and an argument lost). The
    rewrite only lengthens that line: the next argument keeps its own line."""
    text = 'locals {\n  a = "$${ b"\n  b = "}"\n  c = 1 +\n}\n'
    with pytest.raises(HclSyntaxError) as raised:
        parse_text(text, "main.tf")
    assert raised.value.line == 5  # the error after the rewritten line is on its own line
    tree = parse_text(text.replace("1 +", "1"), "main.tf")
    attributes = body_items(tree.body)[1][0].items[0]
    assert sorted(attributes) == ["a", "b", "c"]
    assert [_evaluated(attributes, name, "main.tf") for name in ("a", "b")] == ["${ b", "}"]


def test_a_heredoc_closed_by_its_marker_and_blanks_keeps_the_arguments_after_it() -> None:
    """Terraform ends the heredoc at ``EOT  `` (blanks after the marker); python-hcl2 read on to
    the next heredoc's ``EOT``: ``b`` and ``c`` became text of ``a``, with no error. Had ``b``
    been ``deletion_protection_enabled = true``, the table would have been compared with the
    default (false) and a console change hidden."""
    text = "locals {\n  a = <<EOT\nz\nEOT  \n  b = true\n  c = <<EOT\nw\nEOT\n}\n"
    attributes = body_items(parse_text(text, "main.tf").body)[1][0].items[0]
    assert sorted(attributes) == ["a", "b", "c"]
    assert [_evaluated(attributes, name, "main.tf") for name in ("a", "b", "c")] == ["z\n", True, "w\n"]
    assert attributes["b"].expression._meta.line == 5  # the closing line was shortened, not moved


def test_escapes_python_hcl2_reads_alike_are_left_as_written() -> None:
    """``$${aws:username}`` (a ``}`` before anything else) reaches python-hcl2 unchanged."""
    text = 'p = "arn:aws:s3:::b/$${aws:username}/*"\nq = "%%{x} ${y}"\n'
    assert strip_markers.prepare(text) == (text, {})


def test_markers_in_comments_and_heredocs_are_left_to_them() -> None:
    text = '# "a ${~ x}"\n/* "b ${~ y ~}" */\n// "${~"\nh = <<EOT\n"${~ local.y}"\nEOT\n'
    assert strip_markers.prepare(text) == (text, {})


def test_a_file_without_markers_reaches_python_hcl2_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte for byte, and its parse is cached under its content hash as before: the second read
    of the file parses nothing. A file with markers is cached the same way."""
    import hcl2.api

    seen: list[str] = []
    real = hcl2.api.parses

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(hcl2.api, "parses", spy)
    text = 'locals {\n  a = "x %{~ if true ~} y %{~ endif ~}"  # ~} in a comment\n}\n'
    path = tmp_path / "main.tf"
    path.write_text(text)
    cache = ParseCache()
    cache.parse_file(path, "main.tf")
    cache.parse_file(path, "main.tf")
    assert seen == [text] and (cache.misses, cache.hits) == (1, 1)
    marked = tmp_path / "marked.tf"
    marked.write_text('a = "x ${~ 1}"\n')
    first = cache.parse_file(marked, "marked.tf")
    assert seen[-1] == 'a = "x ${  1}"\n'
    assert cache.parse_file(marked, "marked.tf").tree is first.tree and cache.hits == 2


def test_hostile_markers_are_scanned_in_linear_time() -> None:
    """1 MB of ``${~ "`` (strings nested in interpolations: an explicit stack, no recursion) and 1 MB of
    ``~}``: one pass each; the parse is then bounded by the per-file token limit, as always."""
    nested = 'a = "' + '${~ "' * 250_000 + '"\n'
    prepared, markers = strip_markers.prepare(nested)
    assert len(prepared) == len(nested) and len(markers) == 250_000
    closes = 'a = "${x' + "~}" * 500_000 + '"\n'
    prepared, markers = strip_markers.prepare(closes)
    assert len(prepared) == len(closes) and list(markers.values()) == [strip_markers.Marker(False, (1, 9))]
    with pytest.raises(HclSyntaxError, match="too large to parse"):
        ParseCache().parse_source(Path("big.tf"), "big.tf", nested, "key")
    # Each escape's look-ahead stops at the next one: 1 MB of escapes that never close.
    escapes = 'a = "' + "$${" * 350_000 + '"\n'
    prepared, markers = strip_markers.prepare(escapes)
    assert prepared == 'a = "' + "\\u0024{" * 350_000 + '"\n' and markers == {}


_TABLE_TF = """
variable "env" {
  default = "dev"
}

locals {
  team = "orders"
}

resource "aws_dynamodb_table" "orders" {
  name         = "t-${~ var.env ~}-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = {
    team = "a  ${~ local.team}"
  }
}
"""


def test_a_table_named_with_a_strip_marker_is_watched_and_in_sync(tmp_path: Path, mocked_aws: None) -> None:
    """The issue's file: before, a parse error (the table not watched); now the table
    ``t-dev-orders`` is declared with its tag ``aorders`` and found in sync with the live one."""
    root = tmp_path / "envs" / "prod"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(_TABLE_TF)
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="t-dev-orders",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        Tags=[{"Key": "team", "Value": "aorders"}],
    )
    target = TargetInput(name="prod", repo=tmp_path, root=root, region="us-east-1")
    report = scan([target], AwsClients(max_attempts=1))
    assert report.errors == () and report.not_evaluated == ()
    assert [(row.table_name, row.status) for row in report.tables] == [("t-dev-orders", TableStatus.IN_SYNC)]
    assert report.exit_code == 0


def test_a_multiline_interpolation_is_put_in_parentheses_in_place() -> None:
    """``${`` becomes ``${(`` and ``}`` becomes ``)}``, strip markers kept outside: every line stays
    where it was, and a directive's keyword is written again before its ``(``."""
    text = 'a = "${\n  var.p\n}-o"\nb = "x ${~ # c\n  var.p ~} y"\nc = "%{ if\n  true }z%{ endif }"\n'
    prepared, markers = strip_markers.prepare(text)
    assert prepared == (
        'a = "${(\n  var.p\n)}-o"\nb = "x ${ ( # c\n  var.p ) } y"\nc = "%{if (   \n  true )}z%{ endif }"\n'
    )
    assert markers == {(4, 8): strip_markers.Marker(True, (5, 10))}


def test_interpolations_python_hcl2_reads_as_they_are_are_left_as_written() -> None:
    """Newlines inside brackets, a heredoc's own lines and ``${`` in comments or heredocs do not
    change a file: it reaches python-hcl2 as it is (the same string)."""
    for text in (
        'a = "${ upper(\n  "x"\n) }"\nb = "${ [\n 1 ][0] }"\n',
        'a = "${ {\n k = 1\n}["k"] }"\n',
        'a = "a ${ <<EOT\n  in\nEOT\n } b"\n',
        '# "${\n/* "${\n" */\nh = <<EOT\n${\n  x\n}\nEOT\n',
        'a = "${var.x}-${local.y}"\nb = "%{ if true }x%{ endif }"\n',
    ):
        prepared, markers = strip_markers.prepare(text)
        assert prepared is text and markers == {}, text


@pytest.mark.parametrize(
    "expression",
    [
        '"${ 5\n- 1 }"',
        '"${ [1, 2]\n[0] }"',
        '"${ -\n 1 }"',
        '"%{ if true }x%{ endif\n }"',
        '"%{ if true }x%{\n endif }"',
    ],
)
def test_a_newline_python_hcl2_cannot_read_even_in_parentheses_is_still_an_error(expression: str) -> None:
    """Terraform reads these (4, 1, -1, "x", "x"); python-hcl2 does not, even in parentheses
    (before a binary operator or an index, after a unary one), and ``else`` / ``endif`` /
    ``endfor`` have no expression to wrap: the file stays a parse error naming its file and line,
    never a value of its own."""
    with pytest.raises(HclSyntaxError) as raised:
        parse_text(f"locals {{\n  a = 1\n  b = {expression}\n}}\n", "envs/prod/main.tf")
    assert raised.value.file == "envs/prod/main.tf" and raised.value.line in (3, 4)


def test_hostile_multiline_interpolations_are_scanned_in_linear_time() -> None:
    """1 MB of ``${\n`` (never closed: nothing to wrap), and many ``${\n1\n}`` and ``%{\nif x}``
    (each wrapped once: one rewrite, one more scan): linear passes. A file that large is refused
    before it is prepared (the per-file size limit), as always; templates are prepared too."""
    opened = 'a = "' + "${\n" * 330_000 + '"\n'
    assert strip_markers.prepare(opened) == (opened, {})
    with pytest.raises(HclSyntaxError, match="too large to parse"):
        ParseCache().parse_source(Path("big.tf"), "big.tf", opened, "key")
    closed = 'a = "' + "${\n1\n}" * 60_000 + '"\n'
    prepared, _ = strip_markers.prepare(closed)
    assert prepared == 'a = "' + "${(\n1\n)}" * 60_000 + '"\n'
    directives = 'a = "' + "%{\nif x}" * 50_000 + '"\n'
    prepared, _ = strip_markers.prepare(directives)
    assert prepared == 'a = "' + "%{if (\n   x)}" * 50_000 + '"\n'


_MULTILINE_TF = """
variable "prefix" {
  default = "t"
}

resource "aws_dynamodb_table" "orders" {
  name = "${
    var.prefix # the environment's prefix
  }-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = {
    team = "${ /* owner */ "orders" }"
    note = <<-EOT
      a ${
        var.prefix
      } b
      EOT
  }
}
"""


def test_a_table_named_with_a_multiline_interpolation_is_watched_and_in_sync(
    tmp_path: Path, mocked_aws: None
) -> None:
    """Before, the file was a parse error (the table not watched) and the heredoc tag Unknown; now
    ``t-orders`` is declared with its tags and found in sync with the live table."""
    root = tmp_path / "envs" / "prod"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(_MULTILINE_TF)
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="t-orders",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        Tags=[{"Key": "team", "Value": "orders"}, {"Key": "note", "Value": "a t b\n"}],
    )
    target = TargetInput(name="prod", repo=tmp_path, root=root, region="us-east-1")
    report = scan([target], AwsClients(max_attempts=1))
    assert report.errors == () and report.not_evaluated == ()
    assert [(row.table_name, row.status) for row in report.tables] == [("t-orders", TableStatus.IN_SYNC)]
    assert report.exit_code == 0


def test_templatefile_markers_trim_one_line_as_terraform_console_prints(tmp_path: Path) -> None:
    """A template file is tokenised like a heredoc: a marker trims the one line next to it, a
    ``$`` left before the ``${`` stays a ``$``, and an interpolation whose trimmed neighbours
    are gone still makes a string (Terraform 1.11.4 printed ``[5,"5","$x","a \\nx"]``)."""
    from tests.test_file_functions import probe

    files: dict[str, str | bytes] = {
        "root/a.tpl": "${5}",
        "root/b.tpl": "  ${~ 5}",
        "root/c.tpl": '$ ${~ "x"}',
        "root/d.tpl": 'a \n  \n${~ "x"}',
    }
    calls = ", ".join(f'templatefile("{name}.tpl", {{}})' for name in "abcd")
    assert probe(tmp_path, f"jsonencode([{calls}])", files) == '[5,"5","$x","a \\nx"]'
