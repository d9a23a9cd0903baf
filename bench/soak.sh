#!/usr/bin/env bash
# Soak (issue "Robustness"): mixed load on the release binary for a bounded time, sampling the
# server's RSS; memory must stay flat once the journal is full. Loopback only; stops what it
# starts.
#
#   bench/soak.sh              # 10 minutes
#   bench/soak.sh 60           # seconds
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-600}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet --bin ecs-emulator
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
./target/release/ecs-emulator --listen "127.0.0.1:$port" --auth off 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -fs "http://127.0.0.1:$port/_emulator/health" >/dev/null; do sleep 0.05; done

# Every action, successes and documented errors, reads and writes, as several accounts;
# each request carries a fresh nonce-like parameter so no two bodies are the same.
cat >"$work/mix.lua" <<'LUA'
local ak = {"LTAI5tTestAccessKey01", "LTAI5tDemoEncryptionOn", "LTAI5tDemoKmsServiceOff", "LTAI5tDemoNotWhitelisted"}
local calls = {
  "Version=2014-05-26&Action=DescribeRegions",
  "Version=2014-05-26&Action=EnableDiskEncryptionByDefault&RegionId=cn-hangzhou",
  "Version=2014-05-26&Action=DisableDiskEncryptionByDefault&RegionId=cn-hangzhou",
  "Version=2014-05-26&Action=DescribeDiskEncryptionByDefaultStatus&RegionId=cn-hangzhou",
  "Version=2014-05-26&Action=ModifyDiskDefaultKMSKeyId&RegionId=cn-hangzhou&KMSKeyId=key-hzz1configured0000001",
  "Version=2014-05-26&Action=DescribeDiskDefaultKMSKeyId&RegionId=cn-hangzhou",
  "Version=2014-05-26&Action=ResetDiskDefaultKMSKeyId&RegionId=cn-hangzhou",
  "Version=2016-01-20&Action=ListKeys&RegionId=cn-hangzhou",
  "Version=2014-05-26&Action=NoSuchAction",
}
local n = 0
request = function()
  n = n + 1
  local path = "/?Format=JSON&" .. calls[(n % #calls) + 1] .. "&AccessKeyId=" .. ak[(n % #ak) + 1] .. "&ClientToken=" .. n
  if n % 50 == 0 then path = "/_emulator/requests?limit=20" end
  return wrk.format("GET", path)
end
LUA

rss() { awk '/VmRSS/{print $2}' "/proc/$server/status"; }
echo "soak: ${seconds}s of mixed load on 127.0.0.1:$port; RSS (KiB) every 10 s"
wrk -t2 -c16 -d"${seconds}s" -s "$work/mix.lua" "http://127.0.0.1:$port/" >"$work/wrk.txt" &
load=$!
samples=()
while kill -0 "$load" 2>/dev/null; do
  sleep 10
  samples+=("$(rss)")
  echo "soak: t=$(( ${#samples[@]} * 10 ))s rss=${samples[-1]} KiB"
done
wait "$load"
grep -E "requests in|Requests/sec|Non-2xx" "$work/wrk.txt" || true
kill -0 "$server" || { echo "soak: the server died"; exit 1; }
curl -fs "http://127.0.0.1:$port/_emulator/health" >/dev/null || { echo "soak: not healthy at the end"; exit 1; }
# Flat: after the first minute (journal full, pools warm), the last sample is within 10% of
# the first one.
python3 - "${samples[@]}" <<'PY'
import sys
s = [int(x) for x in sys.argv[1:]]
warm = s[min(6, len(s) - 1)]
print(f"soak: rss after warm-up {warm} KiB, at the end {s[-1]} KiB, max {max(s)} KiB")
sys.exit(0 if s[-1] <= warm * 1.10 else 1)
PY
