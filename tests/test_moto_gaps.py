"""The README's "Testing against moto_server" lists moto's gaps: each one is checked here.

Against a fresh, unpatched moto (a new interpreter: driftwatch's corrections in
driftwatch/demo/moto_patches.py patch moto's classes for the rest of a process). moto_server
serves the same backend, so what holds in-process holds there. When a moto release fixes a
gap, its case fails here: drop it from the README (and its correction from moto_patches.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, os
os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
)
for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(key, None)
import boto3
from moto import mock_aws
found = {}
with mock_aws():
    c = boto3.client("dynamodb", region_name="us-east-1")
    c.create_table(
        TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        TableClass="STANDARD_INFREQUENT_ACCESS", Tags=[{"Key": "Team", "Value": "a"}],
    )
    table = c.describe_table(TableName="t")["Table"]
    found["table_class_ignored"] = "TableClassSummary" not in table
    c.tag_resource(ResourceArn=table["TableArn"], Tags=[{"Key": "Team", "Value": "b"}])
    tags = c.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    found["tag_resource_duplicates"] = [t["Key"] for t in tags].count("Team") == 2
    c.update_table(TableName="t", SSESpecification={"Enabled": True, "SSEType": "KMS"})
    found["update_sse_ignored"] = "SSEDescription" not in c.describe_table(TableName="t")["Table"]
    c.update_table(TableName="t", BillingMode="PAY_PER_REQUEST")
    throughput = c.describe_table(TableName="t")["Table"]["ProvisionedThroughput"]
    found["pay_per_request_keeps_capacity"] = throughput["ReadCapacityUnits"] == 5
print(json.dumps(found))
"""

# gap -> words the README uses for it
README_WORDS = {
    "table_class_ignored": "it ignores `TableClass`",
    "tag_resource_duplicates": "TagResource appends a second tag with the same key",
    "update_sse_ignored": "UpdateTable ignores `SSESpecification`",
    "pay_per_request_keeps_capacity": "it keeps reporting the old provisioned capacity",
}


def test_every_moto_gap_the_readme_lists_is_real_in_the_installed_moto() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    for gap, words in README_WORDS.items():
        assert words in readme, f"the README no longer lists {gap}"
        assert found[gap], f"moto no longer has the gap {gap!r}: drop it from the README"
