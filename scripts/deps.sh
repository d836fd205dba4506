#!/bin/sh
# Installs the packages hollow needs to build and test, when they are missing.
# As root it runs apt-get; otherwise it prints the command to run.
set -u
# Extra packages a target needs only for itself (valgrind, cppcheck, ...)
# come as arguments: `sh scripts/deps.sh valgrind`.
PKGS="build-essential clang libclang-rt-dev pkg-config liblz4-dev libxxhash-dev libjsmn-dev libcriterion-dev $*"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq $missing >&2 || {
    echo "deps: apt-get failed" >&2; exit 1; }
else
  echo "deps: missing packages:$missing" >&2
  echo "deps: run: sudo apt-get install -y$missing" >&2
  exit 1
fi
