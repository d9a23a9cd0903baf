"""Disks at scale (issue 18, "Performance"): one account with 100 and with 100,000 disks in
one region, signed requests replayed by wrk (as bench/run.sh does), the two sizes alternated
and each point repeated; then the admin calls on the large state, timed.

    bench/disks.sh                      # builds, then runs this
    python3 bench/disks.py --duration 5 --reps 3

Targets: a DescribeDisks page with 100,000 disks costs at most 2x what it costs with 100
(compared as requests per second at 16 connections, and p50 latency); CreateDisk throughput
with 100,000 disks present at least 0.8x that with 100; GET and PUT /_emulator/state of the
large state and a snapshot restore each under one second.
"""
import argparse, json, os, statistics, sys, tempfile, time, http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import EMULATOR, ROOT, Server, lua, request_of, rss_kib, wrk  # noqa: E402

# demo-encryption-enabled of the default fixture: default encryption on in cn-hangzhou.
ACCOUNT_INDEX_ID = "1000000000000107"
ACCOUNT = ("LTAI5tDemoEncryptionOn", "DemoSecretEncryptionOn")


def fixture(path, disks):
    """The default fixture, with `disks` disks in cn-hangzhou for the benchmark's account."""
    with open(os.path.join(ROOT, "fixtures/default.json")) as f:
        document = json.load(f)
    account = next(a for a in document["accounts"] if a["accountId"] == ACCOUNT_INDEX_ID)
    zones = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
    account["disks"] = [{
        "diskId": f"d-bench{i:015d}",
        "regionId": "cn-hangzhou",
        "zoneId": zones[i % 3],
        "category": "cloud_essd",
        "size": 40 + i % 100,
        "creationTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + i)),
    } for i in range(disks)]
    with open(path, "w") as f:
        json.dump(document, f)


def timed(port, method, path, body=None):
    """Seconds for one admin call, and the answer's bytes; a failure stops the run."""
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers={"content-type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    elapsed = time.perf_counter() - began
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data[:200]!r}")
    return elapsed, data


def main():
    options = argparse.ArgumentParser()
    options.add_argument("--duration", type=int, default=5)
    options.add_argument("--reps", type=int, default=3)
    options = options.parse_args()

    describe_lua, describe_text = lua("DescribeDisks", ["RegionId=cn-hangzhou", "PageSize=10"])
    create_lua, _ = lua("CreateDisk", ["RegionId=cn-hangzhou", "ZoneId=cn-hangzhou-h",
                                       "DiskCategory=cloud_essd", "Size=40"])
    path, headers = request_of(describe_text)
    probe = ("POST", path, headers, None)
    sizes = {"100 disks": 100, "100,000 disks": 100_000}
    fixtures = {}
    for label, count in sizes.items():
        fixtures[label] = tempfile.mktemp(suffix=".json")
        fixture(fixtures[label], count)
    server = lambda label: Server(label, [EMULATOR, "--listen", "127.0.0.1:{port}", "--auth",
                                          "verify", "--fixtures", fixtures[label]], probe)

    results = {}
    for rep in range(options.reps):
        for label in sizes:
            for action, script in (("DescribeDisks", describe_lua), ("CreateDisk", create_lua)):
                s = server(label)
                s.start()
                try:
                    wrk(s.port, 16, 1, script)  # warm-up
                    rps, p50, p99 = wrk(s.port, 16, options.duration, script)
                    results.setdefault((action, label), []).append((rps, p50, p99, rss_kib(s.process.pid)))
                finally:
                    s.stop()
        print(f"bench: repetition {rep + 1} done", file=sys.stderr)

    print("| point (c16) | req/s | p50 ms | p99 ms | RSS after (MiB) | vs 100 disks req/s |")
    print("|---|---|---|---|---|---|")
    for action in ("DescribeDisks", "CreateDisk"):
        small = results[(action, "100 disks")]
        for label in sizes:
            rows = results[(action, label)]
            med = lambda i: statistics.median(r[i] for r in rows)
            ratio = statistics.median(r[0] / s[0] for r, s in zip(rows, small))
            print(f"| {action}, {label} | {med(0):,.0f} | {med(1):.2f} | {med(2):.2f} | "
                  f"{med(3) / 1024:.1f} | {ratio:.2f}x |")

    # The admin calls on the large state: each timed a few times, the median kept.
    s = server("100,000 disks")
    started = s.start()
    try:
        calls = {"GET /_emulator/state": [], "PUT /_emulator/state": [],
                 "POST /_emulator/snapshots/bench": [], "POST /_emulator/snapshots/bench/restore": []}
        for _ in range(3):
            elapsed, document = timed(s.port, "GET", "/_emulator/state")
            calls["GET /_emulator/state"].append(elapsed)
            calls["PUT /_emulator/state"].append(timed(s.port, "PUT", "/_emulator/state", document)[0])
            calls["POST /_emulator/snapshots/bench"].append(timed(s.port, "POST", "/_emulator/snapshots/bench")[0])
            calls["POST /_emulator/snapshots/bench/restore"].append(
                timed(s.port, "POST", "/_emulator/snapshots/bench/restore")[0])
        rss = rss_kib(s.process.pid)
    finally:
        s.stop()
    print()
    print(f"100,000 disks: start {started:.0f} ms, state document {len(document) / 1e6:.1f} MB, "
          f"RSS after the admin calls {rss / 1024:.0f} MiB")
    print()
    print("| admin call, 100,000 disks | median s | target |")
    print("|---|---|---|")
    for call, times in calls.items():
        target = "< 1 s" if call != "POST /_emulator/snapshots/bench" else "-"
        print(f"| {call} | {statistics.median(times):.3f} | {target} |")


if __name__ == "__main__":
    main()
