"""CloudPosse dynamodb module emulation: sources, versions, every rule of reference sections 2-3."""

from __future__ import annotations

from typing import Any

import pytest

from driftwatch.spec import Autoscaling, Gsi, Lsi, ScalingTarget, Sse, Stream, TableSpec, Ttl, Unknown
from driftwatch.terraform.cloudposse import (
    KNOWN_VERSIONS,
    RELEASES,
    ModuleInputError,
    TableNotDetermined,
    declares,
    is_dynamodb_module_source,
    is_label_module_source,
    module_to_resource,
    newest_release,
    resolve_module_version,
)
from driftwatch.terraform.label import build_label
from driftwatch.terraform.resource import ResourceDeclaration, resource_to_spec
from driftwatch.terraform.validate_table import check

# The autoscaler submodule's policies track DynamoDB's predefined utilization metric per direction.
READ_METRIC, WRITE_METRIC = "DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"
DEFAULT_SCALING = Autoscaling(
    read=ScalingTarget(5, 20, 50.0, metric=READ_METRIC), write=ScalingTarget(5, 20, 50.0, metric=WRITE_METRIC)
)


def declare(version: str = "0.37.0", **inputs: Any) -> ResourceDeclaration:
    declaration = module_to_resource(inputs, version)
    assert declaration is not None
    return declaration


def spec(version: str = "0.37.0", **inputs: Any) -> TableSpec:
    return resource_to_spec(declare(version, **inputs), region="us-east-1")


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# --- sources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "cloudposse/dynamodb/aws",
        "CloudPosse/DynamoDB/aws",
        "registry.terraform.io/cloudposse/dynamodb/aws",
        "git::https://github.com/cloudposse/terraform-aws-dynamodb.git?ref=0.35.1",
        "github.com/cloudposse/terraform-aws-dynamodb?ref=0.36.0",
        "git::ssh://git@github.com/cloudposse/terraform-aws-dynamodb.git//?ref=v0.37.0",
        "git@github.com:cloudposse/terraform-aws-dynamodb.git",
        "git::https://github.com/cloudposse/terraform-aws-dynamodb",
    ],
)
def test_dynamodb_module_sources(source: str) -> None:
    assert is_dynamodb_module_source(source)
    assert not is_label_module_source(source)


@pytest.mark.parametrize(
    "source",
    [
        "app.terraform.io/cloudposse/dynamodb/aws",
        "CloudPosse/DynamoDB/AWS",  # Terraform rejects it: the target system is lower-case
        "cloudposse/dynamodb-autoscaler/aws",
        "terraform-aws-modules/dynamodb-table/aws",
        "../../",
        "./modules/dynamodb",
        "git::https://github.com/cloudposse/terraform-aws-dynamodb.git//examples/complete?ref=0.35.1",
        "github.com/someone/terraform-aws-dynamodb",
        "cloudposse/label/null",
    ],
)
def test_not_dynamodb_module_sources(source: str) -> None:
    assert not is_dynamodb_module_source(source)


@pytest.mark.parametrize(
    "source",
    [
        "cloudposse/label/null",
        "registry.terraform.io/cloudposse/label/null",
        "git::https://github.com/cloudposse/terraform-null-label.git?ref=0.25.0",
        "github.com/cloudposse/terraform-null-label?ref=tags/0.25.0",
    ],
)
def test_label_module_sources(source: str) -> None:
    assert is_label_module_source(source)
    assert not is_dynamodb_module_source(source)


# --- versions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "constraint", "expected"),
    [
        ("cloudposse/dynamodb/aws", "~> 0.35.0", "0.35.1"),
        ("cloudposse/dynamodb/aws", "~> 0.35", "0.37.0"),
        ("cloudposse/dynamodb/aws", "= 0.35.0", "0.35.0"),
        ("cloudposse/dynamodb/aws", "0.35.0", "0.35.0"),
        ("cloudposse/dynamodb/aws", ">= 0.36", "0.37.0"),
        ("cloudposse/dynamodb/aws", ">= 0.35.0, < 0.36.0", "0.35.1"),
        ("cloudposse/dynamodb/aws", "!= 0.37.0", "0.36.0"),
        ("cloudposse/dynamodb/aws", "<= 0.36.0", "0.36.0"),
        ("cloudposse/dynamodb/aws", "~> 0", "0.37.0"),
        ("cloudposse/dynamodb/aws", None, "0.37.0"),
        ("cloudposse/dynamodb/aws", "~> 0.34.0", "0.34.0"),
        ("cloudposse/dynamodb/aws", "0.34.0", "0.34.0"),
        ("cloudposse/dynamodb/aws", "~> 0.32.0", "0.32.0"),
        ("cloudposse/dynamodb/aws", "~> 0.32", "0.37.0"),
        ("cloudposse/dynamodb/aws", ">= 0.29.0, < 0.34.0", "0.33.0"),
        ("cloudposse/dynamodb/aws", ">= 0.29.0, < 0.33.0", "0.32.0"),
        ("cloudposse/dynamodb/aws", "~> 0.29.0", "0.29.4"),
        ("cloudposse/dynamodb/aws", "< 0.30", "0.29.4"),
        ("cloudposse/dynamodb/aws", "= 0.29.3", "0.29.3"),
        ("cloudposse/dynamodb/aws", "< 0.29.3", "0.29.2"),
        # resolves to a release that is not known: never emulated as another one (None: the
        # walk evaluates the fetched source, or lists the call as not evaluated)
        ("cloudposse/dynamodb/aws", "~> 0.30.0", None),
        ("cloudposse/dynamodb/aws", "~> 0.31.0", None),
        ("cloudposse/dynamodb/aws", ">= 0.29.4, < 0.31.0", None),  # 0.30.0, not 0.29.4
        ("cloudposse/dynamodb/aws", "0.30.0", None),
        ("cloudposse/dynamodb/aws", "< 0.29.2", None),  # 0.29.1, not 0.29.2
        ("cloudposse/dynamodb/aws", "< 0.29", None),
        ("cloudposse/dynamodb/aws", ">= 0.38", None),
        # git sources: the ref (a leading v stripped), ignoring any constraint
        ("git::https://github.com/cloudposse/terraform-aws-dynamodb.git?ref=0.35.1", None, "0.35.1"),
        ("git::ssh://git@github.com/cloudposse/terraform-aws-dynamodb.git//?ref=v0.37.0", None, "0.37.0"),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=tags/0.36.0", "~> 0.35.0", "0.36.0"),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=v0", None, "0.37.0"),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=main", None, "0.37.0"),
        ("github.com/cloudposse/terraform-aws-dynamodb", None, "0.37.0"),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=0.34.0", None, "0.34.0"),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=tags/0.29.4", None, "0.29.4"),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=0.30.0", None, None),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=0.29.1", ">= 0.32", None),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=0123abcd", None, None),
    ],
)
def test_resolve_module_version(source: str, constraint: str | None, expected: str | None) -> None:
    assert resolve_module_version(source, constraint) == expected
    assert expected is None or expected in KNOWN_VERSIONS


@pytest.mark.parametrize("constraint", ["about 0.35", ""])  # terraform 1.11.4 init refuses ""
def test_invalid_constraint_is_an_input_error(constraint: str) -> None:
    with pytest.raises(ModuleInputError):
        resolve_module_version("cloudposse/dynamodb/aws", constraint)


def test_offline_resolution_names_the_release_a_constraint_picks() -> None:
    """The newest of all releases, not of the known ones: what `terraform init` would install."""
    assert newest_release(">= 0.29.4, < 0.31.0") == "0.30.0"
    assert newest_release("~> 0.29.0") == "0.29.4"
    assert newest_release("< 0.29") is None
    assert set(KNOWN_VERSIONS) <= set(RELEASES)


@pytest.mark.parametrize("version", ["0.31.0", "0.30.0", "0.29.1", "0.29.0", "0.28.1"])
def test_unknown_version_is_rejected(version: str) -> None:
    with pytest.raises(ValueError, match=version.replace(".", r"\.")):
        module_to_resource({"hash_key": "h"}, version)


# --- defaults --------------------------------------------------------------------------------


def test_defaults() -> None:
    result = spec(namespace="acme", stage="dev", name="t", hash_key="id")
    assert result == TableSpec(
        name="acme-dev-t",
        region="us-east-1",
        hash_key="id",
        hash_key_type="S",
        range_key=None,
        range_key_type=None,
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=5,
        table_class="STANDARD",
        ttl=Ttl(enabled=True, attribute="Expires"),
        point_in_time_recovery=True,
        sse=Sse(enabled=True, kms_key_arn=None),
        stream=Stream(enabled=False),
        deletion_protection=False,
        gsis=(),
        lsis=(),
        replicas=frozenset(),
        tags={"Name": "acme-dev-t", "Namespace": "acme", "Stage": "dev"},
        autoscaling=Autoscaling(),
        unmanaged=frozenset({"read_capacity", "write_capacity", "autoscaling.*"}),
    )


def test_default_arguments() -> None:
    arguments = declare(name="t", hash_key="id").arguments
    assert arguments["lifecycle"] == [{"ignore_changes": ["read_capacity", "write_capacity"]}]
    assert arguments["attribute"] == [{"name": "id", "type": "S"}]
    assert arguments["server_side_encryption"] == [{"enabled": True, "kms_key_arn": None}]
    assert arguments["point_in_time_recovery"] == [{"enabled": True}]
    assert arguments["ttl"] == [{"attribute_name": "Expires", "enabled": True}]
    assert (arguments["stream_enabled"], arguments["stream_view_type"]) == (False, "")
    assert "import_table" not in arguments


def test_attribute_order_range_hash_extras_without_dedup() -> None:
    arguments = declare(
        hash_key="h", range_key="r", range_key_type="N", dynamodb_attributes=[{"name": "h", "type": "S"}]
    ).arguments
    assert arguments["attribute"] == [
        {"name": "r", "type": "N"},
        {"name": "h", "type": "S"},
        {"name": "h", "type": "S"},
    ]


def test_string_inputs_are_converted_like_terraform() -> None:
    result = spec(
        name="t", hash_key="h", autoscale_min_read_capacity="7", enable_point_in_time_recovery="false"
    )
    assert result.read_capacity == 7
    assert result.point_in_time_recovery is False


def test_missing_hash_key_names_the_input() -> None:
    with pytest.raises(ModuleInputError) as raised:
        module_to_resource({"name": "t"}, "0.37.0")
    assert raised.value.input == "hash_key"
    assert "hash_key" in str(raised.value)


# --- examples/complete -----------------------------------------------------------------------


def _complete_example_inputs(name: str) -> dict[str, Any]:
    this = build_label({"namespace": "eg", "stage": "test", "name": "dynamodb-table"})
    return {
        "context": this.context,
        "name": name,
        "hash_key": "HashKey",
        "range_key": "RangeKey",
        "enable_autoscaler": True,
        "dynamodb_attributes": [
            {"name": "DailyAverage", "type": "N"},
            {"name": "HighWater", "type": "N"},
            {"name": "Timestamp", "type": "S"},
        ],
        "local_secondary_index_map": [
            {
                "name": "TimestampSortIndex",
                "range_key": "Timestamp",
                "projection_type": "INCLUDE",
                "non_key_attributes": ["HashKey", "RangeKey"],
            },
            {
                "name": "HighWaterIndex",
                "range_key": "Timestamp",
                "projection_type": "INCLUDE",
                "non_key_attributes": ["HashKey", "RangeKey"],
            },
        ],
        "global_secondary_index_map": [
            {
                "name": "DailyAverageIndex",
                "hash_key": "DailyAverage",
                "range_key": "HighWater",
                "write_capacity": 5,
                "read_capacity": 5,
                "projection_type": "INCLUDE",
                "non_key_attributes": ["HashKey", "RangeKey"],
            }
        ],
    }


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
@pytest.mark.parametrize("name", ["first", "second"])
def test_examples_complete(version: str, name: str) -> None:
    result = resource_to_spec(declare(version, **_complete_example_inputs(name)), region="us-east-2")
    assert result.name == f"eg-test-{name}"
    assert result.tags == {"Name": f"eg-test-{name}", "Namespace": "eg", "Stage": "test"}
    assert (result.hash_key, result.hash_key_type, result.range_key, result.range_key_type) == (
        "HashKey",
        "S",
        "RangeKey",
        "S",
    )
    assert result.ttl == Ttl(enabled=True, attribute="Expires")
    assert result.point_in_time_recovery is True
    assert result.sse == Sse(enabled=True)
    assert (result.read_capacity, result.write_capacity) == (5, 5)
    assert result.autoscaling == DEFAULT_SCALING
    assert result.gsis == (
        Gsi(
            name="DailyAverageIndex",
            hash_key="DailyAverage",
            range_key="HighWater",
            projection_type="INCLUDE",
            non_key_attributes=frozenset({"HashKey", "RangeKey"}),
            read_capacity=5,
            write_capacity=5,
            autoscaling=DEFAULT_SCALING,
        ),
    )
    assert result.lsis == (
        Lsi("TimestampSortIndex", "Timestamp", "INCLUDE", frozenset({"HashKey", "RangeKey"})),
        Lsi("HighWaterIndex", "Timestamp", "INCLUDE", frozenset({"HashKey", "RangeKey"})),
    )
    assert result.unmanaged == {"read_capacity", "write_capacity"}


# --- version-dependent behaviour -----------------------------------------------------------


@pytest.mark.parametrize("version", [v for v in KNOWN_VERSIONS if _release(v) < (0, 35, 1)])
def test_ttl_disabled_before_0_35_1_is_unmanaged(version: str) -> None:
    declaration = declare(version, name="t", hash_key="h", ttl_enabled=False)
    assert declaration.arguments["ttl"] == []
    result = resource_to_spec(declaration, region=None)
    assert not result.is_managed("ttl.enabled")
    assert not result.is_managed("ttl.attribute")


@pytest.mark.parametrize("version", ["0.35.1", "0.36.0", "0.37.0"])
def test_ttl_disabled_from_0_35_1_means_off(version: str) -> None:
    declaration = declare(version, name="t", hash_key="h", ttl_enabled=False, ttl_attribute="exp")
    assert declaration.arguments["ttl"] == [{"attribute_name": "exp", "enabled": False}]
    result = resource_to_spec(declaration, region=None)
    assert result.ttl == Ttl(enabled=False)
    assert result.is_managed("ttl.enabled")


def test_ttl_enabled_same_on_all_versions() -> None:
    for version in KNOWN_VERSIONS:
        result = spec(version, name="t", hash_key="h", ttl_attribute="expires_at")
        assert result.ttl == Ttl(enabled=True, attribute="expires_at")


def test_ttl_empty_attribute_disables_from_0_35_1() -> None:
    assert spec("0.35.1", name="t", hash_key="h", ttl_attribute="").ttl == Ttl(enabled=False)


@pytest.mark.parametrize("version", ["0.36.0", "0.37.0"])
def test_table_name_override_from_0_36_0(version: str) -> None:
    result = spec(
        version, namespace="acme", stage="prod", name="ovr", hash_key="h", table_name="My_Custom.Table"
    )
    assert result.name == "My_Custom.Table"
    assert result.tags["Name"] == "acme-prod-ovr"  # type: ignore[index]


@pytest.mark.parametrize("version", ["0.35.0", "0.35.1"])
def test_table_name_ignored_before_0_36_0(version: str) -> None:
    result = spec(
        version, namespace="acme", stage="prod", name="ovr", hash_key="h", table_name="My_Custom.Table"
    )
    assert result.name == "acme-prod-ovr"


def test_empty_or_null_table_name_uses_label_id() -> None:
    assert spec(name="t", hash_key="h", table_name="").name == "t"
    assert spec(name="t", hash_key="h", table_name=None).name == "t"


# --- billing, autoscaling, streams, replicas ----------------------------------------------------


def test_pay_per_request_has_no_capacity_and_no_autoscaling() -> None:
    declaration = declare(
        name="t",
        hash_key="h",
        billing_mode="PAY_PER_REQUEST",
        enable_autoscaler=True,
        global_secondary_index_map=[
            {
                "name": "g",
                "hash_key": "x",
                "range_key": None,
                "projection_type": "ALL",
                "non_key_attributes": None,
                "read_capacity": None,
                "write_capacity": None,
            }
        ],
        dynamodb_attributes=[{"name": "x", "type": "S"}],
    )
    assert declaration.arguments["read_capacity"] is None
    assert declaration.autoscaling is None and declaration.gsi_autoscaling == {}
    result = resource_to_spec(declaration, region=None)
    assert (result.billing_mode, result.read_capacity, result.write_capacity) == (
        "PAY_PER_REQUEST",
        None,
        None,
    )
    assert result.gsis == (Gsi(name="g", hash_key="x", projection_type="ALL"),)
    assert not result.is_managed("autoscaling.read.min")
    assert not result.is_managed("gsi.g.autoscaling.write.max")


def test_autoscaler_values_for_table_and_every_gsi() -> None:
    gsi = {
        "name": "g",
        "hash_key": "x",
        "range_key": None,
        "projection_type": "KEYS_ONLY",
        "non_key_attributes": None,
        "read_capacity": 3,
        "write_capacity": 4,
    }
    declaration = declare(
        name="t",
        hash_key="h",
        enable_autoscaler=True,
        autoscale_min_read_capacity=2,
        autoscale_max_read_capacity=30,
        autoscale_min_write_capacity=1,
        autoscale_max_write_capacity=10,
        autoscale_read_target=70,
        autoscale_write_target=60,
        global_secondary_index_map=[gsi, {**gsi, "name": "g2"}],
    )
    expected = Autoscaling(
        read=ScalingTarget(2, 30, 70.0, metric=READ_METRIC),
        write=ScalingTarget(1, 10, 60.0, metric=WRITE_METRIC),
    )
    assert declaration.autoscaling == expected
    assert declaration.gsi_autoscaling == {"g": expected, "g2": expected}
    assert (declaration.arguments["read_capacity"], declaration.arguments["write_capacity"]) == (2, 1)


def test_replicas_force_the_stream_on() -> None:
    declaration = declare(
        name="t", hash_key="h", replicas=["eu-west-1", "us-west-2"], stream_view_type="NEW_AND_OLD_IMAGES"
    )
    assert declaration.arguments["replica"][0] == {
        "region_name": "eu-west-1",
        "kms_key_arn": None,
        "propagate_tags": False,
        "point_in_time_recovery": False,
    }
    result = resource_to_spec(declaration, region=None)
    assert result.stream == Stream(enabled=True, view_type="NEW_AND_OLD_IMAGES")
    assert result.replicas == frozenset({"eu-west-1", "us-west-2"})


def test_stream_view_type_only_used_when_streams_wanted() -> None:
    arguments = declare(name="t", hash_key="h", stream_view_type="KEYS_ONLY").arguments
    assert (arguments["stream_enabled"], arguments["stream_view_type"]) == (False, "")
    assert spec(name="t", hash_key="h", enable_streams=True, stream_view_type="KEYS_ONLY").stream == Stream(
        True, "KEYS_ONLY"
    )


def test_encryption_with_customer_key_and_disabled() -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/abc"
    assert spec(name="t", hash_key="h", server_side_encryption_kms_key_arn=key).sse == Sse(True, key)
    assert spec(name="t", hash_key="h", enable_encryption=False).sse == Sse(False)


def test_import_table_passthrough() -> None:
    source = {"input_format": "CSV", "s3_bucket_source": {"bucket": "b"}}
    assert declare(name="t", hash_key="h", import_table=source).arguments["import_table"] == [source]


# --- enabled / tags_enabled ------------------------------------------------------------------


def test_disabled_module_declares_no_table() -> None:
    assert module_to_resource({"name": "t", "hash_key": "h", "enabled": False}, "0.37.0") is None
    context = build_label({"enabled": False}).context
    assert module_to_resource({"context": context, "name": "t", "hash_key": "h"}, "0.37.0") is None


def test_unknown_enabled_is_not_determined() -> None:
    with pytest.raises(TableNotDetermined, match=r"var\.enabled"):
        module_to_resource({"name": "t", "hash_key": "h", "enabled": Unknown("var.enabled")}, "0.37.0")


def test_tags_disabled_gives_no_tags_but_keeps_default_tags() -> None:
    declaration = declare(namespace="acme", name="t", hash_key="h", tags_enabled=False, tags={"Team": "x"})
    assert declaration.arguments["tags"] is None
    assert resource_to_spec(declaration, region=None).tags == {}
    assert resource_to_spec(declaration, region=None, default_tags={"Env": "prod"}).tags == {"Env": "prod"}


# --- Unknown propagation -----------------------------------------------------------------------


def test_unknown_namespace_makes_name_unknown_but_not_stage_tag() -> None:
    result = spec(
        namespace=Unknown("var.project"), stage="prod", name="orders", hash_key="h", tags={"Team": "x"}
    )
    assert isinstance(result.name, Unknown) and "var.project" in result.name.reason
    assert isinstance(result.tags, dict)
    assert result.tags["Stage"] == "prod" and result.tags["Team"] == "x"
    assert isinstance(result.tags["Name"], Unknown)
    assert result.hash_key == "h" and result.ttl == Ttl(True, "Expires")


def test_unknown_billing_mode() -> None:
    declaration = declare(name="t", hash_key="h", billing_mode=Unknown("var.billing"), enable_autoscaler=True)
    result = resource_to_spec(declaration, region=None)
    assert isinstance(result.billing_mode, Unknown)
    assert isinstance(result.read_capacity, Unknown)
    assert result.autoscaling.read is not None and isinstance(result.autoscaling.read.min, Unknown)


def test_unknown_autoscaler_switch_but_pay_per_request_known() -> None:
    declaration = declare(
        name="t", hash_key="h", billing_mode="PAY_PER_REQUEST", enable_autoscaler=Unknown("var.autoscale")
    )
    assert declaration.autoscaling is None  # PAY_PER_REQUEST decides it


def test_unknown_ttl_switch_on_0_35_0_leaves_block_unknown() -> None:
    result = spec("0.35.0", name="t", hash_key="h", ttl_enabled=Unknown("var.ttl"))
    assert isinstance(result.ttl.enabled, Unknown)
    result = spec("0.37.0", name="t", hash_key="h", ttl_enabled=Unknown("var.ttl"))
    assert isinstance(result.ttl.enabled, Unknown) and isinstance(result.ttl.attribute, Unknown)


def test_unknown_replicas_and_unknown_gsi_capacity() -> None:
    result = spec(name="t", hash_key="h", replicas=Unknown("var.regions"))
    assert isinstance(result.replicas, Unknown) and isinstance(result.stream.enabled, Unknown)
    result = spec(
        name="t",
        hash_key="h",
        replicas=["eu-west-1", Unknown("var.second")],
        global_secondary_index_map=[
            {
                "name": "g",
                "hash_key": "h",
                "range_key": None,
                "projection_type": "ALL",
                "non_key_attributes": None,
                "read_capacity": Unknown("var.gsi_capacity"),
                "write_capacity": 5,
            }
        ],
    )
    assert isinstance(result.replicas, Unknown)
    assert result.stream.enabled is True  # length(replicas) > 0 is known
    gsi = result.gsi("g")
    assert gsi is not None and isinstance(gsi.read_capacity, Unknown) and gsi.write_capacity == 5


def test_explicit_null_input_used_in_a_condition_is_unknown() -> None:
    """Terraform refuses a null condition ("Null condition", "argument must not be null"), so
    what the call means is not known: never drift."""
    result = spec("0.35.0", name="t", hash_key="h", ttl_enabled=None, enable_streams=None)
    assert isinstance(result.ttl.enabled, Unknown)
    assert isinstance(result.stream.enabled, Unknown)


def test_explicit_null_input_the_module_passes_to_the_table_is_the_arguments_null() -> None:
    """The module writes these inputs straight into the table's arguments, so an explicit null
    there is that argument's null: the provider's default (STANDARD, no deletion protection,
    TTL off), which terraform plan puts back after a console change (seventh survey, with
    terraform plan against the module's source). They were Unknown, a hidden drift."""
    result = spec(
        name="t",
        hash_key="h",
        table_class=None,
        deletion_protection_enabled=None,
        ttl_enabled=None,
        ttl_attribute="exp",
        enable_streams=True,
        stream_view_type=None,
    )
    assert result.table_class == "STANDARD"
    assert result.deletion_protection is False
    assert result.ttl.enabled is False
    assert result.stream.view_type is None
    # capacity: null passed on, which the provider refuses when it creates the table
    declaration = declare(
        name="t", hash_key="h", autoscale_min_read_capacity=None, autoscale_min_write_capacity=None
    )
    assert (declaration.arguments["read_capacity"], declaration.arguments["write_capacity"]) == (None, None)
    # the autoscaler's own minimum stays unknown: its target would get the null
    scaled = spec(name="t", hash_key="h", enable_autoscaler=True, autoscale_min_read_capacity=None)
    assert scaled.autoscaling is not None and isinstance(scaled.autoscaling.read.min, Unknown)


@pytest.mark.parametrize(
    ("given", "block"),
    [
        ("enable_point_in_time_recovery", "point_in_time_recovery"),
        ("enable_encryption", "server_side_encryption"),
    ],
)
def test_explicit_null_for_a_required_flag_is_terraforms_refusal(given: str, block: str) -> None:
    """The module writes these flags straight into a block whose ``enabled`` the provider
    requires: terraform plan over the vendored 0.37.0 with the input null fails with 'The
    argument "point_in_time_recovery.0.enabled" is required'. The table is an error row naming
    the rule, as Terraform refuses it; it was Unknown (compared without it)."""
    declaration = declare(name="t", hash_key="h", **{given: None})
    assert declaration.arguments[block][0]["enabled"] is None
    found = [(r.rule, r.message) for r in check(declaration.arguments)]
    assert found == [("required-argument", f'the argument "enabled" is required in a {block} block')]


# --- releases before 0.35.0: each difference fails if a release were emulated as its neighbour --


def test_tags_enabled_is_an_input_from_0_29_3() -> None:
    """0.29.2 always tags the table with the label tags; a call passing tags_enabled is rejected
    by Terraform, so the tags are Unknown. 0.29.3 honours tags_enabled = false."""
    labelled = {"namespace": "acme", "stage": "dev", "name": "t", "hash_key": "h"}
    assert spec("0.29.2", **labelled).tags == {"Name": "acme-dev-t", "Namespace": "acme", "Stage": "dev"}
    assert isinstance(spec("0.29.2", **labelled, tags_enabled=False).tags, Unknown)
    assert spec("0.29.3", **labelled, tags_enabled=False).tags == {}


def test_table_class_is_an_input_from_0_32_0() -> None:
    """0.29.4 has no table_class variable: its table does not set one (the provider's STANDARD
    is enforced, as for a plain table), and a call passing one is rejected by Terraform, so the
    class is Unknown rather than a guess. 0.32.0 passes the input through."""
    old = declare("0.29.4", name="t", hash_key="h")
    assert "table_class" not in old.arguments
    assert resource_to_spec(old, region=None).table_class == "STANDARD"
    assert declare("0.32.0", name="t", hash_key="h").arguments["table_class"] == "STANDARD"
    passed = {"name": "t", "hash_key": "h", "table_class": "STANDARD_INFREQUENT_ACCESS"}
    assert isinstance(spec("0.29.4", **passed).table_class, Unknown)
    assert spec("0.32.0", **passed).table_class == "STANDARD_INFREQUENT_ACCESS"


def test_deletion_protection_is_an_input_from_0_34_0() -> None:
    passed = {"name": "t", "hash_key": "h", "deletion_protection_enabled": True}
    assert isinstance(spec("0.33.0", **passed).deletion_protection, Unknown)
    assert spec("0.34.0", **passed).deletion_protection is True
    # Not passed: 0.33.0's table has no such argument, which Terraform plans as false.
    old = declare("0.33.0", name="t", hash_key="h")
    assert "deletion_protection_enabled" not in old.arguments
    assert resource_to_spec(old, region=None).deletion_protection is False
    assert declare("0.34.0", name="t", hash_key="h").arguments["deletion_protection_enabled"] is False


def test_import_table_block_from_0_35_0() -> None:
    source = {"input_format": "CSV", "s3_bucket_source": {"bucket": "b"}}
    new = declare("0.35.0", name="t", hash_key="h", import_table=source)
    old = declare("0.34.0", name="t", hash_key="h", import_table=source)
    assert new.arguments["import_table"] == [source]
    assert old.arguments.get("import_table") != [source]
    assert "import_table" not in declare("0.34.0", name="t", hash_key="h").arguments


def test_replica_blocks_spell_out_options_from_0_32_0() -> None:
    """0.29.4 sets only the region; 0.32.0 adds kms_key_arn = null, propagate_tags = false and
    point_in_time_recovery = false (the provider's own defaults), so the same replicas result."""
    old = declare("0.29.4", name="t", hash_key="h", replicas=["eu-west-1"], stream_view_type="KEYS_ONLY")
    new = declare("0.32.0", name="t", hash_key="h", replicas=["eu-west-1"], stream_view_type="KEYS_ONLY")
    assert old.arguments["replica"] == [{"region_name": "eu-west-1"}]
    assert new.arguments["replica"][0]["propagate_tags"] is False
    assert resource_to_spec(old, region=None).replicas == resource_to_spec(new, region=None).replicas


@pytest.mark.parametrize("version", [v for v in KNOWN_VERSIONS if _release(v) < (0, 35, 0)])
def test_older_releases_share_the_rest_of_0_35_0(version: str) -> None:
    """Everything but the gated inputs is as in 0.35.0: the TTL block only when enabled, the
    label, autoscaling of the table and every GSI with the table's values, replicas forcing the
    stream on."""
    inputs: dict[str, Any] = {
        "namespace": "acme",
        "tenant": "blue",
        "stage": "prod",
        "name": "orders",
        "hash_key": "h",
        "range_key": "r",
        "dynamodb_attributes": [{"name": "g", "type": "S"}],
        "global_secondary_index_map": [
            {
                "name": "gi",
                "hash_key": "g",
                "range_key": None,
                "projection_type": "ALL",
                "non_key_attributes": None,
                "read_capacity": 5,
                "write_capacity": 5,
            }
        ],
        "enable_autoscaler": True,
        "autoscale_max_read_capacity": 40,
        "ttl_attribute": "exp",
        "replicas": ["eu-west-1"],
        "stream_view_type": "NEW_IMAGE",
    }
    result = spec(version, **inputs)
    assert result == spec("0.35.0", **inputs)
    assert result.tags["Tenant"] == "blue"  # type: ignore[index]
    assert result.gsi("gi").autoscaling == result.autoscaling  # type: ignore[union-attr]


# --- the ground-truth table ---------------------------------------------------------------------


@pytest.mark.parametrize("version", [v for v in KNOWN_VERSIONS if declares(v, "table_class")])
def test_ground_truth_table_spec(version: str) -> None:
    """acme-prod-orders of the drift ground truth (tests/test_e2e_ground_truth.py), by hand."""
    declaration = declare(
        version,
        namespace="acme",
        stage="prod",
        name="orders",
        hash_key="h",
        range_key="r",
        dynamodb_attributes=[{"name": "tenant_id", "type": "S"}, {"name": "timestamp", "type": "N"}],
        global_secondary_index_map=[
            {
                "name": "tenant-index",
                "hash_key": "tenant_id",
                "range_key": "timestamp",
                "projection_type": "KEYS_ONLY",
                "non_key_attributes": None,
                "read_capacity": 5,
                "write_capacity": 5,
            }
        ],
        billing_mode="PROVISIONED",
        enable_autoscaler=True,
        enable_encryption=True,
        enable_point_in_time_recovery=True,
        ttl_enabled=True,
        ttl_attribute="expires_at",
        enable_streams=True,
        stream_view_type="NEW_AND_OLD_IMAGES",
        table_class="STANDARD_INFREQUENT_ACCESS",
        tags={"Team": "platform", "Owner": "alice"},
    )
    expected = TableSpec(
        name="acme-prod-orders",
        region="us-east-1",
        hash_key="h",
        hash_key_type="S",
        range_key="r",
        range_key_type="S",
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=5,
        table_class="STANDARD_INFREQUENT_ACCESS",
        ttl=Ttl(enabled=True, attribute="expires_at"),
        point_in_time_recovery=True,
        sse=Sse(enabled=True, kms_key_arn=None),
        stream=Stream(enabled=True, view_type="NEW_AND_OLD_IMAGES"),
        deletion_protection=False,
        gsis=(
            Gsi(
                name="tenant-index",
                hash_key="tenant_id",
                range_key="timestamp",
                projection_type="KEYS_ONLY",
                non_key_attributes=frozenset(),
                read_capacity=5,
                write_capacity=5,
                autoscaling=DEFAULT_SCALING,
            ),
        ),
        lsis=(),
        replicas=frozenset(),
        tags={
            "Name": "acme-prod-orders",
            "Namespace": "acme",
            "Stage": "prod",
            "Team": "platform",
            "Owner": "alice",
        },
        autoscaling=DEFAULT_SCALING,
        unmanaged=frozenset({"read_capacity", "write_capacity"}),
    )
    assert resource_to_spec(declaration, region="us-east-1") == expected
