#!/usr/bin/env bash
# `npm test`: the static checks (typecheck, eslint, prettier) and jest side by side. Jest's
# integration tests spend much of their time waiting on the emulator, so the checks fit in the
# cores it leaves idle; the checks' report follows jest's, and either failing fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."

checks_log=$(mktemp)
trap 'rm -f "$checks_log"' EXIT
bash scripts/static-checks.sh >"$checks_log" 2>&1 &
checks=$!

node_modules/.bin/jest "$@"
jest_status=$?

wait "$checks"
checks_status=$?
cat "$checks_log"
[ "$jest_status" -eq 0 ] && [ "$checks_status" -eq 0 ]
