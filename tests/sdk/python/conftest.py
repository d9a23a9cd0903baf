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
    "ram-no-policy": ("LTAI5tDemoRamNoPolicy", "DemoSecretRamNoPolicy"),
    # RAM user of the default account whose one policy is AliyunSTSAssumeRoleAccess
    "deployer": ("LTAI5tDemoDeployer01", "DemoSecretDeployer01"),
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

# every region of the default fixture (ECS and KMS DescribeRegions)
REGION_IDS = [
    "cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu",
    "cn-hangzhou", "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-shenzhen", "cn-heyuan",
    "cn-guangzhou", "cn-chengdu", "cn-hongkong", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-northeast-1",
    "ap-northeast-2", "ap-south-1", "us-west-1", "us-east-1", "eu-central-1", "eu-west-1",
    "me-east-1", "me-central-1",
]

# The ECS tables are shared with the Node runner: ../ecs_cases.json
ECS_CASES = json.loads((Path(__file__).resolve().parents[1] / "ecs_cases.json")
                       .read_text(encoding="utf-8"))

# Every documented error: (id, creds, action, params, status, code, message).
ERROR_CASES = [(c["id"], c["creds"], c["action"], c["params"], c["status"], c["code"],
                c["message"]) for c in ECS_CASES["errors"]]
ERROR_IDS = [c[0] for c in ERROR_CASES]

# For Forbidden.RAM rows: (AuthAction, AuthPrincipalDisplayName) expected in AccessDeniedDetail.
RAM_DETAIL = {c["id"]: (c["authAction"], c["authUser"])
              for c in ECS_CASES["errors"] if "authAction" in c}

# Authentication failures (wire.md section 2), each sent with every action in AUTH_ACTIONS:
# (id, creds, status, code, message). The gateway rejects before any action logic runs.
AUTH_ERROR_CASES = [(c["id"], c["creds"], c["status"], c["code"], c["message"])
                    for c in ECS_CASES["authErrors"]]
# a state-changing action of the default account (checked unchanged afterwards) and one
# without RegionId
AUTH_ACTIONS = [(c["action"], c["params"]) for c in ECS_CASES["authActions"]]


# --------------------------------------------------------------------------- KMS data
# The KMS tables are shared with the Node runner: ../kms_cases.json
KMS_CASES = json.loads((Path(__file__).resolve().parents[1] / "kms_cases.json")
                       .read_text(encoding="utf-8"))
KMS_ERROR_CASES = [pytest.param(c, id=c["id"]) for c in KMS_CASES["errors"]]
# The STS tables are shared with the Node runner: ../sts_cases.json
STS_CASES = json.loads((Path(__file__).resolve().parents[1] / "sts_cases.json")
                       .read_text(encoding="utf-8"))
KEY_HZ_DISABLED = "key-hzz0disabled0000000001"
# generated ids: key- + 3-letter region code + 21 lowercase alphanumerics
KEY_ID_RE = {"cn-hangzhou": re.compile(r"^key-hzz[0-9a-z]{21}$"),
             "cn-shanghai": re.compile(r"^key-shh[0-9a-z]{21}$")}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SERVICE_ALIAS = "alias/acs/ecs"


def kms_arn(resource: str, region: str = REGION, account: str = DEFAULT_ACCOUNT_ID) -> str:
    """acs:kms:<region>:<account>:<resource> (resource key/<id> or alias/<name>)."""
    return f"acs:kms:{region}:{account}:{resource}"


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


@dataclass(frozen=True)
class Api:
    """One API as both Python SDK families package it."""

    version: str
    tea_package: str   # alibabacloud-<product><version> (tea / darabonba)
    core_package: str  # aliyun-python-sdk-<product> request modules (AcsClient)
    host_id: str       # HostId of its error bodies; {region} = the request's region
    product: str       # product= of its error bodies' Recommend link


ECS_API = Api("2014-05-26", "alibabacloud_ecs20140526", "aliyunsdkecs.request.v20140526",
              "ecs.aliyuncs.com", "Ecs")
KMS_API = Api("2016-01-20", "alibabacloud_kms20160120", "aliyunsdkkms.request.v20160120",
              "kms.{region}.aliyuncs.com", "Kms")
# py-core has no STS request modules here: CommonRequest(product Sts) (core_package None)
STS_API = Api("2015-04-01", "alibabacloud_sts20150401", None, "sts.aliyuncs.com", "Sts")


class TeaFlavour:
    """alibabacloud-<product> on alibabacloud-tea-openapi: V3 signatures by default, V2 with
    signature_algorithm='v2', V4 with signature_version='v4' (KMS only: its client carries the
    alibabacloud-gateway-pop that V4 needs, and V4 is the one tea scheme that carries a region,
    in its credential scope)."""

    def __init__(self, name: str, endpoint: str, signature_algorithm: str | None,
                 api: Api = ECS_API, signature_version: str | None = None):
        self.name = name
        self.endpoint = endpoint
        self.signature_algorithm = signature_algorithm
        self.signature_version = signature_version
        self.api = api
        self.carries_region = signature_version == "v4"
        self._clients: dict = {}

    def client(self, creds: str, region: str | None = REGION):
        key = (creds, region)
        if key not in self._clients:
            import importlib

            from alibabacloud_tea_openapi.models import Config

            client_cls = importlib.import_module(f"{self.api.tea_package}.client").Client
            ak, sk, token = creds_of(creds)
            kw = dict(access_key_id=ak, access_key_secret=sk, region_id=region,
                      endpoint=self.endpoint, protocol="http")
            if token is not None:  # V3: x-acs-security-token header; V2: SecurityToken param
                kw["security_token"] = token
            if self.signature_algorithm:
                kw["signature_algorithm"] = self.signature_algorithm
            if self.signature_version:
                kw["signature_version"] = self.signature_version
            self._clients[key] = client_cls(Config(**kw))
        return self._clients[key]

    def _request(self, action: str, params: dict) -> tuple:
        """The generated request model for the call (none for KMS DescribeRegions)."""
        import importlib

        models = importlib.import_module(f"{self.api.tea_package}.models")
        req_cls = getattr(models, f"{action}Request", None)
        if req_cls is None:  # e.g. KMS describe_regions() takes no request
            assert params == {}, (action, params)
            return ()
        req = req_cls().from_map(dict(params))
        # from_map must have taken every parameter: a typo here would silently drop one.
        # to_map lists every repeated field of the model (CreateDisk's Arn, Tag) as [] even
        # when unset; an empty list puts nothing on the wire, so those are left out here.
        got = {k: v for k, v in req.to_map().items() if k in params or v != []}
        assert got == params, (got, params)
        return (req,)

    def call(self, action: str, params: dict, creds: str = "default",
             client_region: str | None = REGION) -> dict:
        from alibabacloud_tea_openapi import exceptions as tea_exc
        from darabonba.exceptions import UnretryableException

        method = getattr(self.client(creds, client_region), _snake(action))
        try:
            resp = method(*self._request(action, params))
        except (tea_exc.AlibabaCloudException, UnretryableException) as e:
            v4 = self.signature_version == "v4"
            if isinstance(e, UnretryableException) and (not v4 or e.data is None):
                raise  # not an API error (connection, parsing): let it show
            if v4:
                # V4 goes through the gateway, which wraps every API error (.code/.data/.statusCode)
                assert isinstance(e, UnretryableException), type(e)
                status, request_id = e.statusCode, e.data.get("RequestId")
            else:
                assert isinstance(e, tea_exc.AlibabaCloudException), type(e)
                status, request_id = e.status_code, e.request_id
                # 4xx must be ClientException, 5xx ServerException
                expected_cls = tea_exc.ClientException if status < 500 else tea_exc.ServerException
                assert isinstance(e, expected_cls), (type(e), status)
            data = dict(e.data or {})
            assert data.get("statusCode") == status
            # e.message is "code: <status>, <Message> request id: <RequestId>"
            assert e.message == f"code: {status}, {data.get('Message')} request id: {request_id}"
            raise SdkError(e.code, status, data.get("Message"), request_id, data, e) from None
        assert resp.status_code == 200
        body = resp.body.to_map()
        headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
        # wire.md section 4: header x-acs-request-id equals the body's RequestId; JSON content type
        assert headers.get("x-acs-request-id") == body.get("RequestId"), headers
        assert headers.get("content-type", "").replace(" ", "").lower() == \
            "application/json;charset=utf-8", headers
        return body


class CoreFlavour:
    """aliyun-python-sdk-core + aliyun-python-sdk-<product> (V2 signatures, AcsClient). It
    always sends RegionId=<client region>, for KMS too."""

    name = "py-core"
    carries_region = True

    def __init__(self, endpoint: str, api: Api = ECS_API):
        self.endpoint = endpoint
        self.api = api
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

    def _request(self, action: str, params: dict):
        """The request to send: the generated request class of the product, or a
        CommonRequest (every parameter a query parameter) for a product without one."""
        import importlib

        if self.api.core_package is None:
            from aliyunsdkcore.request import CommonRequest

            req = CommonRequest(domain=self.endpoint, version=self.api.version,
                                action_name=action, product=self.api.product)
            req.set_method("POST")
            req.set_accept_format("JSON")
            req.set_protocol_type("http")
            for k, v in params.items():
                assert not isinstance(v, list), (k, v)
                req.add_query_param(k, v)
            return req
        mod = importlib.import_module(f"{self.api.core_package}.{action}Request")
        req = getattr(mod, f"{action}Request")()
        req.set_endpoint(self.endpoint)
        req.set_protocol_type("http")
        for k, v in params.items():
            setter = getattr(req, f"set_{k}", None)
            if isinstance(v, list):
                # a repeated parameter as the tea models take it (Tag=[{"Key","Value"}],
                # DiskIds=[...]): the generated RepeatList setter is set_<Name>s and sends
                # Tag.N.Key / DiskIds.N; a list must never reach add_query_param
                setter = getattr(req, f"set_{k}s")
            if setter is not None:
                setter(v)
            else:  # e.g. RegionId: these request classes take it from the client unless given
                req.add_query_param(k, v)
        return req

    def call(self, action: str, params: dict, creds: str = "default",
             client_region: str | None = REGION) -> dict:
        from aliyunsdkcore.acs_exception.exceptions import ServerException

        req = self._request(action, params)
        try:
            raw = self.client(creds, client_region).do_action_with_exception(req)
        except ServerException as e:
            raise SdkError(e.get_error_code(), e.get_http_status(), e.get_error_msg(),
                           e.get_request_id(), None, e) from None
        return json.loads(raw)


def expect_error(sdk, action: str, params: dict, creds: str = "default", **kw) -> SdkError:
    """The SdkError a call must raise."""
    with pytest.raises(SdkError) as ei:
        body = sdk.call(action, params, creds, **kw)
        pytest.fail(f"{sdk.name} {action} {params}: expected an error, got success {body!r}")
    return ei.value


def assert_api_error(err: SdkError, api: Api, status: int, code: str, message: str,
                     region: str = REGION, auth_action: str | None = None,
                     auth_user: str | None = None, auth_type: str = "SubUser") -> None:
    """What every SDK surfaces (code, status, message, request id), and with tea the whole
    body (wire.md section 4: KMS adds HttpStatus and names its regional host)."""
    got = (err.code, err.status, err.message)
    assert got == (code, status, message), got
    assert err.request_id and UUID_RE.match(err.request_id), err.request_id
    if err.data is None:  # py-core exposes no body
        return
    body = err.data
    assert (body["Code"], body["Message"], body["RequestId"]) == (code, message, err.request_id)
    assert body["HostId"] == api.host_id.format(region=region), body
    assert body["Recommend"] == ("https://api.aliyun.com/troubleshoot"
                                 f"?q={code}&product={api.product}&requestId={err.request_id}"), body
    if api is KMS_API:
        assert body["HttpStatus"] == status, body
    if auth_action is not None:
        detail = body.get("AccessDeniedDetail")
        assert isinstance(detail, dict), body
        assert detail.get("AuthAction") == auth_action
        assert detail.get("AuthPrincipalType") == auth_type, detail
        if auth_user is not None:
            assert detail.get("AuthPrincipalDisplayName") == auth_user, detail
        assert detail.get("NoPermissionType") == "ImplicitDeny"


class Recorder:
    """Calls the SDK and checks what every successful response must hold."""

    def __init__(self, sdk, creds="default", client_region=None):
        self.sdk = sdk
        self.creds = creds
        # a client region other than REGION: only for flavours that carry one (carries_region)
        self.kwargs = {} if client_region is None else {"client_region": client_region}
        self.request_ids = []

    def __call__(self, action, **params):
        body = self.sdk.call(action, params, self.creds, **self.kwargs)
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
    def __init__(self, port: int, proc: subprocess.Popen, tls_port: int | None = None,
                 ca: str | None = None):
        self.port = port
        self.proc = proc
        self.endpoint = f"127.0.0.1:{port}"
        self.base = f"http://127.0.0.1:{port}"
        # --tls-listen, with the CA (ca.pem) its certificate is signed by
        self.tls_endpoint = f"127.0.0.1:{tls_port}" if tls_port else None
        self.ca = ca

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
    port, tls_port = _free_port(), _free_port()
    ca_dir = tempfile.mkdtemp(prefix="ecs-emulator-ca-")
    # stderr to a file, not a pipe: a chatty server must never block on a full pipe
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([str(binary), "--listen", f"127.0.0.1:{port}",
                             "--tls-listen", f"127.0.0.1:{tls_port}", "--ca-dir", ca_dir],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    emu = Emulator(port, proc, tls_port, os.path.join(ca_dir, "ca.pem"))

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
# the same adapters on the KMS API; tea V4 exists for KMS only (WIRE.md "py-tea-v4")
KMS_FLAVOURS = ["py-tea-v3", "py-tea-v2", "py-tea-v4", "py-core"]
# those that carry a region to KMS (carries_region): the others get the default region
KMS_REGIONAL_FLAVOURS = ["py-tea-v4", "py-core"]


def make_flavour(name: str, emu: Emulator, api: Api = ECS_API):
    if name == "py-tea-v3":
        return TeaFlavour(name, emu.endpoint, None, api)
    if name == "py-tea-v2":
        return TeaFlavour(name, emu.endpoint, "v2", api)
    if name == "py-tea-v4" and api is KMS_API:
        return TeaFlavour(name, emu.endpoint, None, api, signature_version="v4")
    if name == "py-core":
        return CoreFlavour(emu.endpoint, api)
    raise ValueError(f"{name} for {api.version}")


@pytest.fixture(scope="session")
def flavours(emulator):
    return {n: make_flavour(n, emulator) for n in FLAVOURS}


@pytest.fixture(params=FLAVOURS)
def sdk(request, flavours):
    return flavours[request.param]


@pytest.fixture(scope="session")
def kms_flavours(emulator):
    return {n: make_flavour(n, emulator, KMS_API) for n in KMS_FLAVOURS}


@pytest.fixture(params=KMS_FLAVOURS)
def kms(request, kms_flavours):
    return kms_flavours[request.param]


@pytest.fixture(scope="session")
def sts_flavours(emulator):
    return {n: make_flavour(n, emulator, STS_API) for n in FLAVOURS}


@pytest.fixture(params=FLAVOURS)
def sts(request, sts_flavours):
    """The same three flavours on STS (py-core through CommonRequest)."""
    return sts_flavours[request.param]
