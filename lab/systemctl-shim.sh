#!/bin/bash
# Bound over /usr/bin/systemctl inside each lab host by node-init.sh; shutdown and
# reboot are links to it, and a lab host must never reach the machine's init.
# `shutdown -r`, `reboot` and `systemctl reboot` ask the host's power supply
# (lab/power.py) for a reboot, then end the host as a power cut does: link down,
# then its init, which ends every process of its PID namespace. Other power
# requests are refused (`lab poweroff` turns a host off); anything else is the
# real systemctl's (bound at /run/lab/systemctl).
set -euo pipefail

command=$(basename "$0")
wanted=
case "$command" in
    reboot) wanted=reboot ;;
    shutdown)
        wanted=off
        for arg in "$@"; do
            if [ "$arg" = -r ] || [ "$arg" = --reboot ]; then wanted=reboot; fi
        done
        ;;
    halt | poweroff) wanted=off ;;
    *)
        case "${1:-}" in
            reboot) wanted=reboot ;;
            halt | poweroff | kexec | soft-reboot) wanted=off ;;
            *) exec -a "$0" /run/lab/systemctl "$@" ;;
        esac
        ;;
esac
if [ "$wanted" != reboot ]; then
    echo "lab: only a reboot is done from inside a host; 'lab poweroff HOST' turns one off" >&2
    exit 1
fi
echo reboot > "$(cat /run/lab/host-dir)/power-request"
echo "lab: $(hostname) reboots now"
# Detached, so that the caller (ssh, Ansible) gets this command's status first.
setsid bash -c 'sleep 1; ip link set eth0 down; kill -TERM 1' </dev/null >/dev/null 2>&1 &
