"""Shared harness for the real-SDK end-to-end tests.

One emulator per pytest session (``$ECS_EMULATOR_BIN --listen 127.0.0.1:PORT``),
``POST /_emulator/reset`` before every test, and one small adapter per SDK flavour
that turns a call into ``(body dict in wire names)`` or raises ``SdkError`` carrying
what that SDK surfaced. The test files hold the data tables.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
REGION = "cn-hangzhou"
UUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")

# --------------------------------------------------------------------------- fixture data
# name -> (AccessKeyId, secret[, SecurityToken]); all from fixtures/default.json
CREDS = {
    "default": ("LTAI5tTestAccessKey01", "TestSecret01"),
    "not-whitelisted": ("LTAI5tDemoNotWhitelisted", "DemoSecretNotWhitelisted"),
    "kms-service-off": ("LTAI5tDemoKmsServiceOff", "DemoSecretKmsServiceOff"),
    "kms-region-off": ("LTAI5tDemoKmsRegionOff", "DemoSecretKmsRegionOff"),
    "role-not-granted": ("LTAI5tDemoRoleNotGranted", "DemoSecretRoleNotGranted"),
    "key-unauthorized": ("LTAI5tDemoKeyUnauthorized", "DemoSecretKeyUnauthorized"),
    "key-disabled": ("LTAI5tDemoKeyDisabled", "DemoSecretKeyDisabled"),
    "encryption-on": ("LTAI5tDemoEncryptionOn", "DemoSecretEncryptionOn"),
    "ram-root": ("LTAI5tDemoRamRoot", "DemoSecretRamRoot"),
    "ram-ecs-admin": ("LTAI5tDemoRamEcsAdmin", "DemoSecretRamEcsAdmin"),
    "ram-ecs-reader": ("LTAI5tDemoRamEcsReader", "DemoSecretRamEcsReader"),
    # not in the fixture / wrong secret: gateway errors
    "unknown-key": ("LTAI5tNoSuchAccessKey00", "Whatever01"),
    "wrong-secret": ("LTAI5tTestAccessKey01", "WrongSecret"),
    # inactive AccessKey of the default account
    "inactive-key": ("LTAI5tDemoInactiveKey01", "DemoSecretInactive01"),
    # STS: root of the default account; root-of-default with a wrong token; expired;
    # a permanent key presented with a token; RAM user ecs-reader of account 1000000000000108
    "sts-root": ("STS.DemoDefaultRoot01", "DemoSecretStsRoot01", "CAIDemoSecurityTokenRoot01"),
    "sts-wrong-token": ("STS.DemoDefaultRoot01", "DemoSecretStsRoot01", "CAIWrongToken"),
    "sts-expired": ("STS.DemoExpired01", "DemoSecretStsExpired01", "CAIDemoSecurityTokenExpired01"),
    "permanent-with-token": ("LTAI5tTestAccessKey01", "TestSecret01", "CAIDemoSecurityTokenRoot01"),
    "sts-ram-reader": ("STS.DemoRamReader01", "DemoSecretStsRamReader01",
                       "CAIDemoSecurityTokenRamReader01"),
}


def creds_of(name: str) -> tuple[str, str, str | None]:
    """(AccessKeyId, secret, SecurityToken or None) of a CREDS entry."""
    ak, sk, *token = CREDS[name]
    return ak, sk, (token[0] if token else None)


DEFAULT_ACCOUNT_ID = "1234567890123456"
RAM_OWNER_ID = "1000000000000108"  # the demo RAM account (ecs-admin, ecs-reader)
KEY_HZ = "key-hzz65e1c1f1wh3ka4wq4e"
KEY_HZ_ARN = f"acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT_ID}:key/{KEY_HZ}"
KEY_SH = "key-shh2c6ns1d8ah1s5r1jpq"

ACTIONS = [
    "EnableDiskEncryptionByDefault",
    "DisableDiskEncryptionByDefault",
    "DescribeDiskEncryptionByDefaultStatus",
    "ModifyDiskDefaultKMSKeyId",
    "ResetDiskDefaultKMSKeyId",
    "DescribeDiskDefaultKMSKeyId",
]

MSG_MISSING_REGION = (
    'The input parameter "RegionId" that is mandatory for processing this request is not supplied.'
)
MSG_MISSING_KMSKEYID = (
    'The input parameter "KMSKeyId" that is mandatory for processing this request is not supplied.'
)
MSG_FORBIDDEN_RAM = (
    "User not authorized to operate on the specified resource, or this API doesn't support RAM."
)


def _base_params(action: str, region: str | None) -> dict:
    p: dict = {} if region is None else {"RegionId": region}
    if action == "ModifyDiskDefaultKMSKeyId":
        p["KMSKeyId"] = KEY_HZ
    return p


# Every documented error: (id, creds, action, params, status, code, message).
# params=None on RegionId means "omit it" (MissingParameter rows).
ERROR_CASES: list[tuple] = []
for _a in ACTIONS:
    ERROR_CASES.append((f"missing-region-{_a}", "default", _a, _base_params(_a, None),
                        400, "MissingParameter", MSG_MISSING_REGION))
ERROR_CASES.append(("missing-kmskeyid", "default", "ModifyDiskDefaultKMSKeyId",
                    {"RegionId": REGION}, 400, "MissingParameter", MSG_MISSING_KMSKEYID))
for _a in ACTIONS:
    ERROR_CASES.append((f"region-not-exists-{_a}", "default", _a, _base_params(_a, "cn-atlantis"),
                        403, "InvalidParameter.RegionIdNotExists",
                        "The specified region does not exists."))
ERROR_CASES += [
    ("region-not-supported", "default", "EnableDiskEncryptionByDefault",
     {"RegionId": "ap-south-1"}, 403, "Abs.InvalidAction.RegionNotSupport",
     "This region does not support this action."),
    ("not-whitelisted", "not-whitelisted", "EnableDiskEncryptionByDefault",
     {"RegionId": REGION}, 403, "UserNotInTheWhiteList", "The user is not in disk white list."),
    ("kms-service-not-open", "kms-service-off", "EnableDiskEncryptionByDefault",
     {"RegionId": REGION}, 403, "InvalidOperation.KMSServiceNotOpen",
     "KMS service is currently not open."),
    ("kms-not-enabled-in-region", "kms-region-off", "EnableDiskEncryptionByDefault",
     {"RegionId": REGION}, 400, "InvalidParameter.Encrypted.KmsNotEnabled",
     "KMS must be enabled for encrypted disks."),
    ("already-enabled", "encryption-on", "EnableDiskEncryptionByDefault",
     {"RegionId": REGION}, 403, "InvalidOperation.DefaultEncryptionAlreadyEnabled",
     "The specified region is already default encryption settings."),
]
for _a in ("ModifyDiskDefaultKMSKeyId", "ResetDiskDefaultKMSKeyId", "DisableDiskEncryptionByDefault"):
    ERROR_CASES.append((f"not-configured-{_a}", "default", _a, _base_params(_a, REGION),
                        403, "InvalidDefaultEncryption.NotFound",
                        "You have not configured default encryption setting in this region."))
ERROR_CASES += [
    ("key-not-found", "encryption-on", "ModifyDiskDefaultKMSKeyId",
     {"RegionId": REGION, "KMSKeyId": "key-doesnotexist"}, 403,
     "InvalidOperation.KMSKeyIdNotFound", "The specified KMSKeyId not found, key-doesnotexist."),
    ("role-not-granted", "role-not-granted", "EnableDiskEncryptionByDefault",
     {"RegionId": REGION}, 403, "InvalidParameter.KMSKeyId.KMSUnauthorized",
     "ECS service have no right to access your KMS."),
    ("key-not-authorized", "key-unauthorized", "ModifyDiskDefaultKMSKeyId",
     {"RegionId": REGION, "KMSKeyId": "key-hzz1unauthorized000001"}, 403,
     "InvalidParameter.KMSKeyId.KMSUnauthorized", "ECS service have no right to access your KMS."),
    ("key-disabled", "key-disabled", "ModifyDiskDefaultKMSKeyId",
     {"RegionId": REGION, "KMSKeyId": "key-hzz1disabled0000000001"}, 400,
     "InvalidParameter.KMSKeyId.CMKNotEnabled", "The CMK needs to be enabled."),
    ("ram-admin-modify", "ram-ecs-admin", "ModifyDiskDefaultKMSKeyId",
     {"RegionId": REGION, "KMSKeyId": "key-hzz1ramdemo00000000001"}, 403, "Forbidden.RAM",
     MSG_FORBIDDEN_RAM),
    ("ram-reader-enable", "ram-ecs-reader", "EnableDiskEncryptionByDefault",
     {"RegionId": REGION}, 403, "Forbidden.RAM", MSG_FORBIDDEN_RAM),
    ("sts-ram-reader-enable", "sts-ram-reader", "EnableDiskEncryptionByDefault",
     {"RegionId": REGION}, 403, "Forbidden.RAM", MSG_FORBIDDEN_RAM),
    ("bad-accept-language", "default", "DescribeRegions", {"AcceptLanguage": "fr-FR"}, 404,
     "InvalidAcceptLanguage.NotFound",
     "Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed."),
]
ERROR_IDS = [c[0] for c in ERROR_CASES]

# For Forbidden.RAM rows: (AuthAction, AuthPrincipalDisplayName) expected in AccessDeniedDetail.
RAM_DETAIL = {
    "ram-admin-modify": ("ecs:ModifyDiskDefaultKMSKeyId", "ecs-admin"),
    "ram-reader-enable": ("ecs:EnableDiskEncryptionByDefault", "ecs-reader"),
    "sts-ram-reader-enable": ("ecs:EnableDiskEncryptionByDefault", "ecs-reader"),
}

MSG_TOKEN_MISMATCH = "Specified SecurityToken mismatch with the AccessKey."

# Authentication failures (wire.md section 2), each sent with every action in AUTH_ACTIONS:
# (id, creds, status, code, message). The gateway rejects before any action logic runs.
AUTH_ERROR_CASES = [
    ("sts-wrong-token", "sts-wrong-token", 400, "InvalidSecurityToken.Mismatch",
     MSG_TOKEN_MISMATCH),
    ("sts-expired", "sts-expired", 400, "InvalidSecurityToken.Expired",
     "Specified SecurityToken is expired."),
    ("permanent-key-with-token", "permanent-with-token", 400, "InvalidSecurityToken.Mismatch",
     MSG_TOKEN_MISMATCH),
    ("inactive-key", "inactive-key", 403, "Forbidden.AccessKeyDisabled",
     "The AccessKey is disabled."),
]
# a state-changing action of the default account (checked unchanged afterwards) and one
# without RegionId
AUTH_ACTIONS = [
    ("EnableDiskEncryptionByDefault", {"RegionId": REGION}),
    ("DescribeRegions", {"AcceptLanguage": "en-US"}),
]


# --------------------------------------------------------------------------- SDK adapters
@dataclass
class SdkError(Exception):
    """What an SDK surfaced for an API error (None = not exposed by that SDK)."""

    code: str | None
    status: int | None
    message: str | None
    request_id: str | None
    data: dict | None = None
    raw: Any = field(default=None, repr=False)


def _snake(name: str) -> str:
    # ModifyDiskDefaultKMSKeyId -> modify_disk_default_kmskey_id (the tea naming)
    s = name.replace("KMSKeyId", "KmskeyId")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", s).lower()


class TeaFlavour:
    """alibabacloud-ecs20140526 on alibabacloud-tea-openapi (V3 or V2 signatures)."""

    def __init__(self, name: str, endpoint: str, signature_algorithm: str | None):
        self.name = name
        self.endpoint = endpoint
        self.signature_algorithm = signature_algorithm
        self._clients: dict = {}

    def client(self, creds: str):
        if creds not in self._clients:
            from alibabacloud_ecs20140526.client import Client
            from alibabacloud_tea_openapi.models import Config

            ak, sk, token = creds_of(creds)
            kw = dict(access_key_id=ak, access_key_secret=sk, region_id=REGION,
                      endpoint=self.endpoint, protocol="http")
            if token is not None:  # V3: x-acs-security-token header; V2: SecurityToken param
                kw["security_token"] = token
            if self.signature_algorithm:
                kw["signature_algorithm"] = self.signature_algorithm
            self._clients[creds] = Client(Config(**kw))
        return self._clients[creds]

    def call(self, action: str, params: dict, creds: str = "default") -> dict:
        from alibabacloud_ecs20140526 import models as ecs_models
        from alibabacloud_tea_openapi import exceptions as tea_exc

        req_cls = getattr(ecs_models, f"{action}Request")
        req = req_cls().from_map(dict(params))
        # from_map must have taken every parameter: a typo here would silently drop one
        assert req.to_map() == params, (req.to_map(), params)
        method = getattr(self.client(creds), _snake(action))
        try:
            resp = method(req)
        except tea_exc.AlibabaCloudException as e:
            status = e.status_code
            # 4xx must be ClientException, 5xx ServerException
            expected_cls = tea_exc.ClientException if status < 500 else tea_exc.ServerException
            assert isinstance(e, expected_cls), (type(e), status)
            data = dict(e.data or {})
            assert data.get("statusCode") == status
            # e.message is "code: <status>, <Message> request id: <RequestId>"
            assert e.message == f"code: {status}, {data.get('Message')} request id: {e.request_id}"
            raise SdkError(e.code, status, data.get("Message"), e.request_id, data, e) from None
        assert resp.status_code == 200
        body = resp.body.to_map()
        headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
        # wire.md section 4: header x-acs-request-id equals the body's RequestId; JSON content type
        assert headers.get("x-acs-request-id") == body.get("RequestId"), headers
        assert headers.get("content-type", "").replace(" ", "").lower() == \
            "application/json;charset=utf-8", headers
        return body


class CoreFlavour:
    """aliyun-python-sdk-core + aliyun-python-sdk-ecs (V2 signatures, AcsClient)."""

    name = "py-core"

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._clients: dict = {}

    def client(self, creds: str, region: str | None = REGION):
        key = (creds, region)
        if key not in self._clients:
            from aliyunsdkcore.auth.credentials import StsTokenCredential
            from aliyunsdkcore.client import AcsClient

            ak, sk, token = creds_of(creds)
            if token is None:
                self._clients[key] = AcsClient(ak, sk, region)
            else:  # SecurityToken query parameter
                self._clients[key] = AcsClient(
                    region_id=region, credential=StsTokenCredential(ak, sk, token))
        return self._clients[key]

    def call(self, action: str, params: dict, creds: str = "default",
             client_region: str | None = REGION) -> dict:
        import importlib

        from aliyunsdkcore.acs_exception.exceptions import ServerException

        mod = importlib.import_module(f"aliyunsdkecs.request.v20140526.{action}Request")
        req = getattr(mod, f"{action}Request")()
        req.set_endpoint(self.endpoint)
        req.set_protocol_type("http")
        for k, v in params.items():
            setter = getattr(req, f"set_{k}", None)
            if setter is not None:
                setter(v)
            else:  # e.g. RegionId: these request classes take it from the client unless given
                req.add_query_param(k, v)
        try:
            raw = self.client(creds, client_region).do_action_with_exception(req)
        except ServerException as e:
            raise SdkError(e.get_error_code(), e.get_http_status(), e.get_error_msg(),
                           e.get_request_id(), None, e) from None
        return json.loads(raw)


class Recorder:
    """Calls the SDK and checks what every successful response must hold."""

    def __init__(self, sdk, creds="default"):
        self.sdk = sdk
        self.creds = creds
        self.request_ids = []

    def __call__(self, action, **params):
        body = self.sdk.call(action, params, self.creds)
        assert isinstance(body, dict), body
        assert "Code" not in body, body
        rid = body.get("RequestId")
        assert rid and UUID_RE.match(rid), body
        self.request_ids.append(rid)
        return body

    def assert_unique_ids(self):
        assert len(set(self.request_ids)) == len(self.request_ids), self.request_ids


# --------------------------------------------------------------------------- server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, port: int, proc: subprocess.Popen):
        self.port = port
        self.proc = proc
        self.endpoint = f"127.0.0.1:{port}"
        self.base = f"http://127.0.0.1:{port}"

    def admin(self, method: str, path: str, body: Any = None,
              timeout: float = 10) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw

    def reset(self) -> None:
        status, body = self.admin("POST", "/_emulator/reset")
        assert 200 <= status < 300, f"reset failed: {status} {body!r}"


def _binary() -> Path:
    b = Path(os.environ.get("ECS_EMULATOR_BIN", "target/release/ecs-emulator"))
    if not b.is_absolute():
        b = REPO_ROOT / b
    return b


@pytest.fixture(scope="session")
def emulator():
    binary = _binary()
    if not binary.exists():
        pytest.fail(f"emulator binary not found: {binary} (build it or set ECS_EMULATOR_BIN)")
    port = _free_port()
    # stderr to a file, not a pipe: a chatty server must never block on a full pipe
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([str(binary), "--listen", f"127.0.0.1:{port}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    emu = Emulator(port, proc)

    def server_log() -> str:
        log.seek(0)
        return log.read()[-4000:].decode(errors="replace")

    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"emulator exited early with {proc.returncode}: {server_log()}")
            try:
                status, body = emu.admin("GET", "/_emulator/health", timeout=2)
                if status == 200 and isinstance(body, dict) and body.get("status") == "ready":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"emulator not healthy within 10 s: {server_log()}")
            time.sleep(0.05)
        yield emu
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(autouse=True)
def _reset(emulator):
    """Every test starts from the boot state."""
    emulator.reset()
    yield


FLAVOURS = ["py-tea-v3", "py-tea-v2", "py-core"]


def make_flavour(name: str, emu: Emulator):
    if name == "py-tea-v3":
        return TeaFlavour(name, emu.endpoint, None)
    if name == "py-tea-v2":
        return TeaFlavour(name, emu.endpoint, "v2")
    if name == "py-core":
        return CoreFlavour(emu.endpoint)
    raise ValueError(name)


@pytest.fixture(scope="session")
def flavours(emulator):
    return {n: make_flavour(n, emulator) for n in FLAVOURS}


@pytest.fixture(params=FLAVOURS)
def sdk(request, flavours):
    return flavours[request.param]
