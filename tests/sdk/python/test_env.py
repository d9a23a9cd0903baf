"""`ecs-emulator env` prints settings the Python SDK uses as they are."""

import os
import subprocess
import sys

from conftest import _binary

# What a user pastes after `eval "$(ecs-emulator env)"`: the printed Python line, nothing else.
SNIPPET = """
import os
import alibabacloud_credentials.client
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.models import Config
client = Client(Config(credential=alibabacloud_credentials.client.Client(),
                       region_id='cn-hangzhou', endpoint=os.environ['ECS_EMULATOR_ENDPOINT'],
                       protocol='http'))
client.enable_disk_encryption_by_default(ecs.EnableDiskEncryptionByDefaultRequest(region_id='cn-hangzhou'))
print(client.describe_disk_encryption_by_default_status(
    ecs.DescribeDiskEncryptionByDefaultStatusRequest(region_id='cn-hangzhou')).body.encrypted)
"""


def test_env_output_drives_the_sdk_through_its_credential_chain(emulator):
    printed = subprocess.run([str(_binary()), "env", "--listen", emulator.endpoint],
                             check=True, capture_output=True, text=True).stdout
    exports = dict(line[len("export "):].split("=", 1)
                   for line in printed.splitlines() if line.startswith("export "))
    assert exports["ECS_EMULATOR_ENDPOINT"] == emulator.endpoint
    assert "credential=alibabacloud_credentials.client.Client()" in printed
    # The SDK reads the variables when it is imported, so the snippet runs in a fresh process.
    # No cloud credential of the machine may leak in; the metadata service is never asked.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env.update(exports, ALIBABA_CLOUD_ECS_METADATA_DISABLED="true")
    ran = subprocess.run([sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip() == "True"
    # It acted as the default account.
    _, journal = emulator.admin("GET", "/_emulator/requests?limit=1")
    assert journal["requests"][0]["accessKeyId"] == "LTAI5tTestAccessKey01"
