#!/usr/bin/env bash
# Installs the Debian packages the lab hosts run (they share the machine's /usr,
# so once per machine is enough) and what scripts/setup needs. Used by the
# README quickstart and the tests (scripts/setup), and so by .ci/run.
set -euo pipefail

packages=(
    glusterfs-server glusterfs-client
    ganeti
    qemu-utils qemu-block-extra
    openssh-server openssh-client
    xfsprogs iproute2 attr util-linux
    python3 python3-apt
    python3-venv                # the project's own virtualenv (scripts/setup)
    socat
    shellcheck                  # ansible-test sanity's shellcheck test (scripts/test)
)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "lab packages: all installed"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Keep the machine's own services down: the lab starts daemons inside its hosts.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "lab packages: installed ${missing[*]}"
