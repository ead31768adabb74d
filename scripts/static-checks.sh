#!/usr/bin/env bash
# The checks `npm test` runs before jest: typecheck, eslint and prettier. Each is single-threaded,
# so they run side by side; the output of a check is shown only when it fails.
set -uo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# What the typecheck and prettier learnt in the previous run of this checkout (outside it, one
# directory per checkout and user): both recheck only what changed since, as soundly as a full run
# (tsc compares every file's content hash, prettier caches by content), which saves about 20 s of
# CPU beside jest. eslint runs in full: its cache would miss type changes in other files.
cache="${TMPDIR:-/tmp}/rotor-$(id -u)/static-checks-$(pwd | cksum | cut -d' ' -f1)"
mkdir -p "$cache"
node_modules/.bin/tsc --noEmit -p . --incremental --tsBuildInfoFile "$cache/typecheck.tsbuildinfo" >"$out/typecheck" 2>&1 &
typecheck=$!
node_modules/.bin/eslint . >"$out/eslint" 2>&1 &
eslint=$!
node_modules/.bin/prettier --check . --cache --cache-strategy content --cache-location "$cache/prettier" >"$out/prettier" 2>&1 &
prettier=$!

status=0
for check in typecheck eslint prettier; do
  if ! wait "${!check}"; then
    status=1
    echo "$check failed:"
    cat "$out/$check"
  fi
done
[ "$status" -eq 0 ] && echo "typecheck, eslint and prettier: clean"
exit "$status"
