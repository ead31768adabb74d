#!/usr/bin/env bash
# Rotor's main job on a local AWS emulator, no AWS account needed: start the emulator,
# provision the development stage, then rotate its managed-token secret twice, showing the
# versions and staging labels before and after, and the audit trail the ledger kept.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent build
PORT="${ROTOR_DEMO_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
ENDPOINT="http://127.0.0.1:${PORT}"
SECRET="rotor/development/deploy-token"

node dist/cli/rotor.js local emulator --port "${PORT}" &
EMULATOR=$!
trap 'kill ${EMULATOR} 2>/dev/null; wait ${EMULATOR} 2>/dev/null || true' EXIT
until node -e "fetch('${ENDPOINT}/moto-api/data.json').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; do
  kill -0 "${EMULATOR}" || { echo "the emulator did not start" >&2; exit 1; }
  sleep 0.2
done

rotor() {
  echo
  echo "\$ rotor $*"
  node dist/cli/rotor.js "$@"
}
rotor local up --endpoint "${ENDPOINT}"
rotor versions "${SECRET}" --local --endpoint "${ENDPOINT}" --fingerprints
rotor rotate "${SECRET}" --local --endpoint "${ENDPOINT}"
rotor versions "${SECRET}" --local --endpoint "${ENDPOINT}" --fingerprints
rotor rotate "${SECRET}" --local --endpoint "${ENDPOINT}"
rotor versions "${SECRET}" --local --endpoint "${ENDPOINT}" --fingerprints
rotor audit "${SECRET}" --local --endpoint "${ENDPOINT}"
