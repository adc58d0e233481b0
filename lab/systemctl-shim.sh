#!/bin/bash
# Bound over /usr/bin/systemctl inside each lab host by node-init.sh; shutdown and
# reboot are links to it, and a lab host must never reach the machine's init.
# `shutdown -r`, `reboot` and `systemctl reboot` ask the host's power supply
# (lab/power.py) for a reboot: it resets the host from outside, as a reset
# button does (link down, then its init, which ends every process). Other power
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
# The host's power supply (outside the host) resets it a moment later.
echo reboot > "$(cat /run/lab/host-dir)/power-request"
echo "lab: $(hostname) reboots now"
