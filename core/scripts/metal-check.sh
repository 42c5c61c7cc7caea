#!/usr/bin/env bash
# Metal without a Mac: runs all four variants once on the GPU path (wgpu on OpenGL, Mesa's
# llvmpipe) with CubeCL logging every kernel it compiles, our kernels and burn's alike, then
# translates each kernel's WGSL to Metal Shading Language with naga, as wgpu does on Apple
# GPUs, and checks it against Apple's GPU limits (core/scripts/msl-check). Fails on any kernel
# naga rejects or that exceeds a limit.
#
# The WGSL is what CubeCL emits for this adapter: on an Apple GPU, features it reports that
# llvmpipe lacks (subgroups, f16) can make CubeCL pick other matmul and reduce variants for the
# head, which this does not see.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/metal-check
mkdir -p "$out"
rm -f "$out/cubecl.log"

msl_check=(--release --locked --manifest-path core/scripts/msl-check/Cargo.toml --target-dir "$target/msl-check")
cargo test -q "${msl_check[@]}"
CUBECL_DEBUG_LOG=$out/cubecl.log cargo run -q --release --bin efficientformer -- \
    probe --variants s0,s1,s2,l --backends wgpu-gl --runs 1 --warmup 0 > "$out/probe.md"
cargo run -q "${msl_check[@]}" -- "$out/cubecl.log" | tee "$out/report.txt"
