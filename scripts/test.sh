#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests, golden files, examples,
# docs examples, the service against LINE's API mock, and a bounded libFuzzer
# run over parse + check.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# The service tests' peers from npm: Prism (LINE's API mocked from its OpenAPI files) and
# LINE's Node SDK. Without them those tests are skipped, and say so.
if [ ! -x tests/serve/node_modules/.bin/prism ] || [ tests/serve/package.json -nt tests/serve/node_modules ]; then
  (cd tests/serve && npm install --no-audit --no-fund --loglevel=error) ||
    echo "test: npm install failed: the service tests will be skipped" >&2
fi

# The VS Code extension's client library and its grammar test runner (vscode-tmgrammar-test).
# Without them the grammar tests are skipped, and say so.
if [ ! -x editors/vscode/node_modules/.bin/vscode-tmgrammar-test ] || [ editors/vscode/package.json -nt editors/vscode/node_modules ]; then
  (cd editors/vscode && npm install --no-audit --no-fund --loglevel=error) ||
    echo "test: npm install failed in editors/vscode: the grammar tests will be skipped" >&2
fi

# The language server's client test: vscode-languageserver-protocol, as VS Code's client uses it.
if [ ! -d tests/editors/node_modules/vscode-languageserver-protocol ] || [ tests/editors/package.json -nt tests/editors/node_modules ]; then
  (cd tests/editors && npm install --no-audit --no-fund --loglevel=error) ||
    echo "test: npm install failed in tests/editors: the language server's client test will be skipped" >&2
fi

# The report's browser test: puppeteer-core drives Debian's Chromium (no browser is downloaded).
if [ ! -d tests/report/node_modules/puppeteer-core ] || [ tests/report/package.json -nt tests/report/node_modules ]; then
  (cd tests/report && npm install --no-audit --no-fund --loglevel=error) ||
    echo "test: npm install failed in tests/report: the report's browser test will be skipped" >&2
fi

# The fuzz target needs clang and its own build folder.
FUZZ_SECONDS="${OKURI_FUZZ_SECONDS:-30}"
if [ "$FUZZ_SECONDS" != "0" ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOKURI_FUZZ=ON -DOKURI_WERROR=OFF >/dev/null
  cmake --build build-fuzz -j "$(nproc)" --target okuri_fuzz_check okuri_fuzz_inputs
fi

cd build
ctest --output-on-failure -j "$(nproc)" "$@"
