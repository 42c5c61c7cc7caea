#!/usr/bin/env bash
# Builds ios/EfficientFormerFFI.xcframework: static libraries for iOS devices, the iOS
# simulator (arm64 + x86_64, lipo'd) and macOS (arm64 + x86_64, for `swift test` on a Mac),
# with the generated C header. Needs macOS with Xcode and rustup; it cannot run on the Linux
# CI machines, where scripts/test-linux.sh links the host library instead.
#
# burn's `metal` feature stays off: its MSL compiler only validates on macOS. The core names
# wgpu's Metal API explicitly on Apple targets, so WGSL reaches Metal through naga.
#
# Built with the workspace's `app` profile (LTO, one codegen unit). FEATURES picks what the
# library holds: "cpu,gpu,decoders,pth" (default), "cpu,decoders" for a CPU-only app that
# passes encoded images, or "cpu" for the smallest (pass pixels, ship safetensors).
#
# `--release URL`: also zips it (ios/EfficientFormerFFI.xcframework.zip, to upload to URL, a
# release asset) and writes URL and the zip's checksum into the root Package.swift, so that
# apps adding the package by its repository URL download the framework instead of building it.
set -euo pipefail
release_url=
if [[ ${1:-} == --release ]]; then
    release_url=${2:?--release needs the URL the zip will be uploaded to}
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
lib=libefficientformer_ffi.a
features=${FEATURES:-cpu,gpu,decoders,pth}
export IPHONEOS_DEPLOYMENT_TARGET=15.0 MACOSX_DEPLOYMENT_TARGET=12.0

ios/scripts/generate-bindings.sh --check

triples=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${triples[@]}"
for triple in "${triples[@]}"; do
    cargo build --profile app --locked -p efficientformer-uniffi --lib --target "$triple" \
        --no-default-features --features "$features"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/headers" "$work/ios-sim" "$work/macos"
cp ios/Sources/EfficientFormerFFI/EfficientFormerFFI.h "$work/headers/"
printf 'module EfficientFormerFFI {\n    header "EfficientFormerFFI.h"\n    export *\n}\n' > "$work/headers/module.modulemap"
lipo -create "$target/aarch64-apple-ios-sim/app/$lib" "$target/x86_64-apple-ios/app/$lib" -output "$work/ios-sim/$lib"
lipo -create "$target/aarch64-apple-darwin/app/$lib" "$target/x86_64-apple-darwin/app/$lib" -output "$work/macos/$lib"

rm -rf ios/EfficientFormerFFI.xcframework
xcodebuild -create-xcframework \
    -library "$target/aarch64-apple-ios/app/$lib" -headers "$work/headers" \
    -library "$work/ios-sim/$lib" -headers "$work/headers" \
    -library "$work/macos/$lib" -headers "$work/headers" \
    -output ios/EfficientFormerFFI.xcframework
echo "built ios/EfficientFormerFFI.xcframework"

if [[ -n $release_url ]]; then
    zip=EfficientFormerFFI.xcframework.zip
    (cd ios && rm -f "$zip" && ditto -c -k --sequesterRsrc --keepParent EfficientFormerFFI.xcframework "$zip")
    checksum=$(swift package compute-checksum "ios/$zip")
    sed -i '' -e "s|^let releaseURL = .*|let releaseURL = \"$release_url\"|" \
        -e "s|^let releaseChecksum = .*|let releaseChecksum = \"$checksum\"|" Package.swift
    echo "upload ios/$zip to $release_url, then commit Package.swift and tag the release"
fi
