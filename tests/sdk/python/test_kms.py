"""KMS (2016-01-20) through the official Python KMS SDKs: alibabacloud-kms20160120 with tea V3,
V2 and V4 signatures, and aliyun-python-sdk-kms on aliyun-python-sdk-core. Tables:
../kms_cases.json (shared with the Node runner). Contract: shared/spec/kms.md."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (DATE_RE, DEFAULT_ACCOUNT_ID, KEY_HZ, KEY_HZ_ARN, KEY_HZ_DISABLED, KEY_ID_RE,
                      KEY_SH, KMS_API, KMS_CASES, KMS_ERROR_CASES, KMS_REGIONAL_FLAVOURS, REGION,
                      REGION_IDS, SERVICE_ALIAS, Recorder, assert_api_error, expect_error,
                      kms_arn)

STATE_FAILED = (409, "Rejected.StateModifiedFailed", "Keystate modified failed.")
NO_PERMISSION = (403, "Forbidden.NoPermission", "This operation is forbidden by permission system.")
KEY_NOT_FOUND = (404, "Forbidden.KeyNotFound", "The specified Key is not found.")
ALIAS_NOT_FOUND = (404, "Forbidden.AliasNotFound", "The specified Alias is not found.")


def _expect(kms, action, params, expected, creds="default"):
    status, code, message = expected
    assert_api_error(expect_error(kms, action, params, creds), KMS_API, status, code, message)


def _state(call, key_id):
    return call("DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"]


def _same_key(created, described):
    """CreateKey's metadata within DescribeKey's (the tea CreateKey model has fewer fields)."""
    assert {k: described.get(k) for k in created} == created, (created, described)


def _assert_new_key(meta, region=REGION):
    """What every key CreateKey returns holds, whatever its options."""
    assert KEY_ID_RE[region].match(meta["KeyId"]), meta
    assert meta["Arn"] == kms_arn(f"key/{meta['KeyId']}", region), meta
    assert meta["Creator"] == DEFAULT_ACCOUNT_ID, meta
    assert DATE_RE.match(meta["CreationDate"]), meta
    created = datetime.strptime(meta["CreationDate"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5), meta


def test_fixture_key_by_id_alias_and_arn(kms):
    call = Recorder(kms)
    meta = call("DescribeKey", KeyId=KEY_HZ)["KeyMetadata"]
    assert {k: meta[k] for k in ("KeyId", "Arn", "KeyState", "KeySpec", "KeyUsage", "Origin",
                                 "ProtectionLevel", "Creator", "DeleteDate",
                                 "AutomaticRotation")} == {
        "KeyId": KEY_HZ, "Arn": KEY_HZ_ARN, "KeyState": "Enabled", "KeySpec": "Aliyun_AES_256",
        "KeyUsage": "ENCRYPT/DECRYPT", "Origin": "Aliyun_KMS", "ProtectionLevel": "SOFTWARE",
        "Creator": DEFAULT_ACCOUNT_ID, "DeleteDate": "", "AutomaticRotation": "Disabled"}
    assert meta["Description"] == "default account's enabled key"
    assert call("DescribeKey", KeyId="alias/demo")["KeyMetadata"] == meta
    assert call("DescribeKey", KeyId=KEY_HZ_ARN)["KeyMetadata"] == meta
    disabled = call("DescribeKey", KeyId=KEY_HZ_DISABLED)["KeyMetadata"]
    assert (disabled["KeyId"], disabled["KeyState"]) == (KEY_HZ_DISABLED, "Disabled")
    call.assert_unique_ids()


@pytest.mark.parametrize("case", KMS_CASES["createKey"], ids=lambda c: c["id"])
def test_create_key(kms, case):
    call = Recorder(kms)
    body = call("CreateKey", **case["params"])
    assert set(body) == {"RequestId", "KeyMetadata"}, body
    meta = body["KeyMetadata"]
    _assert_new_key(meta)
    assert {k: meta[k] for k in case["expect"]} == case["expect"], meta
    # DescribeKey answers the same metadata, by id and by ARN
    _same_key(meta, call("DescribeKey", KeyId=meta["KeyId"])["KeyMetadata"])
    _same_key(meta, call("DescribeKey", KeyId=meta["Arn"])["KeyMetadata"])


def test_key_lifecycle(kms):
    call = Recorder(kms)
    meta = call("CreateKey", Description="lifecycle")["KeyMetadata"]
    _assert_new_key(meta)
    key = meta["KeyId"]
    assert (meta["KeyState"], meta["DeleteDate"]) == ("Enabled", "")

    assert set(call("DisableKey", KeyId=key)) == {"RequestId"}
    assert _state(call, key) == "Disabled"
    call("DisableKey", KeyId=key)  # Disabled -> Disabled is allowed
    assert set(call("EnableKey", KeyId=key)) == {"RequestId"}
    assert _state(call, key) == "Enabled"
    call("EnableKey", KeyId=key)

    assert set(call("ScheduleKeyDeletion", KeyId=key, PendingWindowInDays=7)) == {"RequestId"}
    pending = call("DescribeKey", KeyId=key)["KeyMetadata"]
    assert pending["KeyState"] == "PendingDeletion"
    assert DATE_RE.match(pending["DeleteDate"]), pending
    delete_at = datetime.strptime(pending["DeleteDate"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc)
    assert abs(delete_at - (datetime.now(timezone.utc) + timedelta(days=7))) < timedelta(minutes=5)
    for action, params in [("EnableKey", {}), ("DisableKey", {}),
                           ("ScheduleKeyDeletion", {"PendingWindowInDays": 30}),
                           ("CreateAlias", {"AliasName": "alias/too-late"})]:
        _expect(kms, action, {**params, "KeyId": key}, STATE_FAILED)
    assert call("DescribeKey", KeyId=key)["KeyMetadata"] == pending  # rejected: unchanged

    assert set(call("CancelKeyDeletion", KeyId=key)) == {"RequestId"}
    cancelled = call("DescribeKey", KeyId=key)["KeyMetadata"]
    assert (cancelled["KeyState"], cancelled["DeleteDate"]) == ("Disabled", "")
    _expect(kms, "CancelKeyDeletion", {"KeyId": key}, STATE_FAILED)
    call("EnableKey", KeyId=key)
    assert _state(call, key) == "Enabled"
    # the longest window
    call("ScheduleKeyDeletion", KeyId=key, PendingWindowInDays=366)
    assert _state(call, key) == "PendingDeletion"
    call.assert_unique_ids()


def test_pending_import_state_rules(kms):
    call = Recorder(kms)
    key = call("CreateKey", Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    assert _state(call, key) == "PendingImport"
    _expect(kms, "EnableKey", {"KeyId": key}, STATE_FAILED)
    _expect(kms, "DisableKey", {"KeyId": key}, STATE_FAILED)
    _expect(kms, "CancelKeyDeletion", {"KeyId": key}, STATE_FAILED)
    call("CreateAlias", AliasName="alias/imported", KeyId=key)  # allowed while PendingImport
    assert call("DescribeKey", KeyId="alias/imported")["KeyMetadata"]["KeyId"] == key
    call("ScheduleKeyDeletion", KeyId=key, PendingWindowInDays=7)
    assert _state(call, key) == "PendingDeletion"
    call("CancelKeyDeletion", KeyId="alias/imported")
    assert _state(call, key) == "Disabled"


def _key_ids(body):
    return [k["KeyId"] for k in body["Keys"]["Key"]]


def test_list_keys_paging(kms):
    call = Recorder(kms)
    boot = call("ListKeys")
    assert (boot["TotalCount"], boot["PageNumber"], boot["PageSize"]) == (2, 1, 10)
    assert boot["Keys"]["Key"] == [
        {"KeyId": KEY_HZ, "KeyArn": KEY_HZ_ARN},
        {"KeyId": KEY_HZ_DISABLED, "KeyArn": kms_arn(f"key/{KEY_HZ_DISABLED}")}]
    created = [call("CreateKey", Description=f"page {i}")["KeyMetadata"]["KeyId"]
               for i in range(3)]
    everything = [KEY_HZ, KEY_HZ_DISABLED, *created]  # creation order
    assert _key_ids(call("ListKeys")) == everything
    pages = []
    for number in (1, 2, 3, 4):
        body = call("ListKeys", PageNumber=number, PageSize=2)
        assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (5, number, 2)
        pages.append(_key_ids(body))
    assert pages == [everything[0:2], everything[2:4], everything[4:], []]
    assert _key_ids(call("ListKeys", PageSize=100)) == everything
    assert _key_ids(call("ListKeys", PageNumber=5, PageSize=1)) == [created[2]]
    call.assert_unique_ids()


@pytest.fixture
def filter_keys(kms):
    """The boot keys plus kms_cases.json's filterKeys, by name -> KeyId."""
    call = Recorder(kms)
    ids = {"hz": KEY_HZ, "hzDisabled": KEY_HZ_DISABLED}
    for k in KMS_CASES["filterKeys"]["keys"]:
        ids[k["name"]] = key = call("CreateKey", **k["params"])["KeyMetadata"]["KeyId"]
        if k.get("then") == "DisableKey":
            call("DisableKey", KeyId=key)
        elif k.get("then") == "ScheduleKeyDeletion":
            call("ScheduleKeyDeletion", KeyId=key, PendingWindowInDays=7)
    return ids


def test_list_keys_filters(kms, filter_keys):
    call = Recorder(kms)
    for case in KMS_CASES["filters"]:
        body = call("ListKeys", Filters=json.dumps(case["filters"]), PageSize=100)
        want = [filter_keys[n] for n in case["expect"]]
        assert _key_ids(body) == want, case["id"]
        assert body["TotalCount"] == len(want), case["id"]
    # filters and paging together
    body = call("ListKeys", Filters=json.dumps([{"Key": "KeyState", "Values": ["Enabled"]}]),
                PageNumber=2, PageSize=3)
    assert (_key_ids(body), body["TotalCount"]) == ([filter_keys["hsm"]], 4)


def test_aliases(kms):
    call = Recorder(kms)
    key = call("CreateKey", Description="aliased")["KeyMetadata"]["KeyId"]
    assert set(call("CreateAlias", AliasName="alias/team/app-1", KeyId=key)) == {"RequestId"}
    call("CreateAlias", AliasName="alias/second", KeyId=kms_arn(f"key/{key}"))  # KeyId as ARN
    call("CreateAlias", AliasName="alias/disabled-one", KeyId=KEY_HZ_DISABLED)  # Disabled: ok
    meta = call("DescribeKey", KeyId=key)["KeyMetadata"]
    assert call("DescribeKey", KeyId="alias/team/app-1")["KeyMetadata"] == meta
    assert call("DescribeKey", KeyId="alias/second")["KeyMetadata"] == meta
    _expect(kms, "CreateAlias", {"AliasName": "alias/second", "KeyId": KEY_HZ},
            (400, "AliasAlreadyExists", "AliasName Already Exists."))

    def entry(name, key_id):
        return {"AliasName": name, "AliasArn": kms_arn(name), "KeyId": key_id}

    listed = call("ListAliases")
    # by key creation order: the boot keys' aliases first
    want = [entry("alias/demo", KEY_HZ), entry("alias/disabled-one", KEY_HZ_DISABLED),
            entry("alias/team/app-1", key), entry("alias/second", key)]
    assert listed["Aliases"]["Alias"] == want
    assert (listed["TotalCount"], listed["PageNumber"], listed["PageSize"]) == (4, 1, 10)
    page = call("ListAliases", PageNumber=2, PageSize=3)
    assert (page["Aliases"]["Alias"], page["TotalCount"], page["PageNumber"], page["PageSize"]) \
        == (want[3:], 4, 2, 3)

    # state changes through an alias
    call("DisableKey", KeyId="alias/team/app-1")
    assert _state(call, key) == "Disabled"
    call("EnableKey", KeyId="alias/second")
    assert _state(call, key) == "Enabled"

    assert set(call("DeleteAlias", AliasName="alias/team/app-1")) == {"RequestId"}
    _expect(kms, "DescribeKey", {"KeyId": "alias/team/app-1"}, ALIAS_NOT_FOUND)
    _expect(kms, "DeleteAlias", {"AliasName": "alias/team/app-1"}, ALIAS_NOT_FOUND)
    assert call("DescribeKey", KeyId="alias/second")["KeyMetadata"]["KeyId"] == key  # key stays
    assert [a["AliasName"] for a in call("ListAliases")["Aliases"]["Alias"]] == [
        "alias/demo", "alias/disabled-one", "alias/second"]
    # a deleted alias can be reused, for another key
    call("CreateAlias", AliasName="alias/team/app-1", KeyId=KEY_HZ)
    assert call("DescribeKey", KeyId="alias/team/app-1")["KeyMetadata"]["KeyId"] == KEY_HZ
    call.assert_unique_ids()


def test_service_key(kms, flavours):
    """ECS creates its service key (alias/acs/ecs, Creator Ecs); the user cannot disable,
    schedule or alias it."""
    call = Recorder(kms)
    _expect(kms, "DescribeKey", {"KeyId": SERVICE_ALIAS}, ALIAS_NOT_FOUND)  # not created yet
    service = Recorder(flavours["py-tea-v3"])("DescribeDiskDefaultKMSKeyId",
                                              RegionId=REGION)["KMSKeyId"]
    meta = call("DescribeKey", KeyId=SERVICE_ALIAS)["KeyMetadata"]
    assert (meta["KeyId"], meta["Creator"], meta["KeyState"]) == (service, "Ecs", "Enabled")
    assert meta["Arn"] == kms_arn(f"key/{service}")
    assert call("DescribeKey", KeyId=service)["KeyMetadata"] == meta
    assert _key_ids(call("ListKeys"))[-1] == service
    service_only = json.dumps([{"Key": "CreatorType", "Values": ["Service"]}])
    assert _key_ids(call("ListKeys", Filters=service_only)) == [service]
    users = json.dumps([{"Key": "CreatorType", "Values": ["User"]}])
    assert _key_ids(call("ListKeys", Filters=users)) == [KEY_HZ, KEY_HZ_DISABLED]
    assert {"AliasName": SERVICE_ALIAS, "AliasArn": kms_arn(SERVICE_ALIAS),
            "KeyId": service} in call("ListAliases")["Aliases"]["Alias"]

    for action, params in [("DisableKey", {"KeyId": service}),
                           ("DisableKey", {"KeyId": SERVICE_ALIAS}),
                           ("ScheduleKeyDeletion", {"KeyId": service, "PendingWindowInDays": 7}),
                           ("CreateAlias", {"AliasName": "alias/mine", "KeyId": service})]:
        _expect(kms, action, params, NO_PERMISSION)
    assert call("DescribeKey", KeyId=SERVICE_ALIAS)["KeyMetadata"] == meta  # unchanged
    _expect(kms, "DescribeKey", {"KeyId": "alias/mine"}, ALIAS_NOT_FOUND)


def test_accounts_do_not_see_each_others_keys(kms):
    mine, theirs = Recorder(kms), Recorder(kms, "encryption-on")
    key = mine("CreateKey", Description="private")["KeyMetadata"]
    mine("CreateAlias", AliasName="alias/private", KeyId=key["KeyId"])
    for ref in (key["KeyId"], key["Arn"]):
        for action, params in [("DescribeKey", {}), ("DisableKey", {}), ("EnableKey", {}),
                               ("ScheduleKeyDeletion", {"PendingWindowInDays": 7})]:
            _expect(kms, action, {**params, "KeyId": ref}, KEY_NOT_FOUND, creds="encryption-on")
    _expect(kms, "DescribeKey", {"KeyId": "alias/private"}, ALIAS_NOT_FOUND,
            creds="encryption-on")
    # the other account lists only its own key and aliases, and may reuse the alias name
    assert _key_ids(theirs("ListKeys")) == ["key-hzz1configured0000001"]
    assert [a["AliasName"] for a in theirs("ListAliases")["Aliases"]["Alias"]] == [
        "alias/configured"]
    theirs("CreateAlias", AliasName="alias/private", KeyId="key-hzz1configured0000001")
    assert theirs("DescribeKey", KeyId="alias/private")["KeyMetadata"]["Arn"] == kms_arn(
        "key/key-hzz1configured0000001", account="1000000000000107")
    # and nothing of mine changed
    _same_key(key, mine("DescribeKey", KeyId="alias/private")["KeyMetadata"])
    _expect(kms, "DescribeKey", {"KeyId": "alias/configured"}, ALIAS_NOT_FOUND)


@pytest.mark.parametrize("name", KMS_REGIONAL_FLAVOURS)
def test_region_from_the_client(kms_flavours, name):
    """Flavours that carry a region (py-core: RegionId; tea V4: its credential scope) address
    that region's keys; the others always get the default region (see the error table's
    describe-key-of-another-region)."""
    sdk = kms_flavours[name]
    assert sdk.carries_region
    sh = Recorder(sdk, client_region="cn-shanghai")
    meta = sh("DescribeKey", KeyId="alias/demo")["KeyMetadata"]
    assert (meta["KeyId"], meta["Arn"]) == (KEY_SH, kms_arn(f"key/{KEY_SH}", "cn-shanghai"))
    new = sh("CreateKey", Description=f"{sdk.name} in Shanghai")["KeyMetadata"]
    _assert_new_key(new, "cn-shanghai")
    assert _key_ids(sh("ListKeys")) == [KEY_SH, new["KeyId"]]
    assert new["KeyId"] not in _key_ids(Recorder(sdk)("ListKeys"))
    assert_api_error(expect_error(sdk, "DescribeKey", {"KeyId": new["KeyId"]}),
                     KMS_API, *KEY_NOT_FOUND)
    err = expect_error(sdk, "DescribeKey", {"KeyId": KEY_HZ}, client_region="cn-shanghai")
    assert_api_error(err, KMS_API, *KEY_NOT_FOUND, region="cn-shanghai")


def test_describe_regions(kms):
    body = Recorder(kms)("DescribeRegions")
    regions = body["Regions"]["Region"]
    assert sorted(r["RegionId"] for r in regions) == sorted(REGION_IDS)
    assert all(set(r) == {"RegionId"} for r in regions), regions


@pytest.mark.parametrize("case", KMS_ERROR_CASES)
def test_documented_error(kms, case):
    err = expect_error(kms, case["action"], case["params"], case["creds"])
    assert_api_error(err, KMS_API, case["status"], case["code"], case["message"],
                     auth_action=case.get("authAction"), auth_user=case.get("authUser"))


def test_failed_calls_change_nothing(kms):
    call = Recorder(kms)
    keys_before = call("ListKeys")["Keys"]
    aliases_before = call("ListAliases")["Aliases"]
    for case in KMS_CASES["errors"]:
        if case["creds"] == "default":
            expect_error(kms, case["action"], case["params"])
    assert call("ListKeys")["Keys"] == keys_before
    assert call("ListAliases")["Aliases"] == aliases_before
    assert _state(call, KEY_HZ) == "Enabled"
    assert _state(call, KEY_HZ_DISABLED) == "Disabled"
