"""One call by one client with no endpoint configured (endpoints.md section 4), for
test_endpoints.py: ``python endpoints_client.py CASE``. Credentials and region come from the
environment the test sets (as `ecs-emulator env --proxy` prints them); the CA only from the
variable under test, or from ``CONFIG_CA`` for ``Config(ca=...)``. Prints one JSON line:
``{"ok": true, "request_id": ...}`` or ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REGION = "cn-hangzhou"
AK = os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"]
SECRET = os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
REPO_ROOT = Path(__file__).resolve().parents[3]


def tea_config(signature_algorithm: str | None):
    from alibabacloud_tea_openapi.models import Config

    kw = dict(access_key_id=AK, access_key_secret=SECRET, region_id=REGION)
    if signature_algorithm:
        kw["signature_algorithm"] = signature_algorithm
    if os.environ.get("CONFIG_CA"):
        kw["ca"] = os.environ["CONFIG_CA"]
    return Config(**kw)


def tea(product: str, algorithm: str | None) -> str:
    if product == "ecs":
        from alibabacloud_ecs20140526.client import Client
        from alibabacloud_ecs20140526.models import DescribeRegionsRequest

        body = Client(tea_config(algorithm)).describe_regions(DescribeRegionsRequest()).body
    elif product == "kms":
        from alibabacloud_kms20160120.client import Client
        from alibabacloud_kms20160120.models import ListKeysRequest

        client = Client(tea_config(algorithm))
        # The client picks its host from the region by itself.
        assert client._endpoint == f"kms.{REGION}.aliyuncs.com", client._endpoint
        body = client.list_keys(ListKeysRequest()).body
    else:
        from alibabacloud_sts20150401.client import Client

        body = Client(tea_config(algorithm)).get_caller_identity().body
    return body.request_id


def core(protocol: str) -> str:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest

    request = DescribeRegionsRequest()
    if protocol == "https":
        request.set_protocol_type("https")
    raw = AcsClient(AK, SECRET, REGION).do_action_with_exception(request)
    return json.loads(raw)["RequestId"]


def script() -> str:
    tool = REPO_ROOT / "examples" / "hardcoded" / "describe_regions.py"
    out = subprocess.run([sys.executable, str(tool)], capture_output=True, text=True,
                         timeout=30, env={**os.environ, "STRICT": "1"})
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    return json.loads(out.stdout)["RequestId"]


CASES = {
    "tea-ecs-v3": lambda: tea("ecs", None),
    "tea-ecs-v2": lambda: tea("ecs", "v2"),
    "tea-kms-v3": lambda: tea("kms", None),
    "tea-kms-v2": lambda: tea("kms", "v2"),
    "tea-sts-v3": lambda: tea("sts", None),
    "tea-sts-v2": lambda: tea("sts", "v2"),
    "core-http": lambda: core("http"),
    "core-https": lambda: core("https"),
    "script": script,
}


def main() -> None:
    case = sys.argv[1]
    try:
        print(json.dumps({"ok": True, "request_id": CASES[case]()}))
    except Exception as e:  # what the client surfaced, whatever it is
        text = f"{type(e).__name__}: {e}"
        print(json.dumps({"ok": False, "error": text[:400]}))


if __name__ == "__main__":
    main()
