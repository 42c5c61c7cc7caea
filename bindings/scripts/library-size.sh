#!/usr/bin/env bash
# Builds the library an app ships (`efficientformer-jni`; `efficientformer-uniffi` shares its
# core) with the `app` profile for each feature set, and prints its size as an app ships it
# (after `strip --strip-unneeded`, as Android Gradle's native-library strip and Xcode's "Strip
# Linked Product" do) and the crates that take the most code. Each feature set is its own burn
# build (~15 min CPU-only, ~40 min with the GPU backend on 2 cores). It is linked as the Android
# build links it (android/efficientformer/build.gradle.kts): 16 KB pages, and the relative
# relocations packed (`--pack-dyn-relocs=android`, loaded by Android 6+; this copy is for
# measuring, glibc does not read that format).
#
#   bindings/scripts/library-size.sh [FEATURES...]     # default: "cpu,gpu,decoders,pth" "cpu,decoders,pth" "cpu"
#   TARGET=aarch64 bindings/scripts/library-size.sh cpu cpu,gpu,decoders,pth
#
# TARGET=aarch64 builds for aarch64-unknown-linux-gnu (the instruction set of Android's
# arm64-v8a; glibc instead of bionic, which changes little of the size) with the cross
# toolchain of core/scripts/aarch64.sh (run it once first) into $CARGO_TARGET_DIR/aarch64,
# linked by LLVM's lld as the NDK links (`apt-get install lld`: GNU ld has no
# `--pack-dyn-relocs`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
lib=libefficientformer_jni.so
(( $# )) || set -- cpu,gpu,decoders,pth cpu,decoders,pth cpu
cargo=(cargo)
link_args=(-C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,--pack-dyn-relocs=android)
tools=
triple=
out_dir=$target/app
if [ "${TARGET:-}" = aarch64 ]; then
    triple=aarch64-unknown-linux-gnu
    target=$target/aarch64
    cargo=(env PATH="/usr/bin:$PATH" CARGO_TARGET_DIR="$target"
           CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc cargo)
    # The cross gcc finds no `ld.lld` of its own: give it lld under the name `ld`.
    mkdir -p "$target/lld"
    ln -sf "$(command -v ld.lld)" "$target/lld/ld"
    link_args+=(-C "link-arg=-B$target/lld")
    tools=aarch64-linux-gnu-
    out_dir=$target/$triple/app
fi

for features in "$@"; do
    "${cargo[@]}" rustc --profile app --locked -p efficientformer-jni --lib --no-default-features --features "$features" \
        ${triple:+--target "$triple"} -- "${link_args[@]}"
    out="$out_dir/size-$features"
    mkdir -p "$out"
    cp "$out_dir/$lib" "$out/$lib"
    "${tools}strip" --strip-unneeded -o "$out/$lib.stripped" "$out/$lib"
    printf '\n== features %s: %s stripped (%s bytes)\n' "$features" \
        "$(numfmt --to=si --suffix=B "$(stat -c %s "$out/$lib.stripped")")" "$(stat -c %s "$out/$lib.stripped")"
    # Code and read-only data per crate, from the unstripped library's symbol table.
    "${tools}nm" --size-sort --print-size --radix=d --demangle=rust "$out/$lib" | awk '
        $3 ~ /^[tTrRdDbBwWvV]$/ {
            name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name)
            gsub(/^[<&* ]+|^dyn |^impl /, "", name)
            crate = name; sub(/::.*/, "", crate); sub(/[<> ].*/, "", crate)
            bytes[crate] += $2; total += $2
        }
        END {
            for (c in bytes) printf "%10.2f MB  %5.1f%%  %s\n", bytes[c] / 1e6, 100 * bytes[c] / total, c
        }' | sort -rn | sed -n 1,15p
done
