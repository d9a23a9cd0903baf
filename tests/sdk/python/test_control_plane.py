"""The control plane (README "Admin API") through the official Python SDKs: fault rules
surface as each SDK's own errors, the journal records what each SDK sent, tests run in
parallel on accounts of their own, snapshots restore what an SDK sees, and an admin change to a
key decides what ECS accepts. Last, the user-facing example (examples/testing/) runs against
this suite's emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from conftest import (CREDS, ECS_API, FLAVOURS, REGION, REPO_ROOT, UUID_RE,
                      Recorder, assert_api_error, expect_error)

R = {"RegionId": REGION}
THROTTLING = {
    "Throttling.User": "Request was denied due to user flow control.",
    "Throttling": "You have made too many requests within a short time; your request is denied "
                  "due to request throttling.",
}
NOT_CONFIGURED = (403, "InvalidDefaultEncryption.NotFound",
                  "You have not configured default encryption setting in this region.")
CMK_NOT_ENABLED = (400, "InvalidParameter.KMSKeyId.CMKNotEnabled", "The CMK needs to be enabled.")
# the signature scheme each flavour signs with (journal `signature.scheme`)
SCHEME = {"py-tea-v3": "V3", "py-tea-v2": "V2", "py-core": "V2"}


# --------------------------------------------------------------------------- admin helpers
def new_key_id() -> str:
    """A key id in KMS's shape (key ids are unique across the whole state)."""
    return "key-hzz" + uuid.uuid4().hex[:21]


def new_account(emulator, **partial) -> dict:
    """POST /_emulator/accounts; the answer's AccessKeyId becomes a CREDS name for the adapters."""
    status, body = emulator.admin("POST", "/_emulator/accounts", partial or None)
    assert status == 201, body
    account = body["account"]
    assert account["accountId"] == body["accountId"], body
    assert {"accessKeyId": body["accessKeyId"], "accessKeySecret": body["accessKeySecret"],
            "status": "Active"} in account["accessKeys"], body
    CREDS[body["accessKeyId"]] = (body["accessKeyId"], body["accessKeySecret"])
    return body


def account_with_key(emulator, **partial) -> tuple[dict, str]:
    """A fresh account holding one Enabled key in REGION."""
    key = new_key_id()
    return new_account(emulator, kmsKeys=[{"keyId": key, "regionId": REGION}], **partial), key


def journal(emulator, **query) -> list[dict]:
    status, body = emulator.admin("GET", "/_emulator/requests?" + urlencode(query))
    assert status == 200, body
    return body["requests"]


def fault_rule(emulator, fault_id: str) -> dict:
    status, body = emulator.admin("GET", "/_emulator/faults")
    assert status == 200, body
    [rule] = [f for f in body["faults"] if f["faultId"] == fault_id]
    return rule


@pytest.fixture
def add_fault(emulator):
    """Adds fault rules; removes them all afterwards (POST /_emulator/reset keeps rules)."""

    def add(**rule) -> str:
        status, body = emulator.admin("POST", "/_emulator/faults", rule)
        assert status == 201, body
        return body["faultId"]

    yield add
    assert emulator.admin("DELETE", "/_emulator/faults")[0] == 204
    assert emulator.admin("GET", "/_emulator/faults") == (200, {"faults": []})


@pytest.fixture
def snapshots(emulator):
    """Names of snapshots the test made; deleted afterwards (reset keeps snapshots)."""
    made: list[str] = []
    yield made
    for name in made:
        emulator.admin("DELETE", f"/_emulator/snapshots/{name}")


# --------------------------------------------------------------------------- faults
@pytest.mark.parametrize("code", list(THROTTLING))
def test_throttling_fault_is_the_sdks_api_error(sdk, emulator, add_fault, code):
    acct = new_account(emulator)
    ak = acct["accessKeyId"]
    fid = add_fault(action="ModifyDiskDefaultKMSKeyId", accessKeyId=ak, code=code)
    params = {**R, "KMSKeyId": "alias/acs/ecs"}

    # without retryAfter the tea SDKs raise their ClientException (checked by the adapter)
    err = expect_error(sdk, "ModifyDiskDefaultKMSKeyId", params, ak)
    assert_api_error(err, ECS_API, 400, code, THROTTLING[code])

    # the rule matches this AccessKey only: the default account's call reaches the action
    assert_api_error(expect_error(sdk, "ModifyDiskDefaultKMSKeyId", params, "default"),
                     ECS_API, *NOT_CONFIGURED)

    [entry] = journal(emulator, accessKeyId=ak)
    assert (entry["requestId"], entry["faultId"], entry["httpStatus"], entry["code"]) == \
        (err.request_id, fid, 400, code)
    rule = fault_rule(emulator, fid)
    assert (rule["fired"], rule["matched"], rule["accessKeyId"], rule["code"]) == (1, 1, ak, code)


@pytest.mark.parametrize("flavour", ["py-tea-v3", "py-tea-v2"])
def test_retry_after_makes_tea_raise_its_throttling_exception(flavours, emulator, add_fault,
                                                               flavour):
    from alibabacloud_ecs20140526 import models
    from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

    acct = new_account(emulator)
    ak = acct["accessKeyId"]
    fid = add_fault(action="ModifyDiskDefaultKMSKeyId", accessKeyId=ak, code="Throttling.User",
                    retryAfter=2)
    client = flavours[flavour].client(ak)
    with pytest.raises(ThrottlingException) as ei:
        client.modify_disk_default_kmskey_id(
            models.ModifyDiskDefaultKMSKeyIdRequest(region_id=REGION, kmskey_id="alias/acs/ecs"))
    e = ei.value
    assert not isinstance(e, ClientException)
    assert (e.code, e.status_code, e.retry_after) == ("Throttling.User", 400, 2)
    assert UUID_RE.match(e.request_id), e.request_id
    assert e.data["Message"] == THROTTLING["Throttling.User"]
    assert e.message == f"code: 400, {THROTTLING['Throttling.User']} request id: {e.request_id}"
    [entry] = journal(emulator, accessKeyId=ak)  # one request: the SDK does not retry by itself
    assert (entry["requestId"], entry["faultId"]) == (e.request_id, fid)


def test_retry_after_is_a_plain_error_for_py_core(flavours, emulator, add_fault):
    acct = new_account(emulator)
    ak = acct["accessKeyId"]
    add_fault(action="ModifyDiskDefaultKMSKeyId", accessKeyId=ak, code="Throttling.User",
              retryAfter=2)
    err = expect_error(flavours["py-core"], "ModifyDiskDefaultKMSKeyId",
                       {**R, "KMSKeyId": "alias/acs/ecs"}, ak)
    assert_api_error(err, ECS_API, 400, "Throttling.User", THROTTLING["Throttling.User"])
    assert len(journal(emulator, accessKeyId=ak)) == 1  # Modify is not in py-core's retry list


def test_skip_and_times_bound_when_a_fault_fires(sdk, emulator, add_fault):
    acct, key = account_with_key(emulator)
    ak = acct["accessKeyId"]
    ecs = Recorder(sdk, ak)
    ecs("EnableDiskEncryptionByDefault", **R)
    fid = add_fault(action="ModifyDiskDefaultKMSKeyId", accessKeyId=ak, code="Throttling.User",
                    skip=1, times=2)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)  # skipped
    for _ in range(2):  # fired
        assert_api_error(expect_error(sdk, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": key}, ak),
                         ECS_API, 400, "Throttling.User", THROTTLING["Throttling.User"])
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)  # times exhausted
    assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key
    rule = fault_rule(emulator, fid)
    assert (rule["matched"], rule["fired"], rule["skip"], rule["times"]) == (4, 2, 1, 2)
    modify = journal(emulator, accessKeyId=ak, action="ModifyDiskDefaultKMSKeyId")
    assert [(e["faultId"], e["code"]) for e in modify] == \
        [(None, None), (fid, "Throttling.User"), (fid, "Throttling.User"), (None, None)]


def test_latency_fault_delays_the_call(sdk, emulator, add_fault):
    acct = new_account(emulator)
    ak = acct["accessKeyId"]
    ecs = Recorder(sdk, ak)
    fid = add_fault(action="DescribeDiskEncryptionByDefaultStatus", accessKeyId=ak,
                    latencyMs=200, times=1)
    started = time.monotonic()
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    assert time.monotonic() - started >= 0.2
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    slow, fast = journal(emulator, accessKeyId=ak)
    assert (slow["faultId"], slow["httpStatus"], slow["code"]) == (fid, 200, None)
    assert slow["latencyMicros"] >= 200_000, slow
    assert fast["faultId"] is None and fast["latencyMicros"] < 200_000, fast
    assert fault_rule(emulator, fid)["fired"] == 1


# --------------------------------------------------------------------------- journal
def test_journal_records_what_the_sdk_sent(sdk, emulator):
    token, secret = f"CAI{uuid.uuid4().hex}", f"Secret{uuid.uuid4().hex}"
    sts_ak = f"STS.{uuid.uuid4().hex[:20]}"
    acct = new_account(emulator, stsTokens=[{
        "accessKeyId": sts_ak, "accessKeySecret": secret, "securityToken": token,
        "expiration": "2099-01-01T00:00:00Z", "userName": None}])
    CREDS[sts_ak] = (sts_ak, secret, token)
    owner = int(acct["accountId"])

    body = Recorder(sdk, sts_ak)("DescribeDiskEncryptionByDefaultStatus", OwnerId=owner, **R)
    [entry] = journal(emulator, accessKeyId=sts_ak)
    assert {k: entry[k] for k in ("requestId", "product", "version", "action", "accessKeyId",
                                  "accountId", "principal", "httpStatus", "code", "faultId")} == {
        "requestId": body["RequestId"], "product": "Ecs", "version": "2014-05-26",
        "action": "DescribeDiskEncryptionByDefaultStatus", "accessKeyId": sts_ak,
        "accountId": acct["accountId"], "principal": "root", "httpStatus": 200, "code": None,
        "faultId": None}
    assert entry["method"] == "POST"  # what all three flavours send
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", entry["receivedAt"]), entry
    assert isinstance(entry["latencyMicros"], int) and entry["latencyMicros"] >= 0

    # every SDK sends OwnerId; no action reads it
    assert entry["params"]["OwnerId"] == str(owner)
    assert entry["params"]["RegionId"] == REGION
    assert entry["unreadParams"] == ["OwnerId"]

    sig = entry["signature"]
    assert (sig["scheme"], sig["verdict"]) == (SCHEME[sdk.name], "ok")
    assert sig["stringToSign"], sig
    if SCHEME[sdk.name] == "V2":  # V2 carries both as parameters
        assert entry["params"]["Signature"] == "***"
        assert entry["params"]["SecurityToken"] == "***"
    else:  # V3 carries both in headers
        assert "Signature" not in entry["params"] and "SecurityToken" not in entry["params"]
    assert token not in json.dumps(entry["params"])
    assert secret not in json.dumps(entry)


def test_journal_names_the_ram_user(sdk, emulator):
    ram_ak, ram_secret = f"LTAI5t{uuid.uuid4().hex[:18]}", f"Secret{uuid.uuid4().hex}"
    new_account(emulator, ramUsers=[{
        "userName": "reader", "policies": ["AliyunECSReadOnlyAccess"],
        "accessKeys": [{"accessKeyId": ram_ak, "accessKeySecret": ram_secret}]}])
    CREDS[ram_ak] = (ram_ak, ram_secret)
    Recorder(sdk, ram_ak)("DescribeDiskEncryptionByDefaultStatus", **R)
    expect_error(sdk, "EnableDiskEncryptionByDefault", R, ram_ak)
    entries = journal(emulator, accessKeyId=ram_ak)
    assert [(e["principal"], e["action"], e["httpStatus"], e["code"]) for e in entries] == [
        ("reader", "DescribeDiskEncryptionByDefaultStatus", 200, None),
        ("reader", "EnableDiskEncryptionByDefault", 403, "Forbidden.RAM")]
    # the filters: code=ok for successes, a code, an action, limit keeps the newest
    assert [e["code"] for e in journal(emulator, accessKeyId=ram_ak, code="ok")] == [None]
    assert len(journal(emulator, accessKeyId=ram_ak, code="Forbidden.RAM")) == 1
    assert journal(emulator, accessKeyId=ram_ak, limit=1) == entries[-1:]
    assert journal(emulator, accessKeyId=ram_ak, action="EnableDiskEncryptionByDefault") == \
        entries[-1:]


# --------------------------------------------------------------------------- parallel accounts
N_PARALLEL = 8


def test_parallel_tests_on_accounts_of_their_own(flavours, emulator):
    accounts = [account_with_key(emulator) for _ in range(N_PARALLEL)]
    keys = [key for _, key in accounts]
    barrier = threading.Barrier(N_PARALLEL, timeout=30)

    def together():
        barrier.wait()

    def work(i: int) -> int:
        """Account i, through flavour i % 3; even accounts end encrypted, odd ones not."""
        acct, key = accounts[i]
        sdk = flavours[FLAVOURS[i % len(FLAVOURS)]]
        ecs = Recorder(sdk, acct["accessKeyId"])
        try:
            together()
            ecs("EnableDiskEncryptionByDefault", **R)
            ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)
            together()  # every account enabled with its own key at once
            assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is True
            assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key
            other = keys[(i + 1) % N_PARALLEL]  # a neighbour's key is invisible
            assert_api_error(
                expect_error(sdk, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": other},
                             acct["accessKeyId"]),
                ECS_API, 403, "InvalidOperation.KMSKeyIdNotFound",
                f"The specified KMSKeyId not found, {other}.")
            if i % 2:
                ecs("DisableDiskEncryptionByDefault", **R)
            together()  # half of them disabled at once
            assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is (i % 2 == 0)
            assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key
            ecs.assert_unique_ids()
            return len(ecs.request_ids) + 1  # and the refused Modify
        except BaseException:
            barrier.abort()  # release the others instead of letting them time out
            raise

    with ThreadPoolExecutor(max_workers=N_PARALLEL) as pool:
        calls = list(pool.map(work, range(N_PARALLEL)))

    for i, (acct, key) in enumerate(accounts):
        status, state = emulator.admin("GET", f"/_emulator/accounts/{acct['accountId']}")
        assert status == 200, state
        assert state["regionSettings"][REGION]["defaultEncryption"] == \
            {"enabled": i % 2 == 0, "kmsKeyId": key}, (i, state)
        entries = journal(emulator, accessKeyId=acct["accessKeyId"])
        assert len(entries) == calls[i]
        assert {e["accountId"] for e in entries} == {acct["accountId"]}
    # and the default account saw none of it
    default = Recorder(flavours["py-tea-v3"])
    assert default("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False


# --------------------------------------------------------------------------- snapshots
def test_snapshot_restore_through_the_sdk_view(sdk, emulator, snapshots):
    acct = new_account(emulator)
    ak = acct["accessKeyId"]
    ecs = Recorder(sdk, ak)
    name = f"before-{sdk.name}"
    status, body = emulator.admin("POST", f"/_emulator/snapshots/{name}")
    assert status == 201 and body["name"] == name, body
    snapshots.append(name)

    ecs("EnableDiskEncryptionByDefault", **R)
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is True
    later = new_account(emulator)  # made after the snapshot
    Recorder(sdk, later["accessKeyId"])("DescribeDiskEncryptionByDefaultStatus", **R)

    assert emulator.admin("POST", f"/_emulator/snapshots/{name}/restore")[0] == 200
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    ecs("EnableDiskEncryptionByDefault", **R)  # not "already enabled": really off again
    gone = expect_error(sdk, "DescribeDiskEncryptionByDefaultStatus", R, later["accessKeyId"])
    assert_api_error(gone, ECS_API, 404, "InvalidAccessKeyId.NotFound",
                     "Specified access key is not found.")

    def names():
        status, listed = emulator.admin("GET", "/_emulator/snapshots")
        assert status == 200, listed
        return [s["name"] for s in listed["snapshots"]]

    assert name in names()
    assert emulator.admin("DELETE", f"/_emulator/snapshots/{name}")[0] == 204
    assert name not in names()
    assert emulator.admin("POST", f"/_emulator/snapshots/{name}/restore")[0] == 404


# --------------------------------------------------------------------------- admin key changes
def test_key_disabled_through_the_admin_api_is_refused_by_ecs(sdk, emulator):
    acct, key = account_with_key(emulator)
    ak = acct["accessKeyId"]
    ecs = Recorder(sdk, ak)
    ecs("EnableDiskEncryptionByDefault", **R)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)

    path = f"/_emulator/accounts/{acct['accountId']}/kms-keys/{key}"
    status, patched = emulator.admin("PATCH", path, {"keyState": "Disabled"})
    assert status == 200 and (patched["keyId"], patched["keyState"]) == (key, "Disabled"), patched
    assert_api_error(expect_error(sdk, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": key}, ak),
                     ECS_API, *CMK_NOT_ENABLED)

    assert emulator.admin("PATCH", path, {"keyState": "Enabled"})[0] == 200
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)
    assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key


def test_an_access_key_changed_through_the_admin_api_counts_from_the_next_call(sdk, emulator):
    """The server's threads remember the identities they authenticated (README "Configuration"):
    an admin change to an AccessKey — disabled, then enabled under a new secret — decides the
    very next call, whichever thread answers it, after calls that had it remembered."""
    acct = new_account(emulator)
    ak, account_id = acct["accessKeyId"], acct["accountId"]
    regions = {"AcceptLanguage": "en-US"}
    ecs = Recorder(sdk, ak)
    for _ in range(4):
        ecs("DescribeRegions", **regions)

    def set_key(**fields):
        key = {"accessKeyId": ak, "accessKeySecret": acct["accessKeySecret"], **fields}
        status, body = emulator.admin("PATCH", f"/_emulator/accounts/{account_id}",
                                      {"accessKeys": [key]})
        assert status == 200, body

    set_key(status="Inactive")
    for _ in range(2):
        err = expect_error(sdk, "DescribeRegions", regions, ak)
        assert (err.code, err.status, err.message) == (
            "Forbidden.AccessKeyDisabled", 403, "The AccessKey is disabled."), err

    set_key(status="Active", accessKeySecret="RekeyedSecret0123456789abcdef")
    err = expect_error(sdk, "DescribeRegions", regions, ak)  # still signing with the old secret
    wrong_secret = "InvalidAccessKeySecret" if sdk.name == "py-core" else "SignatureDoesNotMatch"
    assert (err.code, err.status) == (wrong_secret, 400), err
    CREDS[f"{ak}-rekeyed"] = (ak, "RekeyedSecret0123456789abcdef")
    rekeyed = Recorder(sdk, f"{ak}-rekeyed")
    for _ in range(2):
        rekeyed("DescribeRegions", **regions)


# --------------------------------------------------------------------------- the README example
def test_the_testing_example_passes_against_this_emulator(emulator):
    example = REPO_ROOT / "examples" / "testing" / "test_with_ecs_emulator.py"
    env = {**os.environ, "ECS_EMULATOR_ENDPOINT": emulator.endpoint,
           "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        cwd=example.parent, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    summary = re.search(r"(\d+) passed", out)
    assert summary and int(summary.group(1)) >= 7, out
    assert not re.search(r"\d+ (failed|error|skipped)", out), out
