"""Testing code that calls ECS with ecs-emulator (pytest).

Start the emulator (`ecs-emulator`, default 127.0.0.1:8080) and run `pytest` on this file; set
ECS_EMULATOR_ENDPOINT to reach another address. Needs `alibabacloud-ecs20140526` and pytest.
The admin calls use nothing but the standard library.
"""

import json
import os
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ClientException
from alibabacloud_tea_openapi.models import Config

ENDPOINT = os.environ.get("ECS_EMULATOR_ENDPOINT", "127.0.0.1:8080")
REGION = "cn-hangzhou"


def admin(method, path, body=None):
    """One call to the emulator's admin API (/_emulator/...); the JSON answer, or None."""
    request = urllib.request.Request(
        f"http://{ENDPOINT}/_emulator/{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


# --------------------------------------------------------------------------- code under test
def with_retries(call, attempts=3):
    """What your application might do: retry an SDK call while it is throttled."""
    for attempt in range(attempts):
        try:
            return call()
        except AlibabaCloudException as error:  # ClientException, or ThrottlingException
            if not error.code.startswith("Throttling") or attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2 ** attempt)


def enable_default_encryption(client, region, key_id):
    """Default disk encryption on, with the given KMS key."""
    with_retries(lambda: client.enable_disk_encryption_by_default(
        ecs.EnableDiskEncryptionByDefaultRequest(region_id=region)))
    with_retries(lambda: client.modify_disk_default_kmskey_id(
        ecs.ModifyDiskDefaultKMSKeyIdRequest(region_id=region, kmskey_id=key_id)))


def create_data_disk(client, region, zone, size_gib=40):
    """A data disk; its encryption is left to the account's default (no Encrypted, no key)."""
    return with_retries(lambda: client.create_disk(ecs.CreateDiskRequest(
        region_id=region, zone_id=zone, disk_category="cloud_essd", size=size_gib))).body.disk_id


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def account():
    """An account of the test's own, with one KMS key: tests never see each other's state, so
    they can run in parallel (e.g. pytest-xdist) against one emulator."""
    key = {"keyId": "key-hzz" + uuid.uuid4().hex[:21], "regionId": REGION}
    account = admin("POST", "accounts", {"kmsKeys": [key]})
    yield account
    admin("DELETE", f"accounts/{account['accountId']}")


@pytest.fixture
def client(account):
    """The official SDK, signed with the account's generated AccessKey pair."""
    return Client(Config(access_key_id=account["accessKeyId"],
                         access_key_secret=account["accessKeySecret"],
                         region_id=REGION, endpoint=ENDPOINT, protocol="http"))


@pytest.fixture
def key_id(account):
    return account["account"]["kmsKeys"][0]["keyId"]


@pytest.fixture
def fault():
    """Adds fault rules for one test and removes them afterwards."""
    added = []

    def add(**rule):
        added.append(admin("POST", "faults", rule)["faultId"])
        return added[-1]

    yield add
    for fault_id in added:
        admin("DELETE", f"faults/{fault_id}")


@pytest.fixture
def restored_afterwards(account):
    """Snapshot the whole emulator state (the account included), and put it back after the test.
    Snapshots are global: use them in suites that run one test at a time."""
    admin("POST", "snapshots/around-test")
    yield
    admin("POST", "snapshots/around-test/restore")
    admin("DELETE", "snapshots/around-test")


def requests_made(**query):
    """The emulator's journal of RPC requests, filtered (action, accessKeyId, code, limit)."""
    return admin("GET", "requests?" + urllib.parse.urlencode(query))["requests"]


def encrypted(client):
    return client.describe_disk_encryption_by_default_status(
        ecs.DescribeDiskEncryptionByDefaultStatusRequest(region_id=REGION)).body.encrypted


# --------------------------------------------------------------------------- tests
def test_enables_encryption_with_the_key(client, key_id):
    enable_default_encryption(client, REGION, key_id)

    assert encrypted(client) is True
    assert client.describe_disk_default_kmskey_id(
        ecs.DescribeDiskDefaultKMSKeyIdRequest(region_id=REGION)).body.kmskey_id == key_id


def test_new_disks_are_encrypted_with_the_default_key(client, key_id):
    enable_default_encryption(client, REGION, key_id)

    disk_id = create_data_disk(client, REGION, "cn-hangzhou-h")

    # DiskIds is one parameter holding a JSON array
    [disk] = client.describe_disks(ecs.DescribeDisksRequest(
        region_id=REGION, disk_ids=json.dumps([disk_id]))).body.disks.disk
    assert disk.encrypted is True
    assert disk.kmskey_id == key_id


def test_the_call_was_made_with_the_key(client, account, key_id):
    enable_default_encryption(client, REGION, key_id)

    [call] = requests_made(accessKeyId=account["accessKeyId"], action="ModifyDiskDefaultKMSKeyId")
    assert call["params"]["KMSKeyId"] == key_id
    assert call["httpStatus"] == 200


def test_retries_when_throttled(client, account, key_id, fault):
    # the first two Enable calls of this account are refused as the real API does when throttled
    fault(action="EnableDiskEncryptionByDefault", accessKeyId=account["accessKeyId"],
          code="Throttling.User", times=2)

    enable_default_encryption(client, REGION, key_id)

    calls = requests_made(accessKeyId=account["accessKeyId"],
                          action="EnableDiskEncryptionByDefault")
    assert [c["code"] for c in calls] == ["Throttling.User", "Throttling.User", None]
    assert encrypted(client) is True


def test_gives_up_when_throttling_persists(client, account, key_id, fault):
    fault(action="EnableDiskEncryptionByDefault", accessKeyId=account["accessKeyId"],
          code="Throttling.User")

    with pytest.raises(ClientException) as error:
        enable_default_encryption(client, REGION, key_id)

    assert error.value.code == "Throttling.User"
    assert error.value.status_code == 400
    assert error.value.data["Message"] == "Request was denied due to user flow control."
    assert encrypted(client) is False


def test_changes_undone_after_the_test(client, key_id, restored_afterwards):
    enable_default_encryption(client, REGION, key_id)
    assert encrypted(client) is True


def test_restoring_a_snapshot_puts_the_state_back(client, key_id):
    admin("POST", "snapshots/before")
    try:
        enable_default_encryption(client, REGION, key_id)
        assert encrypted(client) is True
    finally:
        admin("POST", "snapshots/before/restore")
        admin("DELETE", "snapshots/before")

    assert encrypted(client) is False
