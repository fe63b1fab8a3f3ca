"""Parsing: file:line:column errors, size and encoding limits, the content-hash cache."""

from pathlib import Path

import pytest

from driftwatch.terraform.parse import HclSyntaxError, ParseCache, body_items, file_blocks


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('variable "x" {\n  default = = 1\n}\n', 2, 13, "unexpected"),
        ('module "a" {\n  source = "./a"\n', 3, 1, "end of file"),
        ("locals {\n  a = 1 @ 2\n}\n", 2, 9, "unexpected"),
    ],
)
def test_syntax_error_names_file_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, fragment: str
) -> None:
    path = write(tmp_path, "main.tf", text)
    with pytest.raises(HclSyntaxError) as caught:
        ParseCache().parse_file(path, "envs/prod/main.tf")
    error = caught.value
    assert (error.file, error.line, error.column) == ("envs/prod/main.tf", line, column)
    assert fragment in error.message
    assert str(error).startswith(f"envs/prod/main.tf:{line}:{column}: ")


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        # A stray brace: the line of the brace itself, not of the line before it.
        ('resource "a" "b" {\n  x = 1\n}\n}\n', 4, 1, "unexpected `}`: there is no open block to close here"),
        # An unclosed string points at its opening quote.
        ('locals {\n  a = 1\n  b = "abc\n}\n', 3, 7, "unclosed string"),
        ('resource "x" "y" {\n  a 1.5\n}\n', 2, 5, "unexpected `1.5`; expected `=` or a block `{`"),
        ("a = @\n", 1, 5, "unexpected `@`; expected a value"),
        ('x {\n  a = "b"\n', 3, 1, "end of file: an unclosed block, bracket or string; expected `}`"),
    ],
)
def test_syntax_errors_are_in_words_a_person_reads_at_the_right_place(
    tmp_path: Path, text: str, line: int, column: int, message: str
) -> None:
    """Not lark's terminal names (DBLQUOTE, FLOAT_LITERAL, $END), and the line of the mistake."""
    path = write(tmp_path, "main.tf", text)
    with pytest.raises(HclSyntaxError) as caught:
        ParseCache().parse_file(path, "main.tf")
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert message in error.message
    for token_name in ("DBLQUOTE", "FLOAT_LITERAL", "INT_LITERAL", "LBRACE", "$END", "NL_OR_COMMENT", "EQ,"):
        assert token_name not in error.message


# Block bodies that Terraform's HCL parser refuses although python-hcl2 reads them, each checked
# with terraform 1.11.4 (`terraform validate`). Found by the real-code survey: a table written
# `attribute { name = "job_id" type = "S" }` (code index, "DynamoDB Table (conditional)").
REFUSED_BODIES = [
    ("x { b = 1 c = 2 }", 2, "Invalid single-argument block definition"),
    ("x { b = 1 # c\n}", 2, "Invalid single-argument block definition"),
    ("x { b = 1\n}", 2, "Invalid single-argument block definition"),
    ("x { b = [\n1\n]\n c = 2\n}", 2, "Invalid single-argument block definition"),
    ("x { y { } }", 2, "Argument definition required"),
    ("x {\n b = 1 }", 3, "Missing newline after argument"),
    ("x {\n y {\n }   z {\n }\n}", 4, "Missing newline after block definition"),
    # realsurvey12: python-hcl2 kept the last, a table named by it was compared
    ('name = "a"\n  name = "b"', 3, "Attribute redefined"),
    ("x {\n b = 1\n c = 2\n b = 3\n}", 5, "Attribute redefined"),
]
ACCEPTED_BODIES = [
    "x { b = 1 }",
    "x {}",
    "x { }",
    "x { # c\n b = 1\n}",
    "x { b = [\n1,\n2] }",
    "x { /* c */ b = 1 }",
    "x { b = 1 /* c */ }",
    "x {\n b = 1\n c = { d = 1, e = 2 }\n}",
]


@pytest.mark.parametrize(("body", "line", "message"), REFUSED_BODIES)
def test_a_block_body_terraform_refuses_is_a_syntax_error(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = write(tmp_path, "main.tf", f'resource "aws_dynamodb_table" "t" {{\n  {body}\n}}\n')
    with pytest.raises(HclSyntaxError) as caught:
        ParseCache().parse_file(path, "main.tf")
    assert caught.value.line == line  # where terraform validate points
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize("body", ACCEPTED_BODIES)
def test_a_block_body_terraform_accepts_parses(tmp_path: Path, body: str) -> None:
    path = write(tmp_path, "main.tf", f'resource "aws_dynamodb_table" "t" {{\n  {body}\n}}\n')
    (table,) = file_blocks(ParseCache().parse_file(path, "main.tf"))
    assert [block.type for block in table.items[1]] == ["x"]


def test_non_utf8_file_is_a_clear_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.tf", b'locals {\n  a = "\xff\xfe"\n}\n')
    with pytest.raises(HclSyntaxError) as caught:
        ParseCache().parse_file(path, "bad.tf")
    assert caught.value.line == 2
    assert "UTF-8" in caught.value.message


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "big.tf", "locals {\n" + "  a = 1\n" * 100 + "}\n")
    with pytest.raises(HclSyntaxError, match="over the 64-byte limit"):
        ParseCache(max_file_bytes=64).parse_file(path, "big.tf")


def test_empty_file_parses_to_no_blocks(tmp_path: Path) -> None:
    parsed = ParseCache().parse_file(write(tmp_path, "empty.tf", ""), "empty.tf")
    assert file_blocks(parsed) == []


def test_cache_reuses_trees_by_content_not_by_path(tmp_path: Path) -> None:
    cache = ParseCache()
    a = write(tmp_path, "a.tf", "locals {\n  x = 1\n}\n")
    b = write(tmp_path, "b.tf", "locals {\n  x = 1\n}\n")
    first = cache.parse_file(a, "a.tf")
    second = cache.parse_file(b, "b.tf")
    assert second.tree is first.tree
    assert (cache.hits, cache.misses) == (1, 1)
    a.write_text("locals {\n  x = 2\n}\n")
    third = cache.parse_file(a, "a.tf")
    assert third.tree is not first.tree
    assert cache.misses == 2


def test_blocks_labels_and_lines(tmp_path: Path) -> None:
    text = (
        'module "tables" {\n  source = "./t"\n  for_each = {}\n}\n\n'
        'resource "aws_dynamodb_table" "t" {\n  ttl {\n    enabled = true\n  }\n}\n'
    )
    blocks = file_blocks(ParseCache().parse_file(write(tmp_path, "m.tf", text), "m.tf"))
    assert [(b.type, b.labels, b.line) for b in blocks] == [
        ("module", ("tables",), 1),
        ("resource", ("aws_dynamodb_table", "t"), 6),
    ]
    attributes, nested = body_items(blocks[1].body)
    assert attributes == {}
    assert [(n.type, n.line) for n in nested] == [("ttl", 7)]


def test_deeply_nested_expression_is_parsed_or_refused_cleanly(tmp_path: Path) -> None:
    depth = 5000
    path = write(tmp_path, "deep.tf", "locals {\n  a = " + "[" * depth + "1" + "]" * depth + "\n}\n")
    try:
        parsed = ParseCache().parse_file(path, "deep.tf")
    except HclSyntaxError as error:
        assert error.file == "deep.tf"
    else:
        assert file_blocks(parsed)[0].type == "locals"


_GC_PROBE = """
import gc, json
from driftwatch.terraform.parse import HclSyntaxError, parse_text

block = 'resource "aws_dynamodb_table" "t{0}" {{\\n  name = "t{0}"\\n  tags = {{ a = "b" }}\\n}}\\n'
text = "".join(block.format(i) for i in range(300))
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
parse_text(text, "big.tf")
enabled_after_parse = gc.isenabled()
try:
    parse_text("x = {", "bad.tf")
except HclSyntaxError:
    pass
enabled_after_error = gc.isenabled()
gc.disable()
parse_text("x = 1\\n", "small.tf")
print(json.dumps([collections, enabled_after_parse, enabled_after_error, gc.isenabled()]))
"""


def test_a_parse_triggers_no_cyclic_collection_and_leaves_the_collector_as_it_was() -> None:
    """lark allocates enough tracked objects to trigger many collections per file; the parse
    pauses the collector (a third of the parse time otherwise) and always restores it. In a
    fresh interpreter: the collector is process-wide, and threads left by other tests would
    trigger collections of their own."""
    import json
    import subprocess
    import sys

    probe = subprocess.run([sys.executable, "-c", _GC_PROBE], capture_output=True, text=True, check=True)
    collections, enabled_after_parse, enabled_after_error, enabled_when_caller_disabled = json.loads(
        probe.stdout
    )
    # Without the pause: dozens of collections, older generations included. With it, at most
    # the young generation's one when the collector is switched back on.
    assert collections in ([], [0])
    assert enabled_after_parse and enabled_after_error
    assert not enabled_when_caller_disabled  # a caller that switched it off keeps it off


def test_an_argument_set_twice_in_a_var_file_is_a_syntax_error(tmp_path: Path) -> None:
    """terraform.tfvars with ``env = "dev"`` then ``env = "prod"``: terraform plan stops
    ("Attribute redefined"); driftwatch used to take ``prod`` (realsurvey12)."""
    path = write(tmp_path, "terraform.tfvars", 'env = "dev"\nother = 1\nenv = "prod"\n')
    with pytest.raises(HclSyntaxError) as caught:
        ParseCache().parse_file(path, "terraform.tfvars")
    assert (caught.value.line, caught.value.message.split(":")[0]) == (3, "Attribute redefined")
