#!/bin/bash
# Runs as the first process of a lab host, inside its fresh network, mount,
# UTS and PID namespaces (see lab/lab.py). Gives the host its private view of
# the paths a real machine keeps to itself, then becomes the namespace's init.
#
# It runs at each boot of the host (lab/power.py boots it again after a reboot).
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
mkdir -p /run/lock /run/sshd /run/lab
chmod 1777 /run/lock /tmp

# A boot of its own: a boot id per boot (lab/power.py writes it; Ansible's reboot
# waits for it to change), and shutdown/reboot that reboot this host, never the
# machine (lab/systemctl-shim.sh).
dirname "$root" > /run/lab/host-dir
if [ -f "$root/.boot_id" ]; then
    mount --bind "$root/.boot_id" /proc/sys/kernel/random/boot_id
fi
touch /run/lab/systemctl
mount --bind /usr/bin/systemctl /run/lab/systemctl
mount --bind "$(dirname "$reaper")/systemctl-shim.sh" /usr/bin/systemctl

# What a boot mounts: the file systems this host's fstab gained since the lab
# made it (a copy of the machine's, kept in .machine-fstab).
if [ -f "$root/.machine-fstab" ]; then
    awk 'NR == FNR { if ($1 !~ /^#/ && NF >= 2) machine[$2] = 1; next }
         $1 !~ /^#/ && NF >= 2 && !($2 in machine) && $4 !~ /(^|,)noauto(,|$)/ { print $2 }' \
        "$root/.machine-fstab" /etc/fstab |
        while read -r mountpoint; do
            mountpoint -q "$mountpoint" || mount "$mountpoint" || echo "lab: cannot mount $mountpoint" >&2
        done
fi

# /var/log is shared with the machine; keep the host's sshd log private.
/usr/sbin/sshd -E /run/sshd.log

# The services a boot starts, as Debian's enabled units do, once they are set up:
# glusterd once it has an identity, Ganeti's daemons once the node is in a cluster.
if [ -s /var/lib/glusterd/glusterd.info ]; then
    /usr/sbin/glusterd -p /run/glusterd.pid || echo "lab: glusterd did not start" >&2
fi
if [ -s /var/lib/ganeti/ssconf_cluster_name ]; then
    /usr/lib/ganeti/daemon-util start-all || echo "lab: Ganeti's daemons did not all start" >&2
fi

exec /usr/bin/python3 "$reaper"
