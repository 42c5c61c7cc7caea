#!/usr/bin/env bash
# The GPU check of issue 12, in two halves, so that burn is never built on the GPU machine:
#
#   bash core/scripts/gpu-check.sh build [BEFORE]   # here: build, strip, compress into .gpu-check/
#   bash core/scripts/gpu-check.sh run [OUT]        # there, from the repository root: ~3 min
#
# `build` packs the CLI and the GPU parity test binary (and, given BEFORE, another build of
# the CLI to compare against; with PERSISTENT=1, also a CLI built with the
# `persistent-gpu-cache` feature, which builds burn a second time) as xz files under
# .gpu-check/ (git-ignored; ~10 MB each, 15 MB the persistent one, so that they travel with
# the tree's 64 MiB). `run` installs
# the Vulkan loader when it is missing (from .gl/*.deb when the machine has no network),
# prints the GPU and a summary, and writes to OUT (default .gpu-check/out):
#   parity.log     every variant on wgpu (Vulkan) against timm: 1e-3 relative, same top-5 in
#                  f32; 1e-2, same top-1 in f16 (f16 maps and weights, f32 arithmetic)
#   probes.jsonl   one probe report per line ({"run": ..., "report": ...}):
#                  cold-<v>     one variant in a new process with empty caches (a new HOME,
#                               so the driver's shader cache is empty too): load, first
#                               inference, then the paper protocol (50 warm-up, 500 runs)
#                  second-s0    S0 again in a second process with the same HOME (the driver's
#                               shader cache warm; CubeCL's own cache only in a
#                               persistent-gpu-cache build: persistent-*)
#                  f16          all variants in f16 (where the adapter has SHADER_F16)
#                  before       the BEFORE build, all variants in one process
#   profile.md     S0's time per stage and block kind
#   errors.log     the probes' standard error
set -uo pipefail
cd "$(dirname "$0")/../.."
pack=.gpu-check

build() {
  set -e
  mkdir -p "$pack"
  rm -f "$pack"/*.xz
  cargo build --release --bin efficientformer
  local target
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  local parity
  parity=$(cargo test --release --test parity_gpu --no-run --message-format=json \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "parity_gpu" and m.get("executable"):
        print(m["executable"])')
  compress() { strip -o "$pack/$2" "$1" && xz -T2 -6 -f "$pack/$2"; }
  compress "$target/release/efficientformer" efficientformer
  compress "$parity" parity_gpu
  if [ -n "${1:-}" ]; then compress "$1" efficientformer-before; fi
  if [ "${PERSISTENT:-}" = 1 ]; then
    CARGO_TARGET_DIR="$target/persistent-gpu-cache" \
      cargo build --release --bin efficientformer --features efficientformer/persistent-gpu-cache
    compress "$target/persistent-gpu-cache/release/efficientformer" efficientformer-persistent
  fi
  ls -la "$pack"
}

run() {
  local out=${1:-$pack/out}
  mkdir -p "$out" /tmp/gpu-check
  local bin=/tmp/gpu-check
  for f in "$pack"/*.xz; do
    xz -dc "$f" >"$bin/$(basename "$f" .xz)" && chmod +x "$bin/$(basename "$f" .xz)"
  done
  if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
    if ls .gl/*.deb >/dev/null 2>&1; then
      for f in .gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
    else
      apt-get install -y -qq libvulkan1
    fi
  fi
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$icd
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  : >"$out/errors.log"
  : >"$out/probes.jsonl"
  # probe NAME HOME BINARY ARGS...: one probe process with HOME (and so every cache under it)
  # at HOME; its JSON report appended to probes.jsonl.
  probe() {
    local name=$1 home=$2 binary=$3
    shift 3
    mkdir -p "$home"
    (cd "$home" && HOME=$home XDG_CACHE_HOME=$home/.cache timeout 90 "$binary" probe --backends gpu --format json "$@") \
      >/tmp/gpu-check/report.json 2>>"$out/errors.log"
    echo "$name: exit $?"
    python3 -c 'import json,sys; print(json.dumps({"run": sys.argv[1], "report": json.load(open(sys.argv[2]))}))' \
      "$name" /tmp/gpu-check/report.json >>"$out/probes.jsonl" 2>>"$out/errors.log"
  }
  local homes=/tmp/gpu-check/homes
  rm -rf "$homes"

  echo "== cold start and latency, one new process per variant, empty caches"
  for variant in s0 s1 s2 l; do
    probe "cold-$variant" "$homes/$variant" "$bin/efficientformer" --variants "$variant"
  done
  probe second-s0 "$homes/s0" "$bin/efficientformer" --variants s0
  probe f16 "$homes/f16" "$bin/efficientformer" --variants s0,s1,s2,l --precision f16
  if [ -x "$bin/efficientformer-persistent" ]; then
    probe persistent-cold-s0 "$homes/persistent" "$bin/efficientformer-persistent" --variants s0
    probe persistent-second-s0 "$homes/persistent" "$bin/efficientformer-persistent" --variants s0
  fi
  if [ -x "$bin/efficientformer-before" ]; then
    probe before "$homes/before" "$bin/efficientformer-before" --variants s0,s1,s2,l
  fi

  echo "== where the time goes: S0"
  timeout 60 "$bin/efficientformer" probe --variants s0 --backends gpu --warmup 20 --runs 100 --profile \
    >"$out/profile.md" 2>>"$out/errors.log"
  echo "profile: exit $?"

  echo "== parity: every variant on wgpu against timm"
  EFFICIENTFORMER_GPU_BACKEND=wgpu EFFICIENTFORMER_FIXTURES=core/tests/fixtures \
    timeout 150 "$bin/parity_gpu" --include-ignored --test-threads 1 2>&1 | tee "$out/parity.log"
  python3 - "$out" <<'PY' || true
import json, pathlib, sys
for line in (pathlib.Path(sys.argv[1]) / "probes.jsonl").read_text().splitlines():
    entry = json.loads(line)
    for r in entry["report"]["rows"]:
        print(f"{entry['run']:22} {r['variant']:3} {r['precision']} mean {r['latency']['mean_ms']:7.3f} ms p90 {r['latency']['p90_ms']:7.3f} ms "
              f"load {r['load_ms']:6.0f} ms first inference {r['cold_ms']:6.0f} ms  {r['adapter']}")
PY
}

case "${1:-}" in
  build) shift; build "$@" ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 build [BEFORE_CLI] | run [OUT]" >&2; exit 2 ;;
esac
