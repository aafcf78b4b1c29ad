#!/usr/bin/env bash
# The command line as a user meets it: help, exit statuses, machine formats.
set -uo pipefail
okuri="$1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
fail=0
expect() {  # expect STATUS DESCRIPTION -- COMMAND...
  local want="$1" what="$2"
  shift 3
  "$@" >/tmp/okuri-cli-out.$$ 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, wanted $want" >&2
    cat /tmp/okuri-cli-out.$$ >&2
    fail=1
  fi
}
contains() {  # contains TEXT DESCRIPTION
  if ! grep -qF -- "$1" /tmp/okuri-cli-out.$$; then
    echo "FAIL: $2: output lacks '$1'" >&2
    cat /tmp/okuri-cli-out.$$ >&2
    fail=1
  fi
}
expect 0 "okuri --help" -- "$okuri" --help
contains "check" "top help lists check"
expect 0 "okuri check --help" -- "$okuri" check --help
contains "--format" "check help lists --format"
contains "--werror" "check help lists --werror"
expect 2 "unknown command" -- "$okuri" frobnicate
expect 2 "bad format" -- "$okuri" check --format xml tests/golden/E002/unknown_tag.okuri
expect 2 "missing path" -- "$okuri" check does/not/exist
contains "no such file or folder: does/not/exist" "missing path message"
expect 1 "errors exit 1" -- "$okuri" check tests/golden/E002/unknown_tag.okuri
expect 0 "warnings exit 0" -- "$okuri" check tests/golden/W104/unused_tag.okuri
expect 1 "--werror turns warnings into failure" -- "$okuri" check --werror tests/golden/W104/unused_tag.okuri
expect 1 "json" -- "$okuri" check --format json tests/golden/E002/unknown_tag.okuri
contains '"end_column"' "json has end_column"
expect 1 "sarif" -- "$okuri" check --format sarif tests/golden/E002/unknown_tag.okuri
contains '"version": "2.1.0"' "sarif version"
contains '"ruleId": "E002"' "sarif rule"
for sub in check fmt graph diff; do
  expect 0 "okuri $sub --help" -- "$okuri" "$sub" --help
  contains "Usage" "$sub help has a usage line"
done
expect 0 "graph" -- "$okuri" graph tests/golden/graph/one_scenario.okuri
contains "flowchart TD" "mermaid output"
expect 2 "graph of an unknown scenario" -- "$okuri" graph tests/golden/graph/one_scenario.okuri --scenario nope
contains "no scenario or broadcast named \`nope\`" "unknown scenario message"
expect 1 "graph of a broken project" -- "$okuri" graph tests/golden/E002/unknown_tag.okuri
expect 0 "fmt of stdin" -- bash -c "printf 'tag   a\n' | '$okuri' fmt -"
contains "tag a" "fmt stdin output"
expect 2 "diff of a missing version" -- "$okuri" diff does-not-exist tests/golden/diff/continue/new
# diff between two git revisions of one project
repo_dir="$(mktemp -d)"
(cd "$repo_dir" && git init -q && git config user.email t@example.com && git config user.name t &&
  printf 'message a text "A"\nscenario s {\n  start on friend_added\n  wait 1d\n  send a\n}\n' > main.okuri &&
  git add main.okuri && git commit -qm one &&
  printf 'message a text "A"\nscenario s {\n  start on friend_added\n  wait 2d\n  send a\n}\n' > main.okuri &&
  git commit -qam two)
expect 0 "diff of git revisions" -- "$okuri" diff HEAD~1 HEAD --project "$repo_dir"
contains "~ s/1  wait 1d → wait 2d" "diff names the changed step"
rm -rf "$repo_dir"
rm -f /tmp/okuri-cli-out.$$
[ $fail -eq 0 ] && echo "cli: all passed"
exit $fail
