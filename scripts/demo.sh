#!/usr/bin/env bash
# One command for the reference scenario: start the local stores, build, load the demo data and serve.
# Extra arguments go to `viewgate demo` (--port N, --host H, --load-only).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
bash scripts/services.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/cli.js ] && [ -z "$(find src -newer dist/cli.js -name '*.ts' | head -n1)" ] || npm run build --silent
exec node bin/viewgate.js demo --config examples/reference/viewgate.yaml "$@"    # e.g. npm run demo -- --port 9090
