"""A UTF-8 byte order mark (BOM) at the start of a file, as Windows editors write one, read as
Terraform 1.11.4 reads it (measured with terraform console, checked below where terraform is
installed):

* a ``.tf`` file or a ``.tfvars`` file (HCL native syntax): one leading BOM is skipped; a second
  one, or one further on, is an "Invalid character" error;
* a ``templatefile`` template: one leading BOM is skipped, a second one is text;
* a ``.tf.json`` or ``.tfvars.json`` file: refused ("Invalid start of value");
* ``file()``: the BOM is part of the text.

Before, a ``.tf`` file with a BOM was a syntax error (its tables never watched, although
Terraform applies them), a ``.tfvars`` file with one left its variables Unknown, a template's
BOM stayed in the rendered value (a tag or name that is not Terraform's), and a ``.tf.json``
file with one was read although Terraform refuses it.
"""

from __future__ import annotations

from pathlib import Path

from tests.terraform_support import REQUIRES_TERRAFORM_CLI, terraform
from tests.test_modules import TABLE, declare, names, write_tree

BOM = "\ufeff"


def test_a_tf_and_a_tfvars_file_starting_with_a_bom_are_read(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/main.tf": BOM + TABLE + 'variable "name" {\n  default = "d"\n}\n',
            "root/terraform.tfvars": BOM + 'name = "from-tfvars"\n',
        },
    )
    result = declare(tmp_path)
    assert result.errors == []
    assert names(result) == ["from-tfvars"]


def test_a_second_bom_in_a_tf_file_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"root/main.tf": BOM + BOM + TABLE.replace("var.name", '"t"')})
    result = declare(tmp_path)
    assert [(e.file, e.line) for e in result.errors] == [("root/main.tf", 1)]


def test_a_tf_json_file_starting_with_a_bom_is_refused_as_terraform_refuses_it(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "root/main.tf": TABLE.replace("var.name", "local.n"),
            "root/locals.tf.json": BOM + '{"locals": {"n": "from-json"}}',
        },
    )
    result = declare(tmp_path)
    assert [(e.file, e.line) for e in result.errors] == [("root/locals.tf.json", 1)]
    assert "expected a JSON value" in result.errors[0].message


def test_templatefile_skips_one_leading_bom_and_file_keeps_it(tmp_path: Path) -> None:
    main = TABLE.replace(
        "var.name",
        'join("/", [templatefile("one.tpl", {}), templatefile("two.tpl", {}), file("one.tpl")])',
    )
    write_tree(
        tmp_path, {"root/main.tf": main, "root/one.tpl": BOM + "a${1 + 1}", "root/two.tpl": BOM + BOM + "b"}
    )
    assert names(declare(tmp_path)) == [f"a2/{BOM}b/{BOM}a${{1 + 1}}"]


@REQUIRES_TERRAFORM_CLI
def test_terraform_reads_byte_order_marks_as_recorded(tmp_path: Path) -> None:
    good, json_root = tmp_path / "good", tmp_path / "json"
    for folder in (good, json_root):
        folder.mkdir()
        (folder / "cli.tfrc").write_text("")
    (good / "v.tf").write_text(BOM + 'variable "name" {\n  default = "d"\n}\n')
    (good / "terraform.tfvars").write_text(BOM + 'name = "from-tfvars"\n')
    (good / "one.tpl").write_text(BOM + "a${1 + 1}")
    (good / "two.tpl").write_text(BOM + BOM + "b")
    expression = (
        'jsonencode([var.name, templatefile("one.tpl", {}), templatefile("two.tpl", {}), file("one.tpl")])'
    )
    shown = terraform(good, "console", stdin=expression + "\n").stdout
    assert shown.strip() == '"[\\"from-tfvars\\",\\"a2\\",\\"\\ufeffb\\",\\"\\ufeffa${1 + 1}\\"]"'
    (json_root / "l.tf.json").write_text(BOM + '{"locals": {"n": "x"}}')
    refused = terraform(json_root, "console", stdin="local.n\n", ok=(1,))
    assert "Invalid start of value" in refused.stderr
