"""STS (2015-04-01) through the official Python SDKs: alibabacloud-sts20150401 with tea V3 and V2
signatures, py-core's CommonRequest (product Sts), and the credentials libraries that assume a
role: alibabacloud_credentials' ram_role_arn provider (its own form-encoded V2 signature) and
py-core's RamRoleArnCredential (HTTPS only: through the emulator's --tls-listen). The issued sessions are
then used as real credentials with the ECS, KMS and STS clients. Tables: ../sts_cases.json
(shared with the Node runner). Contract: shared/spec/sts.md."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from conftest import (CREDS, DATE_RE, DEFAULT_ACCOUNT_ID, ECS_API, KEY_HZ, KMS_API, REGION,
                      STS_API, STS_CASES, Recorder, assert_api_error, creds_of, expect_error)

R = {"RegionId": REGION}
ESSD = {**R, "ZoneId": "cn-hangzhou-h", "DiskCategory": "cloud_essd", "Size": 40}
ECS_OPERATOR = "ecs-operator"
ECS_OPERATOR_ID = "300012345678901234"
ECS_OPERATOR_ARN = f"acs:ram::{DEFAULT_ACCOUNT_ID}:role/{ECS_OPERATOR}"
STS_AK_RE = re.compile(r"^STS\.[A-Za-z0-9]{24,}$")
ID_RE = re.compile(r"^\d{16,20}$")
MSG_FORBIDDEN_RAM = ("User not authorized to operate on the specified resource, or this API "
                     "doesn't support RAM.")
NO_PERMISSION = (403, "NoPermission",
                 "You are not authorized to do this action. You should be authorized by RAM.")
KEY_NOT_FOUND = (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
MISMATCH = (400, "InvalidSecurityToken.Mismatch",
            "Specified SecurityToken mismatch with the AccessKey.")
MISSING_TOKEN = (400, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
# a policy with spaces: the credentials provider form-encodes them as '+' before signing
SPACED_POLICY = ('{"Version": "1", "Statement": [{"Effect": "Allow", '
                 '"Action": ["ecs:Describe*"], "Resource": "*"}]}')


# --------------------------------------------------------------------------- table helpers
def policy_of_size(size: int) -> str:
    """A valid policy document of exactly `size` characters (sts_cases.json $policyOfSize)."""
    head = ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*"], '
            '"Resource": "acs:ecs:*:*:instance/')
    tail = '"}]}'
    pad = size - len(head) - len(tail)
    assert pad > 0, size
    return head + "x" * pad + tail


def expand(value):
    """A parameter value of the table, its macros expanded (see the table's comment)."""
    if isinstance(value, dict) and "$repeat" in value:
        return value["$repeat"] * value["times"]
    if isinstance(value, dict) and "$policyOfSize" in value:
        return policy_of_size(value["$policyOfSize"])
    return value


def expand_params(params: dict) -> dict:
    return {k: expand(v) for k, v in params.items()}


def create_accounts(emulator, names) -> None:
    """POST the table's accounts; their RAM users' keys become CREDS '<account>/<userName>'."""
    for name in names:
        body = STS_CASES["accounts"][name]
        status, answer = emulator.admin("POST", "/_emulator/accounts", body)
        assert status == 201, answer
        for user in body["ramUsers"]:
            key = user["accessKeys"][0]
            CREDS[f"{name}/{user['userName']}"] = (key["accessKeyId"], key["accessKeySecret"])


def case_params(rows):
    return [pytest.param(c, id=c["id"]) for c in rows]


# --------------------------------------------------------------------------- assertions
def parse_expiration(text: str) -> datetime:
    # exactly the credentials provider's format: no fractional seconds, UTC, Z
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def assert_issued(body: dict, account: str, role_name: str, role_id: str, session: str,
                  duration: int) -> None:
    """AssumeRole's success body (sts.md section 4)."""
    assert set(body) == {"RequestId", "AssumedRoleUser", "Credentials"}, body
    assert body["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role_id}:{session}",
        "Arn": f"acs:ram::{account}:role/{role_name}/{session}"}, body
    creds = body["Credentials"]
    assert set(creds) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}, body
    assert STS_AK_RE.match(creds["AccessKeyId"]), creds
    assert creds["AccessKeySecret"] and isinstance(creds["AccessKeySecret"], str), creds
    assert creds["SecurityToken"].startswith("CAIS"), creds
    assert DATE_RE.match(creds["Expiration"]), creds
    expected = datetime.now(timezone.utc) + timedelta(seconds=duration)
    assert abs(parse_expiration(creds["Expiration"]) - expected) < timedelta(minutes=2), creds


def role_identity(account: str, role_name: str, role_id: str, session: str) -> dict:
    """GetCallerIdentity of a session (sts.md section 3), RequestId aside."""
    return {"IdentityType": "AssumedRoleUser", "AccountId": account, "RoleId": role_id,
            "PrincipalId": f"{role_id}:{session}",
            "Arn": f"acs:ram::{account}:assumed-role/{role_name}/{session}"}


def identity(sdk, creds) -> dict:
    body = Recorder(sdk, creds)("GetCallerIdentity")
    return {k: v for k, v in body.items() if k != "RequestId"}


def assume(sts, creds="deployer", role_arn=ECS_OPERATOR_ARN, session="ci-session",
           **params) -> tuple[str, dict]:
    """AssumeRole; the issued credentials become CREDS 'session:<AccessKeyId>'."""
    body = Recorder(sts, creds)("AssumeRole", RoleArn=role_arn, RoleSessionName=session,
                                **params)
    issued = body["Credentials"]
    name = f"session:{issued['AccessKeyId']}"
    CREDS[name] = (issued["AccessKeyId"], issued["AccessKeySecret"], issued["SecurityToken"])
    return name, body


def assert_sts_error(err, status, code, message):
    assert_api_error(err, STS_API, status, code, message)
    if err.data is not None:  # the ECS envelope: no HttpStatus (that is KMS's)
        assert "HttpStatus" not in err.data, err.data


def assert_role_denied(err, api, action: str, account: str, role_name: str, session: str):
    """Forbidden.RAM to a session: AccessDeniedDetail names the assumed role user
    (<roleName>:<sessionName>, the README's choice) and the role's account."""
    assert_api_error(err, api, 403, "Forbidden.RAM", MSG_FORBIDDEN_RAM, auth_action=action,
                     auth_user=f"{role_name}:{session}", auth_type="AssumedRoleUser")
    if err.data is not None:
        assert err.data["AccessDeniedDetail"].get("AuthPrincipalOwnerId") == account, err.data


def clear_journal(emulator) -> None:
    """The journal outlives reset: tests that read it start it empty."""
    status, body = emulator.admin("DELETE", "/_emulator/requests")
    assert 200 <= status < 300, body


def journal(emulator, **query) -> list[dict]:
    status, body = emulator.admin("GET", "/_emulator/requests?" + urlencode(query))
    assert status == 200, body
    return body["requests"]


# --------------------------------------------------------------------------- GetCallerIdentity
@pytest.mark.parametrize("case", case_params(STS_CASES["callerIdentity"]))
def test_get_caller_identity(sts, emulator, case):
    create_accounts(emulator, case.get("accounts", []))
    assert identity(sts, case["creds"]) == case["expect"]


def test_get_caller_identity_of_a_session(sts):
    name, _ = assume(sts)
    assert identity(sts, name) == role_identity(DEFAULT_ACCOUNT_ID, ECS_OPERATOR,
                                                ECS_OPERATOR_ID, "ci-session")


def test_generated_ids_are_kept_in_the_state(sts, emulator):
    status, created = emulator.admin("POST", "/_emulator/accounts", {
        "ramUsers": [{"userName": "gen", "policies": ["AliyunSTSAssumeRoleAccess"],
                      "accessKeys": [{"accessKeyId": "LTAI5tStsGeneratedIds01",
                                      "accessKeySecret": "StsSecretGeneratedIds01"}]}],
        "ramRoles": [{"roleName": "gen-role",
                      "trustedPrincipals": ["acs:ram::1234567890123456:root"]}]})
    assert status == 201, created
    account = created["accountId"]
    user, role = created["account"]["ramUsers"][0], created["account"]["ramRoles"][0]
    assert ID_RE.match(user["userId"]) and ID_RE.match(role["roleId"]), created
    assert role["maxSessionDuration"] == 3600, role  # the default
    status, state = emulator.admin("GET", f"/_emulator/accounts/{account}")
    assert status == 200, state
    assert state["ramUsers"][0]["userId"] == user["userId"]
    assert state["ramRoles"][0]["roleId"] == role["roleId"]
    CREDS["gen"] = ("LTAI5tStsGeneratedIds01", "StsSecretGeneratedIds01")
    assert identity(sts, "gen")["UserId"] == user["userId"]
    _, body = assume(sts, role_arn=f"acs:ram::{account}:role/gen-role", session="gen")
    assert_issued(body, account, "gen-role", role["roleId"], "gen", 3600)


@pytest.mark.parametrize("role,path", [
    ({"roleName": "bad name"}, "ramRoles[0].roleName"),
    ({"roleName": "r" * 65}, "ramRoles[0].roleName"),
    ({"roleName": "ok", "roleId": "12345"}, "ramRoles[0].roleId"),
    ({"roleName": "ok", "maxSessionDuration": 3599}, "ramRoles[0].maxSessionDuration"),
    ({"roleName": "ok", "maxSessionDuration": 43201}, "ramRoles[0].maxSessionDuration"),
], ids=["name-with-space", "name-too-long", "short-role-id", "max-below-3600",
        "max-above-43200"])
def test_invalid_roles_are_refused_with_their_path(emulator, role, path):
    status, body = emulator.admin("POST", "/_emulator/accounts", {"ramRoles": [role]})
    assert status == 400, body
    assert path in body["error"], body


def test_role_names_are_unique_per_account_ignoring_case(emulator):
    status, body = emulator.admin("POST", "/_emulator/accounts", {
        "ramRoles": [{"roleName": "twin"}, {"roleName": "TWIN"}]})
    assert status == 400, body
    assert "ramRoles[1].roleName" in body["error"], body


# --------------------------------------------------------------------------- AssumeRole
@pytest.mark.parametrize("case", case_params(STS_CASES["assumeRole"]))
def test_assume_role(sts, emulator, case):
    create_accounts(emulator, case.get("accounts", []))
    params = expand_params(case["params"])
    exp = case["expect"]
    name, body = assume(sts, case["creds"], params.pop("RoleArn"), params.pop("RoleSessionName"),
                        **params)
    session = expand(case["params"]["RoleSessionName"])
    assert_issued(body, exp["accountId"], exp["roleName"], exp["roleId"], session,
                  exp["durationSeconds"])
    # the issued credentials are credentials of the emulator: STS knows who they are
    assert identity(sts, name) == role_identity(exp["accountId"], exp["roleName"], exp["roleId"],
                                                session)


@pytest.mark.parametrize("case", case_params(STS_CASES["errors"]))
def test_assume_role_error(sts, emulator, case):
    create_accounts(emulator, case.get("accounts", []))
    err = expect_error(sts, case["action"], expand_params(case["params"]), case["creds"])
    assert_sts_error(err, case["status"], case["code"], case["message"])


def test_every_call_issues_new_credentials(sts):
    first, a = assume(sts)
    second, b = assume(sts)
    ca, cb = a["Credentials"], b["Credentials"]
    assert ca["AccessKeyId"] != cb["AccessKeyId"]
    assert ca["SecurityToken"] != cb["SecurityToken"]
    assert ca["AccessKeySecret"] != cb["AccessKeySecret"]
    # both stay valid
    for name in (first, second):
        assert identity(sts, name)["IdentityType"] == "AssumedRoleUser"


def test_a_session_of_a_role_without_the_sts_policy_cannot_assume_roles(sts):
    name, _ = assume(sts)  # ecs-operator: AliyunECSFullAccess and AliyunKMSFullAccess only
    err = expect_error(sts, "AssumeRole", {"RoleArn": ECS_OPERATOR_ARN,
                                           "RoleSessionName": "again"}, name)
    assert_sts_error(err, *NO_PERMISSION)


def test_a_session_of_a_role_with_the_sts_policy_assumes_roles_its_account_trusts(sts, emulator):
    """acs:ram::<account>:root trusts that account's role sessions too (README: the RAM
    users and role sessions of that account) when they hold AliyunSTSAssumeRoleAccess."""
    create_accounts(emulator, ["other"])
    status, body = emulator.admin("PATCH", "/_emulator/accounts/2000000000000001", {
        "ramRoles": [*STS_CASES["accounts"]["other"]["ramRoles"],
                     {"roleName": "chainer", "roleId": "300000000000000104",
                      "trustedPrincipals": ["acs:ram::1234567890123456:root"],
                      "policies": ["AliyunSTSAssumeRoleAccess"]}]})
    assert status == 200, body
    chainer, _ = assume(sts, role_arn="acs:ram::2000000000000001:role/chainer", session="hop1")
    chained, body = assume(sts, chainer, "acs:ram::2000000000000001:role/own-root", "hop2")
    assert_issued(body, "2000000000000001", "own-root", "300000000000000103", "hop2", 3600)
    assert identity(sts, chained) == role_identity("2000000000000001", "own-root",
                                                   "300000000000000103", "hop2")
    # ecs-operator trusts the default account only
    err = expect_error(sts, "AssumeRole", {"RoleArn": ECS_OPERATOR_ARN,
                                           "RoleSessionName": "hop2"}, chainer)
    assert_sts_error(err, *NO_PERMISSION)


# --------------------------------------------------------------------------- sessions at work
def test_session_acts_as_the_role_in_ecs_and_kms(sts, flavours, kms_flavours):
    name, _ = assume(sts)
    ecs_sdk = flavours[sts.name]
    ecs, root = Recorder(ecs_sdk, name), Recorder(ecs_sdk)
    assert len(ecs("DescribeRegions", AcceptLanguage="en-US")["Regions"]["Region"]) == 29
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    assert set(ecs("EnableDiskEncryptionByDefault", **R)) == {"RequestId"}
    # the role's account changed
    assert root("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is True
    disk_id = ecs("CreateDisk", **ESSD)["DiskId"]
    assert disk_id.startswith("d-"), disk_id
    described = root("DescribeDisks", **R, DiskIds=json.dumps([disk_id]))["Disks"]["Disk"]
    assert [d["DiskId"] for d in described] == [disk_id]
    kms = Recorder(kms_flavours[sts.name], name)
    assert kms("DescribeKey", KeyId=KEY_HZ)["KeyMetadata"]["KeyId"] == KEY_HZ
    # a role is never root: ModifyDiskDefaultKMSKeyId is always refused
    err = expect_error(ecs_sdk, "ModifyDiskDefaultKMSKeyId", {**R, "KMSKeyId": KEY_HZ}, name)
    assert_role_denied(err, ECS_API, "ecs:ModifyDiskDefaultKMSKeyId", DEFAULT_ACCOUNT_ID,
                       ECS_OPERATOR, "ci-session")
    ecs.assert_unique_ids()


def test_session_of_a_read_only_role(sts, emulator, flavours, kms_flavours):
    create_accounts(emulator, ["other"])
    name, _ = assume(sts, role_arn="acs:ram::2000000000000001:role/cross-reader",
                     session="cross")
    ecs_sdk = flavours[sts.name]
    ecs = Recorder(ecs_sdk, name)
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False
    err = expect_error(ecs_sdk, "EnableDiskEncryptionByDefault", R, name)
    assert_role_denied(err, ECS_API, "ecs:EnableDiskEncryptionByDefault", "2000000000000001",
                       "Cross-Reader", "cross")
    err = expect_error(kms_flavours[sts.name], "ListKeys", {}, name)
    assert_role_denied(err, KMS_API, "kms:ListKeys", "2000000000000001", "Cross-Reader", "cross")
    assert ecs("DescribeDiskEncryptionByDefaultStatus", **R)["Encrypted"] is False


def test_session_token_rules(sts, flavours):
    name, _ = assume(sts)
    _, other = assume(sts, session="other-session")
    ak, sk, token = creds_of(name)
    ecs_sdk = flavours[sts.name]
    CREDS[f"{name}/no-token"] = (ak, sk)
    CREDS[f"{name}/other-token"] = (ak, sk, other["Credentials"]["SecurityToken"])
    CREDS[f"{name}/fixture-token"] = (ak, sk, "CAIDemoSecurityTokenRoot01")
    for sdk in (ecs_sdk, sts):
        action, params = ("DescribeDiskEncryptionByDefaultStatus", R) if sdk is ecs_sdk else \
            ("GetCallerIdentity", {})
        api = ECS_API if sdk is ecs_sdk else STS_API
        for creds, expected in [(f"{name}/no-token", MISSING_TOKEN),
                                (f"{name}/other-token", MISMATCH),
                                (f"{name}/fixture-token", MISMATCH)]:
            assert_api_error(expect_error(sdk, action, params, creds), api, *expected)
    # a session's token with a permanent key
    CREDS["deployer/session-token"] = (*CREDS["deployer"][:2], token)
    assert_api_error(expect_error(ecs_sdk, "DescribeDiskEncryptionByDefaultStatus", R,
                                  "deployer/session-token"), ECS_API, *MISMATCH)


def test_sessions_end_with_reset(sts, emulator):
    name, _ = assume(sts)
    assert identity(sts, name)["IdentityType"] == "AssumedRoleUser"
    emulator.reset()
    assert_api_error(expect_error(sts, "GetCallerIdentity", {}, name), STS_API, *KEY_NOT_FOUND)


def test_sessions_end_with_their_role_or_account(sts, emulator):
    create_accounts(emulator, ["other"])
    arn = "acs:ram::2000000000000001:role/cross-reader"
    by_role, _ = assume(sts, role_arn=arn, session="by-role")
    status, account = emulator.admin("GET", "/_emulator/accounts/2000000000000001")
    assert status == 200, account
    kept = [r for r in account["ramRoles"] if r["roleName"] != "Cross-Reader"]
    status, body = emulator.admin("PUT", "/_emulator/accounts/2000000000000001",
                                  {**account, "ramRoles": kept})
    assert status == 200, body
    assert_api_error(expect_error(sts, "GetCallerIdentity", {}, by_role), STS_API,
                     *KEY_NOT_FOUND)

    by_account, _ = assume(sts, role_arn="acs:ram::2000000000000001:role/alice-only",
                           session="by-account", creds="other/alice")
    assert identity(sts, by_account)["IdentityType"] == "AssumedRoleUser"
    status, body = emulator.admin("DELETE", "/_emulator/accounts/2000000000000001")
    assert 200 <= status < 300, body
    assert_api_error(expect_error(sts, "GetCallerIdentity", {}, by_account), STS_API,
                     *KEY_NOT_FOUND)


def test_journal_names_the_session(sts, flavours, emulator):
    clear_journal(emulator)
    name, _ = assume(sts)
    ak, _, token = creds_of(name)
    Recorder(flavours[sts.name], name)("DescribeDiskEncryptionByDefaultStatus", **R)
    identity(sts, name)
    entries = journal(emulator, accessKeyId=ak)
    principal = f"assumed-role/{ECS_OPERATOR}/ci-session"
    assert [(e["principal"], e["action"], e["accountId"], e["httpStatus"]) for e in entries] == [
        (principal, "DescribeDiskEncryptionByDefaultStatus", DEFAULT_ACCOUNT_ID, 200),
        (principal, "GetCallerIdentity", DEFAULT_ACCOUNT_ID, 200)]
    assert all(token not in repr(e) for e in entries)
    # the AssumeRole call itself is the deployer's; the issued secret never shows
    issued = journal(emulator, action="AssumeRole")
    assert [(e["principal"], e["product"], e["version"]) for e in issued] == [
        ("deployer", "Sts", "2015-04-01")], issued


def test_live_sessions_are_listed_without_secrets(sts, emulator):
    name, body = assume(sts)
    ak, secret, token = creds_of(name)
    status, listed = emulator.admin("GET", f"/_emulator/sessions?accountId={DEFAULT_ACCOUNT_ID}")
    assert status == 200, listed
    assert listed["sessions"] == [{
        "accessKeyId": ak, "accountId": DEFAULT_ACCOUNT_ID, "roleName": ECS_OPERATOR,
        "roleId": ECS_OPERATOR_ID, "sessionName": "ci-session",
        "principal": f"assumed-role/{ECS_OPERATOR}/ci-session",
        "expiration": body["Credentials"]["Expiration"], "expired": False}], listed
    assert secret not in json.dumps(listed) and token not in json.dumps(listed)
    status, other = emulator.admin("GET", "/_emulator/sessions?accountId=1000000000000108")
    assert (status, other) == (200, {"sessions": []})
    emulator.reset()
    assert emulator.admin("GET", "/_emulator/sessions") == (200, {"sessions": []})


# --------------------------------------------------------------------------- credential providers
def _ram_role_arn_credential(emulator, **extra):
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.models import Config as CredentialConfig

    ak, sk, _ = creds_of("deployer")
    return CredentialClient(CredentialConfig(
        type="ram_role_arn", access_key_id=ak, access_key_secret=sk, role_arn=ECS_OPERATOR_ARN,
        role_session_name="ci-session", sts_endpoint=emulator.base, **extra))


def _tea_client(package: str, emulator, credential):
    import importlib

    from alibabacloud_tea_openapi.models import Config

    client_cls = importlib.import_module(f"{package}.client").Client
    return client_cls(Config(credential=credential, endpoint=emulator.endpoint, protocol="http",
                             region_id=REGION))


@pytest.mark.parametrize("extra", [{}, {"policy": SPACED_POLICY},
                                   {"role_session_expiration": 1800, "external_id": "ext-id"}],
                         ids=["plain", "policy-with-spaces", "duration-and-external-id"])
def test_credentials_library_ram_role_arn_end_to_end(emulator, extra):
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_tea_openapi.exceptions import ClientException

    clear_journal(emulator)
    credential = _ram_role_arn_credential(emulator, **extra)
    issued = credential.get_credential()
    assert STS_AK_RE.match(issued.access_key_id), issued
    assert issued.security_token.startswith("CAIS"), issued
    ecs = _tea_client("alibabacloud_ecs20140526", emulator, credential)
    regions = ecs.describe_regions(ecs_models.DescribeRegionsRequest(accept_language="en-US"))
    assert len(regions.body.regions.region) == 29
    status = ecs.describe_disk_encryption_by_default_status(
        ecs_models.DescribeDiskEncryptionByDefaultStatusRequest(region_id=REGION))
    assert status.body.encrypted is False
    disk = ecs.create_disk(ecs_models.CreateDiskRequest(
        region_id=REGION, zone_id="cn-hangzhou-h", disk_category="cloud_essd", size=40))
    assert disk.body.disk_id.startswith("d-")
    with pytest.raises(ClientException) as ei:
        ecs.modify_disk_default_kmskey_id(ecs_models.ModifyDiskDefaultKMSKeyIdRequest(
            region_id=REGION, kmskey_id=KEY_HZ))
    err = ei.value
    assert (err.code, err.status_code) == ("Forbidden.RAM", 403), err
    assert err.data["AccessDeniedDetail"]["AuthPrincipalType"] == "AssumedRoleUser", err.data
    sts = _tea_client("alibabacloud_sts20150401", emulator, credential)
    body = sts.get_caller_identity().body.to_map()
    assert {k: v for k, v in body.items() if k != "RequestId"} == role_identity(
        DEFAULT_ACCOUNT_ID, ECS_OPERATOR, ECS_OPERATOR_ID, "ci-session")
    # the provider's AssumeRole (GET, query only, form-encoded V2) verified, as the deployer
    assume_calls = journal(emulator, action="AssumeRole")
    assert [(e["method"], e["principal"], e["httpStatus"], e["signature"]["verdict"])
            for e in assume_calls] == [("GET", "deployer", 200, "ok")], assume_calls
    if "policy" in extra:
        assert assume_calls[0]["params"]["Policy"] == SPACED_POLICY
    principals = {e["principal"] for e in journal(emulator, accessKeyId=issued.access_key_id)}
    assert principals == {"assumed-role/ecs-operator/ci-session"}, principals


def test_credentials_library_refreshes_before_expiry(emulator):
    """The provider refreshes 15 minutes before Expiration: with 900 s sessions, every call
    assumes the role anew, and every issued session works."""
    from alibabacloud_ecs20140526 import models as ecs_models

    clear_journal(emulator)
    ecs = _tea_client("alibabacloud_ecs20140526", emulator,
                      _ram_role_arn_credential(emulator, role_session_expiration=900))
    for _ in range(3):
        status = ecs.describe_disk_encryption_by_default_status(
            ecs_models.DescribeDiskEncryptionByDefaultStatusRequest(region_id=REGION))
        assert status.body.encrypted is False
    assert [(e["principal"], e["httpStatus"]) for e in journal(emulator, action="AssumeRole")] \
        == [("deployer", 200)] * 3
    described = journal(emulator, action="DescribeDiskEncryptionByDefaultStatus")
    assert [(e["principal"], e["httpStatus"]) for e in described] == \
        [("assumed-role/ecs-operator/ci-session", 200)] * 3
    assert len({e["accessKeyId"] for e in described}) == 3, described


def test_credentials_library_reports_refusals(emulator):
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.exceptions import CredentialException
    from alibabacloud_credentials.models import Config as CredentialConfig

    ak, sk, _ = creds_of("ram-ecs-admin")  # no AliyunSTSAssumeRoleAccess
    credential = CredentialClient(CredentialConfig(
        type="ram_role_arn", access_key_id=ak, access_key_secret=sk, role_arn=ECS_OPERATOR_ARN,
        role_session_name="ci-session", sts_endpoint=emulator.base))
    with pytest.raises(CredentialException) as ei:
        credential.get_credential()
    assert "http_code: 403" in str(ei.value) and "NoPermission" in str(ei.value), ei.value


# py-core's RamRoleArnSigner calls STS over HTTPS only: the emulator's --tls-listen, trusted
# through the CA it made (conftest starts the emulator with both).
# its vendored urllib3 uses ssl APIs that Python 3.11 deprecates
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_py_core_ram_role_arn_credential(emulator):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.auth.credentials import RamRoleArnCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    from aliyunsdkecs.request.v20140526.DescribeDiskEncryptionByDefaultStatusRequest import (
        DescribeDiskEncryptionByDefaultStatusRequest)
    from aliyunsdkecs.request.v20140526.ModifyDiskDefaultKMSKeyIdRequest import (
        ModifyDiskDefaultKMSKeyIdRequest)

    clear_journal(emulator)
    ak, sk, _ = creds_of("deployer")
    client = AcsClient(region_id=REGION, verify=emulator.ca,
                       credential=RamRoleArnCredential(ak, sk, ECS_OPERATOR_ARN, "py-core"))
    client.add_endpoint(REGION, "Sts", emulator.tls_endpoint)

    def send(req):
        req.set_endpoint(emulator.endpoint)
        req.set_protocol_type("http")
        return json.loads(client.do_action_with_exception(req))

    assert send(DescribeDiskEncryptionByDefaultStatusRequest())["Encrypted"] is False
    modify = ModifyDiskDefaultKMSKeyIdRequest()
    modify.set_KMSKeyId(KEY_HZ)
    with pytest.raises(ServerException) as ei:
        send(modify)
    assert (ei.value.get_error_code(), ei.value.get_http_status()) == ("Forbidden.RAM", 403)
    whoami = CommonRequest(version="2015-04-01", action_name="GetCallerIdentity", product="Sts")
    whoami.set_method("POST")
    whoami.set_accept_format("JSON")
    body = send(whoami)
    assert {k: v for k, v in body.items() if k != "RequestId"} == role_identity(
        DEFAULT_ACCOUNT_ID, ECS_OPERATOR, ECS_OPERATOR_ID, "py-core")
    # one AssumeRole (POST, over --tls-listen) for all three calls
    assume_calls = journal(emulator, action="AssumeRole")
    assert [(e["method"], e["principal"], e["httpStatus"]) for e in assume_calls] == [
        ("POST", "deployer", 200)], assume_calls
