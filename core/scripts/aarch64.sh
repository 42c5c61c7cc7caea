#!/usr/bin/env bash
# The project on aarch64, the phones' CPU, from this x86-64 machine: cross-built with Debian
# bookworm-security's Rust (`rustc-web`, with its aarch64 standard library) and run under
# trixie's `qemu-user` in a trixie chroot (bookworm's qemu 7.2 hangs in the first
# `pthread_create`). Needs root (apt, debootstrap, mount, chroot).
#
#   bash core/scripts/aarch64.sh [test]        install what is missing, build, run the tests
#                                              under `-cpu cortex-a53` and `-cpu max`
#   bash core/scripts/aarch64.sh build         install what is missing and build
#   bash core/scripts/aarch64.sh exec CMD...   run CMD in the chroot, the checkout and the
#                                              target directory mounted at their own paths
#                                              (with AARCH64_CPUINFO=FILE over /proc/cpuinfo)
#
# What is built (release, CPU feature set: `cpu,decoders,pth`, no `gpu`): the core's tests,
# efficientformer-formats' tests, the CLI, and the two binding libraries
# (`libefficientformer_jni.so`, `libefficientformer_ffi.so`), in one Cargo invocation, so burn
# is built once for aarch64, into `$CARGO_TARGET_DIR/aarch64`. The GPU feature is left out:
# burn-wgpu and CubeCL would be a second, larger aarch64 build (see the README's note).
#
# Under `-cpu cortex-a53` (ARMv8.0: NEON, no FP16, no dot product) and `-cpu max` (FP16, dot
# product, SVE) run: every unit test of the core (the kernels' tests on awkward shapes among
# them) and of the formats crate, and the core's integration tests: all four variants' CPU
# parity against PyTorch, concurrency (thread count and batch never change a logit), frames
# and YUV, classify, options, errors, loading, preprocessing, accounting and the probe. The
# probe's tests (2 minutes under emulation: S0 and S1 on both CPU backends, 8 passes each)
# run under `max` only: what they add to parity is the report's code, which no CPU feature
# changes. Not run: the CLI's integration tests (they start the CLI, and qemu-user does not
# follow a program into the one it starts) and the benchmarks.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$root"
mkdir -p "${CARGO_TARGET_DIR:-$root/target}"
host_target=$(cd "${CARGO_TARGET_DIR:-$root/target}" && pwd -P)
target_dir=$host_target/aarch64
triple=aarch64-unknown-linux-gnu
chroot_dir=${AARCH64_CHROOT:-/var/cache/efficientformer/aarch64-trixie}
source core/scripts/trixie-chroot.sh
trap chroot_unmount_all EXIT

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

setup() {
  # The cross toolchain: Rust 1.96 as /usr/bin/{rustc,cargo} (rustup's stays first on PATH for
  # the host build; rustup has no aarch64 standard library here) and GNU's aarch64 linker.
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }
  apt_install rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  if [ ! -x "$chroot_dir/usr/bin/qemu-aarch64" ] || [ ! -e "$chroot_dir/usr/aarch64-linux-gnu/lib/libstdc++.so.6" ]; then
    # The aarch64 C and C++ runtimes (ONNX Runtime's library needs libstdc++: the benchmark).
    trixie_chroot "$chroot_dir" qemu-user libc6-arm64-cross libstdc++6-arm64-cross
  fi
}

cross_cargo() {
  env PATH="/usr/bin:$PATH" CARGO_TARGET_DIR="$target_dir" \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    cargo "$@" --release --target "$triple" \
    -p efficientformer -p efficientformer-formats -p efficientformer-cli \
    -p efficientformer-jni -p efficientformer-uniffi --no-default-features \
    --features efficientformer/cpu,efficientformer/decoders,efficientformer/pth,efficientformer-formats/decoders,efficientformer-formats/pth,efficientformer-jni/cpu,efficientformer-uniffi/cpu
}

# Builds everything and lists the test executables in $target_dir/tests.txt, one per line
# after their package's directory and a tab.
build() {
  # Every target in one invocation: the test harnesses, the CLI and the binding crates'
  # `cdylib`s share one feature resolution (a separate `cargo build` of the libraries would
  # resolve the graph without the tests' dev-dependencies, i.e. build burn again).
  cross_cargo build --all-targets --message-format=json-render-diagnostics > "$target_dir.json"
  python3 - "$target_dir.json" > "$target_dir/tests.txt" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    kinds = m.get("target", {}).get("kind", [])
    # Test harnesses only: not the benchmarks (harness = false: they would run), nor the CLI's
    # integration tests (they start the CLI, which qemu-user cannot follow into a new program).
    if (m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]
            and "bench" not in kinds and not ("test" in kinds and "/examples/cli/" in m["manifest_path"])):
        print(m["manifest_path"].rsplit("/", 1)[0], m["executable"], sep="\t")
EOF
  rm -f "$target_dir.json"
  for lib in libefficientformer_jni.so libefficientformer_ffi.so; do
    [ -f "$target_dir/$triple/release/$lib" ] || { echo "aarch64: $lib was not built" >&2; exit 1; }
  done
}

# Runs "$@" in the chroot, from directory $1, with /proc, /dev, the checkout and the target
# directory mounted at their own paths (test binaries find their fixtures through the
# `CARGO_MANIFEST_DIR` compiled into them); unmounts on the way out.
in_chroot() (
  local dir=$1
  shift
  trap chroot_unmount_all EXIT
  chroot_mount "$chroot_dir" proc /proc
  # ONNX Runtime's CPU detection parses /proc/cpuinfo (the host's x86 one crashes it): the
  # benchmark passes a description of the `-cpu` it emulates.
  [ -z "${AARCH64_CPUINFO:-}" ] || chroot_mount "$chroot_dir" "$AARCH64_CPUINFO" /proc/cpuinfo
  chroot_mount "$chroot_dir" /dev /dev
  chroot_mount "$chroot_dir" "$root" "$root"
  case "$host_target/" in "$root"/*) ;; *) chroot_mount "$chroot_dir" "$host_target" "$host_target" ;; esac
  chroot "$chroot_dir" env -i HOME=/root PATH=/usr/bin:/bin TMPDIR=/tmp RUST_BACKTRACE=1 \
    QEMU_LD_PREFIX=/usr/aarch64-linux-gnu ${EFFICIENTFORMER_EXPECT_HALF:+EFFICIENTFORMER_EXPECT_HALF=$EFFICIENTFORMER_EXPECT_HALF} \
    sh -c 'cd "$0" && exec "$@"' "$dir" "$@"
)

# Every test executable under one `-cpu` model, from its package's directory as Cargo runs it,
# but those whose file name starts with one of the other arguments. The tests learn whether the
# model has FEAT_FP16 (`EFFICIENTFORMER_EXPECT_HALF`), to check the run-time detection: `max`
# has it (half-precision kernels), `cortex-a53` has not (`Precision::F16` falls back to `f32`).
run_tests() {
  local cpu=$1 failed=0 dir test skip
  shift
  local -x EFFICIENTFORMER_EXPECT_HALF
  EFFICIENTFORMER_EXPECT_HALF=$([ "$cpu" = max ] && echo 1 || echo 0)
  while IFS=$'\t' read -r dir test; do
    for skip in "$@"; do [[ ${test##*/} == "$skip"-* ]] && continue 2; done
    echo "== aarch64 -cpu $cpu: ${test##*/}"
    in_chroot "$dir" qemu-aarch64 -cpu "$cpu" "$test" --test-threads 2 || failed=1
  done < "$target_dir/tests.txt"
  return $failed
}

mkdir -p "$target_dir"
case "${1:-test}" in
  build)
    setup
    build
    cat "$target_dir/tests.txt"
    ;;
  test)
    setup
    build
    status=0
    run_tests cortex-a53 probe || status=1
    run_tests max || status=1
    exit $status
    ;;
  exec)
    shift
    in_chroot "$PWD" "$@"
    ;;
  *)
    echo "usage: $0 [test|build|exec CMD...]" >&2
    exit 2
    ;;
esac
