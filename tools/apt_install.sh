#!/usr/bin/env bash
# Installs the Debian packages among the arguments that are not installed yet (non-interactive,
# sudo when not root); does nothing when all are there. Used by ./setup.sh and tools/cross/aarch64.sh.
#   tools/apt_install.sh WHO PACKAGE...     # WHO prefixes the one line it prints
set -euo pipefail
who=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "$who: installing ${#missing[@]} Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
