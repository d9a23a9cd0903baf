"""Alternates emulator binaries on the pre-signed V3 Modify at 16 connections: the fine
measure of one change (BENCHMARKS.md, "Alternating binaries directly").

    cargo build --release --example presign
    cp target/release/ecs-emulator /tmp/old   # before the change; then build after it
    python3 bench/alternate.py /tmp/old target/release/ecs-emulator --rounds 10
    python3 bench/alternate.py OLD NEW [MORE...] [--rounds 8] [--duration 3] [--log null|file]

Each round runs every binary once in order, then once in reverse (A B B A: steady drift moves
both sides alike), each point a fresh server on a free loopback port with `--auth verify`: a
1 s warm-up, then wrk for --duration seconds. A binary's ratio in a round is the geometric
mean of its two points over the first binary's. Also printed: the server's CPU per request
(user + system, all its threads, from /proc) and the load average after the round. The log
goes to /dev/null, as in bench/run.sh, or to a temporary file (--log file). Bounded; stops
what it starts.
"""
import argparse, os, statistics, tempfile

from measure import KEY, Server, lua, request_of, wrk


def cpu_seconds(pid):
    """utime + stime of the whole process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    options = argparse.ArgumentParser()
    options.add_argument("binaries", nargs="+")
    options.add_argument("--rounds", type=int, default=8)
    options.add_argument("--duration", type=int, default=3)
    options.add_argument("--log", choices=["null", "file"], default="null")
    options = options.parse_args()

    script, text = lua("ModifyDiskDefaultKMSKeyId", ["RegionId=cn-hangzhou", f"KMSKeyId={KEY}"])
    path, headers = request_of(text)
    servers = [Server(b, [b, "--listen", "127.0.0.1:{port}", "--auth", "verify"], ("POST", path, headers, None))
               for b in options.binaries]
    names = [s.name for s in servers]
    rps = {n: [] for n in names}
    cpu = {n: [] for n in names}
    ratios = {n: [] for n in names[1:]}

    def point(server):
        if options.log == "file":  # a file per point, gone when closed
            server.stderr = tempfile.TemporaryFile(prefix="ecs-emulator-log-")
        server.start()
        try:
            wrk(server.port, 16, 1, script)  # warm-up
            before = cpu_seconds(server.process.pid)
            rate = wrk(server.port, 16, options.duration, script)[0]
            used = cpu_seconds(server.process.pid) - before
        finally:
            server.stop()
            if options.log == "file":
                server.stderr.close()
        return rate, used / (rate * options.duration) * 1e6

    try:
        for round_ in range(options.rounds):
            got = {n: [] for n in names}
            for server in servers + servers[::-1]:
                rate, micros = point(server)
                got[server.name].append(rate)
                rps[server.name].append(rate)
                cpu[server.name].append(micros)
            first = statistics.geometric_mean(got[names[0]])
            line = [f"round {round_ + 1}, against {names[0]}:"]
            for n in names[1:]:
                ratios[n].append(statistics.geometric_mean(got[n]) / first)
                line.append(f"{n} {ratios[n][-1]:.3f}x")
            line += [f"| {n} {got[n][0]:,.0f} {got[n][1]:,.0f} req/s, {statistics.mean(cpu[n][-2:]):.1f} us CPU/req"
                     for n in names]
            line.append(f"| load {os.getloadavg()[0]:.1f}")
            print(" ".join(line), flush=True)
    finally:
        os.unlink(script)

    print(f"medians over {options.rounds} rounds of {options.duration} s, c16, log to {options.log}:")
    for n in names:
        against = f", {statistics.median(ratios[n]):.3f}x {names[0]} " \
                  f"(rounds {min(ratios[n]):.3f}-{max(ratios[n]):.3f})" if n in ratios else ""
        print(f"  {n}: {statistics.median(rps[n]):,.0f} req/s, {statistics.median(cpu[n]):.1f} us server CPU per request{against}")


if __name__ == "__main__":
    main()
