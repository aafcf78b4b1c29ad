#!/usr/bin/env bash
# The VS Code extension's TextMate grammar against its tests (editors/vscode/tests/*.okuri,
# in vscode-tmgrammar-test's format: `#   ^^^^ scope` lines under the source lines).
#   grammar_test.sh        (needs editors/vscode/node_modules: `npm install` there; scripts/test.sh does it)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ext="$here/../../editors/vscode"
if [ ! -x "$ext/node_modules/.bin/vscode-tmgrammar-test" ] || ! command -v node >/dev/null; then
  echo "skipped: node and editors/vscode/node_modules are needed (scripts/test.sh installs them)" >&2
  exit 125
fi
cd "$ext" || exit 1
# The grammar must be valid JSON before anything else.
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' syntaxes/okuri.tmLanguage.json || {
  echo "FAIL: syntaxes/okuri.tmLanguage.json is not valid JSON" >&2
  exit 1
}
node_modules/.bin/vscode-tmgrammar-test --grammar syntaxes/okuri.tmLanguage.json 'tests/*.okuri'
