#!/usr/bin/env bash
# Installs every Debian package the build and the tests need (only what is
# missing), then configures and builds Okuri with Ninja into build/.
# Idempotent; works as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config git
  # libraries (libboost-graph-dev brings Boost's headers: also Beast and Asio, the HTTP server)
  tao-pegtl-dev libfmt-dev nlohmann-json3-dev libcli11-dev libicu-dev
  libhowardhinnant-date-dev tzdata libboost-graph-dev libsqlite3-dev
  libxxhash-dev libssl-dev libcpp-httplib-dev llvm-19-dev libzstd-dev
  # bulk input: friends JSONL and event streams are parsed by simdjson
  libsimdjson-dev
  # the HTML report lays its flowcharts out with Graphviz's library
  libgraphviz-dev
  # the PostgreSQL store links libpq
  libpq-dev
  # tests: Catch2, clang with libFuzzer for the fuzz run, curl and openssl for the service tests,
  # Neovim for the editor test (its built-in LSP client against `okuri lsp`)
  catch2 clang-14 libclang-rt-14-dev curl openssl neovim
  # the service tests reach into the database as another process would
  sqlite3
  # the PostgreSQL store's tests start a throwaway cluster
  postgresql-15
  # the report's browser test: Chromium driven headless, and a Japanese font for its screenshot
  chromium fonts-ipafont-gothic
)
# The service tests run LINE's API mock (Prism) and LINE's Node SDK: Node.js and npm,
# from Debian unless the machine has them already.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
    SUDO="sudo"
  fi
  echo "setup: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

BUILD_TYPE="${OKURI_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DOKURI_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)"
