"""Runs clients against the emulator at the real hostnames, inside a network namespace of
its own (run it as ``unshare -n -m python endpoints_route.py ROUTE BIN RUNS.json``; root).
The namespace has a loopback interface and nothing else, so nothing can leave the machine,
and a name the hosts file does not list resolves nowhere.

- ``proxy``: the emulator on 127.0.0.1:80 is the clients' HTTP(S) proxy; no hosts file, so a
  client that ignores the proxy variables cannot reach anything.
- ``hosts``: ``ecs-emulator hosts`` is bind-mounted over /etc/hosts; the emulator serves HTTP
  on 127.0.0.1:80 and HTTPS on 127.0.0.1:443 (``--tls-listen``).

RUNS.json lists ``[case, ca_variable]`` pairs; ca_variable is one of CA_VARIABLES (``none``:
no CA given at all). Prints one JSON object: ``{"results": [[case, variable, result], ...],
"journaled": [request ids the emulator's journal holds], "ca": path}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE.parent / "node"
PROXY = "http://127.0.0.1:80"
CA_VARIABLES = ["none", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "ALIBABA_CLOUD_CA_BUNDLE",
                "NODE_EXTRA_CA_CERTS", "Config(ca=…)"]


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def ready(base: str, deadline: float) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        try:
            with opener.open(base + "/_emulator/health", timeout=2) as answer:
                if json.load(answer).get("status") == "ready":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the emulator did not answer ready within 10 s")
        time.sleep(0.05)


def call(case: str, variable: str, route: str, ca: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tTestAccessKey01",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "TestSecret01",
        "ALIBABA_CLOUD_REGION_ID": "cn-hangzhou",
    }
    if route == "proxy":
        env.update(HTTPS_PROXY=PROXY, HTTP_PROXY=PROXY, https_proxy=PROXY, http_proxy=PROXY)
    if variable == "Config(ca=…)":
        env["CONFIG_CA"] = ca
    elif variable != "none":
        env[variable] = ca
    if case.startswith("node-"):
        command = ["node", str(NODE_DIR / "endpoints_client.mjs"), case]
    else:
        command = [sys.executable, str(HERE / "endpoints_client.py"), case]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "no answer within 60 s"}
    lines = out.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"ok": False, "error": f"exit {out.returncode}: {out.stderr.strip()[-400:]}"}


def main() -> None:
    route, binary, runs = sys.argv[1], sys.argv[2], json.loads(Path(sys.argv[3]).read_text())
    run("ip", "link", "set", "lo", "up")
    work = Path(tempfile.mkdtemp(prefix="ecs-emulator-route-"))
    if route == "hosts":
        hosts = subprocess.run([binary, "hosts"], check=True, capture_output=True, text=True)
        (work / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n" + hosts.stdout)
        run("mount", "--bind", str(work / "hosts"), "/etc/hosts")
    ca_dir = work / "ca"
    log = open(work / "emulator.log", "wb")
    emulator = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:80", "--tls-listen", "127.0.0.1:443",
         "--ca-dir", str(ca_dir)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    try:
        ready("http://127.0.0.1:80", time.monotonic() + 10)
        ca = str(ca_dir / "ca.pem")
        results = [[case, variable, call(case, variable, route, ca)] for case, variable in runs]
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open("http://127.0.0.1:80/_emulator/requests?limit=1000", timeout=5) as a:
            journal = json.load(a)
        entries = journal.get("requests", journal) if isinstance(journal, dict) else journal
        journaled = [e.get("requestId") for e in entries if isinstance(e, dict)]
        print(json.dumps({"results": results, "journaled": journaled, "ca": ca}))
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        log.close()


if __name__ == "__main__":
    main()
