#!/usr/bin/env bash
# Where a request's CPU time goes, baseline against emulator (BENCHMARKS.md, "Where the time
# goes"): each server is started on loopback, loaded by wrk (c16, the pre-signed V3 Modify)
# and sampled by `perf record -e cpu-clock` (no hardware counters needed) for a few seconds;
# the samples are summed by component and divided by the requests served. Bounded; stops what
# it starts. Needs perf (Debian: linux-perf) and wrk.
#
#   bench/profile.sh            # two rounds of each, 4 s each
#   bench/profile.sh 1 6        # one round, 6 s
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-2}
seconds=${2:-4}
for tool in perf wrk; do
  command -v "$tool" >/dev/null || { echo "bench/profile.sh: needs $tool" >&2; exit 2; }
done
cargo build --release --quiet --bin ecs-emulator --example baseline --example presign
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true' EXIT
target/release/examples/presign V3 ModifyDiskDefaultKMSKeyId LTAI5tDemoEncryptionOn \
  DemoSecretEncryptionOn RegionId=cn-hangzhou KMSKeyId=key-hzz1configured0000001 > "$work/modify.lua"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

profile() {  # name, then the server's command line
  local name=$1; shift
  "$@" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
  wrk -t2 -c16 -d1s -s "$work/modify.lua" "http://127.0.0.1:$port/" >/dev/null
  perf record -q -e cpu-clock -F 1999 -p "$server" -o "$work/$name.data" -- sleep "$seconds" >/dev/null 2>&1 &
  local recorder=$!
  local out
  out=$(wrk -t2 -c16 -d"${seconds}s" -s "$work/modify.lua" "http://127.0.0.1:$port/")
  wait "$recorder" || true
  kill "$server"; wait "$server" 2>/dev/null || true
  server=
  local served rps
  served=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  echo "$name: $rps req/s under perf ($served requests); server CPU per request, µs:"
  perf report -i "$work/$name.data" --no-children --sort dso,sym -g none --percent-limit 0 \
    -F period,dso,sym 2>/dev/null | python3 -c '
import re, sys, collections
served = float(sys.argv[1])
groups = [  # first match wins
    ("kernel", lambda dso, sym: "kernel" in dso),
    ("allocator", lambda dso, sym: re.search(r"\bmi_|_mi_|malloc|free\b|cfree", sym)),
    ("SHA-256 / HMAC", lambda dso, sym: re.search(r"sha2|hmac", sym, re.I)),
    ("hyper / http", lambda dso, sym: re.search(r"hyper|httparse|\bhttp::|bytes::", sym)),
    ("tokio", lambda dso, sym: "tokio" in sym),
    ("libc memcpy/memcmp", lambda dso, sym: re.search(r"mem(move|cpy|cmp|set)", sym)),
    ("emulator code", lambda dso, sym: "ecs_emulator" in sym),
    ("axum / serde / uuid", lambda dso, sym: re.search(r"axum|serde|form_urlencoded|uuid", sym)),
    ("clock", lambda dso, sym: "clock_gettime" in sym or "vdso" in dso),
    ("other user space", lambda dso, sym: True),
]
sums, total = collections.Counter(), 0
for line in sys.stdin:
    parts = line.split(None, 2)
    if len(parts) < 3 or not parts[0].isdigit():
        continue
    period, dso, sym = int(parts[0]), parts[1], parts[2]
    total += period
    sums[next(name for name, test in groups if test(dso, sym))] += period
for name, _ in groups:
    if sums[name]:
        print(f"  {name:22s} {sums[name] / served / 1000:6.2f}")
print(f"  {chr(32) * 17}total {total / served / 1000:6.2f}")
' "$served"
}

for round in $(seq "$rounds"); do
  profile baseline target/release/examples/baseline "127.0.0.1:$port"
  profile emulator target/release/ecs-emulator --listen "127.0.0.1:$port" --auth verify
done
