#!/usr/bin/env bash
# The layers of docs/design/layers.md, checked on the sources: each library includes only the
# layers below it, and each heavy dependency stays in the one place it belongs. A new include
# that reaches around a layer fails here, naming the file and the line.
#   layers.sh SOURCE_DIR
set -uo pipefail
cd "$1" || exit 2
fail=0
# forbid DIR REGEX WHY: no file under DIR may include what REGEX matches.
forbid() {
  local hits
  hits="$(grep -rnE "^#include [\"<]($2)" "$1" --include='*.cpp' --include='*.hpp' --include='*.def' 2>/dev/null)"
  if [ -n "$hits" ]; then
    echo "$hits" | sed "s|\$| ← $3|" >&2
    fail=1
  fi
}
forbid stdlib 'grammar/|compiler/|runtime/|service/|lsp/|cli/' "stdlib is the bottom layer"
forbid grammar 'compiler/|runtime/|service/|lsp/|cli/' "the grammar knows only the standard library"
forbid compiler 'runtime/|service/|lsp/|cli/' "the compiler does not know who runs its output"
forbid runtime 'service/|lsp/|cli/' "the runtime does not know the service or the tools"
forbid service 'lsp/|cli/' "the service does not know the command line or the editor"
forbid lsp 'runtime/|service/|cli/' "the language server reads the compiler only"
# Heavy dependencies, each confined to one place.
for dir in stdlib compiler runtime service lsp cli; do forbid "$dir" 'tao/pegtl' "PEGTL is confined to grammar/ (one translation unit)"; done
for dir in stdlib grammar compiler service lsp cli; do forbid "$dir" 'llvm/' "LLVM is confined to runtime/jit/"; done
for f in $(grep -rlE '^#include [<"]llvm/' runtime --include='*.cpp' --include='*.hpp'); do
  case "$f" in runtime/jit/*) ;; *) echo "$f ← LLVM is confined to runtime/jit/" >&2; fail=1 ;; esac
done
for dir in stdlib grammar compiler runtime lsp cli; do forbid "$dir" 'httplib.h' "cpp-httplib is confined to service/"; done
for f in $(grep -rlE '^#include [<"]boost/(beast|asio)' ./stdlib ./grammar ./compiler ./runtime ./service ./lsp ./cli ./report --include='*.cpp' --include='*.hpp'); do
  case "$f" in ./service/http_server.cpp) ;; *) echo "$f ← Boost.Beast and Asio are confined to service/http_server.cpp" >&2; fail=1 ;; esac
done
for f in $(grep -rlE '^#include [<"]libpq-fe.h' ./stdlib ./grammar ./compiler ./runtime ./service ./lsp ./cli ./report ./bench --include='*.cpp' --include='*.hpp'); do
  case "$f" in ./service/pg_connection.hpp | ./bench/*) ;; *) echo "$f ← libpq is confined to service/pg_connection.hpp (and the benchmark's bare loop)" >&2; fail=1 ;; esac
done
for dir in stdlib grammar compiler runtime service; do forbid "$dir" 'lsp/' "only the command line starts the language server"; done
# The language server's features and scheduler never see JSON: only its protocol layer and server do.
for f in $(grep -rlE '^#include [<"]nlohmann/' lsp --include='*.cpp' --include='*.hpp'); do
  case "$f" in lsp/protocol.* | lsp/server.* | lsp/transport.* | lsp/json_*) ;; *) echo "$f ← the language server's features never see JSON" >&2; fail=1 ;; esac
done
# PEGTL in exactly one translation unit.
units="$(grep -rlE '^#include [<"](tao/pegtl|grammar/rules.hpp)' grammar --include='*.cpp' | wc -l)"
[ "$units" -eq 1 ] || { echo "PEGTL is compiled in $units translation units of grammar/, not one" >&2; fail=1; }
[ $fail -eq 0 ] && echo "layers: every include stays within its layer"
exit $fail
