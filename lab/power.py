"""A lab host's power supply: boots the host, and boots it again when asked to.

Runs in the host's network namespace (`ip netns exec`), outside its PID
namespace, for as long as the host has power. Each boot is a fresh mount, UTS
and PID namespace running node-init.sh: what a machine keeps across a reboot
(the host's tree, its disks) stays; what it loses (/run, every process) goes.
A reboot is asked for by writing "reboot" to POWER_REQUEST (`lab reboot`, or the
host's own `shutdown -r`, lab/systemctl-shim.sh): this process then resets the
host (link down, its init killed) and boots it again. When the host's init ends
otherwise (poweroff, teardown), the power stays off and this process ends.

usage: power.py HOST_DIR NAME NODE_INIT REAPER
  HOST_DIR  the host's directory in the lab's state dir (its tree is HOST_DIR/root)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

# Files in HOST_DIR that the lab reads.
POWER_REQUEST = "power-request"
HOLDER_PID = "holder.pid"
BOOT_ID = "boot_id"
BOOTS = "boots"
REBOOT_GRACE = 1.0


def child_of(pid: int) -> int:
    """The first child of `pid`, or 0 while it has none."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    return int(children[0]) if children else 0


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def boot(host_dir: Path, name: str, node_init: str, reaper: str, log) -> subprocess.Popen:
    root = host_dir / "root"
    # A fresh boot id (bound over /proc/sys/kernel/random/boot_id inside the host).
    (root / ".boot_id").write_text(f"{uuid.uuid4()}\n")
    proc = subprocess.Popen(
        [
            "unshare",
            "--mount",
            "--uts",
            "--pid",
            "--fork",
            "--mount-proc",
            "--propagation",
            "private",
            "/bin/bash",
            node_init,
            str(root),
            name,
            reaper,
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
    )
    deadline = time.monotonic() + 10
    while not (holder := child_of(proc.pid)) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if holder:
        write_atomically(host_dir / HOLDER_PID, f"{holder}\n")
    return proc


def requested(request: Path) -> str:
    try:
        return request.read_text().strip()
    except FileNotFoundError:
        return ""


def reset(host_dir: Path, proc: subprocess.Popen) -> None:
    """What a reset button does: the link goes down first (nothing more leaves the host),
    then its init ends, which ends every process of its PID namespace."""
    subprocess.run(["ip", "link", "set", "eth0", "down"], check=False)
    try:
        holder = int((host_dir / HOLDER_PID).read_text())
    except (OSError, ValueError):
        holder = child_of(proc.pid)
    if holder and child_of(proc.pid) == holder:  # still this boot's init, not a reused pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(holder, signal.SIGKILL)
    proc.wait()


def clear_run(root: Path) -> None:
    """/run is a tmpfs on a real machine: empty at each boot."""
    run_dir = root / "run"
    for entry in run_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    host_dir, name, node_init, reaper = Path(argv[0]), argv[1], argv[2], argv[3]
    with open(host_dir / "init.log", "a") as log:
        boots = 0
        request = host_dir / POWER_REQUEST
        while True:
            boots += 1
            write_atomically(host_dir / BOOTS, f"{boots}\n")
            proc = boot(host_dir, name, node_init, reaper, log)
            # The request is withdrawn only now that the new boot's init is known: until
            # then it is what tells the lab that this host is rebooting, not dead.
            request.unlink(missing_ok=True)
            while proc.poll() is None:
                if requested(request) == "reboot":
                    # A moment for the command that asked (ssh, Ansible) to return its status.
                    time.sleep(REBOOT_GRACE)
                    reset(host_dir, proc)
                    break
                time.sleep(0.2)
            if requested(request) != "reboot":
                return 0
            clear_run(host_dir / "root")
            # The link comes up with the machine, as a NIC does at power-on.
            subprocess.run(["ip", "link", "set", "eth0", "up"], check=False)
            print(f"lab: {name} boots again", file=log, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
