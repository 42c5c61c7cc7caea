#!/usr/bin/env bash
# Regenerates the Swift bindings (Sources/EfficientFormerBindings/EfficientFormerBindings.swift,
# Sources/EfficientFormerFFI/EfficientFormerFFI.h) from the compiled Rust library with the
# workspace's own uniffi-bindgen. With --check, fails instead when the committed files differ.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
case "$(uname -s)" in Darwin) ext=dylib ;; *) ext=so ;; esac

# Same package selection as the test command, so the library shares its build.
cargo build --release
cargo build --release -p uniffi-bindgen

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$target/release/uniffi-bindgen" generate --library "$target/release/libefficientformer_ffi.$ext" \
    --language swift --out-dir "$out" >/dev/null

status=0
for pair in "EfficientFormerBindings.swift:ios/Sources/EfficientFormerBindings" "EfficientFormerFFI.h:ios/Sources/EfficientFormerFFI"; do
    file=${pair%%:*} dir=${pair#*:}
    if [[ ${1:-} == --check ]]; then
        if ! diff -u "$dir/$file" "$out/$file" >/dev/null 2>&1; then
            echo "generated $dir/$file is out of date: run ios/scripts/generate-bindings.sh" >&2
            diff -u "$dir/$file" "$out/$file" | head -40 >&2 || true
            status=1
        fi
    else
        cp "$out/$file" "$dir/$file"
    fi
done
exit $status
