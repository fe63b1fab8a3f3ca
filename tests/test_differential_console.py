"""driftwatch's evaluator against Terraform itself: every case is evaluated by both, compared
as ``jsonencode`` text (so types, number printing and key order count too).

``terraform console`` evaluates expressions offline with no provider. Each batch is ONE console
call (``jsonencode([...])``, ~0.5 s): every case is wrapped in ``try(jsonencode(e), "ERR")`` so
that an error case (both must refuse) does not fail its batch. Heredocs and multi-line templates
cannot be typed into the console, so they are ``locals`` of a generated root in the console's
directory. Deliberate differences are listed in docs/terraform-parity.md and asserted in
``test_deliberate_unknowns``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

from fileset_tree import ORACLE, Err, build
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers
from provider_function_cases import PROVIDER_FUNCTION_CASES
from terraform_support import REQUIRES_TERRAFORM_CLI

from driftwatch.spec import Unknown
from driftwatch.terraform import modules
from driftwatch.terraform.data_files import ModuleFiles
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.file_functions import FileReader
from driftwatch.terraform.functions import FUNCTIONS
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.observe import FileSystemView
from driftwatch.terraform.parse import ParseCache

TERRAFORM = shutil.which("terraform")
pytestmark = REQUIRES_TERRAFORM_CLI

# --- cases ------------------------------------------------------------------------------------

# yamldecode as go-cty-yaml decodes: YAML 1.1 words (yes, on, y), numbers (0x1F, 017, 1e3, .5p3),
# timestamps (Go layouts, made RFC 3339), quoted and block scalars, tags, anchors, merge keys,
# keys converted to strings, documents and errors. Infinity (.inf) is Unknown here (DELIBERATE).
YAML_CASES = [
    'yamldecode("a: yes")',
    'yamldecode("a: on")',
    'yamldecode("a: y")',
    'yamldecode("a: 0x1F")',
    'yamldecode("a: 0o17")',
    'yamldecode("a: 017")',
    'yamldecode("a: 1_000")',
    'yamldecode("a: 1e3")',
    'yamldecode("a: 1E3")',
    'yamldecode("a: 1.")',
    'yamldecode("a: .5")',
    'yamldecode("a: +1")',
    'yamldecode("a: -0x1F")',
    'yamldecode("a: 0b101")',
    'yamldecode("a: .nan")',
    'yamldecode("a: ~")',
    'yamldecode("a: null")',
    'yamldecode("a:")',
    'yamldecode("a: 2001-12-14")',
    'yamldecode("a: 2001-12-14 21:59:43.10")',
    'yamldecode("a: 2001-12-14T21:59:43.10-05:00")',
    'yamldecode("a: 2001-12-14t21:59:43Z")',
    'yamldecode("a: 2001-12-14T21:59:43+00:00")',
    "yamldecode(\"a: '2001-12-14'\")",
    "yamldecode(\"a: 'true'\")",
    'yamldecode("a: \\"1\\"")',
    'yamldecode("a: !!str 1")',
    'yamldecode("a: !!str true")',
    'yamldecode("a: !!int \\"12\\"")',
    'yamldecode("a: !!int 0x1F")',
    'yamldecode("a: !!float 1")',
    'yamldecode("a: !!bool yes")',
    'yamldecode("a: !!bool 1")',
    'yamldecode("a: !!null x")',
    'yamldecode("a: !!binary aGVsbG8=")',
    'yamldecode("a: !!binary x")',
    'yamldecode("a: !foo x")',
    'yamldecode("a: ! x")',
    'yamldecode("a: |-\\n  true")',
    'yamldecode("a: |\\n  true")',
    'yamldecode("a: >-\\n  12")',
    'yamldecode("a: &x {b: 1}\\nc: *x")',
    'yamldecode("base: &b {x: 1, y: 2}\\nd:\\n  <<: *b\\n  y: 3")',
    'yamldecode("d:\\n  y: 3\\n  <<: {y: 4, z: 5}")',
    'yamldecode("d:\\n  <<: [{a: 1}, {a: 2, b: 2}]")',
    'yamldecode("d:\\n  <<: 5")',
    "yamldecode(\"d:\\n  '<<': {a: 1}\")",
    'yamldecode("a: 1\\na: 2")',
    'yamldecode("1: a\\ntrue: b\\n1.5e3: c")',
    'yamldecode("~: a")',
    'yamldecode("[1]: a")',
    'yamldecode("a: 1\\n---\\nb: 2")',
    'yamldecode("---\\na: 1\\n...")',
    'yamldecode("")',
    'yamldecode("   ")',
    'yamldecode("# just a comment")',
    'yamldecode("~")',
    'yamldecode("null")',
    'yamldecode("- 1\\n- a\\n- true")',
    'yamldecode("[]")',
    'yamldecode("{}")',
    'yamldecode("a: 12345678901234567890123456789")',
    'yamldecode("a: 0.1")',
    'yamldecode("a: 1e400")',
    'yamldecode("a: 1e-400")',
    'yamldecode("a: 0b2")',
    'yamldecode("a: 1:30")',
    'yamldecode("a: 0.")',
    'yamldecode("a: -.5")',
    'yamldecode("a: 1p3")',
    'yamldecode("a: +inf")',
    'yamldecode("a: 1__0")',
    'yamldecode("a: 0x_1F")',
    'yamldecode("a: 00")',
    'yamldecode("a: 09")',
    'yamldecode("a: 2001-02-30")',
    'yamldecode("a: 2001-1-2")',
    'yamldecode("a: 20011-1-2")',
    'yamldecode("a: 2001-12-14 21:59:43.10 -5")',
    'yamldecode("a: 2001-12-14 1:2:3")',
    'yamldecode("a: Yes please")',
    'yamldecode("a: TRUE")',
    'yamldecode("a: tRUE")',
    'yamldecode("a: NO")',
    'yamldecode("a: Off")',
    'yamldecode("d:\\n  <<: [{a: 1, c: 1}, {a: 2, b: 2}]\\n  c: 3")',
    "yamldecode(\"d:\\n  '<<': 5\")",
    'yamldecode("d:\\n  \\"<<\\": {a: 1}")',
    'yamldecode("d:\\n  !!str <<: {a: 1}")',
    'yamldecode("d:\\n  !!merge <<: {a: 1}")',
    'yamldecode("d:\\n  <<: null")',
    'yamldecode("d:\\n  <<: [1]")',
    'yamldecode("d:\\n  <<: []")',
    'yamldecode("<<: {a: 1}")',
    'yamldecode("d: {<<: {a: {b: 1}}, a: {c: 2}}")',
    'yamldecode("a: ..5")',
    'yamldecode("a: .")',
    'yamldecode("a: .5p3")',
    'yamldecode("a: .5e3")',
    'yamldecode("a: .e3")',
    'yamldecode("a: .infinity")',
    'yamldecode("a: +0x1F")',
    'yamldecode("a: 0xFFFFFFFFFFFFFFFF")',
    'yamldecode("a: 0x1FFFFFFFFFFFFFFFF")',
    'yamldecode("a: 0o")',
    'yamldecode("a: 0x")',
    'yamldecode("a: 0O17")',
    'yamldecode("a: 0X1F")',
    'yamldecode("a: 0o8")',
    'yamldecode("a: -0o17")',
    'yamldecode("a: 1e")',
    'yamldecode("a: 1e+3")',
    'yamldecode("a: 1.5E-3")',
    'yamldecode("a: +.5")',
    'yamldecode("a: +")',
    'yamldecode("a: -")',
    'yamldecode("a: - x")',
    'yamldecode("a: !!int 1_000")',
    'yamldecode("a: !!int 0b101")',
    'yamldecode("a: !!int x")',
    "yamldecode(\"a: !!int 'x'\")",
    "yamldecode(\"a: !!int '1'\")",
    "yamldecode(\"a: !!null ''\")",
    "yamldecode(\"a: !!bool 'yes'\")",
    'yamldecode("a: !!bool x")',
    'yamldecode("a: !!float 1e3")',
    'yamldecode("a: !!float 0x10")',
    'yamldecode("a: !!int 1.5")',
    'yamldecode("a: !!int -0x10")',
    'yamldecode("a: !!timestamp 2001-12-14")',
    "yamldecode(\"a: !!timestamp '2001-12-14'\")",
    'yamldecode("a: !!timestamp x")',
    'yamldecode("a: !!str")',
    'yamldecode("a: !!map {b: 1}")',
    'yamldecode("a: !!seq [1]")',
    'yamldecode("a: !!map [1]")',
    'yamldecode("a: !!set {b: 1}")',
    'yamldecode("a: !!omap [b: 1]")',
    'yamldecode("a: !!int |-\\n  12")',
    "yamldecode(\"a: ''\")",
    'yamldecode("a: \\"\\"")',
    "yamldecode(\"a: '~'\")",
    'yamldecode("a: \\"caf\\\\u00e9\\\\t\\"")',
    "yamldecode(\"a: 'it''s'\")",
    'yamldecode("a: >\\n  folded\\n  text\\n\\n  para\\n")',
    'yamldecode("a: |+\\n  keep\\n\\n")',
    'yamldecode("a: b: c")',
    'yamldecode("a: [1, 2")',
    'yamldecode("a:\\n\\t- 1")',
    'yamldecode("? [a]\\n: 1")',
    'yamldecode("? a\\n: 1")',
    'yamldecode("a: *nope")',
    'yamldecode("a: &x [1, *x]")',
    'yamldecode("a: &x 1\\nb: &x 2\\nc: *x")',
    'yamldecode("&k key: 1\\n*k : 2")',
    'yamldecode("a: 1\\n...\\n")',
    'yamldecode("%YAML 1.2\\n---\\na: 1")',
    'yamldecode("%YAML 1.1\\n---\\na: 1")',
    'yamldecode("%TAG ! tag:yaml.org,2002:\\n---\\na: !str 1")',
    'yamldecode("--- 5")',
    'yamldecode("---\\n---")',
    'yamldecode("a: 1 # comment")',
    "yamldecode(\"a: 'x' y\")",
    'yamldecode("1")',
    'yamldecode("\\"x\\"")',
    'yamldecode("a: \\"\\\\x41\\\\ud83d\\"")',
    'yamldecode("2001-12-14: x")',
    'yamldecode("yes: x\\nno: y\\n1.0: z\\n0x10: w")',
    'yamldecode("a: 2001-12-14T21:59:43.1234567891Z")',
    'yamldecode("a: 2001-12-14T21:59:43+05:30")',
    'yamldecode("a: 2001-12-14T21:59:43")',
    'yamldecode("a: 2001-12-14 21:59:43Z")',
    'yamldecode("a: 2001-12-14T24:00:00Z")',
    'yamldecode("a: 2001-12-14T21:60:00Z")',
    'yamldecode("a: 2001-12-14T21:59:60Z")',
    'yamldecode("a: 2000-02-29")',
    'yamldecode("a: 1900-02-29")',
    'yamldecode("a: 2001-13-01")',
    'yamldecode("a: 2001-00-01")',
    'yamldecode("a: 2001-12-1")',
    'yamldecode("a: 2001-12-001")',
    'yamldecode("a: 0001-01-01")',
    'yamldecode("a: 2001-12-14T1:2:3Z")',
    'yamldecode("a: 2001-12-14T21:59:43.Z")',
    'yamldecode("a: 2001-12-14T21:59:43,5Z")',
    'yamldecode("a: 2001-12-14T21:59:43+0530")',
    'yamldecode("a: 2001-12-14T21:59:43+05")',
    'yamldecode("a: 2001-12-14T21:59:43z")',
    'yamldecode("a: 2001-12-14  21:59:43")',
    'yamldecode("a: 2001-12-14\\t21:59:43")',
    'yamldecode("a: 2001-12-14x")',
    'yamldecode("a: -2001-12-14")',
    'yamldecode("a: 2001-12-14T21:59:43-00:00")',
    'yamldecode("a: 2001-12-14T21:59:43+23:59")',
    'yamldecode("a: 2001-12-14T21:59:43+24:00")',
    'yamldecode("a: 2001-12-14T21:59:43+05:60")',
    'yamldecode("a: 9999-12-31T23:59:59.999999999Z")',
    "yamldecode(5)",
    "yamldecode(null)",
    'yamldecode("a: 0.0")',
    'yamldecode(".inf: 1")',
    'yamldecode("1e3: 1")',
    'yamldecode("a: \\"\\\\ud83d\\"")',
    'yamldecode("a: !!int 017")',
    'yamldecode("a: !!int 0O17")',
    'yamldecode("a: !!int 0b")',
    'yamldecode("a: !!int +0x10")',
    'yamldecode("a: !!float 1p3")',
    'yamldecode("a: !!null yes")',
    'yamldecode("a: !!str ~")',
    'yamldecode("a: !<tag:yaml.org,2002:str> 5")',
    'yamldecode("a: !!binary |\\n  aGVs\\n  bG8=")',
    'yamldecode("a: 0.1\\nb: 1.0000000000000000000000000000001")',
    'yamldecode("- &a [1, 2]\\n- *a")',
    'yamldecode("a: &a\\nb: *a")',
    'yamldecode("a: &a\\n  <<: {x: 1}\\nb: *a")',
    'yamldecode("d:\\n  <<: {a: 1}\\n  <<: {b: 2}")',
    'yamldecode("\\ufeffa: 1")',
    'yamldecode("a: 1\\r\\nb: 2")',
    'yamldecode("\'a b\': 1\\n\\"c\\\\td\\": 2")',
    'yamldecode("a: [1, {b: 2}, [3]]")',
    'yamldecode("a: {b: , c}")',
    'yamldecode("- \\n- ~\\n-")',
    "yamldecode(\"a: 'multi\\n  line'\")",
    'yamldecode("a: plain\\n  multi line")',
    'yamldecode("a: 1\\n b: 2")',
    'yamldecode("  a: 1")',
    # block scalars: resolved as plain ones, then made strings (yes is "true", ~ stays null)
    'yamldecode("|\\n  ")',
    'yamldecode("|-\\n  true")',
    'yamldecode("a: |\\n")',
    'yamldecode("a: |-\\n  true")',
    'yamldecode("a: |-\\n  ~")',
    'yamldecode("a: >\\n")',
    'yamldecode("a: |\\n  \\nb: 1")',
    'yamldecode("- |\\n- >-\\n  x")',
    "yamldecode(\"a: ''\")",
    'yamldecode("a: !!str |\\n")',
    'yamldecode("a: !!int |\\n")',
    'yamldecode("a: !!null |-\\n  x")',
    'yamldecode("|+\\n")',
    'yamldecode("|-\\n")',
    'yamldecode("? |\\n: 1")',
    'yamldecode("? |-\\n  true\\n: 1")',
    'yamldecode("a: >-\\n  true")',
    'yamldecode("a: |-\\n  yes")',
    'yamldecode("a: >-\\n  yes")',
    'yamldecode("a: |-\\n  null")',
    'yamldecode("a: >-\\n  null")',
    'yamldecode("a: |-\\n  Null")',
    'yamldecode("a: >-\\n  Null")',
    'yamldecode("a: >-\\n  ~")',
    'yamldecode("a: |-\\n  1")',
    'yamldecode("a: >-\\n  1")',
    'yamldecode("a: |-\\n  0x10")',
    'yamldecode("a: >-\\n  0x10")',
    'yamldecode("a: |-\\n  1.5")',
    'yamldecode("a: >-\\n  1.5")',
    'yamldecode("a: |-\\n  .5")',
    'yamldecode("a: >-\\n  .5")',
    'yamldecode("a: |-\\n  .nan")',
    'yamldecode("a: >-\\n  .nan")',
    'yamldecode("a: |-\\n  2001-12-14")',
    'yamldecode("a: >-\\n  2001-12-14")',
    'yamldecode("a: |-\\n  -1")',
    'yamldecode("a: >-\\n  -1")',
    'yamldecode("a: |-\\n  <<")',
    'yamldecode("a: >-\\n  <<")',
    'yamldecode("a: |-\\n  abc")',
    'yamldecode("a: >-\\n  abc")',
    'yamldecode("? |-\\n  ~\\n: 1")',
    'yamldecode("- !!int |-\\n  12")',
    'yamldecode("a: <<")',
    'yamldecode("ok: true")["ok"] ? "t" : "f"',
    '[for k, v in yamldecode("b: {n: 1}\\na: {n: 2}") : "${k}=${v.n}"]',
    'length(yamldecode("- a\\n- b\\n- c"))',
    'yamldecode(jsonencode({a = [1, "x", null, true]}))',
]


# Every pure function driftwatch implements: ordinary, edge (empty, null, unicode, precision) and
# error inputs ("ERR" on both sides).
FUNCTION_CASES: dict[str, list[str]] = {
    "abs": ["abs(-3)", "abs(0)", "abs(-2.5)", "abs(-1e400)", 'abs("x")'],
    "alltrue": ["alltrue([])", 'alltrue([true, "true"])', "alltrue([true, false])", 'alltrue(["x"])'],
    "anytrue": ["anytrue([])", "anytrue([false, true])", "anytrue([false])"],
    "base64encode": ['base64encode("héllo")', 'base64encode("")'],
    "base64decode": ['base64decode("aMOpbGxv")', 'base64decode("!!")'],
    "ceil": ["ceil(1.2)", "ceil(-1.2)", "ceil(5)", 'ceil("x")', "ceil(pow(2, 70))"],
    "floor": ["floor(-1.5)", "floor(1.9)", "floor(1e400 / 7)", "floor(pow(2, 70))"],
    "chomp": ['chomp("a\\n\\n")', 'chomp("a\\r\\n")', 'chomp("")'],
    "chunklist": [
        "chunklist([1, 2, 3, 4, 5], 2)",
        "chunklist([], 3)",
        "chunklist([1, 2], 0)",
        "chunklist([1], -1)",
    ],
    "coalesce": ['coalesce("", "b")', 'coalesce(null, "x")', "coalesce(null, 2)", "coalesce()"],
    "coalescelist": ["coalescelist([], [1, 2])", "coalescelist([3], [1])", "coalescelist([])"],
    "compact": ['compact(["a", "", null, "b"])', "compact([])"],
    "concat": ["concat([1], [2, 3], [])", "concat()", 'concat(["a"], ["b"])'],
    "contains": ['contains(["a", "b"], "b")', 'contains(["a"], "c")', "contains([], 1)"],
    "distinct": ['distinct(["b", "a", "b"])', "distinct([])", "distinct([1, 2, 1])"],
    "element": ['element(["a", "b"], 3)', 'element(["a", "b"], 1)', "element([], 0)"],
    "endswith": ['endswith("hello", "lo")', 'endswith("hello", "")', 'endswith("", "a")'],
    "startswith": ['startswith("hello", "he")', 'startswith("hello", "")', 'startswith("é", "e")'],
    "flatten": ["flatten([[1, [2]], [], 3])", "flatten([])", 'flatten([["a"], [["b"]]])'],
    "format": [
        'format("%5s|%-5s|%q|%03d", "a", "b", "c", 7)',
        'format("%x|%X|%o|%b|%t", 255, 255, 8, 5, true)',
        'format("%v|%v|%v", 1, "a", true)',
        'format("%.2f|%f|%8.3f", 3.14159, 1 / 3, -2.5)',
        'format("%%|%s", "x")',
        'format("%d", 1.5)',
        'format("%s")',
        'format("%c", 233)',
        # realsurvey12: %v of a number and %g without a precision are Go's Text('g', -1)
        'format("%v|%v|%v|%v|%v|%v", 1000000, 999999, 1e20, 0.0001, 1e-5, -1234567)',
        'format("%g|%G|%g|%v|%v", 1234567, 1e-7, 10.5, 1 / 3, 12345678.5)',
        'format("%+g|% g|%010g|%-10g|%10v|%010v|%-10v|%.3v|", 1234567, 2.5, -2.5, 3, -1.5, -1.5, 0, 1234567)',
        'format("%v|%v|%g", pow(2, 70), 1180591620717411303424, pow(2, 70))',
        'formatlist("%v", [1e6, 5, 0.5])',
    ],
    "formatlist": [
        'formatlist("%s-%s", ["a", "b"], "x")',
        'formatlist("%s", [])',
        'formatlist("%s-%s", ["a"], ["b", "c"])',
    ],
    "index": ['index(["a", "b"], "b")', 'index([], "a")', 'index(["a"], "z")'],
    "join": ['join(",", ["a", "b"])', 'join(",", [])', 'join("-", ["a"], ["b", "c"])'],
    "jsondecode": [
        'jsondecode("{\\"a\\":[1,2.5,null,true]}")',
        'jsondecode("1e400")',
        'jsondecode("\\"é\\"")',
        'jsondecode("{")',
    ],
    "jsonencode": ['jsonencode({b = 1, a = "<&>"})', "jsonencode(null)", "jsonencode([])", "jsonencode(0.1)"],
    "keys": ["keys({b = 1, a = 2})", "keys({})"],
    "values": ["values({b = 1, a = 2})", "values({})"],
    "length": [
        'length("héllo")',
        "length([])",
        "length({a = 1})",
        'length("e\\u0301")',
        'length("🎉x")',
        "length(5)",
    ],
    "lookup": ['lookup({a = 1}, "b", "d")', 'lookup({a = 1}, "a", 0)', 'lookup({a = 1}, "b")'],
    "lower": ['lower("ÀB")', 'lower("")', 'lower("İSTANBUL")'],
    "upper": ['upper("straße")', 'upper("abc")', 'upper("ǆ ᾳ ﬀ")'],
    "max": ["max(1, 2.5)", "max(1e400, 2)", "max([3, 1]...)", "max()", 'max("10", 9)'],
    "min": ["min(1, 2.5)", "min(-1e400, 2)", "min()"],
    "md5": ['md5("a")', 'md5("é")'],
    "sha1": ['sha1("a")'],
    "sha256": ['sha256("")'],
    "sha512": ['sha512("a")'],
    "merge": ["merge({a = 1}, {a = 2, b = 3})", "merge()", "merge({a = 1}, null)", 'merge({a = 1}, ["x"])'],
    "one": ["one([])", "one([1])", "one([1, 2])", "one(toset([]))"],
    "parseint": ['parseint("-ff", 16)', 'parseint("z", 36)', 'parseint("12", 1)', 'parseint("12a", 10)'],
    "pow": [
        "pow(2, 10)",
        "pow(0, 0)",
        "pow(2, 0.5)",
        "pow(2, -1)",
        # realsurvey12: Go's math.Pow, and a 53-bit result printed at its precision
        "[pow(2, 70), pow(10, 23), pow(3, 40), pow(7, 22), pow(-3, 41), pow(2, 53) + 1]",
        "[-pow(2, 70), pow(2, 70) + 0, pow(2, 70) * 1, abs(-pow(2, 70)), tostring(pow(2, 70))]",
        "[pow(1.1, 100), pow(2.5, 2.7), pow(9, 0.75), pow(3, -0.6), pow(0.5, 10.25), pow(1.7, 31)]",
        # review12: a fractional power's exp is Go's amd64 Exp (the C library's differed in the
        # last digit for about one power in eight)
        "[pow(1.5, 2.5), pow(7, 0.25), pow(10, 0.3), pow(3, 1.5), pow(2, 0.9), pow(1.1, 100.3)]",
    ],
    "range": [
        "range(3)",
        "range(1, 10, 3)",
        "range(5, 1)",
        "range(0, 1, 0.25)",
        "range(0)",
        "range(1, 2, 0)",
    ],
    "regex": [
        'regex("[a-z]+", "123abc")',
        'regex("(\\\\d+)-(\\\\d+)", "12-34")',
        'regex("(?P<first>x)(?P<second>y)?", "x")',
        'regex("z", "abc")',
        'regex("(a)\\\\1", "aa")',
    ],
    "regexall": ['regexall("a", "banana")', 'regexall("(a)(n)?", "banana")', 'regexall("x*", "ab")'],
    "replace": [
        'replace("hello", "l", "L")',
        'replace("hello", "/l+/", "L")',
        'replace("abc", "/(b)/", "[$1]")',
        'replace("abc", "", "-")',
        'replace("aaa", "/a*/", "x")',
    ],
    "reverse": ["reverse([1, 2, 3])", "reverse([])"],
    "setintersection": ['setintersection(["a", "b"], ["b", "c"])', "setintersection([1], [])"],
    "setsubtract": ['setsubtract(["a", "b"], ["b"])', "setsubtract([], [1])"],
    "setproduct": [
        'setproduct(["a", "b"], ["x", "y"])',
        'setproduct(toset(["b", "a"]), [1, 2])',
        "setproduct([], [1])",
        'setproduct(["a"], [true], [1.5])',
        "setproduct([1])",
        'setproduct("a", ["b"])',
    ],
    "setunion": ['setunion(["b"], ["a", "b"])', "setunion([], [])"],
    "signum": ["signum(-2)", "signum(0)", "signum(3.5)"],
    "slice": ['slice(["a", "b", "c"], 1, 3)', "slice([], 0, 0)", 'slice(["a"], 1, 0)', 'slice(["a"], 0, 2)'],
    "sort": ['sort(["b", "a", "10", "9"])', "sort([])", "sort([3, 1])"],
    "split": ['split(",", "a,,b")', 'split(",", "")', 'split("", "abc")'],
    "strcontains": ['strcontains("abc", "b")', 'strcontains("abc", "")'],
    "strrev": ['strrev("héllo")', 'strrev("e\\u0301x")', 'strrev("")'],
    "substr": [
        'substr("hello", 1, 3)',
        'substr("hello", -3, -1)',
        'substr("héllo", 0, 2)',
        'substr("abc", 5, 1)',
        'substr("abc", -5, 1)',
        'substr("abc", 0, -2)',
        'substr("abc", 1, -1)',
    ],
    "sum": [
        "sum([1, 2.5])",
        "sum([])",
        "sum([0.1, 0.2])",
        'sum(["1", 2])',
        "[sum([pow(2, 70)]), sum([pow(2, 70), 0])]",
    ],
    "title": [
        'title("hello world-foo bar_baz")',
        'title("")',
        'title("élan vital")',
        'title("ǆemal ßa ᾳb")',
        'title("a\\u2013b c·d e\'f")',
    ],
    "tobool": [
        'tobool("true")',
        'tobool("yes")',
        "tobool(null)",
        'tobool("1")',
        'tobool("0")',
        'tobool("True")',
        'tobool(" 1")',
        "tobool(1)",
    ],
    "tolist": ['tolist(["a", 1])', "tolist(toset([2, 1]))", "tolist([])"],
    "tomap": ['tomap({a = 1, b = "x"})', "tomap({})"],
    "tonumber": [
        'tonumber("+5")',
        'tonumber(".5")',
        'tonumber("5.")',
        'tonumber("\u0661\u0662")',
        'tonumber("0x10")',
        'tonumber("1e3")',
        'tonumber("-0.5")',
        "tonumber(null)",
        "tonumber(true)",
    ],
    "tostring": ["tostring(true)", "tostring(null)", "tostring(10 / 3)", "tostring([])"],
    "toset": ["toset([2, 1, 2])", 'toset(["b", "a"])', "toset([])"],
    "trim": ['trim("  a  ", " ")', 'trim("?!a!?", "!?")'],
    "trimprefix": ['trimprefix("hello", "he")', 'trimprefix("hello", "x")'],
    "trimsuffix": ['trimsuffix("hello", "lo")', 'trimsuffix("", "x")'],
    "trimspace": ['trimspace("\\n a \\t")', 'trimspace("")'],
    "uuidv5": ['uuidv5("dns", "example.com")', 'uuidv5("url", "https://x")', 'uuidv5("nope", "x")'],
    "zipmap": ['zipmap(["a", "b"], [1, 2])', "zipmap([], [])", 'zipmap(["a"], [])'],
    "sensitive": ['nonsensitive(sensitive("x"))'],
    "nonsensitive": ["nonsensitive(sensitive(1))"],
    "abspath": [
        'abspath("/a/b/../c")',
        # the last element of a relative path does not depend on the directory Terraform ran in
        'basename(abspath("modules/orders_table"))',
        'basename(abspath("a//b/./c/"))',
        'basename(abspath("a/../b"))',
        'basename(abspath("../up"))',
        'basename(abspath("./x/y/.."))',
        'basename(abspath("/abs/dir/"))',
    ],
    "pathexpand": ['pathexpand("/abs/x")'],
    "yamldecode": YAML_CASES,
    "log": [
        "log(8, 2)",
        "log(100, 10)",
        "log(1000, 10)",
        "log(2, 8)",
        "log(0, 10)",
        "log(1, 10)",
        "log(-1, 10)",
        "log(10, 1)",
        "log(7, 3)",
        "log(1e400, 10)",
        "log(16, 4)",
        "log(123456789, 2.5)",
        "log(0.001, 10)",
        "log(3, 3)",
        "log(1e15, 10)",
        "log(243, 3)",
        "log(7.5, 2.5)",
        "log(1, 1)",
        "log(123456789012345678901234567890, 10)",
    ],
    "cidrhost": [
        'cidrhost("10.12.112.0/20", 16)',
        'cidrhost("10.12.112.0/20", 268)',
        'cidrhost("10.12.112.0/20", -1)',
        'cidrhost("10.12.112.0/20", 4096)',
        'cidrhost("10.12.112.0/20", 4095)',
        'cidrhost("10.12.112.0/20", -4096)',
        'cidrhost("10.12.112.0/20", -4097)',
        'cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)',
        'cidrhost("10.0.0.1/8", 2)',
        'cidrhost("010.0.0.0/8", 1)',
        'cidrhost("10.0.0.0/33", 1)',
        'cidrhost("10.0.0.0", 1)',
        'cidrhost("10.0.0.0/8", 1.5)',
        'cidrhost("::ffff:10.0.0.0/104", 5)',
        'cidrhost("10.0.0.0/32", 0)',
        'cidrhost("10.0.0.0/32", 1)',
        'cidrhost("::/0", -1)',
        'cidrhost("0010.0.0.0/08", 3)',
        'cidrhost("1.2.3.4/24", "7")',
        'cidrhost("::1/128", 0)',
        'cidrhost("2001:db8::/32", 65536)',
        'cidrhost("2001:db8:0:0:1:0:0:1/128", 0)',
        'cidrhost("2001:0:0:1:0:0:0:1/128", 0)',
        'cidrhost("1:0:0:0:1:0:0:0/128", 0)',
        'cidrhost("::1.2.3.4/128", 0)',
        'cidrhost("::ffff:1.2.3.4/128", 0)',
        'cidrhost("1::2::3/64", 0)',
        'cidrhost("1:2:3:4:5:6:7:8:9/64", 0)',
        'cidrhost("00001::/64", 0)',
        'cidrhost("1:2:3:4:5:6:1.2.3.4/128", 0)',
        'cidrhost("1:2:3:4:5:6:7::/128", 0)',
        'cidrhost("10.0.0.0/8/1", 0)',
        'cidrhost("256.0.0.0/8", 0)',
        'cidrhost("10.0.0/8", 0)',
    ],
    "cidrnetmask": [
        'cidrnetmask("172.16.0.0/12")',
        'cidrnetmask("10.0.0.0/0")',
        'cidrnetmask("10.0.0.0/32")',
        'cidrnetmask("fd00::/64")',
        'cidrnetmask("bad")',
        'cidrnetmask("::ffff:10.0.0.0/104")',
        'cidrnetmask("10.0.0.0/8 ")',
    ],
    "cidrsubnet": [
        'cidrsubnet("172.16.0.0/12", 4, 2)',
        'cidrsubnet("10.1.2.0/24", 4, 15)',
        'cidrsubnet("10.1.2.0/24", 4, 16)',
        'cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)',
        'cidrsubnet("10.1.2.0/24", 9, 0)',
        'cidrsubnet("10.1.2.0/24", 0, 0)',
        'cidrsubnet("10.1.2.0/24", 8, 255)',
        'cidrsubnet("10.1.2.0/24", 2, -1)',
        'cidrsubnet("10.1.2.0/24", -1, 0)',
        'cidrsubnet("10.1.2.5/24", 2, 1)',
        'cidrsubnet("::/0", 64, 5)',
        'cidrsubnet("10.0.0.0/8", 8, 256)',
        'cidrsubnet("10.0.0.0/8", -9, 0)',
        'cidrsubnet("10.0.0.0/8", 4, 1.5)',
        'cidrsubnet("::ffff:10.0.0.0/104", 8, 3)',
    ],
    "cidrsubnets": [
        'cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)',
        'cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)',
        'cidrsubnets("10.1.0.0/16")',
        'cidrsubnets("10.1.0.0/16", 0)',
        'cidrsubnets("10.1.0.0/16", 17)',
        'cidrsubnets("10.1.0.0/16", 1, 1, 1)',
        'cidrsubnets("10.1.0.0/16", 8, 4)',
        'cidrsubnets("10.1.0.0/30", 2, 2, 2, 2)',
        'cidrsubnets("::/0", 33)',
        'cidrsubnets("0.0.0.0/0", 1)',
        'cidrsubnets("0.0.0.0/8", 8, 8)',
        'cidrsubnets("255.255.255.0/24", 1, 1)',
        'cidrsubnets("10.0.0.0/8", 4, 0)',
    ],
    "csvdecode": [
        'csvdecode("a,b\\n1,2\\n3,4")',
        'csvdecode("a,b\\r\\n1,2\\r\\n")',
        'csvdecode("a\\n")',
        'csvdecode("")',
        'csvdecode("\\n\\na,b\\n\\n1,2\\n\\n")',
        'csvdecode("a,b\\n1,2,3")',
        'csvdecode("a,b\\n1")',
        'csvdecode("a,a\\n1,2")',
        'csvdecode("a,b\\n\\"x,y\\",\\"say \\"\\"hi\\"\\"\\"")',
        'csvdecode("a,b\\n\\"multi\\nline\\",2")',
        'csvdecode("a,b\\n\\"multi\\r\\nline\\",2")',
        'csvdecode("a,b\\n\\"open,2")',
        'csvdecode("a,b\\nx\\"y,2")',
        'csvdecode("a,b\\n\\"x\\"y,2")',
        'csvdecode("a,b\\n1,\\n")',
        'csvdecode("a,b\\n,\\n")',
        'csvdecode("a,b\\n 1 , 2 ")',
        'csvdecode("a,b\\n1,2\\r")',
        'csvdecode("a,b\\n1\\r2,3")',
        'csvdecode("\\"a\\",\\"b\\"\\n1,2")',
        'csvdecode("a,b\\n\\"\\",\\"\\"")',
        'csvdecode("a;b\\n1;2")',
        'csvdecode("é,ü\\nñ,ø")',
        'csvdecode("a,b\\n1,2\\n,")',
        'csvdecode("a,b\\n1,2\\n\\"")',
    ],
    "basename": [
        'basename("foo/bar/baz.txt")',
        'basename("/")',
        'basename("")',
        'basename("foo/")',
        'basename("//foo//")',
        'basename("baz")',
        'basename("a\\\\b")',
    ],
    "dirname": [
        'dirname("foo/bar/baz.txt")',
        'dirname("/foo")',
        'dirname("foo")',
        'dirname("")',
        'dirname("/")',
        'dirname("a//b/../c/d")',
        'dirname("foo/bar/")',
        'dirname("//a")',
        'dirname("./a")',
        'dirname("../a/b")',
    ],
    "urlencode": [
        'urlencode("Hello World!")',
        'urlencode("a+b=c&d/e?f~g-h_i.j")',
        'urlencode("héllo @:;,$")',
        'urlencode("")',
    ],
    "textencodebase64": [
        'textencodebase64("Hello World", "UTF-16LE")',
        'textencodebase64("Hello", "utf-8")',
        'textencodebase64("é€😀", "UTF-16BE")',
        'textencodebase64("x", "csUTF16LE")',
    ],
    "textdecodebase64": [
        'textdecodebase64("SABlAGwAbABvAA==", "UTF-16LE")',
        'textdecodebase64("SABl", "UTF-16LE")',
        'textdecodebase64("AADYAA==", "UTF-16LE")',
        'textdecodebase64("/w==", "UTF-8")',
        'textdecodebase64("!!", "UTF-8")',
        'textdecodebase64("aGk=", "UTF-8")',
    ],
    "base64sha256": [
        'base64sha256("hello world")',
        'base64sha256("")',
    ],
    "base64sha512": [
        'base64sha512("hello world")',
    ],
    "indent": [
        'indent(2, "a\\nb\\n")',
        'indent(0, "a\\nb")',
        'indent(-1, "a\\nb")',
        'indent(1.5, "a\\nb")',
        'indent(4, "")',
    ],
    "transpose": [
        'transpose({a = ["1", "2"], b = ["2", "3"]})',
        "transpose({})",
        "transpose({a = []})",
        'transpose({b = ["x"], a = ["x"]})',
        "transpose({a = [1, true]})",
        'transpose({a = "x"})',
        'transpose({a = [["x"]]})',
    ],
    "matchkeys": [
        'matchkeys(["i-1", "i-2", "i-3"], ["us-west", "us-east", "us-east"], ["us-east"])',
        'matchkeys(["a", "b"], [1, 2], ["1"])',
        'matchkeys(["a"], ["x"], [])',
        'matchkeys(["a", "b"], ["x"], ["x"])',
        'matchkeys([{n = 1}, {n = 2}], ["x", "y"], ["y", "z"])',
        'matchkeys(["a", "b", "c"], ["x", "y", "x"], ["x", "x"])',
    ],
    "formatdate": [
        'formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")',
        'formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")',
        'formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01+05:30")',
        'formatdate("MMM DD, YYYY", "2018-01-02T23:12:01Z")',
        'formatdate("HH:mmaa", "2018-01-02T23:12:01Z")',
        'formatdate("H:m:s AA M/D", "2018-01-02T00:02:01Z")',
        "formatdate(\"h 'o''clock' ''\", \"2018-01-02T07:12:01Z\")",
        'formatdate("\'unterminated", "2018-01-02T07:12:01Z")',
        'formatdate("\'\'\'", "2018-01-02T07:12:01Z")',
        'formatdate("\'ab\'\'", "2018-01-02T07:12:01Z")',
        'formatdate("Z ZZZZ ZZZZZ", "2018-01-02T07:12:01Z")',
        'formatdate("Z ZZZ ZZZZ ZZZZZ", "2018-01-02T07:12:01-03:30")',
        'formatdate("YYY", "2018-01-02T07:12:01Z")',
        'formatdate("x", "2018-01-02T07:12:01Z")',
        'formatdate("YYYY-MM-DD - ( ) 123", "0001-01-01T00:00:00Z")',
        'formatdate("EEEE", "2000-02-29T00:00:00Z")',
        'formatdate("YYYY", "2018-01-02")',
        'formatdate("YYYY", "2018-1-02T00:00:00Z")',
        'formatdate("YYYY hh", "2018-01-02T7:00:00Z")',
        'formatdate("YYYY", "2018-01-02T07:00:00.123456Z")',
        'formatdate("YYYY", "2018-01-02T07:00:00,5Z")',
        'formatdate("YYYY", "2018-01-02t07:00:00Z")',
        'formatdate("YYYY", "2018-01-02T07:00:00z")',
        'formatdate("YYYY", "2018-02-30T07:00:00Z")',
        'formatdate("hh ZZZZZ", "2018-01-02T07:00:00+24:00")',
        'formatdate("hh ZZZZZ", "2018-01-02T07:00:00+05:60")',
        'formatdate("hh", "2018-01-02T24:00:00Z")',
        'formatdate("hh", "2018-01-02T07:60:00Z")',
        'formatdate("hh", "2018-01-02T07:00:60Z")',
        'formatdate("hh", "2018-01-02 07:00:00Z")',
        'formatdate("hh", " 2018-01-02T07:00:00Z")',
        'formatdate("hh", "2018-01-02T07:00:00")',
        'formatdate("hh", "2018-01-02T07:00:00+0500")',
    ],
    "timeadd": [
        'timeadd("2017-11-22T00:00:00Z", "10m")',
        'timeadd("2017-11-22T00:00:00Z", "-1h30m")',
        'timeadd("2017-11-22T00:00:00+05:00", "24h")',
        'timeadd("2017-12-31T23:59:59Z", "1s")',
        'timeadd("2017-11-22T00:00:00Z", "1.5h")',
        'timeadd("2017-11-22T00:00:00Z", "1.123456789123s")',
        'timeadd("2017-11-22T00:00:00.999Z", "1ms")',
        'timeadd("2017-11-22T00:00:00Z", "0")',
        'timeadd("2017-11-22T00:00:00Z", "")',
        'timeadd("2017-11-22T00:00:00Z", "1")',
        'timeadd("2017-11-22T00:00:00Z", "1d")',
        'timeadd("2017-11-22T00:00:00Z", "+5us")',
        'timeadd("2017-11-22T00:00:00Z", "1µs")',
        'timeadd("2017-11-22T00:00:00Z", ".5h")',
        'timeadd("2017-11-22T00:00:00Z", "5.h")',
        'timeadd("2017-11-22T00:00:00Z", "-.h")',
        'timeadd("2017-11-22T00:00:00Z", "2562047h")',
        'timeadd("2017-11-22T00:00:00Z", "2562048h")',
        'timeadd("2017-11-22T00:00:00Z", "-2562047h47m16.854775808s")',
        'timeadd("0001-01-01T00:00:00Z", "-1s")',
        'timeadd("9999-12-31T23:59:59Z", "1s")',
        'timeadd("2000-02-28T12:00:00-11:00", "24h")',
        'timeadd("bad", "1h")',
    ],
    "timecmp": [
        'timecmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z")',
        'timecmp("2017-11-22T01:00:00+01:00", "2017-11-22T00:00:00Z")',
        'timecmp("2017-11-22T00:00:01Z", "2017-11-22T00:00:00Z")',
        'timecmp("2017-11-22T00:00:00.5Z", "2017-11-22T00:00:00.6Z")',
        'timecmp("2017-11-22T00:00:00Z", "2017-11-22")',
    ],
    "list": [
        "list(1)",
    ],
    "map": [
        'map("a", 1)',
    ],
}

# Functions whose value depends on where or when Terraform runs (or on files): driftwatch says
# Unknown, with the reason, and is not compared.
RUNTIME_DEPENDENT = {
    "timestamp": "timestamp()",
    "plantimestamp": "plantimestamp()",
    "uuid": "uuid()",
    "bcrypt": 'bcrypt("x")',
    "abspath": 'abspath("relative/dir")',
    "pathexpand": 'pathexpand("~/x")',
}

# basename(abspath(p)) is the name of the directory Terraform ran in (or one above it) when p
# cleans to "." or to ".." only: Unknown, as abspath(p) is. Only basename(abspath(p)) written as
# such is worked out: abspath's value passed on through anything else stays Unknown.
CWD_NAMES = [
    'basename(abspath("."))',
    'basename(abspath("a/.."))',
    'basename(abspath("../.."))',
    'basename(abspath(""))',
    'basename(upper(abspath("modules/x")))',
    'basename("${abspath("modules/x")}-copy")',
]

# Functions whose exact result driftwatch does not reproduce (another library's output) or whose
# meaning it does not model (sensitivity, ephemerality): Unknown with the reason, not compared.
NOT_EVALUATED = {
    "yamlencode": "yamlencode({a = 1})",
    "base64gzip": 'base64gzip("x")',
    "issensitive": 'issensitive("x")',
    "ephemeralasnull": 'ephemeralasnull("x")',
    "rsadecrypt": 'rsadecrypt("x", "y")',
}

# templatestring() renders a template held in a value: its first argument must be a reference,
# so the cases read locals (the eighth survey met it naming a table).
TEMPLATESTRING_LOCALS = {
    "name": '"$${env}$${sep}$${table}"',
    "loop": '"%%{ for x in xs }[$${x}]%%{ endfor }"',
    "nested": '{ t = "$${upper(a)}-$${length(b)}" }',
    "listed": '["$${a}"]',
    "number": "5",
}
TEMPLATESTRING_CASES = [
    'templatestring(local.name, { env = "dev", sep = "-", table = "orders" })',
    'templatestring(local.name, { env = "dev", sep = "-", table = "orders", extra = 1 })',
    'templatestring(local.name, { env = "dev", sep = "-" })',  # a name the vars lack
    'templatestring(local.loop, { xs = ["p", "q"] })',
    'templatestring(local.nested.t, { a = "x", b = [1, 2] })',
    "templatestring(local.listed[0], { a = 3 })",  # "${a}" alone: still a string
    "templatestring(local.listed[0], { a = [1] })",
    "templatestring(local.number, {})",
    "templatestring(local.name, null)",
    'templatestring("$${a}", { a = 1 })',  # a literal: refused
    "templatestring(lower(local.name), {})",  # not a reference: refused
]

FORM_CASES: dict[str, list[str]] = {
    "operators and precedence": [
        "1 + 2 * 3 - 4 / 2",
        "(1 + 2) * 3",
        "-2 * -3",
        "5 % 3 * 2",
        "!true || false && true",
        "1 < 2 == true",
        '"5" + 1',
        '1 == "1"',
        "null == null",
        '[1, "a"] == [1, "a"]',
        "{a = 1} == {a = 1}",
        "7 % -3",
        "-7.5 % 2",
        '"a" + 1',
        "true + 1",
    ],
    "conditionals": [
        '"1" ? "a" : "b"',
        '"0" ? "a" : "b"',
        '!"1"',
        '"1" && "0"',
        '"x%{if "1"}y%{endif}"',
        '"2" ? "a" : "b"',
        'true ? 1 : "x"',
        'false ? 1 : "x"',
        "false ? [1] : []",
        "true ? {a = 1} : {a = 2}",
        '"true" ? "y" : "n"',
        "null ? 1 : 2",
        "true ? 8 : false",
        "true ? 1 : [1][5]",
        # the chosen result takes the type both results share (a constant other branch)
        "true ? [1] : {a = 1}",
        "true ? [] : {}",
        'true ? "a" : [1]',
        "true ? 5 : {}",
        'true ? {a = 1} : {b = "x"}',
        'true ? {a = 1, b = "x"} : {}',
        'true ? {a = 1, b = "x"} : {a = 2, b = "y"}',
        "true ? {a = 1, b = [1]} : {}",
        "true ? {a = 1} : {a = true}",
        'true ? [1, "a"] : []',
        "true ? [1, [2]] : []",
        'true ? [1] : ["a"]',
        "true ? [1] : [[1]]",
        "true ? [1] : [true]",
        'true ? [[1]] : [["a"]]',
        'true ? [1, null] : ["a"]',
        'true ? toset([1, 10, 9]) : ["a"]',
        # a set and a tuple: the tuple becomes a set of the set's element type (eighth survey:
        # `for_each = flag ? toset([...]) : []` in a public module)
        'false ? toset(["a"]) : []',
        "true ? [] : toset([1])",
        'false ? toset(["a"]) : ["c", "b", "c"]',
        'false ? toset(["a"]) : [1]',
        'false ? toset([1]) : ["2"]',
        'false ? toset([1]) : ["a"]',
        "false ? toset([1]) : [true]",
        'false ? toset(["a"]) : {}',
        "true ? toset([1]) : {a = 1}",
        'true ? [{a = "x", n = 1}, {a = "y", l = ["q"]}] : []',
        'true ? [{a = "x", n = 1}, {a = "y"}] : []',
        'true ? [{a = "x", n = [1]}, {a = "y", n = [2, 3]}] : []',
        'true ? {a = {x = 1}, b = {y = "s"}} : {}',
        'false ? {} : {a = 1, b = "x"}',
        'true ? -1.5 : "x"',
    ],
    "for": [
        "[for x in [3, 1, 2] : x * 2 if x > 1]",
        '[for i, x in ["a", "b"] : "${i}${x}"]',
        '[for k, v in toset(["b", "a"]) : "${k}${v}"]',
        "{for k, v in {b = 1, a = 2} : v => k}",
        '{for x in ["a", "bb", "c"] : length(x) => x...}',
        "[for k, v in {b = 1, a = 2} : k]",
        '{for i, v in ["x", "y"] : v => i}',
        "[for x in [] : x]",
        '{for x in ["a", "a"] : x => 1}',
        "[for k, v in {z = {n = 1}, y = {n = 2}} : v.n]",
    ],
    "splats": [
        "[{a = 1}, {a = 2}][*].a",
        "[{a = {b = 1}}][*].a.b",
        "[[1, 2], [3]][*][0]",
        "[{a = 1}].*.a",
        "[][*].a",
    ],
    "templates": [
        '"a%{ if true }b%{ else }c%{ endif }"',
        '"%{ for x in ["a", "b"] }${x},%{ endfor }"',
        '"x %{~ if true ~} y %{~ endif ~} z"',
        '"${"a"}-${1 + 1}-${true}"',
        '"$${literal} %%{x}"',
        '"%{ for k, v in {b = 1, a = 2} }${k}=${v};%{ endfor }"',
        '"${[1]}"',
    ],
    "index and attribute access": [
        "{a = {b = [1, 2]}}.a.b[1]",
        '{a = 1}["a"]',
        "[1, 2, 3][1]",
        '["a", "b"]["1"]',
        '{"x y" = 1}["x y"]',
        "[{a = 1}][0].a",
        "{a = 1}.b",
        "[1][5]",
        '"abc"[0]',
        'tolist(toset(["b", "a"]))[0]',
    ],
}

# Heredocs and multi-line templates: locals of a root the console loads.
HEREDOC_LOCALS = {
    "strip": '<<EOT\n%{~ for x in ["a", "b"] ~}\n  ${x}\n%{~ endfor ~}\nEOT',
    "strip_lines": "<<EOT\nx  %{~ if true ~}  \n   y  \n  %{~ endif ~}\n  z\nEOT",
    "strip_end": '<<EOT\n%{ for s in ["a", "b"] }${s}\n%{ endfor ~}\nEOT',
    "heredoc": "<<EOT\n  a\n  b ${1 + 1}\nEOT",
    "indented": "<<-EOT\n    a\n      b\n    EOT",
    "directive_lines": '<<EOT\n%{ for x in ["a", "b"] }\n${x}\n%{ endfor }\nEOT',
    # <<- strips first, then removes the indentation of the tokens that still start a line.
    "indented_strip": "<<-EOT\n  %{~ if true ~}\n  x\n  %{~ endif ~}\n  EOT",
    "indented_for": '<<-EOT\n    %{ for k in ["b", "a"] ~}\n    ${k};\n    %{ endfor ~}\n  EOT',
    "indented_for_both": (
        '<<-EOT\n    %{~ for k in ["a", "b"] ~}\n      ${k}\n    %{~ endfor ~}\n    end\n    EOT'
    ),
    "indented_strip_to_zero": '<<-EOT\n    a\n    ${~ "b"}\n    c\n    EOT',
    "indented_blank_lines": "<<-EOT\n    a\n  \n\n      b\n    EOT",
    "indented_interpolation_first": '<<-EOT\n    ${"x"} a\n  b\n    EOT',
    "indented_tabs": "<<-EOT\n\t\ta\n\t  b\n  EOT",
    "indented_escapes": '<<-EOT\n    $${a} %%{b}\n      ${"c"}\n    EOT',
    # a configuration-driven table list, as a repository keeps it (yamldecode of a heredoc)
    "yaml_tables": (
        "yamldecode(<<-EOT\n"
        "    defaults: &defaults\n"
        "      billing: PAY_PER_REQUEST\n"
        "      pitr: on\n"
        "    tables:\n"
        "      orders:\n"
        "        <<: *defaults\n"
        "        hash_key: id\n"
        "        gsi: [{name: by_date, hash: date}]\n"
        "      users:\n"
        "        <<: *defaults\n"
        "        billing: PROVISIONED\n"
        "        read: 5\n"
        "        write: 1_0\n"
        "        created: 2024-01-15\n"
        "        note: |\n"
        "          kept\n"
        "          verbatim\n"
        "  EOT\n"
        ")"
    ),
    "indented_if_else": (
        "<<-EOT\n  %{ if false ~}\n    no\n  %{~ else ~}\n    yes\n  %{~ endif }\n  done\n  EOT"
    ),
}


# The file functions, with files in the console's directory (the root module's): driftwatch
# reads them through a module's reader (driftwatch.terraform.data_files) over that directory.
DATA_FILES: dict[str, bytes] = {
    "tables.yaml": (
        b"defaults: &d\n  billing: PAY_PER_REQUEST\norders:\n  <<: *d\n  hash_key: id\n"
        b"users:\n  <<: *d\n  read: 5\n  created: 2024-01-15\n"
    ),
    "conf/tables.json": b'{"events": {"billing": "PROVISIONED", "read": 1.50}, "n": [1, 2]}\n',
    "tables.csv": b'name,billing\r\nledger,PAY_PER_REQUEST\r\n"a,b",x\r\n',
    "nfc.txt": "e\u0301 caf\u00e9 \u2603\n".encode(),
    "bom.txt": b"\xef\xbb\xbfbom\r\n",
    "bin.dat": bytes(range(256)),
    "empty.txt": b"",
    "t/strip.tpl": b"a\n\n${~x}\n",
    "t/loop.tpl": b"%{ for i in xs ~}\n  ${i}\n\n%{~ endfor }\nend\n",
    "t/single.tpl": b"${x}",
    "t/untaken.tpl": b"%{ if false }${missing}%{ endif }ok",
    "t/escapes.tpl": b'a\\nb $${x} %%{y} "q"\n',
    "t/nested.tpl": b'${templatefile("t/single.tpl", {x = 1})}',
    "t/reads.tpl": b'${file("t/single.tpl")} ${upper(x)}',
    "t/bad.tpl": b"\xff${x}",
    "t/syntax.tpl": b"${x",
    "t/map.tpl": b"%{ for k, v in m }${k}=${v};%{ endfor }",
    "t/yaml.tpl": b"%{ for name in names ~}\n${name}:\n  billing: ${billing}\n%{ endfor ~}\n",
    "t/local.tpl": b"${[for q in xs : q if q != x]}",
}
FILE_CASES = {
    "file": [
        'yamldecode(file("tables.yaml"))',
        'yamldecode(file("${path.module}/tables.yaml"))["users"]',
        'jsondecode(file("${path.module}/conf/tables.json"))',
        'csvdecode(file("tables.csv"))',
        'file("nfc.txt")',
        'length(file("nfc.txt"))',
        'file("nfc.txt") == "\\u00e9 caf\\u00e9 \\u2603\\n"',
        'file("bom.txt")',
        'file("empty.txt")',
        'file("missing/../tables.yaml") == file("./tables.yaml")',
        'file("conf/../tables.csv")',
        'file("missing.txt")',
        'try(file("missing.txt"), "fallback")',
        'can(file("missing.txt"))',
        'file("conf")',
        'file("")',
        'file("bin.dat")',
        'can(file("bin.dat"))',
        'file("tables.yaml/x")',
        'file("~x")',
        "file(null)",
        "file(1)",
    ],
    "fileexists": [
        'fileexists("tables.yaml")',
        'fileexists("${path.module}/conf/tables.json")',
        'fileexists("missing.txt")',
        'fileexists("missing/x")',
        'fileexists("tables.yaml/")',
        'fileexists("conf")',
        'fileexists("")',
        'fileexists("tables.yaml/x")',
        'fileexists("~x")',
    ],
    "filebase64": ['filebase64("bin.dat")', 'filebase64("nfc.txt")', 'filebase64("empty.txt")'],
    "filemd5": ['filemd5("bin.dat")', 'filemd5("nfc.txt")', 'filemd5("missing")'],
    "filesha1": ['filesha1("bin.dat")', 'filesha1("nfc.txt")'],
    "filesha256": ['filesha256("bin.dat")', 'filesha256("nfc.txt")', 'filesha256("conf")'],
    "filesha512": ['filesha512("bin.dat")', 'filesha512("nfc.txt")'],
    "filebase64sha256": ['filebase64sha256("bin.dat")', 'filebase64sha256("nfc.txt")'],
    "filebase64sha512": ['filebase64sha512("bin.dat")', 'filebase64sha512("nfc.txt")'],
    "templatefile": [
        'templatefile("t/strip.tpl", {x = "X"})',
        'templatefile("t/loop.tpl", {xs = ["a", "b"]})',
        'templatefile("t/single.tpl", {x = 1})',
        'templatefile("t/single.tpl", {x = [1, {a = true}]})',
        'templatefile("t/single.tpl", {x = null})',
        'templatefile("t/single.tpl", {})',
        'templatefile("t/untaken.tpl", {})',
        'templatefile("t/escapes.tpl", {})',
        'templatefile("t/nested.tpl", {})',
        'templatefile("t/reads.tpl", {x = "b"})',
        'templatefile("t/bad.tpl", {x = 1})',
        'templatefile("t/syntax.tpl", {x = 1})',
        'templatefile("t/map.tpl", {m = {b = 2, a = 1}})',
        'templatefile("t/map.tpl", {m = {a = 1}, extra = 2, "x-y" = 3})',
        'templatefile("t/single.tpl", {"1x" = 1, x = 2})',
        'templatefile("t/single.tpl", [1])',
        'templatefile("t/single.tpl", null)',
        'templatefile("t/missing.tpl", {})',
        'yamldecode(templatefile("t/yaml.tpl", {names = ["orders", "users"], billing = "PROVISIONED"}))',
        'templatefile("t/local.tpl", {xs = [1, 2, 3], x = 2})',
    ],
    # (the console's own directory gains files as it runs: patterns list subdirectories; the
    # full table of fileset cases is tests/fileset_tree.py's, run by test_fileset_matches_terraform)
    "fileset": [
        'fileset("t", "*.tpl")',
        'fileset(".", "conf/*")',
        'fileset("${path.module}/t", "{loop,map}.tpl")',
        'fileset("conf", "**")',
        'fileset("t", "[")',
        'fileset("missing", "*")',
    ],
}


# --- the two evaluators -----------------------------------------------------------------------


def _wrapped(expression: str) -> str:
    return f'try(jsonencode({expression}), "ERR")'


def _driftwatch(
    expressions: Sequence[str], local: dict[str, str] | None = None, files: FileReader | None = None
) -> list[object]:
    values: dict[str, object] = {}
    scope = Scope({}, "console.tf")
    for name, text in (local or {}).items():
        values[name] = evaluate_text(text, scope)
    scope = Scope({"local": values, "path": {"module": ".", "root": "."}}, "console.tf", files)
    return [evaluate_text(_wrapped(e), scope) for e in expressions]


def _reader(directory: Path) -> FileReader:
    """The file reader of a root module in ``directory``, as the module walk makes it."""
    target = TargetInput(name="console", repo=directory, root=directory, env={}, region="us-east-1")
    walk = modules._Walk(target, ParseCache(), FileSystemView(ParseCache().max_file_bytes))
    walk.root_dir = walk.repo
    return ModuleFiles(walk, ".", walk.repo, None, modules.MAX_TARGET_BYTES)


def _console(
    expressions: Sequence[str],
    directory: Path,
    local: dict[str, str] | None = None,
    cli_config: Path | None = None,
) -> list[object]:
    """One ``terraform console`` call for the whole batch (with no provider unless the
    directory was initialised with one, under ``cli_config``)."""
    if local:
        body = "".join(f"  {name} = {text}\n" for name, text in local.items())
        (directory / "main.tf").write_text("locals {\n" + body + "}\n", encoding="utf-8")
    if cli_config is None:
        cli_config = directory / "empty.tfrc"
        cli_config.write_text("", encoding="utf-8")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1"}
    line = "jsonencode([" + ", ".join(_wrapped(e) for e in expressions) + "])\n"
    assert TERRAFORM is not None
    done = subprocess.run(
        [TERRAFORM, "console"], input=line, capture_output=True, text=True, cwd=directory, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    decoded = json.loads(json.loads(done.stdout.strip()))
    assert isinstance(decoded, list) and len(decoded) == len(expressions)
    return decoded


def _compare(
    expressions: Sequence[str],
    tmp_path: Path,
    local: dict[str, str] | None = None,
    files: bool = False,
    cli_config: Path | None = None,
) -> None:
    ours = _driftwatch(expressions, local, _reader(tmp_path) if files else None)
    theirs = _console(expressions, tmp_path, local, cli_config)
    differences = [
        f"{e}\n    terraform:  {t}\n    driftwatch: {o}"
        for e, o, t in zip(expressions, ours, theirs, strict=True)
        if o != t
    ]
    assert not differences, "\n".join(differences)


# --- tests ------------------------------------------------------------------------------------


def test_every_function_is_covered() -> None:
    """A function added to driftwatch must get differential cases (or be runtime-dependent)."""
    covered = (
        set(FUNCTION_CASES)
        | set(FILE_CASES)
        | set(RUNTIME_DEPENDENT)
        | set(NOT_EVALUATED)
        | set(PROVIDER_FUNCTION_CASES)  # planned with the provider: tests/test_differential_plan.py
    )
    covered |= {"templatestring"}  # test_templatestring_matches_terraform
    assert set(FUNCTIONS) - covered == set()


def test_functions_match_terraform(tmp_path: Path) -> None:
    _compare([case for cases in FUNCTION_CASES.values() for case in cases], tmp_path)


def test_expression_forms_match_terraform(tmp_path: Path) -> None:
    _compare([case for cases in FORM_CASES.values() for case in cases], tmp_path)


def test_file_functions_match_terraform(tmp_path: Path) -> None:
    """file() and friends over real files in the root module's directory: values, NFC, CRLF
    and BOM kept, hashes of the raw bytes, and Terraform's errors (which try/can observe)."""
    for name, data in DATA_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    _compare([case for cases in FILE_CASES.values() for case in cases], tmp_path, files=True)


def test_fileset_matches_terraform(tmp_path: Path) -> None:
    """Every fileset case of tests/fileset_tree.py in one console call: Terraform still gives
    the recorded answer (errors as errors: their text is compared by tests/test_fileset.py),
    and so does driftwatch."""
    build(tmp_path)
    expressions = list(ORACLE)
    theirs = _console(expressions, tmp_path)
    recorded = [
        "ERR" if isinstance(v, Err) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        for v in ORACLE.values()
    ]
    stale = [
        f"{e}: terraform {t}, recorded {r}"
        for e, t, r in zip(expressions, theirs, recorded, strict=True)
        if t != r
    ]
    assert not stale, "\n".join(stale)
    ours = _driftwatch(expressions, None, _reader(tmp_path))
    assert ours == theirs


def test_file_functions_without_a_reader_are_unknown() -> None:
    """Outside a module walk (a -var value), nothing is read: Unknown with the reason."""
    for name in FILE_CASES:
        value = evaluate_text(f'{name}("tables.yaml", {{}})', Scope({}, "console.tf"))
        assert isinstance(value, Unknown) and "reads files" in value.reason, name


def test_heredocs_match_terraform(tmp_path: Path) -> None:
    _compare([f"local.{name}" for name in HEREDOC_LOCALS], tmp_path, HEREDOC_LOCALS)


# Where driftwatch deliberately differs (docs/terraform-parity.md): Unknown or an error where
# Terraform has a value no attribute can hold (infinity) or panics (a negative element index).
DELIBERATE = [
    "1 / 0",  # Terraform: infinity (1 / 0 > 5 is true); no DynamoDB attribute takes it
    "1 % 0",  # Terraform: 1
    'element(["a"], -1)',  # Terraform: "a" for one element, a Go panic for more
    'yamldecode("a: .inf")["a"]',  # Terraform: infinity, which no attribute takes
    'yamldecode("- -.INF")[0]',
]


def test_templatestring_matches_terraform(tmp_path: Path) -> None:
    """templatestring() was Unknown ("does not evaluate templates held in values"): a table
    named by it was an error row while Terraform knows the name (eighth survey)."""
    _compare(TEMPLATESTRING_CASES, tmp_path, TEMPLATESTRING_LOCALS)


def test_deliberate_unknowns() -> None:
    """Values that depend on where or when Terraform runs are Unknown with a reason, never a
    guess; so are the deliberate differences above."""
    scope = Scope({"path": {"cwd": Unknown("path.cwd is where Terraform ran")}}, "console.tf")
    expressions = [*RUNTIME_DEPENDENT.values(), "path.cwd", *NOT_EVALUATED.values(), *DELIBERATE, *CWD_NAMES]
    for expression in expressions:
        value = evaluate_text(expression, scope)
        assert isinstance(value, Unknown) and value.reason, expression


# --- generated cases --------------------------------------------------------------------------

_LEAVES = st.one_of(
    st.integers(-20, 20).map(str),
    st.sampled_from(["0.5", "1e3", "0.1", "12345678901234567890123", "2.25"]),
    st.sampled_from(['"a"', '"B c"', '""', '"é"', '"10"', '"true"', "true", "false", "null"]),
)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        inner, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]), inner
    )
    unary_fn = st.sampled_from(
        ["upper", "lower", "length", "tostring", "tonumber", "abs", "floor", "jsonencode"]
    )
    variadic = st.sampled_from(["max", "min", "concat", "coalesce", "merge"])
    # what for and template directives iterate: lists, sets, maps and objects of leaves
    collection = st.one_of(
        st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(_LEAVES, max_size=3).map(lambda items: f"toset([{', '.join(items)}])"),
        st.lists(inner, max_size=3).map(
            lambda items: "{" + ", ".join(f"k{2 - i} = {v}" for i, v in enumerate(items)) + "}"
        ),
        st.lists(_LEAVES, max_size=3).map(
            lambda items: "tomap({" + ", ".join(f"m{i} = {v}" for i, v in enumerate(items)) + "})"
        ),
    )
    return st.one_of(
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(unary_fn, inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(variadic, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(inner, max_size=2).map(
            lambda items: "{" + ", ".join(f"k{i} = {v}" for i, v in enumerate(items)) + "}"
        ),
        inner.map(lambda e: f'"x${{{e}}}y"'),
        inner.map(lambda e: f"[for v in [{e}, 1] : v]"),
        st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}][1]"),
        st.tuples(collection, inner).map(lambda t: f"[for k, v in {t[0]} : [k, v, {t[1]}]]"),
        collection.map(lambda c: f"{{for k, v in {c} : tostring(v) => k...}}"),
        collection.map(lambda c: f"length({c})"),
        st.tuples(inner, inner).map(lambda t: f'"%{{ if {t[0]} }}a%{{~ else ~}} b %{{ endif }}${{{t[1]}}}"'),
        collection.map(lambda c: f'"%{{ for v in {c} ~}} ${{v}} %{{~ endfor }}"'),
        st.lists(inner, min_size=1, max_size=2).map(
            lambda items: f"[{', '.join(f'{{a = {i}}}' for i in items)}][*].a"
        ),
        st.tuples(inner, inner).map(lambda t: f'{{x = {t[0]}, "y" = {t[1]}}}["y"]'),
    )


EXPRESSIONS = st.recursive(_LEAVES, _extend, max_leaves=6)


GENERATED = 250


def _generated() -> list[str]:
    """GENERATED distinct expressions, the same on every run (derandomized hypothesis): the
    examples are collected first so that Terraform evaluates them all in one console call.

    Hypothesis also draws from the literals of every local module loaded so far, so without
    the patch the batch changed with any edit to driftwatch, and with the other test modules
    a pytest worker happened to have imported first."""
    seen: dict[str, None] = {}

    @settings(max_examples=GENERATED * 2, derandomize=True, deadline=None, database=None)
    @given(EXPRESSIONS)
    def collect(expression: str) -> None:
        seen.setdefault(expression)

    with mock.patch.object(providers, "_get_local_constants", providers.Constants):
        collect()
    return list(seen)[:GENERATED]


def test_generated_expressions_match_terraform(tmp_path: Path) -> None:
    """Expressions from a small grammar, compared in one console call; the batch must be
    varied (mostly values, some errors) to mean something."""
    expressions = _generated()
    assert len(expressions) >= GENERATED // 2
    results = _driftwatch(expressions)
    assert len(set(map(str, results))) > len(results) // 5
    assert 0 < sum(r == "ERR" for r in results) < len(results) // 2
    _compare(expressions, tmp_path)
