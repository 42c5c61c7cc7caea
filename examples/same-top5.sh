#!/usr/bin/env bash
# Usage: same-top5.sh LANGUAGE OUTPUT IMAGE
# Fails unless OUTPUT (an example app's `classify --backend cpu IMAGE` output) ranks the same
# top-5 classes as the Rust tool. The test scripts of ios/ and android/ call it.
set -euo pipefail
language=$1 output=$2 image=$3
target=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}
expected="$target/rust-example.txt"
"$target/release/efficientformer" classify --backend cpu "$image" > "$expected"
top5() { grep -o '\[ *[0-9]*\] .*' "$1"; }
if ! diff <(top5 "$expected") <(top5 "$output"); then
    echo "the $language example's top-5 differs from the Rust tool's" >&2
    exit 1
fi
echo "$language example: same top-5 as the Rust tool"
