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
# check --fix rewrites full-width characters typed for ASCII, then reports what is left.
fixdir="$(mktemp -d)"
printf 'tag 予約中\nmessage m text "（本日）"\nsegment s = tagged（予約中）\nscenario a {\n　start when s\n  wait ３ｄ\n  send m\n}\n' > "$fixdir/main.okuri"
expect 1 "check without --fix reports full-width characters" -- "$okuri" check "$fixdir"
contains "full-width parenthesis \`（\` (U+FF08): write \`(\`" "the full-width parenthesis is named"
expect 0 "check --fix" -- "$okuri" check --fix "$fixdir"
contains "fixed $fixdir/main.okuri (3 fixes)" "check --fix says what it rewrote"
if ! grep -qF 'segment s = tagged(予約中)' "$fixdir/main.okuri" || ! grep -qF '  wait 3d' "$fixdir/main.okuri" ||
  ! grep -qF '  start when s' "$fixdir/main.okuri" || ! grep -qF '"（本日）"' "$fixdir/main.okuri"; then
  echo "FAIL: check --fix did not rewrite the file as expected (texts keep their full-width characters)" >&2
  cat "$fixdir/main.okuri" >&2
  fail=1
fi
rm -rf "$fixdir"
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
# Changes outside step bodies show between revisions too: a broadcast's time and a segment's threshold.
(cd "$repo_dir" &&
  printf 'message a text "A"\nsegment hot = score >= 10\nbroadcast b at 2026-12-01 10:00 to hot { send a }\n' > main.okuri &&
  git commit -qam three &&
  printf 'message a text "A"\nsegment hot = score >= 5\nbroadcast b at 2026-12-02 10:00 to hot { send a }\n' > main.okuri &&
  git commit -qam four)
expect 0 "diff of git revisions outside steps" -- "$okuri" diff HEAD~1 HEAD --project "$repo_dir"
contains "~ at: 2026-12-01 10:00 → 2026-12-02 10:00" "diff names the broadcast's new time"
contains "+ segment hot = score >= 5" "diff names the segment's new threshold"
rm -rf "$repo_dir"
# segment count after a project change, with the JIT's object cache warm from the old version: this
# change moves the audience's column (one more tag in front, one named score fewer behind) while the
# condition and the other offsets stay the same, so only a cache keyed by the whole layout tells them apart.
seg_dir="$(mktemp -d)"
printf 'id,audiences\nU1,vip\nU2,\nU3,vip\n' >"$seg_dir/friends.csv"
mkdir -p "$seg_dir/p"
printf 'tag t1\naudience vip\nscore s1\nsegment members = in_audience(vip)\n' >"$seg_dir/p/main.okuri"
expect 0 "segment count (cold cache)" -- "$okuri" segment count "$seg_dir/p" members --friends "$seg_dir/friends.csv" --engine jit \
  --cache-dir "$seg_dir/cache" --format json
contains '"count": 2' "segment count before the change"
printf 'tag t1, t2\naudience vip\nsegment members = in_audience(vip)\n' >"$seg_dir/p/main.okuri"
expect 0 "segment count after the change (warm cache)" -- "$okuri" segment count "$seg_dir/p" members --friends "$seg_dir/friends.csv" \
  --engine jit --cache-dir "$seg_dir/cache" --format json
contains '"count": 2' "segment count after the change, with the old version's code cached"
rm -rf "$seg_dir"
# The JIT is a module loaded beside the program when a command compiles conditions: the program
# does not link LLVM (every command's start would pay for it), and a module that cannot be
# loaded is named, with the interpreter as the way on.
if [ -e "$(dirname "$okuri")/libokuri_jit.so" ]; then
  if ldd "$okuri" | grep -q libLLVM; then
    echo "FAIL: okuri links LLVM itself; only its JIT module should" >&2
    fail=1
  fi
  music=(simulate examples/music_school --events examples/music_school/events.jsonl)
  expect 2 "--engine jit without its module" -- env OKURI_JIT_MODULE=/nonexistent/libokuri_jit.so "$okuri" "${music[@]}" --engine jit
  contains "the JIT module could not be loaded" "the missing module is named"
  contains "use --engine interp" "the way on is given"
  expect 0 "the default engine without the JIT's module" -- env OKURI_JIT_MODULE=/nonexistent/libokuri_jit.so "$okuri" "${music[@]}"
  contains "conditions run on the interpreter" "the fallback is said"
  expect 0 "the JIT's module loaded" -- "$okuri" "${music[@]}" --engine jit
fi
# The examples of docs/input-formats.md load and play: its project, its friends (CSV and
# JSONL, the same friends) and its events.
salon="$(mktemp -d)"
awk -v dir="$salon" '
  /^```okuri$/ { out = dir "/main.okuri"; next }
  /^```csv$/ { out = dir "/friends.csv"; next }
  /^```jsonl$/ { jsonl++; out = dir "/" (jsonl == 1 ? "events.jsonl" : "friends.jsonl"); next }
  /^```/ { out = ""; next }
  out != "" { print > out }
' docs/input-formats.md
expect 0 "input-formats: the project checks" -- "$okuri" check "$salon"
expect 0 "input-formats: simulate with CSV friends" -- "$okuri" simulate "$salon" --friends "$salon/friends.csv" --events "$salon/events.jsonl"
contains '"messages":["thanks"]' "the visited event plays"
"$okuri" simulate "$salon" --friends "$salon/friends.jsonl" --events "$salon/events.jsonl" >/tmp/okuri-jsonl-friends.$$ 2>&1
if ! cmp -s /tmp/okuri-cli-out.$$ /tmp/okuri-jsonl-friends.$$; then
  echo "FAIL: the JSONL friends of input-formats.md do not give what the CSV friends give" >&2; fail=1
fi
rm -f /tmp/okuri-jsonl-friends.$$
expect 0 "input-formats: the newsletter default" -- "$okuri" segment count "$salon" --where 'newsletter and visits >= 0' --friends "$salon/friends.csv"
contains "2 of 3 friends" "an empty newsletter cell takes the default true"
# A mistake in --where shows the condition as written; a misspelt event type gets a did-you-mean.
expect 1 "segment count with a misspelt name in --where" -- "$okuri" segment count "$salon" --where 'visitz >= 1' --friends "$salon/friends.csv"
contains "did you mean \`visits\`?" "the --where mistake has its did-you-mean"
if grep -q "__where__" /tmp/okuri-cli-out.$$; then echo "FAIL: a --where error shows an internal name" >&2; fail=1; fi
printf '{"time":"2026-05-01T10:00:00+09:00","friend":"U1","type":"visted"}\n' >"$salon/typo.jsonl"
expect 0 "simulate with a misspelt event type" -- "$okuri" simulate "$salon" --events "$salon/typo.jsonl"
contains "event type \`visted\` is not declared in the project (did you mean \`visited\`?)" "the event type's did-you-mean"
rm -rf "$salon"
# simulate, test, explain
ms=examples/music_school
for sub in simulate test explain serve; do
  expect 0 "okuri $sub --help" -- "$okuri" "$sub" --help
  contains "Usage" "$sub help has a usage line"
done
# The help names the fields the output has: a deferred delivery carries logical_time and deferred_by.
expect 0 "simulate --help" -- "$okuri" simulate --help
contains "logical_time" "simulate help names logical_time"
if grep -q "sent_at" /tmp/okuri-cli-out.$$; then echo "FAIL: simulate help names sent_at, which the output does not have" >&2; fail=1; fi
expect 0 "simulate with a deferred delivery" -- "$okuri" simulate "$ms" --events "$ms/events.jsonl"
contains '"logical_time"' "a deferred delivery carries logical_time"
contains '"deferred_by"' "a deferred delivery carries deferred_by"
expect 2 "simulate without events" -- "$okuri" simulate "$ms"
contains "--events" "simulate names the missing option"
printf '{"time":"2026-03-02T12:00:00+09:00","friend":"U1","type":"friend_added"}\n{"time":"yesterday","friend":"U1","type":"friend_added"}\n' > /tmp/okuri-bad-events.$$.jsonl
expect 2 "simulate with a malformed event" -- "$okuri" simulate "$ms" --events /tmp/okuri-bad-events.$$.jsonl
contains "okuri-bad-events.$$.jsonl:2" "malformed event names file:line"
contains "time" "malformed event names the field"
expect 0 "simulate" -- "$okuri" simulate "$ms" --events "$ms/events.jsonl" --report /tmp/okuri-report.$$.json
contains '"kind":"reply"' "deliveries are JSON lines"
if ! grep -q '"monthly_allowance": 5000' /tmp/okuri-report.$$.json; then echo "FAIL: --report JSON lacks the plan allowance" >&2; fail=1; fi
expect 2 "simulate with a bad --to" -- "$okuri" simulate "$ms" --events "$ms/events.jsonl" --to soon
expect 0 "test passes" -- "$okuri" test "$ms"
contains "3 passed, 0 failed" "test summary line"
expect 1 "test fails" -- "$okuri" test tests/golden/test/failing.okuri
contains "1 passed, 1 failed" "failing summary line"
expect 2 "explain an unknown friend" -- "$okuri" explain "$ms" --events "$ms/events.jsonl" --friend Unobody
contains "no friend \`Unobody\`" "unknown friend message"
# preview: the rendered LINE message objects and the texts, for a friend of a file or for nobody known
expect 0 "okuri preview --help" -- "$okuri" preview --help
contains "Usage" "preview help has a usage line"
expect 0 "preview without a friend shows the fallbacks" -- "$okuri" preview "$ms" welcome
contains '"type": "text"' "preview prints LINE message objects"
contains "お客さま、ひびき音楽教室です" "preview renders the fallback"
printf 'id,display_name\nU9,佐藤\n' >/tmp/okuri-preview-friends.$$.csv
expect 0 "preview for a friend of a file" -- "$okuri" preview "$ms" welcome --friends /tmp/okuri-preview-friends.$$.csv --friend U9 --format text
contains "佐藤さま、ひびき音楽教室です" "preview fills the friend's display name"
expect 2 "preview of an unknown message" -- "$okuri" preview "$ms" nope
contains "no message \`nope\`" "unknown message named"
expect 2 "preview of an unknown friend" -- "$okuri" preview "$ms" welcome --friends /tmp/okuri-preview-friends.$$.csv --friend U8
rm -f /tmp/okuri-preview-friends.$$.csv
# simulate --render gives the same texts as explain shows
expect 0 "simulate --render" -- "$okuri" simulate "$ms" --events "$ms/events.jsonl" --render
contains '"rendered":[{"text":"お客さま、ひびき音楽教室です' "simulate --render adds the rendered messages"
# Two runs give byte-identical output.
"$okuri" simulate "$ms" --events "$ms/events.jsonl" --trace >/tmp/okuri-run1.$$ 2>&1
"$okuri" simulate "$ms" --events "$ms/events.jsonl" --trace >/tmp/okuri-run2.$$ 2>&1
if ! cmp -s /tmp/okuri-run1.$$ /tmp/okuri-run2.$$; then echo "FAIL: two simulations differ" >&2; fail=1; fi
rm -f /tmp/okuri-bad-events.$$.jsonl /tmp/okuri-report.$$.json /tmp/okuri-run1.$$ /tmp/okuri-run2.$$
# Hostile inputs: a symbolic link that loops in a project, JSON nested 100,000 deep.
loop_dir="/tmp/okuri-loop.$$"
mkdir -p "$loop_dir" && printf 'tag x\n' >"$loop_dir/a.okuri" && ln -s b.okuri "$loop_dir/b.okuri"
expect 0 "a looping symbolic link in a project is skipped" -- "$okuri" check "$loop_dir"
expect 0 "okuri fmt over it too" -- "$okuri" fmt --check "$loop_dir"
printf 'tag   y\n' >"$loop_dir/real.okuri.txt" && ln -s real.okuri.txt "$loop_dir/linked.okuri"
expect 0 "okuri fmt rewrites the file a symbolic link points to" -- "$okuri" fmt "$loop_dir/linked.okuri"
if [ ! -L "$loop_dir/linked.okuri" ] || [ "$(cat "$loop_dir/real.okuri.txt")" != "tag y" ]; then
  echo "FAIL: okuri fmt replaced the symbolic link instead of the file it points to" >&2
  fail=1
fi
rm -rf "$loop_dir"
deep_events="/tmp/okuri-deep.$$.jsonl"
head -c 100000 /dev/zero | tr '\0' '[' | { printf '{"time":"2026-03-02T12:00:00+09:00","friend":"U1","type":'; cat; printf '\n'; } >"$deep_events"
expect 2 "events nested 100,000 deep are refused, not a crash" -- "$okuri" simulate "$ms" --events "$deep_events"
contains "nested deeper than 256 levels" "the nesting is named"
printf '{"time":"2026-03-02T12:00:00+09:00","friend":"U1","type":"friend_added","x":1e4444}\n' >"$deep_events"
expect 2 "a number out of range is an error, not a crash" -- "$okuri" simulate "$ms" --events "$deep_events"
contains "number overflow" "the overflow is named"
rm -f "$deep_events"
# Progress: a line on stderr when it is a terminal (script(1) gives one), never into a file or a
# pipe, and not under --quiet. OKURI_PROGRESS_AFTER=0 shows it at once, even on a short run.
tty_out="/tmp/okuri-tty.$$"
OKURI_PROGRESS_AFTER=0 script -qec "$okuri simulate $ms --events $ms/events.jsonl --report /dev/null >/dev/null" "$tty_out" >/dev/null 2>&1
if ! grep -q "events · .*/s" "$tty_out"; then
  echo "FAIL: simulate shows no progress on a terminal" >&2
  fail=1
fi
OKURI_PROGRESS_AFTER=0 script -qec "$okuri simulate $ms --events $ms/events.jsonl --report /dev/null --quiet >/dev/null" "$tty_out" >/dev/null 2>&1
if grep -q "events · .*/s" "$tty_out"; then
  echo "FAIL: simulate --quiet shows progress" >&2
  fail=1
fi
OKURI_PROGRESS_AFTER=0 "$okuri" simulate "$ms" --events "$ms/events.jsonl" --report /dev/null >/dev/null 2>"$tty_out"
if grep -q $'\r' "$tty_out"; then
  echo "FAIL: simulate writes progress into a file" >&2
  fail=1
fi
printf 'id,age\nU1,30\nU2,20\n' >"$tty_out.csv"
OKURI_PROGRESS_AFTER=0 script -qec "$okuri segment count $ms --where 'age > 20' --friends $tty_out.csv >/dev/null" "$tty_out" >/dev/null 2>&1
if ! grep -q "loading" "$tty_out"; then
  echo "FAIL: segment count shows no progress on a terminal while loading" >&2
  fail=1
fi
rm -f "$tty_out" "$tty_out.csv"
rm -f /tmp/okuri-cli-out.$$
[ $fail -eq 0 ] && echo "cli: all passed"
exit $fail
