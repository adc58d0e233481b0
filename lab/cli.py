"""lab: boot and tear down a lab of real hosts on this machine.

lab up N       boot N hosts (node1..nodeN) and write an Ansible inventory
lab down       remove everything the lab made (also after a crash)
lab status     list the hosts of the running lab
lab inventory  print the running lab as Ansible inventory (JSON)
lab exec HOST -- CMD...   run a command inside a host
lab ssh HOST [CMD...]     ssh to a host as Ansible does
lab poweroff HOST         cut a host's power (its processes end, its link goes down)
lab reboot HOST           reset a host: its processes end, then it boots again
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from lab.lab import MAX_HOSTS, MAX_SLOT, Lab, LabError


def lab_slot() -> int:
    """GGLAB_SLOT: which of the labs that can run side by side (default 0)."""
    text = os.environ.get("GGLAB_SLOT", "0")
    if not text.isdigit() or int(text) > MAX_SLOT:
        raise LabError(f"GGLAB_SLOT must be a number from 0 to {MAX_SLOT}, not {text!r}")
    return int(text)


def lab_from_env(state_dir: Path | None = None) -> Lab:
    """The lab of GGLAB_SLOT, in `state_dir`, GGLAB_STATE_DIR or the slot's own directory."""
    given = state_dir or os.environ.get("GGLAB_STATE_DIR")
    return Lab.in_slot(lab_slot(), Path(given).resolve() if given else None)


def default_state_dir() -> Path:
    return lab_from_env().state_dir


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="lab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="where the lab keeps its files (env GGLAB_STATE_DIR; default /var/tmp/gglab, "
        "/var/tmp/gglabN for GGLAB_SLOT=N)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="boot N hosts")
    up.add_argument("count", type=int, metavar="N", help=f"number of hosts, 1 to {MAX_HOSTS}")
    up.add_argument(
        "--disk-size", default="4G", help="size of each host's two sparse block devices (default %(default)s)"
    )
    up.add_argument(
        "--domain",
        default="",
        help="DNS domain: each host's name resolves to NAME.DOMAIN first, its FQDN (default: short names only)",
    )

    sub.add_parser("down", help="remove everything the lab made")
    sub.add_parser("inventory", help="print the running lab as Ansible inventory (JSON)")
    status = sub.add_parser("status", help="list the running lab's hosts")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    exec_ = sub.add_parser("exec", help="run a command inside a host")
    exec_.add_argument("host")
    exec_.add_argument("cmd", nargs=argparse.REMAINDER, help="command (after --)")

    poweroff = sub.add_parser("poweroff", help="cut a host's power: its processes end, its link goes down")
    poweroff.add_argument("host")

    reboot = sub.add_parser(
        "reboot", help="reset a host: its processes end, then it boots again with its disks and fstab mounts"
    )
    reboot.add_argument("host")

    ssh = sub.add_parser("ssh", help="ssh to a host")
    ssh.add_argument("host")
    ssh.add_argument("cmd", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        lab = lab_from_env(args.state_dir)
        return dispatch(lab, args)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130


def dispatch(lab: Lab, args: argparse.Namespace) -> int:
    if args.command == "up":
        started = time.monotonic()
        state = lab.up(args.count, disk_size=args.disk_size, domain=args.domain)
        names = " ".join(h.name for h in state.hosts)
        print(f"lab: {len(state.hosts)} hosts up in {time.monotonic() - started:.1f}s: {names}")
        print("lab: inventory: inventory/lab (ansible-inventory -i inventory/lab --graph)")
        print(f"lab: ssh -F {lab.ssh_dir / 'config'} {state.hosts[0].name}")
        return 0
    if args.command == "down":
        print("lab: down" if lab.down() else "lab: nothing to tear down")
        return 0
    if args.command == "inventory":
        print(json.dumps(lab.inventory(), indent=2))
        return 0
    if args.command == "status":
        state = lab.running_state()
        if args.json:
            print(json.dumps({"hosts": [vars(h) for h in state.hosts]}, indent=2))
        else:
            for host in state.hosts:
                pid = "off" if host.powered_off else f"pid {host.holder_pid}"
                print(f"{host.name}\t{host.address}\t{pid}\t{' '.join(host.block_devices)}")
        return 0
    if args.command == "poweroff":
        lab.poweroff(args.host)
        print(f"lab: {args.host} is off")
        return 0
    if args.command == "reboot":
        boots = lab.reboot(args.host)
        print(f"lab: {args.host} is up again (boot {boots})")
        return 0
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if args.command == "exec":
        if not cmd:
            raise LabError("exec needs a command: lab exec HOST -- CMD...")
        argv = lab.enter_argv(args.host, cmd)
    else:
        lab.find_host(args.host)
        argv = ["ssh", "-F", str(lab.ssh_dir / "config"), args.host, *cmd]
    os.execvp(argv[0], argv)
    return 127  # not reached
