#!/usr/bin/env bash
# Checks every ```okuri block of a Markdown file as a project of its own: it
# must compile without errors (warnings are allowed: a snippet may declare
# things it does not use). Blocks fenced as ```okuri-error are skipped.
set -uo pipefail
okuri="$1"
doc="$2"
[ -f "$doc" ] || { echo "no such file: $doc" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
awk -v dir="$work" '
  /^```okuri[ ]*$/ { n++; inblock=1; file=sprintf("%s/block%03d/main.okuri", dir, n); system("mkdir -p " dir "/" sprintf("block%03d", n)); start=NR; print "# from line " NR > file; next }
  /^```/ && inblock { inblock=0; close(file); next }
  inblock { print > file }
' "$doc"
count=0
failed=0
for d in "$work"/block*; do
  [ -d "$d" ] || continue
  count=$((count + 1))
  if ! out="$(NO_COLOR=1 "$okuri" check "$d" 2>&1)"; then
    echo "block $(head -1 "$d/main.okuri") of $doc does not check:" >&2
    echo "$out" >&2
    failed=$((failed + 1))
  fi
done
echo "$count blocks checked, $failed failed"
[ "$failed" -eq 0 ]
