#!/usr/bin/env bash
# Builds (once) and starts FerretDB 1.x on 127.0.0.1:27017 with its SQLite backend, for tests and
# the local demo. MongoDB is not packaged on these machines; FerretDB speaks its wire protocol.
#   scripts/ferretdb.sh build   only build the binary
#   scripts/ferretdb.sh start   build if missing, start if nothing listens on the port (default)
set -euo pipefail
VERSION="${VG_FERRETDB_VERSION:-v1.24.2}"
BIN_DIR="${VG_BIN_DIR:-$HOME/.cache/viewgate/bin}"
BIN="$BIN_DIR/ferretdb"
PORT="${VG_FERRETDB_PORT:-27017}"
STATE="${VG_FERRETDB_DIR:-/tmp/vg-ferretdb}"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

build() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"; }
  command -v go >/dev/null || { echo "ferretdb.sh: Go is not installed; it is needed to build FerretDB" >&2; exit 1; }
  mkdir -p "$BIN_DIR"
  echo "ferretdb.sh: building FerretDB $VERSION (about a minute, once)..." >&2
  # `go install module@version` first; the module proxy here refuses the version list that
  # go install reads for deprecation notices, so fall back to download + build, and give the
  # build the version file that FerretDB's own release tooling would generate.
  if GOBIN="$BIN_DIR" go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION" 2>/tmp/vg-ferretdb-install.log; then
    return 0
  fi
  local dir src
  dir=$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -n "$dir" ] || { echo "ferretdb.sh: could not download FerretDB $VERSION" >&2; exit 1; }
  src=$(mktemp -d)
  cp -r "$dir/." "$src"
  chmod -R u+w "$src"
  echo "$VERSION" > "$src/build/version/version.txt"
  (cd "$src" && go build -o "$BIN" ./cmd/ferretdb)
  rm -rf "$src"
}

start() {
  if listening; then return 0; fi
  build
  mkdir -p "$STATE"
  nohup "$BIN" --handler=sqlite --sqlite-url="file:$STATE/" --state-dir="$STATE" \
    --listen-addr="127.0.0.1:$PORT" --telemetry=disable --debug-addr=127.0.0.1:0 \
    >"$STATE/ferretdb.log" 2>&1 &
  for _ in $(seq 1 50); do
    listening && { echo "ferretdb.sh: FerretDB listening on 127.0.0.1:$PORT" >&2; return 0; }
    sleep 0.2
  done
  echo "ferretdb.sh: FerretDB did not start; see $STATE/ferretdb.log" >&2
  tail -5 "$STATE/ferretdb.log" >&2 || true
  exit 1
}

case "${1:-start}" in
  build) build ;;
  start) start ;;
  *) echo "usage: scripts/ferretdb.sh [build|start]" >&2; exit 2 ;;
esac
