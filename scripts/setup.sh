#!/usr/bin/env bash
# Installs everything Rotor needs on a fresh machine: the npm packages from the lockfile, and
# the local AWS emulator (moto server) and cfn-lint for Python when they are missing, and the
# openssl CLI the TLS tests make their certificate authority with (on every Debian machine).
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund

if ! python3 -c 'import moto.server' 2>/dev/null || ! command -v cfn-lint >/dev/null 2>&1; then
  echo "installing moto[server] and cfn-lint for $(python3 --version)"
  python3 -m pip install --quiet 'moto[server]>=5.2,<6' 'cfn-lint>=1.51,<2'
fi
python3 -c 'import moto; print("moto", moto.__version__)'
cfn-lint --version

if ! command -v openssl >/dev/null 2>&1; then
  echo "installing openssl"
  if [ "$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends openssl; else sudo apt-get install -y --no-install-recommends openssl; fi
fi
openssl version
