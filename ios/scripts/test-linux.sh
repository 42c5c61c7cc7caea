#!/usr/bin/env bash
# Tests the Swift package on Linux: checks the committed bindings against the generator, then,
# in a Debian trixie chroot with Debian's swiftlang (Swift 6.0.3, created on first use), runs
# `swift test` on the root package and on the iOS camera app's model, and the Swift example
# against the host library. Needs root (for debootstrap, mount and chroot). The example's top-5
# must equal the Rust tool's.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
chroot_dir=${SWIFT_CHROOT:-/var/cache/efficientformer/swift-trixie}

ios/scripts/generate-bindings.sh --check

source core/scripts/trixie-chroot.sh
trap chroot_unmount_all EXIT
[[ -x $chroot_dir/usr/libexec/swift/bin/swift ]] || trixie_chroot "$chroot_dir" swiftlang libc6-dev

# The checkout and the built library appear in the chroot at /src and /rustlib.
chroot_mount "$chroot_dir" proc /proc
chroot_mount "$chroot_dir" /dev /dev
chroot_mount "$chroot_dir" "$root" /src
chroot_mount "$chroot_dir" "$target/release" /rustlib

in_chroot() {
    chroot "$chroot_dir" env -i HOME=/root PATH=/usr/libexec/swift/bin:/usr/bin:/bin \
        LD_LIBRARY_PATH=/rustlib bash -c "$1"
}
swift_flags="-Xlinker -L/rustlib --scratch-path /var/cache/swift-build"
# The package at the repository root, as an app adding it by URL gets it.
in_chroot "cd /src && swift test $swift_flags/package"
# The camera app's logic (frame dropping, the model file, the overlay's text).
in_chroot "cd /src/examples/ios-app && swift test $swift_flags/ios-app"

image=examples/images/chelsea.png
in_chroot "cd /src/examples/swift-cli && swift build $swift_flags/example"
in_chroot "/var/cache/swift-build/example/debug/efficientformer-swift --backend cpu /src/$image" > "$target/swift-example.txt"
cat "$target/swift-example.txt"
examples/same-top5.sh Swift "$target/swift-example.txt" "$image"
