"""Authentication through every Python SDK flavour (server in its default --auth strict):
STS credentials (tea V3 sends x-acs-security-token + x-acs-accesskey-id headers, tea V2 and
py-core a SecurityToken parameter), bad tokens, expired tokens, a token on a permanent key,
an inactive AccessKey, and an STS credential acting as a RAM user."""

import pytest

from conftest import (AUTH_ACTIONS, AUTH_ERROR_CASES, KEY_HZ, RAM_OWNER_ID, REGION, UUID_RE,
                      Recorder, SdkError, expect_error)

R = {"RegionId": REGION}


def _assert_error(sdk, err, status, code, message):
    got = (err.code, err.status, err.message)
    assert got == (code, status, message), f"{sdk.name}: {got}"
    assert err.request_id and UUID_RE.match(err.request_id), err.request_id
    if err.data is not None:  # tea: the whole error body is exposed
        assert err.data["Code"] == code
        assert err.data["Message"] == message
        assert err.data["RequestId"] == err.request_id
        assert err.data["HostId"] == "ecs.aliyuncs.com"


@pytest.mark.parametrize("action,params", AUTH_ACTIONS, ids=[a for a, _ in AUTH_ACTIONS])
@pytest.mark.parametrize("case_id,creds,status,code,message", AUTH_ERROR_CASES,
                         ids=[c[0] for c in AUTH_ERROR_CASES])
def test_auth_failure(sdk, case_id, creds, status, code, message, action, params):
    with pytest.raises(SdkError) as ei:
        body = sdk.call(action, params, creds)
        pytest.fail(f"{case_id}: expected an error, got success {body!r}")
    _assert_error(sdk, ei.value, status, code, message)
    # nothing changed: the default account (every rejected credential's) still has it off
    assert Recorder(sdk)("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False


def test_sts_root_acts_as_the_default_account(sdk):
    sts, root = Recorder(sdk, "sts-root"), Recorder(sdk)
    assert sts("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    service_key = sts("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"]
    assert service_key == root("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"]

    assert set(sts("EnableDiskEncryptionByDefault", **R)) == {"RequestId"}
    assert root("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is True
    # root-only for RAM users; the STS identity is the account root
    assert set(sts("ModifyDiskDefaultKMSKeyId", KMSKeyId=KEY_HZ, **R)) == {"RequestId"}
    assert root("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == KEY_HZ
    assert sts("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == KEY_HZ

    sts("ResetDiskDefaultKMSKeyId", **R)
    assert root("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == service_key
    sts("DisableDiskEncryptionByDefault", **R)
    assert root("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    assert len(sts("DescribeRegions", AcceptLanguage="en-US")["Regions"]["Region"]) == 29
    sts.assert_unique_ids()


def test_sts_ram_reader_reads_its_account(sdk):
    reader = Recorder(sdk, "sts-ram-reader")
    # account 1000000000000108 has default encryption on in cn-hangzhou; the default is off
    assert reader("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is True
    assert reader("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"].startswith("key-")
    assert len(reader("DescribeRegions", AcceptLanguage="en-US")["Regions"]["Region"]) == 29
    assert Recorder(sdk)("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False


@pytest.mark.parametrize("action,params", [
    ("DisableDiskEncryptionByDefault", R),
    ("ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": "key-hzz1ramdemo00000000001"}),
], ids=["disable", "modify"])
def test_sts_ram_reader_denied_writes_change_nothing(sdk, action, params):
    reader = Recorder(sdk, "sts-ram-reader")
    key_before = reader("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"]
    with pytest.raises(SdkError) as ei:
        sdk.call(action, params, "sts-ram-reader")
    err = ei.value
    _assert_error(sdk, err, 403, "Forbidden.RAM",
                  "User not authorized to operate on the specified resource, "
                  "or this API doesn't support RAM.")
    if err.data is not None:
        detail = err.data.get("AccessDeniedDetail")
        assert isinstance(detail, dict), err.data
        assert detail.get("AuthAction") == f"ecs:{action}"
        assert detail.get("AuthPrincipalType") == "SubUser"
        assert detail.get("AuthPrincipalDisplayName") == "ecs-reader"
        assert str(detail.get("AuthPrincipalOwnerId")) == RAM_OWNER_ID
        assert err.raw.access_denied_detail == detail
    assert reader("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is True
    assert reader("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"] == key_before


FORBIDDEN_RAM = ("User not authorized to operate on the specified resource, "
                 "or this API doesn't support RAM.")


def test_describe_regions_is_open_to_a_ram_user_with_no_policy(sdk, kms_flavours):
    """ECS and KMS DescribeRegions answer any caller with a valid key (ecs-default-encryption.md,
    DescribeRegions), the policy-less RAM user `no-policy` included; its other calls are refused."""
    nobody = Recorder(sdk, "ram-no-policy")
    assert len(nobody("DescribeRegions", AcceptLanguage="en-US")["Regions"]["Region"]) == 29
    kms = Recorder(kms_flavours[sdk.name], "ram-no-policy")
    assert len(kms("DescribeRegions")["Regions"]["Region"]) == 29
    err = expect_error(sdk, "DescribeDiskEncryptionByDefaultStatus", R, "ram-no-policy")
    _assert_error(sdk, err, 403, "Forbidden.RAM", FORBIDDEN_RAM)
