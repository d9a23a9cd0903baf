"""KMS state reaching ECS (kms.md "How KMS state reaches ECS"): a key made and changed through a
KMS SDK, used through an ECS SDK, on one server. Every KMS flavour with every ECS flavour."""

import pytest

from conftest import (ECS_API, FLAVOURS, KEY_HZ, KMS_FLAVOURS, KMS_REGIONAL_FLAVOURS, REGION,
                      Recorder, assert_api_error, expect_error)

PAIRS = [(k, e) for k in KMS_FLAVOURS for e in FLAVOURS]
R = {"RegionId": REGION}
CMK_NOT_ENABLED = (400, "InvalidParameter.KMSKeyId.CMKNotEnabled", "The CMK needs to be enabled.")


def _not_found(key_id):
    return (403, "InvalidOperation.KMSKeyIdNotFound", f"The specified KMSKeyId not found, {key_id}.")


def _ecs_rejects(ecs, action, params, expected, creds="default"):
    assert_api_error(expect_error(ecs.sdk, action, params, creds), ECS_API, *expected)


@pytest.fixture(params=PAIRS, ids=[f"{k}+{e}" for k, e in PAIRS])
def pair(request, kms_flavours, flavours):
    kms_name, ecs_name = request.param
    return Recorder(kms_flavours[kms_name]), Recorder(flavours[ecs_name])


def test_key_state_decides_what_ecs_accepts(pair):
    kms, ecs = pair
    meta = kms("CreateKey", Description="disks")["KeyMetadata"]
    key = meta["KeyId"]
    ecs("EnableDiskEncryptionByDefault", **R)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)
    assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key

    kms("DisableKey", KeyId=key)
    _ecs_rejects(ecs, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": key}, CMK_NOT_ENABLED)
    kms("EnableKey", KeyId=key)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)

    # an alias made with KMS, and the key's ARN, name the key for ECS
    kms("CreateAlias", AliasName="alias/disks", KeyId=key)
    ecs("ResetDiskDefaultKMSKeyId", **R)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId="alias/disks", **R)
    assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key
    ecs("ResetDiskDefaultKMSKeyId", **R)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=meta["Arn"], **R)
    assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key

    kms("ScheduleKeyDeletion", KeyId=key, PendingWindowInDays=7)
    for ref in (key, "alias/disks", meta["Arn"]):
        _ecs_rejects(ecs, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": ref}, CMK_NOT_ENABLED)
    kms("CancelKeyDeletion", KeyId=key)  # -> Disabled: still refused
    _ecs_rejects(ecs, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": key}, CMK_NOT_ENABLED)
    kms("EnableKey", KeyId=key)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId="alias/disks", **R)
    assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key
    kms.assert_unique_ids()
    ecs.assert_unique_ids()


def test_disabled_configured_key_blocks_enabling_encryption(pair):
    kms, ecs = pair
    key = kms("CreateKey")["KeyMetadata"]["KeyId"]
    ecs("EnableDiskEncryptionByDefault", **R)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **R)
    ecs("DisableDiskEncryptionByDefault", **R)
    kms("DisableKey", KeyId=key)
    _ecs_rejects(ecs, "EnableDiskEncryptionByDefault", R, CMK_NOT_ENABLED)
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    kms("EnableKey", KeyId=key)
    ecs("EnableDiskEncryptionByDefault", **R)
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is True
    assert ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key


def test_keys_of_another_account_are_invisible_to_ecs(pair):
    kms, ecs = pair
    other = Recorder(kms.sdk, "encryption-on")
    theirs = other("CreateKey", Description="not yours")["KeyMetadata"]
    ecs("EnableDiskEncryptionByDefault", **R)
    for ref in (theirs["KeyId"], theirs["Arn"]):
        _ecs_rejects(ecs, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": ref}, _not_found(ref))
    # and the other way round: that account's ECS cannot use the default account's key
    mine = kms("CreateKey")["KeyMetadata"]["KeyId"]
    for ref in (mine, KEY_HZ):
        _ecs_rejects(ecs, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": ref}, _not_found(ref),
                     creds="encryption-on")
    # while its own new key works for it
    Recorder(ecs.sdk, "encryption-on")("ModifyDiskDefaultKMSKeyId", KMSKeyId=theirs["KeyId"], **R)


def test_ecs_service_key_appears_in_kms(pair):
    kms, ecs = pair
    service = ecs("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"]
    meta = kms("DescribeKey", KeyId="alias/acs/ecs")["KeyMetadata"]
    assert (meta["KeyId"], meta["Creator"]) == (service, "Ecs")


@pytest.mark.parametrize("kms_name", KMS_REGIONAL_FLAVOURS)
def test_key_in_another_region_is_not_found_by_ecs(kms_flavours, flavours, kms_name):
    kms = Recorder(kms_flavours[kms_name], client_region="cn-shanghai")
    key = kms("CreateKey")["KeyMetadata"]["KeyId"]
    ecs = Recorder(flavours["py-tea-v3"])
    ecs("EnableDiskEncryptionByDefault", **R)
    _ecs_rejects(ecs, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": key}, _not_found(key))
    sh = {"RegionId": "cn-shanghai"}
    ecs("EnableDiskEncryptionByDefault", **sh)
    ecs("ModifyDiskDefaultKMSKeyId", KMSKeyId=key, **sh)
    assert ecs("DescribeDiskDefaultKMSKeyId", **sh)["KMSKeyId"] == key
