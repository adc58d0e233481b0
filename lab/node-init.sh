#!/bin/bash
# Runs as the first process of a lab host, inside its fresh network, mount,
# UTS and PID namespaces (see lab/lab.py). Gives the host its private view of
# the paths a real machine keeps to itself, then becomes the namespace's init.
#
# usage: node-init.sh ROOT HOSTNAME REAPER
#   ROOT      per-host tree mirroring the real paths (ROOT/etc/ssh, ROOT/run, ...)
#   HOSTNAME  the host's name
#   REAPER    path of the init process to exec at the end (lab/reaper.py)
set -euo pipefail

root=$1
name=$2
reaper=$3

# Our mounts must never propagate back to the machine.
mount --make-rprivate /

# Directories, then single files. Files are bind-mounted too, so they must be
# edited in place later (a rename would swap the inode under the mount).
while read -r path; do
    mount --bind "$root$path" "$path"
done < "$root/.private-dirs"
while read -r path; do
    mount --bind "$root$path" "$path"
done < "$root/.private-files"

hostname "$name"
mkdir -p /run/lock /run/sshd
chmod 1777 /run/lock /tmp

# /var/log is shared with the machine; keep the host's sshd log private.
/usr/sbin/sshd -E /run/sshd.log

exec /usr/bin/python3 "$reaper"
