#!/usr/bin/env bash
# The checks `npm test` runs before jest: typecheck, eslint and prettier. Each is single-threaded,
# so they run side by side; the output of a check is shown only when it fails.
set -uo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node_modules/.bin/tsc --noEmit -p . >"$out/typecheck" 2>&1 &
typecheck=$!
node_modules/.bin/eslint . >"$out/eslint" 2>&1 &
eslint=$!
node_modules/.bin/prettier --check . >"$out/prettier" 2>&1 &
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
