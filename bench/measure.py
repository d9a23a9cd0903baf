"""Runs the benchmark points and prints the table (called by bench/run.sh).

Every server is started here on a free loopback port and stopped here; every load is
bounded by wrk's duration. Points of different servers alternate, and each is repeated.
"""
import argparse, json, os, re, signal, socket, statistics, subprocess, sys, tempfile, time, http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR = os.path.join(ROOT, "target/release/ecs-emulator")
BASELINE = os.path.join(ROOT, "target/release/examples/baseline")
PRESIGN = os.path.join(ROOT, "target/release/examples/presign")
# demo-encryption-enabled of the default fixture: the feature is on, the key configured.
ACCOUNT = ("LTAI5tDemoEncryptionOn", "DemoSecretEncryptionOn")
KEY = "key-hzz1configured0000001"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def lua(action, params):
    out = subprocess.run([PRESIGN, "V3", action, *ACCOUNT, *params], check=True, capture_output=True, text=True).stdout
    fd, path = tempfile.mkstemp(suffix=".lua")
    with os.fdopen(fd, "w") as f:
        f.write(out)
    return path, out


def request_of(lua_text):
    """(path, headers) of a pre-signed wrk script, to replay with http.client."""
    path = re.search(r'wrk.path = "(.*)"', lua_text).group(1)
    headers = dict(re.findall(r'wrk.headers\["([^"]+)"\] = "(.*)"', lua_text))
    return path, headers


class Server:
    def __init__(self, name, argv, probe, stderr=subprocess.DEVNULL):
        self.name, self.argv, self.probe, self.stderr = name, argv, probe, stderr

    def start(self):
        """Starts it; returns milliseconds from spawn to the first successful probe."""
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        began = time.perf_counter()
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.stderr)
        while True:
            if self.ok():
                return (time.perf_counter() - began) * 1000
            if time.perf_counter() - began > 30:
                raise SystemExit(f"{self.name} never answered")
            time.sleep(0.0005)

    def ok(self):
        method, path, headers, body = self.probe
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            conn.request(method, path, body=body, headers=headers)
            status = conn.getresponse().status
            conn.close()
            return status == 200
        except OSError:
            return False

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(port, connections, seconds, script=None, path="/"):
    argv = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", script]
    out = subprocess.run(argv + [f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def latency(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"wrk saw {bad.group(1)} failed responses:\n{out}")
    return rps, latency(50), latency(99)


def big_fixture(path, accounts=10_000, keys_per_account=10):
    with open(os.path.join(ROOT, "fixtures/default.json")) as f:
        document = json.load(f)
    for a in range(accounts):
        account_id = f"2{a:015d}"
        document["accounts"].append({
            "accountId": account_id,
            "accessKeys": [{"accessKeyId": f"LTAI5tBench{a:09d}", "accessKeySecret": "s"}],
            "kmsKeys": [{"keyId": f"key-hzzbench{a:07d}{k:03d}", "regionId": "cn-hangzhou"} for k in range(keys_per_account)],
        })
    with open(path, "w") as f:
        json.dump(document, f)


# The default-fixture Modify points the large fixture and the journal are compared with: one
# before, between and after them.
REFERENCE = "emulator Modify c16 (reference for the rows around it)"
REFERENCE_2 = "emulator Modify c16 (reference, between)"
REFERENCE_3 = "emulator Modify c16 (reference, after)"
REFERENCE_4 = "emulator Modify c16 (reference, last)"
JOURNAL_OFF = "emulator Modify c16, journal off"
JOURNAL_OFF_2 = "emulator Modify c16, journal off (again)"


def main():
    options = argparse.ArgumentParser()
    options.add_argument("--duration", type=int, default=5)
    options.add_argument("--reps", type=int, default=3)
    options.add_argument("--with-moto", action="store_true",
                         help="also measure moto's server on EC2 ModifyEbsDefaultKmsKeyId (installed into bench/.moto-venv)")
    options = options.parse_args()

    modify_lua, modify_text = lua("ModifyDiskDefaultKMSKeyId", ["RegionId=cn-hangzhou", f"KMSKeyId={KEY}"])
    describe_lua, _ = lua("DescribeDiskDefaultKMSKeyId", ["RegionId=cn-hangzhou"])
    path, headers = request_of(modify_text)
    signed_probe = ("POST", path, headers, None)
    baseline_query = f"/?RegionId=cn-hangzhou&KMSKeyId={KEY}"
    big = tempfile.mktemp(suffix=".json")
    big_fixture(big)

    emulator = lambda *extra: [EMULATOR, "--listen", "127.0.0.1:{port}", "--auth", "verify", *extra]
    servers = {
        "baseline": Server("baseline", [BASELINE, "127.0.0.1:{port}"], ("GET", baseline_query, {}, None)),
        "emulator": Server("emulator", emulator(), signed_probe),
    }

    if options.with_moto:
        import moto
        servers["moto"] = Server("moto", moto.moto_argv(moto.ensure_moto(ROOT)), moto.probe())
        fd, moto_lua = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(moto.wrk_script())

    results = {}
    def point(label, server, connections, script=None, path="/"):
        server_started = server.start()
        try:
            wrk(server.port, connections, 1, script, path)  # warm-up
            rps, p50, p99 = wrk(server.port, connections, options.duration, script, path)
            results.setdefault(label, []).append((rps, p50, p99, rss_kib(server.process.pid)))
        finally:
            server.stop()
        return server_started

    for rep in range(options.reps):
        for connections in (1, 16, 64):
            # The baseline gets the very request the emulator gets (it reads the query and
            # ignores the signature headers): same bytes on the wire, same work for wrk. It
            # runs before and after the emulator's points, which are compared with both.
            point(f"baseline c{connections}", servers["baseline"], connections, modify_lua)
            point(f"emulator Modify c{connections}", servers["emulator"], connections, modify_lua)
            point(f"emulator Describe c{connections}", servers["emulator"], connections, describe_lua)
            point(f"baseline c{connections} (after)", servers["baseline"], connections, modify_lua)
        # For reference: the baseline on a plain two-parameter GET, which costs wrk less.
        point("baseline c16, plain GET", servers["baseline"], 16, path=baseline_query)
        # The large fixture and the journal's cost are each measured between two default
        # points, so that drift within the repetition does not enter their ratios.
        point(REFERENCE, servers["emulator"], 16, modify_lua)
        big_server = Server("big", emulator("--fixtures", big), signed_probe)
        point("emulator Modify c16, 10k accounts / 100k keys", big_server, 16, modify_lua)
        point(REFERENCE_2, servers["emulator"], 16, modify_lua)
        quiet = Server("nojournal", emulator("--journal-capacity", "0"), signed_probe)
        # The journal's cost is a few percent, less than the machine's drift over a minute:
        # two journal-off points, each between default points.
        point(JOURNAL_OFF, quiet, 16, modify_lua)
        point(REFERENCE_3, servers["emulator"], 16, modify_lua)
        point(JOURNAL_OFF_2, quiet, 16, modify_lua)
        point(REFERENCE_4, servers["emulator"], 16, modify_lua)
        if options.with_moto:
            for connections in (1, 16, 64):
                point(f"moto ModifyEbsDefaultKmsKeyId c{connections}", servers["moto"], connections, moto_lua)
        print(f"bench: repetition {rep + 1} done", file=sys.stderr)

    starts = {}
    idle = {}
    for name in servers:
        times = []
        for _ in range(7):
            times.append(servers[name].start())
            time.sleep(0.3)
            idle.setdefault(name, []).append(rss_kib(servers[name].process.pid))
            servers[name].stop()
        starts[name] = statistics.median(times)
    big_server = Server("big", emulator("--fixtures", big), signed_probe)
    big_start = big_server.start()
    time.sleep(0.5)
    big_rss = rss_kib(big_server.process.pid)
    big_server.stop()
    for temporary in (big, modify_lua, describe_lua) + ((moto_lua,) if options.with_moto else ()):
        os.unlink(temporary)

    def median(label, i):
        return statistics.median(r[i] for r in results[label])

    def paired(label, before=None, after=None):
        """The point's req/s over its references' in the same repetition, one ratio per
        repetition. The references (by default the baseline at the same connections) ran
        just before and just after it; their geometric mean is what the point is compared
        with, so a machine that speeds up or slows down steadily through those minutes moves
        both sides alike."""
        connections = re.search(r"c(\d+)", label).group(1)
        before = before or f"baseline c{connections}"
        after = after or f"baseline c{connections} (after)"
        return [r[0] / (b[0] * a[0]) ** 0.5
                for r, b, a in zip(results[label], results[before], results[after])]

    lines = ["| point | req/s | p50 ms | p99 ms | RSS after (MiB) | vs baseline req/s | per repetition |",
             "|---|---|---|---|---|---|---|"]
    def ratio(x):
        return f"{x:.2f}" if x >= 0.1 else f"{x:.4f}"

    for label in results:
        ratios = paired(label)
        lines.append(f"| {label} | {median(label, 0):,.0f} | {median(label, 1):.2f} | {median(label, 2):.2f} | "
                     f"{median(label, 3) / 1024:.1f} | {ratio(statistics.median(ratios))}× | "
                     f"{' '.join(ratio(r) for r in ratios)} |")
    lines += ["", "req/s, latencies and RSS: medians over the repetitions. \"vs baseline\": the median of the "
              "per-repetition ratios listed after it, each to the geometric mean of the two baseline points at "
              "the same connections that ran just before and just after the emulator's in the same repetition."]
    lines += ["", "| start to first success (median of 7) | idle RSS (MiB) |", "|---|---|"]
    for name in servers:
        lines.append(f"| {name}: {starts[name]:.1f} ms | {statistics.median(idle[name]) / 1024:.1f} |")
    lines.append(f"| emulator with 10k accounts / 100k keys: {big_start:.0f} ms | {big_rss / 1024:.1f} |")

    default16 = median("emulator Modify c16", 0)
    modify16 = statistics.median(paired("emulator Modify c16"))
    # Against the default-fixture Modify points measured around them, in the same repetition.
    big16 = statistics.median(paired("emulator Modify c16, 10k accounts / 100k keys", REFERENCE, REFERENCE_2))
    journal16 = 1 / statistics.median(paired(JOURNAL_OFF, REFERENCE_2, REFERENCE_3)
                                      + paired(JOURNAL_OFF_2, REFERENCE_3, REFERENCE_4))
    checks = [
        ("signed Modify at 16 connections ≥ 0.7× baseline req/s", modify16 >= 0.7, f"{modify16:.2f}×"),
        ("p99 ≤ 2× baseline's", median("emulator Modify c16", 2) <= 2 * median("baseline c16", 2),
         f"{median('emulator Modify c16', 2):.2f} vs {median('baseline c16', 2):.2f} ms"),
        ("start to first success ≤ 15 ms (median)", starts["emulator"] <= 15, f"{starts['emulator']:.1f} ms"),
        ("idle RSS ≤ 10 MiB", statistics.median(idle["emulator"]) <= 10 * 1024, f"{statistics.median(idle['emulator']) / 1024:.1f} MiB"),
        ("10k accounts / 100k keys: ≥ 0.9× default req/s", big16 >= 0.9, f"{big16:.2f}×"),
        ("10k accounts / 100k keys: RSS ≤ 64 MiB", big_rss <= 64 * 1024, f"{big_rss / 1024:.1f} MiB"),
        ("a full journal costs ≤ 10%", journal16 >= 0.9, f"{1 - journal16:+.1%}"),
    ]
    plain16 = median("baseline c16, plain GET", 0)
    lines += ["", f"For reference, signed Modify at 16 connections is {default16 / plain16:.2f}× the baseline "
              f"answering a plain GET ({plain16:,.0f} req/s): a smaller request, so less work for wrk on "
              "the same two cores."]
    if options.with_moto:
        lines += ["", f"moto {moto.VERSION} (Werkzeug's server) closes the connection after every answer, so wrk "
                  "connects anew for each of its requests; its RSS is the Python process's."]
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if ok else 'NO'} | {value} |" for name, ok, value in checks]
    report = "\n".join(lines)
    print(report)
    with open(os.path.join(ROOT, "bench/last-run.md"), "w") as f:
        f.write(report + "\n")


if __name__ == "__main__":
    main()
