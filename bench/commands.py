#!/usr/bin/python3
"""Count the cluster-wide gluster commands one join issues, for two pool sizes.

For each size M (default 3 and 6) a lab of M+1 hosts boots, site.yml builds a
distributed volume of one brick per host on node1..nodeM (not counted), then
`add-node.yml -e add_nodes=node<M+1>` joins the last host. glusterd writes
every command that goes through the cluster (one that locks the volume or the
pool on every peer: `volume status`, `peer probe`, `add-brick`, `rebalance`,
`volume set`, `heal info`, ...) to cmd_history.log on the host that ran it; the
counts are those lines' growth during the join, by command and by host. Local
reads (`pool list`, `volume info`, which ask only the host's own glusterd) are
not in that log.

    bench/commands.py [--runs 3] [--small 3] [--large 6]   (as root, no lab running)
"""

from __future__ import annotations

import collections
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from join import LAB, REPO, distributed_inventory, playbook, sh, start

# "[time]  : volume add-brick gv0 node4:/b : SUCCESS": the command between the first and last " : ".
COMMAND = re.compile(r"^\[[^]]*\]\s+:\s+(.*?)\s+:\s+(SUCCESS|FAILED)")
# The words that name a command; the rest are its arguments.
VERBS = (
    "peer probe",
    "peer detach",
    "volume status",
    "volume add-brick",
    "volume rebalance",
    "volume set",
    "volume heal",
    "volume create",
    "volume start",
    "volume get",
)


def history(host):
    """The commands in host's cmd_history.log, oldest first (none before glusterd ever ran)."""
    text = sh(LAB, "exec", host, "--", "sh", "-c", "cat /var/log/glusterfs/cmd_history.log 2>/dev/null; true").stdout
    return [m.group(1) for m in map(COMMAND.match, text.splitlines()) if m]


def kind(command):
    return next((verb for verb in VERBS if command.startswith(verb)), command.split(" ")[0])


def one_size(members, workdir):
    hosts = [f"node{i}" for i in range(1, members + 2)]
    path = workdir / f"pool-{members}.yml"
    path.write_text(distributed_inventory(hosts))
    sh(LAB, "up", str(members + 1))
    try:
        playbook([str(path)], REPO / "playbooks" / "site.yml", "--limit", ",".join(hosts[:-1]))
        before = {h: len(history(h)) for h in hosts}
        wall = playbook([str(path)], REPO / "playbooks" / "add-node.yml", "-e", f"add_nodes={hosts[-1]}")
        issued = {h: history(h)[before[h] :] for h in hosts}
    finally:
        sh(LAB, "down")
    per_host = {h: len(commands) for h, commands in issued.items()}
    kinds = collections.Counter(kind(c) for commands in issued.values() for c in commands)
    return wall, per_host, kinds


def main():
    args = start(__doc__, small=3, large=6)
    with tempfile.TemporaryDirectory() as tmp:
        for members in (args.small, args.large):
            for run in range(args.runs):
                wall, per_host, kinds = one_size(members, Path(tmp))
                busy = {h: n for h, n in per_host.items() if n}
                print(
                    f"pool of {members} members, run {run + 1}: join {wall:.1f} s; cluster-wide commands "
                    f"{sum(per_host.values())}, by host {busy}, by command {dict(sorted(kinds.items()))}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
