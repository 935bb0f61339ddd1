#!/usr/bin/env bash
# Builds (once) and starts FerretDB 1.x on 127.0.0.1:27017 with its SQLite backend, for tests and
# the local demo. MongoDB is not packaged on these machines; FerretDB speaks its wire protocol.
#   scripts/ferretdb.sh build   build the binary unless a cached one runs
#   scripts/ferretdb.sh start   build if needed, start if nothing listens on the port (default)
# Environment: VG_BIN_DIR (binary cache, default ~/.cache/viewgate/bin), VG_FERRETDB_PORT,
# VG_FERRETDB_DIR (state), VG_FERRETDB_VERSION.
set -euo pipefail
VERSION="${VG_FERRETDB_VERSION:-v1.24.2}"
BIN_DIR="${VG_BIN_DIR:-$HOME/.cache/viewgate/bin}"
BIN="$BIN_DIR/ferretdb"
PORT="${VG_FERRETDB_PORT:-27017}"
STATE="${VG_FERRETDB_DIR:-/tmp/vg-ferretdb}"

say() { echo "ferretdb.sh: $*" >&2; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
# A binary counts only when it runs: `go install` of this module builds one with an empty version
# file that panics at start, and a cache may hold such a binary from an earlier attempt.
runs() { [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; }

build() {
  if runs; then return 0; fi
  if [ -e "$BIN" ]; then say "the cached $BIN does not run; rebuilding it"; rm -f "$BIN"; fi
  command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"; }
  command -v go >/dev/null || { say "Go is not installed; it is needed to build FerretDB (apt-get install golang-go, or put Go on PATH)"; exit 1; }
  mkdir -p "$BIN_DIR"
  say "building FerretDB $VERSION (about a minute, once)..."
  # Always from the downloaded module, with the version file FerretDB's release tooling would write:
  # never `go install module@version` (see above).
  local dir src
  dir=$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -n "$dir" ] || { say "could not download FerretDB $VERSION from the Go module proxy"; exit 1; }
  src=$(mktemp -d)
  cp -r "$dir/." "$src"
  chmod -R u+w "$src"
  echo "$VERSION" > "$src/build/version/version.txt"
  if ! (cd "$src" && go build -o "$BIN.tmp" ./cmd/ferretdb); then rm -rf "$src"; say "go build of FerretDB failed"; exit 1; fi
  rm -rf "$src"
  mv "$BIN.tmp" "$BIN"
  runs || { say "the FerretDB binary built at $BIN does not run: $("$BIN" --version 2>&1 | head -n 3)"; exit 1; }
  say "built $("$BIN" --version 2>&1 | grep -i -m1 version || echo "$VERSION")"
}

start() {
  if listening; then return 0; fi
  build
  mkdir -p "$STATE"
  nohup "$BIN" --handler=sqlite --sqlite-url="file:$STATE/" --state-dir="$STATE" \
    --listen-addr="127.0.0.1:$PORT" --telemetry=disable --debug-addr=127.0.0.1:0 \
    >"$STATE/ferretdb.log" 2>&1 &
  echo $! >"$STATE/ferretdb.pid"
  for _ in $(seq 1 100); do
    listening && { say "FerretDB listening on 127.0.0.1:$PORT"; return 0; }
    sleep 0.2
  done
  say "FerretDB did not start; see $STATE/ferretdb.log"
  tail -5 "$STATE/ferretdb.log" >&2 || true
  exit 1
}

case "${1:-start}" in
  build) build ;;
  start) start ;;
  *) echo "usage: scripts/ferretdb.sh [build|start]" >&2; exit 2 ;;
esac
