"""Plain ``aws_dynamodb_table`` arguments -> TableSpec, per the semantics verified with terraform.

The "absent argument" expectations here are the ones tests/test_terraform_plain_resource.py
proves against Terraform 1.11 + hashicorp/aws 5.100 (docs/plain-resource-semantics.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from driftwatch.spec import Autoscaling, Gsi, Lsi, ScalingTarget, Sse, Stream, TableSpec, Ttl, Unknown
from driftwatch.terraform.resource import (
    IGNORE_ALL,
    ResourceDeclaration,
    ignore_changes_to_vocabulary,
    resource_to_spec,
)

MINIMAL: dict[str, Any] = {
    "name": "plain",
    "hash_key": "h",
    "read_capacity": 5,
    "write_capacity": 5,
    "attribute": [{"name": "h", "type": "S"}],
}


def to_spec(arguments: dict[str, Any], **kwargs: Any) -> TableSpec:
    return resource_to_spec(
        ResourceDeclaration(arguments=arguments), region=kwargs.pop("region", "us-east-1"), **kwargs
    )


def test_minimal_plain_resource() -> None:
    assert to_spec(MINIMAL) == TableSpec(
        name="plain",
        region="us-east-1",
        hash_key="h",
        hash_key_type="S",
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=5,
        table_class="STANDARD",
        ttl=Ttl(enabled=False),
        point_in_time_recovery=False,
        sse=Sse(enabled=False),
        stream=Stream(enabled=False),
        deletion_protection=False,
        gsis=(),
        lsis=(),
        replicas=frozenset(),
        tags={},
        unmanaged=frozenset({"ttl.*", "point_in_time_recovery", "sse.*", "autoscaling.*"}),
    )


def test_absent_arguments_agree_with_terraform_plan() -> None:
    """Which absent arguments Terraform still enforces (verified scenario by scenario)."""
    result = to_spec(MINIMAL)
    # Optional+Computed blocks: live TTL / PITR / SSE changes produce no plan diff
    for attribute in (
        "ttl.enabled",
        "ttl.attribute",
        "point_in_time_recovery",
        "sse.enabled",
        "sse.kms_key_arn",
    ):
        assert not result.is_managed(attribute), attribute
    # defaults Terraform enforces: stream on, deletion protection on, IA class, on-demand, tags, GSIs
    for attribute in (
        "stream.enabled",
        "deletion_protection",
        "table_class",
        "billing_mode",
        "tags.Extra",
        "gsi.extra",
        "read_capacity",
        "write_capacity",
    ):
        assert result.is_managed(attribute), attribute
    assert (result.stream.enabled, result.deletion_protection, result.table_class, result.billing_mode) == (
        False,
        False,
        "STANDARD",
        "PROVISIONED",
    )
    assert result.tags == {} and result.gsis == ()


def test_explicit_blocks_are_managed() -> None:
    result = to_spec(
        {
            **MINIMAL,
            "ttl": [{"attribute_name": "exp", "enabled": False}],
            "point_in_time_recovery": [{"enabled": False}],
            "server_side_encryption": [{"enabled": False}],
        }
    )
    assert result.ttl == Ttl(enabled=False)  # the attribute name is not compared while TTL is off
    assert result.point_in_time_recovery is False and result.sse == Sse(enabled=False)
    assert result.is_managed("ttl.enabled") and result.is_managed("point_in_time_recovery")
    assert result.is_managed("sse.enabled")


def test_enabled_blocks() -> None:
    key = "arn:aws:kms:us-east-1:1:key/k"
    result = to_spec(
        {
            **MINIMAL,
            "ttl": [{"attribute_name": "exp", "enabled": True}],
            "point_in_time_recovery": [{"enabled": True}],
            "server_side_encryption": [{"enabled": True, "kms_key_arn": key}],
            "stream_enabled": True,
            "stream_view_type": "NEW_IMAGE",
            "table_class": "STANDARD_INFREQUENT_ACCESS",
            "deletion_protection_enabled": True,
        }
    )
    assert result.ttl == Ttl(True, "exp")
    assert result.point_in_time_recovery is True
    assert result.sse == Sse(True, key)
    assert result.stream == Stream(True, "NEW_IMAGE")
    assert result.table_class == "STANDARD_INFREQUENT_ACCESS"
    assert result.deletion_protection is True


def test_sse_without_key_and_stream_without_view_type_are_not_compared() -> None:
    result = to_spec(
        {**MINIMAL, "server_side_encryption": [{"enabled": True, "kms_key_arn": ""}], "stream_enabled": True}
    )
    assert result.sse == Sse(True, None)
    assert result.stream == Stream(True, None)


def test_absent_capacity_is_unmanaged() -> None:
    arguments = {k: v for k, v in MINIMAL.items() if not k.endswith("_capacity")}
    result = to_spec(arguments)
    assert (result.read_capacity, result.write_capacity) == (None, None)
    assert not result.is_managed("read_capacity")


def test_pay_per_request_capacity_not_compared() -> None:
    result = to_spec({**MINIMAL, "billing_mode": "PAY_PER_REQUEST"})
    assert (result.read_capacity, result.write_capacity) == (None, None)


def test_key_types_from_attribute_blocks() -> None:
    result = to_spec(
        {**MINIMAL, "range_key": "r", "attribute": [{"name": "r", "type": "N"}, {"name": "h", "type": "B"}]}
    )
    assert (result.hash_key_type, result.range_key, result.range_key_type) == ("B", "r", "N")


def test_missing_key_attribute_is_unknown_with_reason() -> None:
    result = to_spec({**MINIMAL, "range_key": "r"})
    assert isinstance(result.range_key_type, Unknown)
    assert "range key 'r'" in result.range_key_type.reason
    assert result.hash_key_type == "S"


def test_unknown_attribute_list_or_name() -> None:
    result = to_spec({**MINIMAL, "attribute": Unknown("local.attrs")})
    assert isinstance(result.hash_key_type, Unknown)
    result = to_spec(
        {**MINIMAL, "range_key": "r", "attribute": [{"name": "h", "type": "S"}, {"name": Unknown("x")}]}
    )
    assert result.hash_key_type == "S" and isinstance(result.range_key_type, Unknown)


def test_empty_range_key_means_none() -> None:
    assert to_spec({**MINIMAL, "range_key": ""}).range_key is None


def test_gsis_and_lsis() -> None:
    result = to_spec(
        {
            **MINIMAL,
            "global_secondary_index": [
                {"name": "g1", "hash_key": "a", "projection_type": "ALL", "non_key_attributes": None},
                {
                    "name": "g2",
                    "hash_key": "a",
                    "range_key": "b",
                    "projection_type": "INCLUDE",
                    "non_key_attributes": ["x", "y", "x"],
                    "read_capacity": 3,
                    "write_capacity": "4",
                },
            ],
            "local_secondary_index": [{"name": "l", "range_key": "c", "projection_type": "KEYS_ONLY"}],
        }
    )
    assert result.gsis == (
        Gsi(name="g1", hash_key="a", projection_type="ALL"),
        Gsi("g2", "a", "b", "INCLUDE", frozenset({"x", "y"}), 3, 4),
    )
    assert result.lsis == (Lsi("l", "c", "KEYS_ONLY"),)
    # no autoscaling declared for the GSIs: live targets are not this resource's business
    assert not result.is_managed("gsi.g1.autoscaling.read.min")
    assert result.is_managed("gsi.g1.read_capacity")


def test_gsi_capacity_under_pay_per_request_is_not_compared() -> None:
    result = to_spec(
        {
            **MINIMAL,
            "billing_mode": "PAY_PER_REQUEST",
            "global_secondary_index": [
                {
                    "name": "g",
                    "hash_key": "a",
                    "projection_type": "ALL",
                    "read_capacity": 5,
                    "write_capacity": 5,
                }
            ],
        }
    )
    gsi = result.gsi("g")
    assert gsi is not None and (gsi.read_capacity, gsi.write_capacity) == (None, None)


def test_unknown_gsi_name_makes_gsis_unknown() -> None:
    result = to_spec({**MINIMAL, "global_secondary_index": [{"name": Unknown("each.key"), "hash_key": "a"}]})
    assert isinstance(result.gsis, Unknown)
    result = to_spec({**MINIMAL, "global_secondary_index": Unknown("var.gsis")})
    assert isinstance(result.gsis, Unknown)


def test_replicas() -> None:
    result = to_spec({**MINIMAL, "replica": [{"region_name": "eu-west-1"}, {"region_name": "us-west-2"}]})
    assert result.replicas == frozenset({"eu-west-1", "us-west-2"})
    assert isinstance(to_spec({**MINIMAL, "replica": [{"region_name": Unknown("r")}]}).replicas, Unknown)


def test_tags_merge_over_default_tags() -> None:
    result = to_spec(
        {**MINIMAL, "tags": {"Team": "a", "Env": "override", "Gone": None}},
        default_tags={"Env": "prod", "CostCenter": "42"},
    )
    assert result.tags == {"Team": "a", "Env": "override", "CostCenter": "42"}


def test_unknown_tags() -> None:
    result = to_spec({**MINIMAL, "tags": {"Team": Unknown("var.team"), "Owner": "o"}})
    assert isinstance(result.tags, dict)
    assert isinstance(result.tags["Team"], Unknown) and result.tags["Owner"] == "o"
    assert isinstance(to_spec({**MINIMAL, "tags": Unknown("var.tags")}).tags, Unknown)
    assert isinstance(to_spec(MINIMAL, default_tags=Unknown("provider")).tags, Unknown)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("read_capacity", {"read_capacity"}),
        ("write_capacity", {"write_capacity"}),
        ("ttl", {"ttl.*"}),
        ("ttl[0].enabled", {"ttl.enabled"}),
        ("ttl.0.attribute_name", {"ttl.attribute"}),
        # ttl is one block: an element past it matches nothing (terraform plan changes ttl)
        ("ttl[1].enabled", set()),
        ("ttl.1", set()),
        ("point_in_time_recovery[2]", set()),
        ("ttl[0]", {"ttl.*"}),
        ("global_secondary_index", {"gsi.*"}),
        ("local_secondary_index", {"lsi.*"}),
        ("tags", {"tags.*"}),
        ("tags_all", set()),  # see test_ignore_changes_on_tags_all_leaves_only_default_tags
        ('tags["CostCenter"]', {"tags.CostCenter"}),
        # an attribute step on a map matches no key: terraform plan still changes the tag
        ("tags.Owner", set()),
        ("tags_all.Owner", set()),
        ("replica", {"replicas"}),
        ("point_in_time_recovery", {"point_in_time_recovery"}),
        ("server_side_encryption", {"sse.*"}),
        ("server_side_encryption[0].kms_key_arn", {"sse.kms_key_arn"}),
        ("stream_enabled", {"stream.enabled"}),
        ("stream_view_type", {"stream.view_type"}),
        ("deletion_protection_enabled", {"deletion_protection"}),
        ("table_class", {"table_class"}),
        ("billing_mode", {"billing_mode"}),
        ("timeouts", set()),
        ("name", {"table"}),  # the table's existence: Terraform knows it by its state's name
        # realsurvey12 (terraform plan against moto): one argument of a block silences only
        # that argument; the period used to silence all of PITR, a turned-off PITR unreported
        ("point_in_time_recovery[0].recovery_period_in_days", set()),
        ("point_in_time_recovery[0].enabled", {"point_in_time_recovery"}),
        ("point_in_time_recovery.0.enabled", {"point_in_time_recovery"}),
        ("point_in_time_recovery[0]", {"point_in_time_recovery"}),
        # review12 (terraform 1.11.4 plan against moto): a string key straight after a block
        # of one (``ttl["enabled"]``) is dropped, and the whole block ignored: a changed TTL
        # attribute name is not planned. driftwatch silenced ``enabled`` only and reported it.
        ('ttl["enabled"]', {"ttl.*"}),
        ('server_side_encryption["kms_key_arn"]', {"sse.*"}),
        ('point_in_time_recovery["enabled"]', {"point_in_time_recovery"}),
        # ignorechanges (terraform 1.11.4 plan against moto, hashicorp/aws 5.100.0): entries
        # validate accepts but whose path finds nothing, so the change is planned: a string key
        # into the TTL list (TTL turned off in the console, planned back on), a number index
        # into the tags map (tag "0" changed, planned back)
        ('ttl["x"].enabled', set()),
        ("tags[0]", set()),
        ("ttl.0.enabled", {"ttl.enabled"}),
    ],
)
def test_ignore_changes_vocabulary(entry: str, expected: set[str]) -> None:
    assert ignore_changes_to_vocabulary(entry) == expected


def test_lifecycle_ignore_changes_applies() -> None:
    result = to_spec(
        {**MINIMAL, "lifecycle": [{"ignore_changes": ["read_capacity", "write_capacity", "ttl"]}]}
    )
    for attribute in ("read_capacity", "write_capacity", "ttl.enabled"):
        assert not result.is_managed(attribute)
    assert result.is_managed("table_class")
    result = to_spec({**MINIMAL, "lifecycle": [{"ignore_changes": ["tags", "global_secondary_index"]}]})
    assert not result.is_managed("tags.Extra") and not result.is_managed("gsi.g.read_capacity")


def test_ignore_changes_tags_dot_key_ignores_nothing() -> None:
    """``ignore_changes = [tags.Name]`` (the provider's tagging guide writes it so) looks like
    ``tags["Name"]`` but is not: Terraform turns ``.Name`` into an attribute step, which matches
    no element of the ``tags`` map, so it ignores nothing. Measured with terraform 1.11.4 against
    moto: ``Name`` changed in the console, terraform plan changes ``tags`` (``"z" -> "MyTable"``);
    the same tag under ``tags["Name"]`` plans nothing. driftwatch silenced it (a missed drift)."""
    tagged = {**MINIMAL, "tags": {"Name": "MyTable"}}
    dotted = to_spec({**tagged, "lifecycle": [{"ignore_changes": ["tags.Name"]}]})
    assert dotted.is_managed("tags.Name") and dotted.is_managed("tags.Other")
    indexed = to_spec({**tagged, "lifecycle": [{"ignore_changes": ['tags["Name"]']}]})
    assert not indexed.is_managed("tags.Name") and indexed.is_managed("tags.Other")


def test_ignore_all_and_unknown_entries_silence_everything() -> None:
    for lifecycle in (
        [{"ignore_changes": "all"}],
        [{"ignore_changes": [Unknown("x")]}],
        Unknown("lifecycle"),
    ):
        result = to_spec({**MINIMAL, "lifecycle": lifecycle})
        assert result.unmanaged >= IGNORE_ALL
        for attribute in ("billing_mode", "stream.enabled", "tags.X", "deletion_protection", "replicas"):
            assert not result.is_managed(attribute), attribute


def test_declared_autoscaling_is_used() -> None:
    scaling = Autoscaling(read=ScalingTarget(1, 10, 70.0))
    declaration = ResourceDeclaration(
        arguments={
            **MINIMAL,
            "global_secondary_index": [{"name": "g", "hash_key": "h", "projection_type": "ALL"}],
        },
        autoscaling=scaling,
        gsi_autoscaling={"g": scaling},
    )
    result = resource_to_spec(declaration, region=None)
    assert result.autoscaling == scaling
    gsi = result.gsi("g")
    assert gsi is not None and gsi.autoscaling == scaling
    assert result.is_managed("autoscaling.read.min") and result.is_managed("gsi.g.autoscaling.read.min")


def test_unknown_values_propagate() -> None:
    result = to_spec(
        {
            **MINIMAL,
            "name": Unknown("var.name"),
            "billing_mode": Unknown("var.billing"),
            "ttl": [{"attribute_name": "exp", "enabled": Unknown("var.ttl")}],
            "server_side_encryption": Unknown("local.sse"),
            "stream_enabled": Unknown("var.stream"),
            "stream_view_type": "NEW_IMAGE",
        },
        region=Unknown("var.region"),
    )
    assert isinstance(result.name, Unknown) and isinstance(result.region, Unknown)
    assert isinstance(result.billing_mode, Unknown) and isinstance(result.read_capacity, Unknown)
    assert isinstance(result.ttl.enabled, Unknown) and isinstance(result.ttl.attribute, Unknown)
    assert isinstance(result.sse.enabled, Unknown)
    assert isinstance(result.stream.enabled, Unknown) and result.stream.view_type == "NEW_IMAGE"
    assert result.is_managed("sse.enabled")  # an Unknown block is declared, just not resolvable


def test_missing_name_is_unknown() -> None:
    result = to_spec({k: v for k, v in MINIMAL.items() if k != "name"})
    assert isinstance(result.name, Unknown)


def test_a_fractional_number_in_a_tag_is_written_as_terraform_writes_it() -> None:
    """``Ratio = 1.5`` in ``tags`` is the string "1.5" in AWS (terraform plan: no change), and
    ``10 / 4`` is "2.5": the evaluator's exact numbers must not leak their Python repr."""
    from driftwatch.terraform import numbers

    tags = {"Ratio": numbers.parse("1.5"), "Quarter": numbers.divide(10, 4), "Tenth": numbers.parse("0.1")}
    spec = to_spec({**MINIMAL, "tags": tags}, default_tags={"Default": numbers.parse("2.25")})
    assert spec.tags == {"Ratio": "1.5", "Quarter": "2.5", "Tenth": "0.1", "Default": "2.25"}


def test_arguments_terraform_compares_but_driftwatch_does_not_are_named() -> None:
    """``on_demand_throughput``, ``warm_throughput``, PITR's ``recovery_period_in_days`` and a
    replica's own settings: terraform plan changes them on an existing table, driftwatch's
    vocabulary has no attribute for them. Each one set is listed (shown as unresolved, so a
    table in sync is never silently "in sync" about them); unset or ignored ones are not, nor
    a replica setting at the provider's default (CloudPosse spells those out on every replica;
    ``propagate_tags`` is the provider's own behaviour, nothing AWS reports)."""
    from driftwatch.terraform.resource import uncompared_arguments

    arguments = {
        **MINIMAL,
        "on_demand_throughput": [{"max_read_request_units": 100, "max_write_request_units": None}],
        "warm_throughput": [],
        "point_in_time_recovery": [{"enabled": True, "recovery_period_in_days": 7}],
        "global_secondary_index": [
            {"name": "g", "hash_key": "h", "projection_type": "ALL", "on_demand_throughput": [{"x": 1}]},
            {"name": "quiet", "hash_key": "h", "projection_type": "ALL", "on_demand_throughput": []},
        ],
        "replica": [
            {"region_name": "us-west-2", "kms_key_arn": None, "point_in_time_recovery": True},
            {"region_name": "eu-west-1", "propagate_tags": True, "point_in_time_recovery": False},
        ],
    }
    notes = {note.attribute: note.reason for note in uncompared_arguments(arguments)}
    assert sorted(notes) == [
        "gsi.g.on_demand_throughput",
        "on_demand_throughput",
        "point_in_time_recovery.recovery_period_in_days",
        "replicas.us-west-2.point_in_time_recovery",
    ]
    assert all("driftwatch does not compare" in reason for reason in notes.values())
    assert uncompared_arguments(MINIMAL) == ()
    ignored = {**arguments, "lifecycle": [{"ignore_changes": ["on_demand_throughput", "replica"]}]}
    assert sorted(note.attribute for note in uncompared_arguments(ignored)) == [
        "gsi.g.on_demand_throughput",
        "point_in_time_recovery.recovery_period_in_days",
    ]
    # ignore_changes = all (or an entry that cannot be read, which is taken as all) leaves no
    # argument compared: said once, instead of each setting.
    for entries, words in (("all", "ignore_changes = all"), (Unknown("var.x"), "could not be read")):
        everything = {**arguments, "lifecycle": [{"ignore_changes": entries}]}
        ((note,),) = [uncompared_arguments(everything)]
        assert note.attribute == "lifecycle.ignore_changes" and words in note.reason
    assert uncompared_arguments({**MINIMAL, "lifecycle": [{"ignore_changes": ["tags"]}]}) == ()
    # The period is left to the console by an entry naming it or the whole block; naming PITR's
    # `enabled` leaves it planned (terraform plan changes a period set to 20 in the console),
    # where the note used to go.
    pitr = {**MINIMAL, "point_in_time_recovery": [{"enabled": True, "recovery_period_in_days": 7}]}
    for entry, noted in (
        ("point_in_time_recovery[0].enabled", True),
        ("point_in_time_recovery[0].recovery_period_in_days", False),
        ('point_in_time_recovery["enabled"]', False),  # the whole block (terraform plan)
        ("point_in_time_recovery", False),
        ("point_in_time_recovery[0]", False),
    ):
        notes = uncompared_arguments({**pitr, "lifecycle": [{"ignore_changes": [entry]}]})
        assert bool(notes) is noted, entry


def test_ignore_changes_on_tags_all_leaves_only_default_tags() -> None:
    """``ignore_changes = [tags_all]`` (measured with terraform plan): a resource tag changed or
    a tag added in the console is still a change of ``tags``; only the provider's default tags
    (a removed one plans nothing) may go uncompared. ``[tags]`` silences every tag."""
    lifecycle = {"lifecycle": [{"ignore_changes": ["tags_all"]}]}
    spec = to_spec(
        {**MINIMAL, "tags": {"A": "1", "Shared": "own"}, **lifecycle},
        default_tags={"Env": "dev", "Shared": "x"},
    )
    assert spec.is_managed("tags.A") and spec.is_managed("tags.Extra") and spec.is_managed("tags.Shared")
    assert not spec.is_managed("tags.Env")
    spec = to_spec(
        {**MINIMAL, "tags": {"A": "1"}, "lifecycle": [{"ignore_changes": ["tags"]}]},
        default_tags={"Env": "dev"},
    )
    assert (
        not spec.is_managed("tags.A")
        and not spec.is_managed("tags.Env")
        and not spec.is_managed("tags.Extra")
    )


@pytest.mark.parametrize(
    ("ignore_changes", "restored"),
    [
        pytest.param(["tags"], {"Env": "dev", "Shared": "x"}, id="tags"),
        pytest.param(['tags["Env"]'], {"Env": "dev"}, id="one-default-key"),
        pytest.param(['tags["A"]'], {}, id="an-own-key"),
        pytest.param(["tags", "tags_all"], {}, id="tags-and-tags_all"),
        pytest.param(["tags_all"], {}, id="tags_all"),
        pytest.param(["tags", 'tags_all["Env"]'], {"Shared": "x"}, id="tags-and-one-tags_all-key"),
        pytest.param("all", {}, id="all"),
        pytest.param([Unknown("var.x")], {}, id="unreadable-entry"),
        pytest.param(["read_capacity"], {}, id="tags-managed"),
    ],
)
def test_default_tags_terraform_restores_under_ignore_changes(
    ignore_changes: Any, restored: dict[str, str]
) -> None:
    """Measured with terraform plan: under ``ignore_changes = [tags]`` (or ``[tags["K"]]`` for a
    default key) a default tag deleted in the console is put back with the default's value, even
    where the resource's own tag overrode it; ``tags_all`` in the list, ``all`` or an entry that
    cannot be read restores nothing (a miss, never a false alarm)."""
    spec = to_spec(
        {**MINIMAL, "tags": {"A": "1", "Shared": "own"}, "lifecycle": [{"ignore_changes": ignore_changes}]},
        default_tags={"Env": "dev", "Shared": "x"},
    )
    assert dict(spec.restored_tags) == restored


def test_no_default_tags_restore_nothing() -> None:
    ignored = {"lifecycle": [{"ignore_changes": ["tags"]}]}
    assert to_spec({**MINIMAL, "tags": {"A": "1"}, **ignored}).restored_tags == {}
    unknown = to_spec({**MINIMAL, **ignored}, default_tags=Unknown("var.tags"))  # type: ignore[arg-type]
    assert unknown.restored_tags == {}


@pytest.mark.parametrize(("text", "expected"), [("1", True), ("0", False), ("true", True), ("false", False)])
def test_a_string_flag_converts_as_cty_converts_it(text: str, expected: bool) -> None:
    """``deletion_protection_enabled = "1"`` (a tfvars string): Terraform converts "1"/"0" too
    (terraform console), so the flag is compared, not left unresolved."""
    spec = to_spec(
        {**MINIMAL, "deletion_protection_enabled": text, "point_in_time_recovery": [{"enabled": text}]}
    )
    assert (spec.deletion_protection, spec.point_in_time_recovery) == (expected, expected)
    assert isinstance(to_spec({**MINIMAL, "deletion_protection_enabled": "yes"}).deletion_protection, Unknown)


def test_ignore_changes_on_one_tags_all_key_leaves_the_resources_own_tag_compared() -> None:
    """Measured with terraform plan: under ``ignore_changes = [tags_all["Own"]]`` the resource's
    own tag ``Own`` changed or deleted in the console still plans a change of ``tags``; a default
    tag's key under ``tags_all["Env"]`` stays uncompared; ``tags["Own"]`` beside it silences."""
    own = {"tags": {"Own": "o"}}
    spec = to_spec(
        {**MINIMAL, **own, "lifecycle": [{"ignore_changes": ['tags_all["Own"]']}]}, default_tags={"Env": "d"}
    )
    assert spec.is_managed("tags.Own") and spec.is_managed("tags.Env")
    spec = to_spec(
        {**MINIMAL, **own, "lifecycle": [{"ignore_changes": ['tags_all["Env"]']}]}, default_tags={"Env": "d"}
    )
    assert spec.is_managed("tags.Own") and not spec.is_managed("tags.Env")
    both = ['tags_all["Own"]', 'tags["Own"]']
    assert not to_spec({**MINIMAL, **own, "lifecycle": [{"ignore_changes": both}]}).is_managed("tags.Own")
