#!/usr/bin/env bash
# Tests the Swift package on Linux: builds the Rust library on the host, checks the committed
# bindings against the generator, then runs `swift test` and the Swift example in a Debian
# trixie chroot with Debian's swiftlang (Swift 6.0.3), created on first use. Needs root (for
# debootstrap, mount and chroot). The example's top-5 must equal the Rust tool's.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
chroot_dir=${SWIFT_CHROOT:-/var/cache/efficientformer/swift-trixie}

ios/scripts/generate-bindings.sh --check

if [[ ! -x $chroot_dir/usr/libexec/swift/bin/swift ]]; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap
    [[ -e $chroot_dir/usr/bin/apt-get ]] || debootstrap --variant=minbase trixie "$chroot_dir"
    mount -t proc proc "$chroot_dir/proc"
    trap 'umount "$chroot_dir/proc"' EXIT
    chroot "$chroot_dir" apt-get update
    chroot "$chroot_dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends swiftlang libc6-dev
    umount "$chroot_dir/proc"
    trap - EXIT
fi

# The checkout and the built library appear in the chroot at /src and /rustlib.
mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || umount -l "${mounted[i]}"; done
}
trap cleanup EXIT
mount_at() {
    mkdir -p "$chroot_dir$2"
    if [[ $1 == proc ]]; then mount -t proc proc "$chroot_dir$2"; else mount --bind "$1" "$chroot_dir$2"; fi
    mounted+=("$chroot_dir$2")
}
mount_at proc /proc
mount_at /dev /dev
mount_at "$root" /src
mount_at "$target/release" /rustlib

in_chroot() {
    chroot "$chroot_dir" env -i HOME=/root PATH=/usr/libexec/swift/bin:/usr/bin:/bin \
        LD_LIBRARY_PATH=/rustlib bash -c "$1"
}
swift_flags="-Xlinker -L/rustlib --scratch-path /var/cache/swift-build"
in_chroot "cd /src/ios && swift test $swift_flags/ios"

image=examples/images/chelsea.png
in_chroot "cd /src/examples/swift-cli && swift build $swift_flags/example"
in_chroot "/var/cache/swift-build/example/debug/efficientformer-swift --backend cpu /src/$image" > "$target/swift-example.txt"
cat "$target/swift-example.txt"
examples/same-top5.sh Swift "$target/swift-example.txt" "$image"
