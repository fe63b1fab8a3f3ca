"""null-label 0.25.0 emulation: every documented example of null-label, and each rule on its own."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform.label import (
    DEFAULT_CONTEXT,
    Label,
    ModuleInputError,
    build_label,
    go_title,
    label_outputs,
    truncate_id,
)

ROW2 = {
    "namespace": "eg",
    "environment": "ue1",
    "stage": "dev",
    "name": "My_Table",
    "attributes": ["a", "b", "a", ""],
    "tenant": "t1",
}


def label(**inputs: Any) -> Label:
    return build_label(inputs)


# --- null-label's documented examples, exactly ------------------------------------------------------


def test_reference_row1_plain() -> None:
    result = label(namespace="acme", stage="prod", name="orders")
    assert result.id == "acme-prod-orders"
    assert result.tags == {"Name": "acme-prod-orders", "Namespace": "acme", "Stage": "prod"}


def test_reference_row2_tenant_not_in_default_order_attributes_deduplicated() -> None:
    result = build_label(ROW2)
    assert result.id == "eg-ue1-dev-mytable-a-b"
    assert result.tags == {
        "Attributes": "a-b",
        "Environment": "ue1",
        "Name": "eg-ue1-dev-mytable-a-b",
        "Namespace": "eg",
        "Stage": "dev",
        "Tenant": "t1",
    }


def test_reference_row3_id_length_limit() -> None:
    result = label(
        namespace="eg", stage="dev", name="a-very-long-name-for-a-dynamodb-table", id_length_limit=20
    )
    assert result.id == "eg-dev-a-very-9d6b8e"
    assert hashlib.md5(b"eg-dev-a-very-long-name-for-a-dynamodb-table").hexdigest().startswith("9d6b8e36")
    assert result.tags == {"Name": "eg-dev-a-very-9d6b8e", "Namespace": "eg", "Stage": "dev"}
    assert result.id_full == "eg-dev-a-very-long-name-for-a-dynamodb-table"


def test_reference_row4_context_title_case_lower_keys_and_user_name_tag() -> None:
    row2 = build_label(ROW2)
    result = label(
        context=row2.context,
        name="orders.v2",
        label_value_case="title",
        label_key_case="lower",
        tags={"Name": "override"},
    )
    assert result.id == "Eg-Ue1-Dev-Ordersv2-A-B"
    assert result.tags == {
        "namespace": "Eg",
        "environment": "Ue1",
        "stage": "Dev",
        "tenant": "T1",
        "attributes": "A-B",
        "name": "Eg-Ue1-Dev-Ordersv2-A-B",
        "Name": "override",
    }


def test_reference_row5_label_order_with_tenant_and_delimiter() -> None:
    result = label(
        namespace="eg",
        stage="dev",
        name="x",
        tenant="T1",
        label_order=["name", "tenant", "stage"],
        delimiter="_",
    )
    assert result.id == "x_t1_dev"
    assert result.tags == {"Name": "x_t1_dev", "Namespace": "eg", "Stage": "dev", "Tenant": "t1"}


# --- defaults and single rules ---------------------------------------------------------------


def test_defaults_without_any_input() -> None:
    result = build_label({})
    assert result.enabled is True
    assert result.id == ""
    assert result.tags == {}
    outputs = label_outputs(result)
    assert outputs["delimiter"] == "-"
    assert outputs["label_order"] == ["namespace", "environment", "stage", "name", "attributes"]
    assert outputs["regex_replace_chars"] == "/[^-a-zA-Z0-9]/"
    assert outputs["id_length_limit"] == 0
    assert outputs["normalized_context"]["label_key_case"] == "title"
    assert outputs["normalized_context"]["label_value_case"] == "lower"
    assert outputs["descriptors"] == {}


def test_inputs_of_other_modules_are_ignored() -> None:
    result = label(namespace="acme", name="orders", hash_key="h", billing_mode="PAY_PER_REQUEST")
    assert result.id == "acme-orders"


def test_attributes_context_then_input_deduplicated_and_normalised() -> None:
    parent = label(namespace="eg", attributes=["blue", "x_y"])
    result = label(context=parent.context, attributes=["Green", "blue", "", "x.y"])
    assert result.id == "eg-blue-xy-green"
    assert result.tags["Attributes"] == "blue-xy-green"  # type: ignore[index]
    assert label_outputs(result)["attributes"] == ["blue", "xy", "green"]


def test_label_order_without_attributes_and_empty_list_means_default() -> None:
    assert label(namespace="eg", name="n", attributes=["a"], label_order=["name", "namespace"]).id == "n-eg"
    assert label(namespace="eg", name="n", label_order=[]).id == "eg-n"
    assert label(namespace="eg", tenant="t", name="n", label_order=["tenant", "name"]).id == "t-n"


def test_label_order_with_unknown_label_name_is_rejected() -> None:
    with pytest.raises(ModuleInputError) as raised:
        label(name="n", label_order=["name", "region"])
    assert raised.value.input == "label_order"


def test_delimiter_is_not_regex_filtered_and_may_be_empty() -> None:
    assert label(namespace="eg", stage="dev", name="n", delimiter=".").id == "eg.dev.n"
    assert label(namespace="eg", stage="dev", name="n", delimiter="").id == "egdevn"


@pytest.mark.parametrize(
    ("case", "expected_id", "expected_namespace_tag"),
    [
        ("lower", "eg-prod-my-table", "eg"),
        ("title", "Eg-Prod-My-Table", "Eg"),
        ("upper", "EG-PROD-MY-TABLE", "EG"),
        ("none", "Eg-PROD-My-Table", "Eg"),
    ],
)
def test_label_value_case(case: str, expected_id: str, expected_namespace_tag: str) -> None:
    result = label(namespace="Eg", stage="PROD", name="My-Table", label_value_case=case)
    assert result.id == expected_id
    assert result.tags["Namespace"] == expected_namespace_tag  # type: ignore[index]
    assert result.tags["Name"] == expected_id  # type: ignore[index]


@pytest.mark.parametrize(
    ("case", "keys"),
    [
        ("title", {"Name", "Namespace", "Stage"}),
        ("lower", {"name", "namespace", "stage"}),
        ("upper", {"NAME", "NAMESPACE", "STAGE"}),
    ],
)
def test_label_key_case(case: str, keys: set[str]) -> None:
    result = label(namespace="eg", stage="dev", name="n", label_key_case=case)
    assert set(result.tags) == keys  # type: ignore[arg-type]


def test_invalid_cases_are_rejected_like_context_tf_validation() -> None:
    with pytest.raises(ModuleInputError):
        label(name="n", label_key_case="none")
    with pytest.raises(ModuleInputError):
        label(name="n", label_value_case="camel")


def test_title_follows_go_strings_title() -> None:
    assert go_title("1ab-cd_ef gh") == "1ab-Cd_ef Gh"
    assert label(name="ue1", stage="9lives", label_value_case="title").id == "9lives-Ue1"


def test_id_length_limit_hash_matches_md5() -> None:
    full = "eg-ue1-prod-orders-with-a-long-name"
    digest = hashlib.md5(full.encode()).hexdigest()
    # limit 16: 16 - 5 - 1 = 10 chars "eg-ue1-pro", no trailing "-" to strip, then "-" + 5 hash chars
    assert truncate_id(full, 16, "-", "lower", "/[^-a-zA-Z0-9]/") == "eg-ue1-pro-" + digest[:5]
    # limit 18: 12 chars "eg-ue1-prod-" end in "-", stripped, so the hash part has 6 chars
    assert truncate_id(full, 18, "-", "lower", "/[^-a-zA-Z0-9]/") == "eg-ue1-prod-" + digest[:6]
    result = label(
        namespace="eg", environment="ue1", stage="prod", name="orders-with-a-long-name", id_length_limit=16
    )
    assert result.id == "eg-ue1-pro-" + digest[:5]
    assert len(result.id) == 16


def test_id_length_limit_not_reached_keeps_full_id_and_upper_hash() -> None:
    assert label(namespace="eg", name="short", id_length_limit=20).id == "eg-short"
    full = "EG-DEV-A-VERY-LONG-NAME"
    digest = hashlib.md5(full.encode()).hexdigest().upper()
    assert label(
        namespace="eg", stage="dev", name="a-very-long-name", label_value_case="upper", id_length_limit=12
    ).id == ("EG-DEV-" + digest[:5])


def test_id_length_limit_too_small_is_rejected() -> None:
    with pytest.raises(ModuleInputError):
        label(name="n", id_length_limit=3)


def test_regex_replace_chars_override_and_literal_pattern() -> None:
    assert (
        label(namespace="e_g", name="my_table", regex_replace_chars="/[^a-zA-Z0-9_-]/").id == "e_g-my_table"
    )
    # a pattern without slashes is a literal substring (Terraform replace())
    assert label(name="a.b.c", regex_replace_chars=".").id == "abc"


def test_labels_as_tags_subset() -> None:
    result = label(
        namespace="eg", stage="dev", name="n", labels_as_tags=["name", "stage"], tags={"Team": "x"}
    )
    assert result.tags == {"Name": "eg-dev-n", "Stage": "dev", "Team": "x"}
    assert label(namespace="eg", name="n", labels_as_tags=[]).tags == {}


def test_labels_as_tags_first_setting_in_a_chain_wins() -> None:
    parent = label(namespace="eg", labels_as_tags=["name"])
    child = label(context=parent.context, stage="dev", name="n", labels_as_tags=["namespace", "stage"])
    assert child.tags == {"Name": "eg-dev-n"}
    # a context that says "unset" leaves the choice to this module's input
    unset = {**DEFAULT_CONTEXT, "namespace": "eg", "labels_as_tags": ["unset"]}
    assert label(context=unset, name="n", labels_as_tags=["namespace"]).tags == {"Namespace": "eg"}
    # the default input ["default"] in the first module fixes "all labels" for the chain
    first = label(namespace="eg")
    assert label(context=first.context, name="n", labels_as_tags=["name"]).tags == {
        "Name": "eg-n",
        "Namespace": "eg",
    }


def test_user_tags_override_generated_and_context_tags_merge() -> None:
    parent = label(namespace="eg", tags={"Team": "a", "Owner": "o"})
    child = label(context=parent.context, name="n", tags={"Team": "b", "Namespace": "custom"})
    assert child.tags == {"Name": "eg-n", "Namespace": "custom", "Team": "b", "Owner": "o"}


def test_disabled_label_has_empty_id_and_tags() -> None:
    result = label(namespace="eg", name="n", enabled=False, tags={"Team": "x"})
    assert result.enabled is False
    assert result.id == ""
    assert result.tags == {}
    outputs = label_outputs(result)
    assert outputs["namespace"] == "" and outputs["attributes"] == [] and outputs["delimiter"] == ""
    assert outputs["context"]["enabled"] is False
    # disabled via the context too
    assert label(context=result.context, name="m").id == ""


def test_context_chaining_equals_direct_build() -> None:
    parent = label(namespace="eg", environment="ue1", attributes=["a"], tags={"Team": "x"})
    via_outputs = label_outputs(parent)["context"]
    chained = label(context=via_outputs, stage="dev", name="orders", attributes=["b"], tags={"Owner": "y"})
    direct = label(
        namespace="eg",
        environment="ue1",
        stage="dev",
        name="orders",
        attributes=["a", "b"],
        tags={"Team": "x", "Owner": "y"},
    )
    assert (
        (chained.id, chained.tags)
        == (direct.id, direct.tags)
        == (
            "eg-ue1-dev-orders-a-b",
            {
                "Name": "eg-ue1-dev-orders-a-b",
                "Namespace": "eg",
                "Environment": "ue1",
                "Stage": "dev",
                "Attributes": "a-b",
                "Team": "x",
                "Owner": "y",
            },
        )
    )


def test_direct_input_wins_over_context() -> None:
    parent = label(namespace="eg", stage="dev", delimiter="_")
    assert label(context=parent.context, stage="prod", name="n").id == "eg_prod_n"


def test_outputs_expose_normalised_labels() -> None:
    outputs = label_outputs(label(namespace="E_g", tenant="T", name="n"))
    assert (outputs["namespace"], outputs["tenant"], outputs["name"], outputs["stage"]) == (
        "eg",
        "t",
        "n",
        "",
    )
    assert outputs["id"] == outputs["id_full"] == "eg-n"
    assert outputs["tags_as_list_of_maps"] == [
        {"key": "Name", "value": "eg-n"},
        {"key": "Namespace", "value": "eg"},
        {"key": "Tenant", "value": "t"},
    ]
    assert outputs["context"]["namespace"] == "E_g"  # context output is not normalised


# --- Unknown propagation -------------------------------------------------------------------------


def test_unknown_namespace_makes_id_unknown_but_independent_tags_stay_known() -> None:
    result = label(namespace=Unknown("var.ns has no value"), stage="prod", name="orders", tags={"Team": "x"})
    assert isinstance(result.id, Unknown) and "var.ns" in result.id.reason
    assert isinstance(result.tags, dict)
    assert result.tags["Stage"] == "prod"
    assert result.tags["Team"] == "x"
    assert isinstance(result.tags["Namespace"], Unknown)
    assert isinstance(result.tags["Name"], Unknown)


def test_unknown_tag_value_only_makes_that_tag_unknown() -> None:
    result = label(namespace="eg", name="n", tags={"Team": Unknown("t"), "Owner": "o"})
    assert isinstance(result.tags, dict)
    assert isinstance(result.tags["Team"], Unknown)
    assert result.tags["Owner"] == "o" and result.tags["Name"] == "eg-n"


def test_unknown_enabled_unknown_outputs() -> None:
    result = label(name="n", enabled=Unknown("var.enabled"))
    assert isinstance(result.enabled, Unknown)
    assert isinstance(result.id, Unknown) and isinstance(result.tags, Unknown)


def test_unknown_context_keeps_direct_inputs_known_where_possible() -> None:
    result = label(context=Unknown("module.this is unknown"), name="n")
    assert isinstance(result.id, Unknown)
    assert isinstance(result.tags, Unknown)  # keys of the merged tags are unknown


def test_unknown_attribute_or_delimiter() -> None:
    result = label(namespace="eg", name="n", attributes=["a", Unknown("x")])
    assert isinstance(result.id, Unknown)
    assert isinstance(result.tags, dict) and isinstance(result.tags["Attributes"], Unknown)
    assert result.tags["Namespace"] == "eg"
    assert isinstance(label(namespace="eg", delimiter=Unknown("d")).id, Unknown)


def test_unknown_label_in_id_length_limit() -> None:
    result = label(namespace="eg", name="n", id_length_limit=Unknown("limit"))
    assert isinstance(result.id, Unknown)
    assert isinstance(result.tags, dict) and result.tags["Namespace"] == "eg"


def test_a_fractional_number_input_is_written_as_terraform_writes_it() -> None:
    """``stage = 1.5`` converts to the string "1.5" (not the evaluator's exact Num repr)."""
    from driftwatch.terraform import numbers

    inputs = {"namespace": "eg", "name": "t", "tags": {"Ratio": numbers.parse("1.5")}}
    label = build_label({**inputs, "stage": numbers.parse("1.5")})
    assert label.tags["Ratio"] == "1.5"
    assert label.id == "eg-15-t"  # null-label's regex_replace_chars drops the point
    assert label.tags["Stage"] == build_label({**inputs, "stage": "1.5"}).tags["Stage"]


# --- the ninth survey: unusual but legal inputs, checked against terraform plan ------------------


def test_regex_replace_chars_is_an_re2_pattern_as_in_terraform_replace() -> None:
    """A POSIX class is RE2 syntax: Terraform drops the colon of ``orders:v2``. Python's ``re``
    read ``[[:alnum:]-]`` as another set and kept it, naming a table Terraform does not make."""
    assert label(namespace="acme", name="orders:v2", regex_replace_chars="/[^[:alnum:]-]/").id == (
        "acme-ordersv2"
    )
    # \p{L} is RE2 too (Python's re refuses it); \s is ASCII space only in RE2
    unicode = label(name="Zürich Straße 1", regex_replace_chars="/[^-\\p{L}0-9]/", label_value_case="none")
    assert unicode.id == "ZürichStraße1"
    assert label(name="a b\u00a0c", regex_replace_chars="/\\s/", label_value_case="none").id == "ab\u00a0c"


def test_a_pattern_re2_refuses_is_rejected_as_terraform_does() -> None:
    """Lookahead is not RE2: terraform plan fails in the label's replace()."""
    with pytest.raises(ModuleInputError) as raised:
        label(namespace="acme", name="look.ahead", regex_replace_chars="/\\.(?=a)/")
    assert raised.value.input == "regex_replace_chars"


def test_a_backtracking_pattern_is_matched_by_re2() -> None:
    """``(a+)+$`` against many a's and a final "!" made Python's re backtrack for ever (the scan
    hung); RE2 matches it in linear time, finds no match and leaves the name as it is."""
    name = "a" * 40 + "!"
    assert label(name=name, regex_replace_chars="/(a+)+$/").id == name


def test_context_null_is_rejected_as_terraform_does() -> None:
    """``context = null``: the label's validation calls lookup() on null and the plan fails."""
    with pytest.raises(ModuleInputError) as raised:
        label(namespace="acme", name="t", context=None)
    assert raised.value.input == "context"
    assert label(namespace="acme", name="t").id == "acme-t"  # not passed: the default context


def test_a_hand_built_context_missing_a_key_the_label_reads_is_rejected() -> None:
    """null-label reads ``var.context.enabled`` (and the other keys without lookup()) when the
    direct input is null, and always reads attributes, tags and additional_tag_map: a context
    object without them is "Unsupported attribute" in Terraform."""
    with pytest.raises(ModuleInputError) as raised:
        label(context={"namespace": "acme", "stage": "dev", "name": "partial"})
    assert raised.value.input == "context"
    # every key it reads given directly: the missing ones are not read, and Terraform plans it
    direct = {
        "enabled": True,
        "namespace": "acme",
        "environment": "ue1",
        "stage": "dev",
        "name": "direct",
        "delimiter": "-",
        "label_order": ["name"],
        "regex_replace_chars": "/x/",
        "id_length_limit": 0,
    }
    assert label(**direct, context={"tags": {}, "attributes": [], "additional_tag_map": {}}).id == "direct"
    with pytest.raises(ModuleInputError):
        label(**direct, context={"tags": {}, "attributes": []})
    # tenant, the cases, descriptor_formats and labels_as_tags are read with lookup()/try()
    full = {key: value for key, value in DEFAULT_CONTEXT.items() if key not in ("tenant", "labels_as_tags")}
    assert label(context={**full, "name": "n", "label_key_case": None}).id == "n"


def test_labels_as_tags_null_is_rejected_unless_the_context_has_set_it() -> None:
    """``labels_as_tags = null``: contains(null, "default") fails the plan; a context that has
    set labels_as_tags is used instead and the null input is never read."""
    with pytest.raises(ModuleInputError) as raised:
        label(namespace="acme", name="t", labels_as_tags=None)
    assert raised.value.input == "labels_as_tags"
    parent = label(namespace="acme", labels_as_tags=["name"])
    assert label(context=parent.context, name="t", labels_as_tags=None).tags == {"Name": "acme-t"}


def test_a_fractional_id_length_limit_is_rejected_as_terraform_does() -> None:
    """substr() needs a whole number: terraform plan fails, even when the id is short enough."""
    for limit in (10.5, 30.5, "24.5"):
        with pytest.raises(ModuleInputError) as raised:
            label(namespace="acme", stage="production", name="fractional", id_length_limit=limit)
        assert raised.value.input == "id_length_limit"
    assert label(namespace="acme", name="t", id_length_limit=20.0).id == "acme-t"


def test_unicode_labels_are_cased_as_terraform_cases_them() -> None:
    """Go's per-rune simple case mappings (terraform plan's tags): İ lowers to i, ß has no
    one-letter upper case, ǆ title-cases to ǅ, and an en dash is no title separator."""
    result = label(
        namespace="straße",
        environment="İSTANBUL",
        name="ǆemal\u2013x",
        regex_replace_chars="/[^-\\p{L}\\p{Pd}]/",
        label_value_case="title",
    )
    assert result.tags == {
        "Environment": "Istanbul",
        "Name": "Straße-Istanbul-ǅemal\u2013x",
        "Namespace": "Straße",
    }
    assert label(namespace="straße", name="x", label_value_case="upper").tags["Namespace"] == "STRAE"
    assert (
        label(
            namespace="straße", name="x", label_value_case="upper", regex_replace_chars="/[^-\\p{L}]/"
        ).tags["Namespace"]
        == "STRAßE"
    )  # type: ignore[index]


def test_id_length_limit_counts_characters_as_terraform_does() -> None:
    """length() and substr() count grapheme clusters: q plus a combining dot is one character,
    so seven of them fit a limit of 13 (fourteen code points were truncated before)."""
    dotted = "q\u0307" * 7
    assert truncate_id(dotted, 13, "-", "lower", "/[^-a-zA-Z0-9]/") == dotted
    regex = "/[^-\\p{L}\\p{M}]/"
    assert label(name=dotted, regex_replace_chars=regex, id_length_limit=13).id == dotted
    # terraform plan: the Name tag of namespace = seven of them, name = "abc", limit 10
    assert label(namespace=dotted, name="abc", regex_replace_chars=regex, id_length_limit=10).id == (
        "q\u0307" * 4 + "-bcead"
    )


def test_descriptors_follow_descriptor_formats_as_terraform_plans_them() -> None:
    """``module.label.descriptors["table"]`` naming a table (the ninth survey: driftwatch had
    no descriptors, and the table was not checkable). format() over the normalised labels
    (attributes joined), merged from the context, and not gated by ``enabled``."""
    parent = label(
        namespace="Acme",
        tenant="core",
        environment="ue1",
        stage="dev",
        name="My Orders",
        attributes=["x", "y"],
        descriptor_formats={
            "table": {"format": "%v_%v_%v", "labels": ["stage", "name", "attributes"]},
            "region": {"format": "%s-only", "labels": ["environment"]},
            "empty": {"format": "t-%v%v", "labels": ["tenant", "namespace"]},
        },
    )
    assert label_outputs(parent)["descriptors"] == {
        "empty": "t-coreacme",
        "region": "ue1-only",
        "table": "dev_myorders_x-y",
    }
    child = label(
        name="child",
        enabled=False,
        descriptor_formats={"extra": {"format": "%v.%v", "labels": ["namespace", "name"]}},
        context=parent.context,
    )
    assert label_outputs(child)["descriptors"] == {
        "empty": "t-coreacme",
        "extra": "acme.child",
        "region": "ue1-only",
        "table": "dev_child_x-y",
    }
    assert label_outputs(label(name="n"))["descriptors"] == {}


def test_a_descriptor_terraform_cannot_format_is_rejected() -> None:
    """The label's locals are evaluated whether or not descriptors is read: a label name that
    is not one, or too few arguments for the format, fails terraform plan."""
    for formats in (
        {"t": {"format": "%v", "labels": ["region"]}},
        {"t": {"format": "%v-%v", "labels": ["name"]}},
        {"t": {"labels": ["name"]}},
    ):
        with pytest.raises(ModuleInputError) as raised:
            label(name="n", descriptor_formats=formats)
        assert raised.value.input == "descriptor_formats"


def test_an_unknown_descriptor_label_makes_that_descriptor_unknown() -> None:
    formats = {"a": {"format": "%v", "labels": ["name"]}, "b": {"format": "%v", "labels": ["stage"]}}
    descriptors = label_outputs(label(name=Unknown("var.name"), stage="dev", descriptor_formats=formats))[
        "descriptors"
    ]
    assert isinstance(descriptors["a"], Unknown) and descriptors["b"] == "dev"


def test_a_set_of_attributes_in_the_context_is_rejected_as_terraform_does() -> None:
    """``merge(module.label.context, { attributes = toset([...]) })``: null-label concat()s the
    context's attributes, and Terraform refuses a set there ("all arguments must be lists or
    tuples"). The direct input is a list(string) variable, so a set converts (sorted)."""
    from driftwatch.terraform.functions import FUNCTIONS

    a_set = FUNCTIONS["toset"](["y", "x"])
    with pytest.raises(ModuleInputError) as raised:
        label(name="n", context={**DEFAULT_CONTEXT, "attributes": a_set})
    assert raised.value.input == "context"
    assert label(name="n", attributes=a_set).id == "n-x-y"
