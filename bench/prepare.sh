# Sourced by the bench scripts (run.sh, disks.sh, state.sh), from the repository's root:
# installs wrk (Debian's package) when missing, and builds the emulator and the examples named
# (`--example NAME`…) in release.
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk (Debian package)"
  apt-get update -qq && apt-get install -y -qq wrk
fi
echo "bench: building the emulator and $* (release)"
cargo build --release --quiet --bin ecs-emulator "$@"
