#!/usr/bin/env bash
# Neovim (headless, from Debian) with the documented configuration (editors/nvim/okuri.lua)
# opens a project whose mistake comes after Japanese text on its line: the diagnostic must
# carry the code of `okuri check` and sit at the right column, and completion after `send`
# must offer the project's messages.
#   nvim_test.sh OKURI
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v nvim >/dev/null; then
  echo "skipped: nvim is not installed (scripts/setup.sh installs it)" >&2
  exit 125
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project"
# Line 5: the unknown message `予約案内x` follows Japanese text on its line.
cat >"$work/project/main.okuri" <<'OKURI'
message 予約案内 text "ご予約はこちら"
message 感謝 text "ありがとうございます"

on message_received when contains(event.text, "予約") { reply 予約案内x }
on message_received when contains(event.text, "ありがとう") { reply 感謝 }
scenario 入門 {
  start on friend_added
  send 感謝
}
OKURI
cat >"$work/init.lua" <<LUA
vim.opt.runtimepath:prepend('$here/../../editors/nvim')
package.path = '$here/../../editors/nvim/?.lua;' .. package.path
require('okuri').setup({ cmd = { '$okuri', 'lsp' } })
LUA
OKURI_NVIM_OUT="$work/out.txt" OKURI_NVIM_COMPLETE_LINE=8 \
  timeout 60 nvim --headless -n -u "$work/init.lua" "$work/project/main.okuri" \
  -c "luafile $here/nvim/check_diagnostic.lua" >"$work/nvim.log" 2>&1
status=$?
if [ $status -ne 0 ] || [ ! -s "$work/out.txt" ]; then
  echo "FAIL: nvim exited with $status" >&2
  cat "$work/nvim.log" >&2
  exit 1
fi
# The byte column of `予約案内x` on line 4, as Neovim counts it; and what `okuri check` says.
line4="$(sed -n 4p "$work/project/main.okuri")"
prefix="${line4%%予約案内x*}"
want_col="$(printf '%s' "$prefix" | wc -c)"
want="E002 4 $want_col"
check_line="$("$okuri" check "$work/project" 2>&1 | grep -F "[E002]")"
fail=0
if ! grep -qx "$want" "$work/out.txt"; then
  echo "FAIL: wanted the diagnostic \`$want\`, Neovim has:" >&2
  cat "$work/out.txt" >&2
  fail=1
fi
case "$check_line" in
  *":4:"*"[E002]"*) ;;
  *) echo "FAIL: okuri check does not agree: $check_line" >&2; fail=1 ;;
esac
if ! grep -q "^completion .*予約案内.*感謝\|^completion .*感謝.*予約案内" "$work/out.txt"; then
  echo "FAIL: completion after \`send\` lacks the messages:" >&2
  grep "^completion" "$work/out.txt" >&2
  fail=1
fi
[ $fail -eq 0 ] && echo "neovim: diagnostic $want; $(grep -c . "$work/out.txt") lines checked"
exit $fail
