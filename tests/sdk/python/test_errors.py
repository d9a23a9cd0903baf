"""Every documented error of the encryption family (and DescribeRegions), in every Python SDK."""

import pytest

from conftest import ERROR_CASES, ERROR_IDS, RAM_DETAIL, RAM_OWNER_ID, UUID_RE, SdkError


def _call_expecting_error(sdk, case_id, creds, action, params):
    kwargs = {}
    if sdk.name == "py-core" and "RegionId" not in params and action != "DescribeRegions":
        # py-core always adds RegionId=<client region>; with an empty client region it sends
        # "RegionId=", which wire.md says the emulator must treat as absent.
        kwargs["client_region"] = ""
    with pytest.raises(SdkError) as ei:
        body = sdk.call(action, params, creds, **kwargs)
        pytest.fail(f"{case_id}: expected an error, got success {body!r}")
    return ei.value


@pytest.mark.parametrize("case_id,creds,action,params,status,code,message", ERROR_CASES,
                         ids=ERROR_IDS)
def test_documented_error(sdk, case_id, creds, action, params, status, code, message):
    err = _call_expecting_error(sdk, case_id, creds, action, params)
    got = (err.code, err.status, err.message)
    assert got == (code, status, message), f"{sdk.name} {action} {params}: {got}"
    assert err.request_id and UUID_RE.match(err.request_id), err.request_id

    if err.data is not None:  # tea: the whole error body is exposed
        body = err.data
        assert body["Code"] == code
        assert body["Message"] == message
        assert body["RequestId"] == err.request_id
        assert body["HostId"] == "ecs.aliyuncs.com"
        assert isinstance(body.get("Recommend"), str) and body["Recommend"]

    if code == "Forbidden.RAM" and err.data is not None:
        detail = err.data.get("AccessDeniedDetail")
        assert isinstance(detail, dict), err.data
        auth_action, user_name = RAM_DETAIL[case_id]
        assert detail.get("AuthAction") == auth_action
        assert detail.get("AuthPrincipalType") == "SubUser"
        assert detail.get("AuthPrincipalDisplayName") == user_name
        assert str(detail.get("AuthPrincipalOwnerId")) == RAM_OWNER_ID
        assert detail.get("NoPermissionType") == "ImplicitDeny"
        # tea also lifts it onto the exception
        assert err.raw.access_denied_detail == detail


def test_py_core_region_none_is_missing(flavours):
    """py-core with a None client region sends the literal RegionId=None: treated as absent."""
    core = flavours["py-core"]
    try:
        core.call("DescribeDiskEncryptionByDefaultStatus", {}, "default", client_region=None)
    except SdkError as e:
        assert (e.code, e.status) == ("MissingParameter", 400)
        assert e.message == ('The input parameter "RegionId" that is mandatory for '
                             "processing this request is not supplied.")
    else:
        pytest.fail("RegionId=None accepted as a region")


def test_error_request_ids_differ(sdk):
    ids = set()
    for _ in range(3):
        with pytest.raises(SdkError) as ei:
            sdk.call("EnableDiskEncryptionByDefault", {"RegionId": "cn-atlantis"})
        assert UUID_RE.match(ei.value.request_id)
        ids.add(ei.value.request_id)
    assert len(ids) == 3


def test_failed_calls_change_nothing(sdk):
    """An error leaves the state as it was (feature stays off, key unchanged)."""
    before = sdk.call("DescribeDiskDefaultKMSKeyId", {"RegionId": "cn-hangzhou"})["KMSKeyId"]
    with pytest.raises(SdkError):
        sdk.call("ModifyDiskDefaultKMSKeyId",
                 {"RegionId": "cn-hangzhou", "KMSKeyId": "key-hzz65e1c1f1wh3ka4wq4e"})
    body = sdk.call("DescribeDiskDefaultKMSKeyId", {"RegionId": "cn-hangzhou"})
    assert body["KMSKeyId"] == before
    st = sdk.call("DescribeDiskEncryptionByDefaultStatus", {"RegionId": "cn-hangzhou"})
    assert st["Encrypted"] is False


SIG_PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"


@pytest.mark.parametrize("action,params", [
    ("DescribeDiskEncryptionByDefaultStatus", {"RegionId": "cn-hangzhou"}),
    ("DescribeRegions", {"AcceptLanguage": "en-US"}),
], ids=["encryption", "regions"])
def test_unknown_access_key(sdk, action, params):
    with pytest.raises(SdkError) as ei:
        sdk.call(action, params, "unknown-key")
    e = ei.value
    assert (e.code, e.status, e.message) == (
        "InvalidAccessKeyId.NotFound", 404, "Specified access key is not found.")
    assert UUID_RE.match(e.request_id)


@pytest.mark.parametrize("action,params", [
    ("ModifyDiskDefaultKMSKeyId", {"RegionId": "cn-hangzhou", "KMSKeyId": "alias/demo"}),
    ("DescribeRegions", {"AcceptLanguage": "en-US"}),
], ids=["modify", "regions"])
def test_wrong_secret(sdk, action, params):
    with pytest.raises(SdkError) as ei:
        sdk.call(action, params, "wrong-secret")
    e = ei.value
    assert UUID_RE.match(e.request_id)
    if sdk.name == "py-core":
        # py-core compares the server's string-to-sign (after the ':') with its own and, when
        # they are equal, rewrites the error: this proves the server's V2 string-to-sign is
        # byte-for-byte the SDK's.
        assert (e.code, e.status, e.message) == (
            "InvalidAccessKeySecret", 400,
            "The AccessKeySecret is incorrect. Please check your AccessKeyId and AccessKeySecret.")
    else:
        assert (e.code, e.status) == ("SignatureDoesNotMatch", 400)
        assert e.message.startswith(SIG_PREFIX), e.message
        sts = e.message[len(SIG_PREFIX):]
        if sdk.name == "py-tea-v3":
            assert sts.startswith("ACS3-HMAC-SHA256\n"), sts
        else:
            assert sts.startswith("POST&%2F&"), sts
    # nothing changed
    assert sdk.call("DescribeDiskDefaultKMSKeyId", {"RegionId": "cn-hangzhou"})["KMSKeyId"] \
        != "key-hzz65e1c1f1wh3ka4wq4e"
