"""Records what the official clients put on the wire for STS (2015-04-01), in the format of
shared/vectors/captures/*.json, into tests/vectors/captures/<sdk>__<Action>[__variant].json.

A small HTTP server on 127.0.0.1 records every request and answers a canned success body; each
client makes one real call to it, signed with fixture credentials: GetCallerIdentity with the
default account's root key, AssumeRole of ecs-operator with the deployer's key (with a Policy
holding spaces for the SDKs: where V2 encodings differ). The Node clients run in
record_sts.mjs beside this file.

    tests/sdk/python/.venv/bin/python tests/vectors/record_sts.py [--port 41679]

Uses the packages of tests/sdk/python/.venv and tests/sdk/node/node_modules (scripts/sdk-test
installs both).
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

HERE = Path(__file__).resolve().parent
OUT = HERE / "captures"
REQUEST_ID = "7C2D4F46-0E7B-4A4F-9B61-0123456789AB"
REGION = "cn-hangzhou"
ROOT = ("LTAI5tTestAccessKey01", "TestSecret01")
DEPLOYER = ("LTAI5tDemoDeployer01", "DemoSecretDeployer01")
ROLE_ARN = "acs:ram::1234567890123456:role/ecs-operator"
SESSION = "ci-session"
POLICY = ('{"Version": "1", "Statement": [{"Effect": "Allow", '
          '"Action": ["ecs:Describe*"], "Resource": "*"}]}')

CANNED = {
    "GetCallerIdentity": {
        "RequestId": REQUEST_ID, "IdentityType": "Account", "AccountId": "1234567890123456",
        "UserId": "1234567890123456", "PrincipalId": "1234567890123456",
        "Arn": "acs:ram::1234567890123456:root"},
    "AssumeRole": {
        "RequestId": REQUEST_ID,
        "AssumedRoleUser": {"AssumedRoleId": f"300012345678901234:{SESSION}",
                            "Arn": f"{ROLE_ARN}/{SESSION}"},
        "Credentials": {"AccessKeyId": "STS.NUgYrLnoC37mZZCNnAbez2yFd",
                        "AccessKeySecret": "CannedSessionSecret01",
                        "SecurityToken": "CAISCannedSessionToken01",
                        "Expiration": "2099-01-01T00:00:00Z"}},
}
# action -> (params, credentials)
CALLS = {
    "GetCallerIdentity": ({}, ROOT),
    "AssumeRole": ({"RoleArn": ROLE_ARN, "RoleSessionName": SESSION, "DurationSeconds": 3600,
                    "Policy": POLICY}, DEPLOYER),
}


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), Handler)
        self.requests: list[dict] = []
        self.canned = ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        try:
            body, body_b64 = raw.decode("utf-8"), None
        except UnicodeDecodeError:
            body, body_b64 = None, base64.b64encode(raw).decode()
        form = None
        if "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            form = [list(p) for p in parse_qsl(body or "", keep_blank_values=True)]
        self.server.requests.append({
            "ts": time.time(),
            "request_line": self.requestline,
            "method": self.command,
            "http_version": self.request_version,
            "path": split.path,
            "raw_query": split.query,
            "query": [list(p) for p in parse_qsl(split.query, keep_blank_values=True)],
            "headers": [list(h) for h in self.headers.items()],
            "body": body,
            "body_b64": body_b64,
            "body_form": form,
        })
        answer = self.server.canned.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("x-acs-request-id", REQUEST_ID)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _record


# --------------------------------------------------------------------------- Python clients
def _tea(package: str, endpoint: str, creds, signature_algorithm=None):
    import importlib

    from alibabacloud_tea_openapi.models import Config

    kw = dict(access_key_id=creds[0], access_key_secret=creds[1], region_id=REGION,
              endpoint=endpoint, protocol="http")
    if signature_algorithm:
        kw["signature_algorithm"] = signature_algorithm
    return importlib.import_module(f"{package}.client").Client(Config(**kw))


def tea_call(signature_algorithm):
    def call(endpoint, action, params, creds):
        from alibabacloud_sts20150401 import models

        client = _tea("alibabacloud_sts20150401", endpoint, creds, signature_algorithm)
        if action == "GetCallerIdentity":
            resp = client.get_caller_identity()
        else:
            resp = client.assume_role(models.AssumeRoleRequest().from_map(dict(params)))
        return {"status": resp.status_code, "body": resp.body.to_map()}
    return call


def core_call(endpoint, action, params, creds):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    req = CommonRequest(domain=endpoint, version="2015-04-01", action_name=action, product="Sts")
    req.set_method("POST")
    req.set_protocol_type("http")
    req.set_accept_format("JSON")
    for k, v in params.items():
        req.add_query_param(k, v)
    raw = AcsClient(creds[0], creds[1], REGION).do_action_with_exception(req)
    return {"status": 200, "body": json.loads(raw)}


def credentials_call(endpoint, action, params, creds):
    """alibabacloud_credentials' ram_role_arn provider: its AssumeRole is the only call."""
    from alibabacloud_credentials.client import Client
    from alibabacloud_credentials.models import Config

    assert action == "AssumeRole"
    extra = {"policy": params["Policy"]} if "Policy" in params else {}
    client = Client(Config(type="ram_role_arn", access_key_id=creds[0],
                           access_key_secret=creds[1], role_arn=params["RoleArn"],
                           role_session_name=params["RoleSessionName"],
                           role_session_expiration=params["DurationSeconds"],
                           sts_endpoint=f"http://{endpoint}", **extra))
    got = client.get_credential()
    return {"status": 200, "body": {"AccessKeyId": got.access_key_id,
                                    "SecurityToken": got.security_token}}


def _versions(*names):
    return {n: version(n) for n in names}


TEA = ("alibabacloud-sts20150401", "alibabacloud-tea-openapi", "darabonba-core")
PYTHON_CLIENTS = {
    # sdk label -> (flavor, packages, call, actions)
    "py-tea-v3": ("tea-v3", TEA, tea_call(None), ["GetCallerIdentity", "AssumeRole"]),
    "py-tea-v2": ("tea-v2", TEA, tea_call("v2"), ["GetCallerIdentity", "AssumeRole"]),
    "py-core": ("core", ("aliyun-python-sdk-core",), core_call,
                ["GetCallerIdentity", "AssumeRole"]),
    "py-credentials": ("ram-role-arn", ("alibabacloud-credentials", "alibabacloud-tea"),
                       credentials_call, ["AssumeRole"]),
}
NODE_CLIENTS = ["node-tea-v3", "node-tea-v2", "node-pop-core-get", "node-pop-core-post"]


def run_python(sdk, endpoint, action, params, creds) -> tuple[dict, str]:
    _, _, call, _ = PYTHON_CLIENTS[sdk]
    try:
        got = call(endpoint, action, params, creds)
        return {"ok": True, "status": got["status"], "code": None, "message": None,
                "request_id": got["body"].get("RequestId"), "exc_type": None,
                "body": got["body"]}, "python"
    except Exception as e:  # noqa: BLE001 - recorded as the outcome
        return {"ok": False, "status": None, "code": None, "message": str(e),
                "request_id": None, "exc_type": type(e).__name__, "body": None}, "python"


def run_node(sdk, endpoint, action, params, creds) -> tuple[dict, dict]:
    spec = {"sdk": sdk, "endpoint": endpoint, "action": action, "params": params,
            "accessKeyId": creds[0], "accessKeySecret": creds[1], "region": REGION}
    out = subprocess.run(["node", str(HERE / "record_sts.mjs"), json.dumps(spec)],
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def record(server, port, sdk, action, params, creds, variant=None) -> Path:
    server.requests.clear()
    server.canned = json.dumps(CANNED[action], separators=(",", ":"))
    endpoint = f"127.0.0.1:{port}"
    started = time.monotonic()
    if sdk in PYTHON_CLIENTS:
        flavor, packages = PYTHON_CLIENTS[sdk][0], _versions(*PYTHON_CLIENTS[sdk][1])
        outcome, language = run_python(sdk, endpoint, action, params, creds)
    else:
        node = run_node(sdk, endpoint, action, params, creds)
        flavor, packages, outcome, language = sdk, node["packages"], node["outcome"], "node"
    elapsed = round(time.monotonic() - started, 3)
    assert outcome["ok"], (sdk, action, outcome)
    assert len(server.requests) == 1, (sdk, action, server.requests)
    capture = {
        "sdk": sdk, "language": language, "flavor": flavor, "packages": packages,
        "action": action, "product": "sts", "params": params,
        "credentials": {"access_key_id": creds[0], "access_key_secret": creds[1],
                        "security_token": None, "region": REGION},
        "endpoint_placeholder": endpoint,
        "canned_response": {"status": 200, "body": server.canned},
        "outcome": outcome, "elapsed_s": elapsed, "requests": list(server.requests),
    }
    name = f"{sdk}__{action}{'__' + variant if variant else ''}.json"
    path = OUT / name
    path.write_text(json.dumps(capture, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=41679,
                        help="the recorder's port (the existing captures used 41679)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    server = Recorder(args.port)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    written = []
    try:
        for sdk, (_, _, _, actions) in PYTHON_CLIENTS.items():
            for action in actions:
                params, creds = CALLS[action]
                if sdk == "py-credentials":
                    plain = {k: v for k, v in params.items() if k != "Policy"}
                    written.append(record(server, port, sdk, action, plain, creds))
                    written.append(record(server, port, sdk, action, params, creds, "policy"))
                else:
                    written.append(record(server, port, sdk, action, params, creds))
        for sdk in NODE_CLIENTS:
            for action, (params, creds) in CALLS.items():
                written.append(record(server, port, sdk, action, params, creds))
    finally:
        server.shutdown()
    for path in written:
        print(path.relative_to(HERE.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
