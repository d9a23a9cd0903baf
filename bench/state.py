"""The state file at scale (issue 21, "Performance"): CreateDisk with `--state-file`, each
answer sent only once its change record is fsynced, replayed by wrk with a pre-signed request
(`--auth verify`), as bench/disks.py does.

    bench/state.sh                      # builds, then runs this
    python3 bench/state.py --duration 5 --reps 3

Targets: per-request latency (one writer) with 100,000 disks present at most 1.5x that with
1,000; 16 concurrent writers at least 4x the throughput of one (fsyncs shared: group commit);
start-up on a 100,000-disk state file (snapshot and log) under one second.
"""
import argparse, os, shutil, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import EMULATOR, Server, lua, request_of, wrk  # noqa: E402
from disks import fixture  # noqa: E402


def main():
    options = argparse.ArgumentParser()
    options.add_argument("--duration", type=int, default=5)
    options.add_argument("--reps", type=int, default=3)
    options = options.parse_args()

    create_lua, _ = lua("CreateDisk", ["RegionId=cn-hangzhou", "ZoneId=cn-hangzhou-h",
                                       "DiskCategory=cloud_essd", "Size=40"])
    _, describe_text = lua("DescribeDisks", ["RegionId=cn-hangzhou", "PageSize=10"])
    path, headers = request_of(describe_text)
    probe = ("POST", path, headers, None)
    sizes = {"1,000 disks": 1_000, "100,000 disks": 100_000}
    work = tempfile.mkdtemp(prefix="ecs-emulator-bench-state-")
    fixtures = {}
    for label, count in sizes.items():
        fixtures[label] = os.path.join(work, f"fixture-{count}.json")
        fixture(fixtures[label], count)

    def server(label, folder):
        return Server(label, [EMULATOR, "--listen", "127.0.0.1:{port}", "--auth", "verify",
                              "--fixtures", fixtures[label],
                              "--state-file", os.path.join(folder, "state.json")], probe)

    def starts(label, folder, n=3):
        """Milliseconds from spawn to the first answer, on the files in `folder`, n times."""
        times = []
        for _ in range(n):
            s = server(label, folder)
            times.append(s.start())
            s.stop()
        return times

    def sizes_of(folder):
        return tuple(os.path.getsize(os.path.join(folder, name)) for name in ("state.json", "state.json.log"))

    # Each point on a fresh state file (first written from the fixture), sizes and writers
    # alternated in each repetition.
    results, start_ups = {}, {"snapshot only": [], "snapshot and log": []}
    files = {}
    try:
        for rep in range(options.reps):
            for label in sizes:
                for c in (1, 16):
                    folder = os.path.join(work, f"{rep}-{sizes[label]}-{c}")
                    os.makedirs(folder)
                    s = server(label, folder)
                    s.start()  # the first start writes the first snapshot
                    s.stop()
                    if sizes[label] == 100_000 and c == 1:
                        start_ups["snapshot only"] += starts(label, folder)
                        files["snapshot only"] = sizes_of(folder)
                    s = server(label, folder)
                    s.start()
                    try:
                        wrk(s.port, c, 1, create_lua)  # warm-up
                        results.setdefault((label, c), []).append(wrk(s.port, c, options.duration, create_lua))
                    finally:
                        s.stop()
                    if sizes[label] == 100_000 and c == 1:
                        start_ups["snapshot and log"] += starts(label, folder)
                        files["snapshot and log"] = sizes_of(folder)
                    shutil.rmtree(folder)
            print(f"bench: repetition {rep + 1} done", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = lambda rows, i: statistics.median(r[i] for r in rows)
    print("| CreateDisk, --state-file | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for label in sizes:
        for c in (1, 16):
            rows = results[(label, c)]
            print(f"| {label}, {c} writer{'s' if c > 1 else ''} | {med(rows, 0):,.0f} | "
                  f"{med(rows, 1):.2f} | {med(rows, 2):.2f} |")
    small, large = results[("1,000 disks", 1)], results[("100,000 disks", 1)]
    latency_ratio = statistics.median(l[1] / s[1] for l, s in zip(large, small))
    scaling = {label: statistics.median(m[0] / o[0] for m, o in zip(results[(label, 16)], results[(label, 1)]))
               for label in sizes}
    print()
    print("| target | met | measured |")
    print("|---|---|---|")
    print(f"| 1 writer: p50 latency with 100,000 disks <= 1.5x that with 1,000 | "
          f"{'yes' if latency_ratio <= 1.5 else 'no'} | {latency_ratio:.2f}x |")
    for label in sizes:
        print(f"| {label}: 16 writers >= 4x the req/s of 1 | "
              f"{'yes' if scaling[label] >= 4 else 'no'} | {scaling[label]:.1f}x |")
    for what, times in start_ups.items():
        start = statistics.median(times)
        snapshot, log = files[what]
        print(f"| start-up on a 100,000-disk state file ({what}) < 1 s | {'yes' if start < 1000 else 'no'} | "
              f"{start:.0f} ms (median of {len(times)}; snapshot {snapshot / 1e6:.1f} MB, log {log / 1e6:.1f} MB) |")

if __name__ == "__main__":
    main()
