"""The documented happy paths, in every Python SDK flavour."""

import pytest

from conftest import KEY_HZ, KEY_HZ_ARN, KEY_SH, REGION, REGION_IDS, Recorder

FIXTURE_KEYS = {
    KEY_HZ, KEY_SH, "key-hzz0disabled0000000001", "key-hzz1unauthorized000001",
    "key-hzz1disabled0000000001", "key-hzz1configured0000001", "key-hzz1ramdemo00000000001",
}


def test_default_encryption_lifecycle(sdk):
    call = Recorder(sdk)
    r = {"RegionId": REGION}

    assert call("DescribeDiskEncryptionByDefaultStatus", **r)["Encrypted"] is False
    service_key = call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"]
    assert isinstance(service_key, str) and service_key.startswith("key-"), service_key
    assert service_key not in FIXTURE_KEYS
    assert call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"] == service_key  # stable

    assert set(call("EnableDiskEncryptionByDefault", **r)) == {"RequestId"}
    assert call("DescribeDiskEncryptionByDefaultStatus", **r)["Encrypted"] is True
    assert call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"] == service_key

    assert set(call("ModifyDiskDefaultKMSKeyId", KMSKeyId=KEY_HZ, **r)) == {"RequestId"}
    assert call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"] == KEY_HZ

    call("ResetDiskDefaultKMSKeyId", **r)
    assert call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"] == service_key
    call("ModifyDiskDefaultKMSKeyId", KMSKeyId="alias/demo", **r)
    assert call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"] == KEY_HZ  # alias -> id

    call("ResetDiskDefaultKMSKeyId", **r)
    call("ModifyDiskDefaultKMSKeyId", KMSKeyId=KEY_HZ_ARN, **r)
    assert call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"] == KEY_HZ  # ARN -> id

    assert set(call("ResetDiskDefaultKMSKeyId", **r)) == {"RequestId"}
    assert call("DescribeDiskDefaultKMSKeyId", **r)["KMSKeyId"] == service_key
    assert call("DescribeDiskEncryptionByDefaultStatus", **r)["Encrypted"] is True

    assert set(call("DisableDiskEncryptionByDefault", **r)) == {"RequestId"}
    assert call("DescribeDiskEncryptionByDefaultStatus", **r)["Encrypted"] is False
    call.assert_unique_ids()


def test_regions_are_independent(sdk):
    call = Recorder(sdk)
    call("EnableDiskEncryptionByDefault", RegionId=REGION)
    call("ModifyDiskDefaultKMSKeyId", RegionId=REGION, KMSKeyId=KEY_HZ)
    assert call("DescribeDiskEncryptionByDefaultStatus", RegionId="cn-shanghai")["Encrypted"] is False
    sh_service = call("DescribeDiskDefaultKMSKeyId", RegionId="cn-shanghai")["KMSKeyId"]
    assert sh_service.startswith("key-") and sh_service not in FIXTURE_KEYS
    hz_service_check = call("DescribeDiskDefaultKMSKeyId", RegionId=REGION)["KMSKeyId"]
    assert hz_service_check == KEY_HZ
    # alias/demo in cn-shanghai resolves to the Shanghai key, not the Hangzhou one
    call("EnableDiskEncryptionByDefault", RegionId="cn-shanghai")
    call("ModifyDiskDefaultKMSKeyId", RegionId="cn-shanghai", KMSKeyId="alias/demo")
    assert call("DescribeDiskDefaultKMSKeyId", RegionId="cn-shanghai")["KMSKeyId"] == KEY_SH


def test_reset_endpoint_restores_boot_state(sdk, emulator):
    call = Recorder(sdk)
    call("EnableDiskEncryptionByDefault", RegionId=REGION)
    assert call("DescribeDiskEncryptionByDefaultStatus", RegionId=REGION)["Encrypted"] is True
    emulator.reset()
    assert call("DescribeDiskEncryptionByDefaultStatus", RegionId=REGION)["Encrypted"] is False


def test_demo_encryption_on_account(sdk):
    call = Recorder(sdk, "encryption-on")
    assert call("DescribeDiskEncryptionByDefaultStatus", RegionId=REGION)["Encrypted"] is True
    assert call("DescribeDiskDefaultKMSKeyId", RegionId=REGION)["KMSKeyId"] == "key-hzz1configured0000001"
    call("DisableDiskEncryptionByDefault", RegionId=REGION)
    assert call("DescribeDiskEncryptionByDefaultStatus", RegionId=REGION)["Encrypted"] is False
    # Disable keeps the configured key; Enable brings it back
    call("EnableDiskEncryptionByDefault", RegionId=REGION)
    assert call("DescribeDiskDefaultKMSKeyId", RegionId=REGION)["KMSKeyId"] == "key-hzz1configured0000001"


def test_ram_users_allowed_actions(sdk):
    reader = Recorder(sdk, "ram-ecs-reader")
    assert reader("DescribeDiskEncryptionByDefaultStatus", RegionId=REGION)["Encrypted"] is True
    assert reader("DescribeDiskDefaultKMSKeyId", RegionId=REGION)["KMSKeyId"].startswith("key-")
    assert len(reader("DescribeRegions", AcceptLanguage="en-US")["Regions"]["Region"]) == 29
    admin = Recorder(sdk, "ram-ecs-admin")
    admin("DisableDiskEncryptionByDefault", RegionId=REGION)
    assert admin("DescribeDiskEncryptionByDefaultStatus", RegionId=REGION)["Encrypted"] is False
    admin("EnableDiskEncryptionByDefault", RegionId=REGION)
    root = Recorder(sdk, "ram-root")
    root("ModifyDiskDefaultKMSKeyId", RegionId=REGION, KMSKeyId="key-hzz1ramdemo00000000001")
    assert reader("DescribeDiskDefaultKMSKeyId", RegionId=REGION)["KMSKeyId"] == "key-hzz1ramdemo00000000001"


def _regions(call, **params):
    body = call("DescribeRegions", **params)
    regions = body["Regions"]["Region"]
    return {r["RegionId"]: r for r in regions}, regions


def test_describe_regions_en(sdk):
    call = Recorder(sdk)
    by_id, regions = _regions(call, AcceptLanguage="en-US")
    assert len(regions) == 29
    assert sorted(by_id) == sorted(REGION_IDS)
    hz = by_id["cn-hangzhou"]
    assert hz == {"RegionId": "cn-hangzhou", "LocalName": "China (Hangzhou)",
                  "RegionEndpoint": "ecs-cn-hangzhou.aliyuncs.com", "Status": "available"}
    assert by_id["cn-shanghai"]["LocalName"] == "China (Shanghai)"
    for rid, r in by_id.items():
        assert r["Status"] == "available", r
        if rid != "cn-hangzhou":
            assert r["RegionEndpoint"] == f"ecs.{rid}.aliyuncs.com", r


@pytest.mark.parametrize("params", [{}, {"AcceptLanguage": "zh-CN"}], ids=["default", "zh-CN"])
def test_describe_regions_zh(sdk, params):
    call = Recorder(sdk)
    by_id, regions = _regions(call, **params)
    assert len(regions) == 29
    assert by_id["cn-hangzhou"]["LocalName"] == "华东1（杭州）"
    assert by_id["cn-shanghai"]["LocalName"] == "华东2（上海）"
    assert by_id["cn-hangzhou"]["RegionEndpoint"] == "ecs-cn-hangzhou.aliyuncs.com"


def test_describe_regions_ja_falls_back_to_english(sdk):
    call = Recorder(sdk)
    by_id, regions = _regions(call, AcceptLanguage="ja")
    assert len(regions) == 29
    # the default fixture has no Japanese names: English is the documented fallback
    assert by_id["cn-hangzhou"]["LocalName"] == "China (Hangzhou)"


def test_success_request_ids_differ(sdk):
    call = Recorder(sdk)
    for _ in range(3):
        call("DescribeDiskEncryptionByDefaultStatus", RegionId=REGION)
    call("DescribeRegions")
    call.assert_unique_ids()
