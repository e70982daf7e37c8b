#!/bin/sh
# The native build, run by `npm ci` / `npm install` (package.json "install").
set -eu
cd "$(dirname "$0")"
exec make -j2 all
