#!/bin/sh
# Installs the Debian packages nedb needs to build and test (as root, with
# apt), or says which are missing.  The list is tools/packages.
set -e
cd "$(dirname "$0")/.."
missing=
for p in $(grep -v '^#' tools/packages); do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
