# Sourced (not run) by the scripts that run programs in a Debian trixie chroot: the Swift
# package's tests (ios/scripts/test-linux.sh: trixie's swiftlang) and the aarch64 tests
# (core/scripts/aarch64.sh: trixie's qemu-user, which runs threads where bookworm's hangs).
# Needs root.
#
#   trixie_chroot DIR PACKAGE...     creates DIR (debootstrap minbase) when it is missing and
#                                    installs the packages into it (with /proc mounted)
#   chroot_mount DIR SOURCE TARGET   mounts SOURCE (a directory or file, or `proc`) at
#                                    DIR/TARGET (after clearing a stale mount there) and
#                                    remembers it
#   chroot_unmount_all               unmounts what chroot_mount mounted, last first: callers
#                                    set it as their EXIT trap before mounting

chroot_mounts=()

trixie_chroot() {
  local dir=$1
  shift
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
  [[ -e $dir/usr/bin/apt-get ]] || debootstrap --variant=minbase trixie "$dir"
  chroot_mount "$dir" proc /proc
  chroot "$dir" apt-get update -qq
  chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
  chroot_unmount_all
}

chroot_mount() {
  local target=$1$3
  # A mount left by a run that was killed before its trap ran (a bind of a since-deleted
  # checkout) makes the new mount fail: clear it first. Two runs never share a chroot.
  while mountpoint -q "$target" 2>/dev/null; do umount -l "$target"; done
  [[ -e $target ]] || mkdir -p "$target"
  if [[ $2 == proc ]]; then mount -t proc proc "$target"; else mount --bind "$2" "$target"; fi
  chroot_mounts+=("$target")
}

chroot_unmount_all() {
  local i
  for ((i = ${#chroot_mounts[@]} - 1; i >= 0; i--)); do
    umount "${chroot_mounts[i]}" || umount -l "${chroot_mounts[i]}"
  done
  chroot_mounts=()
}
