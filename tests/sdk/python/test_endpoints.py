"""The clients of endpoints.md section 4, with no endpoint configured, reach the emulator at
the real hostnames through the route each supports, inside a network namespace of the test's
own (loopback only: nothing can leave the machine; see endpoints_route.py):

- every client through its route, its answer journaled by the emulator;
- the matrix of which CA variable each client family honours on each route, measured here
  and required to be the README's ("Testing code that hard-codes Alibaba Cloud endpoints");
- a client that ignores the proxy variables reaches nothing at all through the proxy route.

Needs root and unshare (as CI has); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT, _binary

HERE = Path(__file__).resolve().parent
ROUTES = ["proxy", "hosts"]
CA_VARIABLES = ["none", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "ALIBABA_CLOUD_CA_BUNDLE",
                "NODE_EXTRA_CA_CERTS", "Config(ca=…)"]
TEA_ONLY = "Config(ca=…)"

# The README's rows: (client family, the case measured for it).
FAMILIES = [
    ("Python tea SDKs (`alibabacloud_ecs20140526`, `_kms20160120`, `_sts20150401`)",
     "tea-ecs-v3"),
    ("`aliyun-python-sdk-core` with https", "core-https"),
    ("Python `urllib`/`ssl` (`examples/hardcoded/describe_regions.py`)", "script"),
    ("Node `@alicloud/ecs20140526` (tea)", "node-tea-ecs"),
    ("Node `@alicloud/pop-core`", "node-pop-core"),
]

# Each client through the route it supports, with the CA variable it honours there.
COVERAGE = [
    *[(case, "hosts", "SSL_CERT_FILE") for case in
      ["tea-ecs-v3", "tea-ecs-v2", "tea-kms-v3", "tea-kms-v2", "tea-sts-v3", "tea-sts-v2"]],
    *[(case, "proxy", TEA_ONLY) for case in
      ["tea-ecs-v3", "tea-ecs-v2", "tea-kms-v3", "tea-kms-v2", "tea-sts-v3", "tea-sts-v2"]],
    ("core-http", "proxy", "none"),  # its default protocol: an absolute-form request
    ("core-https", "proxy", "ALIBABA_CLOUD_CA_BUNDLE"),
    ("core-http", "hosts", "none"),
    ("core-https", "hosts", "ALIBABA_CLOUD_CA_BUNDLE"),
    ("node-tea-ecs", "hosts", "NODE_EXTRA_CA_CERTS"),
    ("node-pop-core", "hosts", "NODE_EXTRA_CA_CERTS"),
    ("script", "proxy", "SSL_CERT_FILE"),
    ("script", "hosts", "SSL_CERT_FILE"),
]

MATRIX_BEGIN = "<!-- ca-matrix:begin (measured by tests/sdk/python/test_endpoints.py) -->"
MATRIX_END = "<!-- ca-matrix:end -->"


def _can_unshare() -> str | None:
    """None when a loopback-only namespace can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root: unshare -n -m needs root"
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip (iproute2) not installed"
    probe = subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -n -m refused: {probe.stderr.strip()}"
    return None


def _runs(case: str) -> list[str]:
    """The CA variables measured for `case`: Config(ca=…) for tea clients only."""
    return [v for v in CA_VARIABLES if v != TEA_ONLY or case.startswith("tea-")]


@pytest.fixture(scope="module")
def routes():
    """{route: {(case, variable): result}} and the request ids each emulator journaled."""
    why = _can_unshare()
    if why is not None:
        pytest.skip(f"the real-hostname routes need a network namespace: {why}")
    measured, journaled = {}, {}
    for route in ROUTES:
        runs = {(case, v) for _, case in FAMILIES for v in _runs(case)}
        runs |= {(case, v) for case, r, v in COVERAGE if r == route}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(sorted(runs), f)
        try:
            out = subprocess.run(
                ["unshare", "-n", "-m", sys.executable, str(HERE / "endpoints_route.py"),
                 route, str(_binary()), f.name],
                capture_output=True, text=True, timeout=600)
        finally:
            os.unlink(f.name)
        assert out.returncode == 0, out.stderr[-3000:]
        answer = json.loads(out.stdout)
        measured[route] = {(c, v): r for c, v, r in answer["results"]}
        journaled[route] = set(answer["journaled"])
    return measured, journaled


@pytest.mark.parametrize("case,route,variable", COVERAGE,
                         ids=[f"{c}-{r}-{v}" for c, r, v in COVERAGE])
def test_each_client_reaches_the_emulator_through_its_route(routes, case, route, variable):
    measured, journaled = routes
    result = measured[route][(case, variable)]
    assert result["ok"], f"{case} through the {route} route with {variable}: {result['error']}"
    assert result["request_id"] in journaled[route], "answered by the emulator, journaled"


def test_no_client_trusts_the_emulator_without_being_told(routes):
    measured, _ = routes
    for route in ROUTES:
        for _, case in FAMILIES:
            result = measured[route][(case, "none")]
            assert not result["ok"], f"{case} ({route}) trusted an unknown CA: {result}"


def test_a_client_that_ignores_the_proxy_reaches_nothing(routes):
    """Node's SDKs never read HTTPS_PROXY: through the proxy route their names resolve
    nowhere (the namespace has no DNS and no hosts file), so nothing left the machine."""
    measured, _ = routes
    for case in ["node-tea-ecs", "node-pop-core"]:
        result = measured["proxy"][(case, "NODE_EXTRA_CA_CERTS")]
        assert not result["ok"]
        assert "getaddrinfo" in result["error"] or "ENOTFOUND" in result["error"], result


def measured_matrix(measured) -> str:
    """The README's table, from what was measured: per family and route, the variables with
    which the call succeeded."""
    lines = ["| client family | through the proxy (`HTTPS_PROXY`) | "
             "through the hosts route (hosts file + `--tls-listen` on 443) |",
             "|---|---|---|"]
    for family, case in FAMILIES:
        cells = []
        for route in ROUTES:
            honoured = [f"`{v}`" for v in _runs(case)
                        if v != "none" and measured[route][(case, v)]["ok"]]
            cells.append(", ".join(honoured) or "none (it ignores the proxy variables)")
        lines.append(f"| {family} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def test_the_ca_matrix_is_the_readmes(routes):
    measured, _ = routes
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert MATRIX_BEGIN in readme and MATRIX_END in readme, "README lacks the CA matrix"
    documented = readme.split(MATRIX_BEGIN, 1)[1].split(MATRIX_END, 1)[0].strip()
    table = measured_matrix(measured)
    assert documented == table, f"the README's matrix differs from the measured one:\n{table}"


def readme_block(name: str) -> str:
    """The shell block after the README's `<!-- walk:NAME … -->` marker."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split(f"<!-- walk:{name} ", 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("route", ROUTES)
def test_the_readme_walks_end_to_end(route, tmp_path):
    """The README's step-by-step blocks, run as written (`ecs-emulator` on PATH, a fresh
    data folder for the default CA), each in a loopback-only namespace: the hard-coded tool
    prints the emulator's answer."""
    why = _can_unshare()
    if why is not None:
        pytest.skip(f"the README's routes need a network namespace: {why}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ecs-emulator").symlink_to(_binary())
    env = {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    block = readme_block(route)
    if route == "proxy":  # the block itself expects a shell of a user's: give it a namespace
        command = ["unshare", "-n", "-m", "bash", "-c",
                   "ip link set lo up; trap 'kill $(jobs -p) 2>/dev/null' EXIT; set -e\n" + block]
    else:  # the block makes its own namespace
        command = ["bash", "-ec", block]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env,
                         cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert "cn-hangzhou" in answer["Regions"], answer
    assert (tmp_path / "data" / "ecs-emulator" / "ca.pem").exists(), "the default CA folder"
