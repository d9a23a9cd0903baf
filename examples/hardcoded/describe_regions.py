#!/usr/bin/env python3
"""A tool with the endpoint hard-coded, as scanners and deployment scripts are written: it
builds https://ecs.cn-hangzhou.aliyuncs.com itself, signs a V2 DescribeRegions call with the
standard library alone, and prints the answer. There is no endpoint setting: to test it
against ecs-emulator, use one of the two routes of the README ("Testing code that hard-codes
Alibaba Cloud endpoints"). Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET.

Python's default TLS context trusts the system store, plus SSL_CERT_FILE when set; with
STRICT=1 it also verifies as Python 3.13 does by default (VERIFY_X509_STRICT).
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import ssl
import sys
import urllib.parse
import urllib.request
import uuid

ENDPOINT = "https://ecs.cn-hangzhou.aliyuncs.com/"


def encode(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def signed_query(params: dict, secret: str) -> str:
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"GET&{encode('/')}&{encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return canonical + "&Signature=" + encode(base64.b64encode(digest).decode())


def main() -> int:
    params = {
        "Action": "DescribeRegions",
        "Version": "2014-05-26",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "AccessKeyId": os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    query = signed_query(params, os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
    context = ssl.create_default_context()
    if os.environ.get("STRICT") == "1" and hasattr(ssl, "VERIFY_X509_STRICT"):
        context.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    with urllib.request.urlopen(ENDPOINT + "?" + query, context=context, timeout=10) as answer:
        body = json.load(answer)
    print(json.dumps({"RequestId": body["RequestId"],
                      "Regions": [r["RegionId"] for r in body["Regions"]["Region"]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
