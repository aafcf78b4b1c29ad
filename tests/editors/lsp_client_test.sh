#!/usr/bin/env bash
# `okuri lsp` driven by vscode-languageserver-protocol (the client libraries VS Code uses).
#   lsp_client_test.sh OKURI   (needs tests/editors/node_modules: `npm install` there; scripts/test.sh does it)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/node_modules/vscode-languageserver-protocol" ] || ! command -v node >/dev/null; then
  echo "skipped: node and tests/editors/node_modules are needed (scripts/test.sh installs them)" >&2
  exit 125
fi
timeout 120 node "$here/lsp_client.mjs" "$okuri"
