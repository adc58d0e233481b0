#!/usr/bin/python3
"""Count the gluster commands one join issues, on each host, for two pool sizes.

For each size M (default 3 and 6) a lab of M+1 hosts boots, site.yml builds a
distributed volume of one brick per host on node1..nodeM (not counted), then
`add-node.yml -e add_nodes=node<M+1>` joins the last host. Every run of the
gluster CLI leaves one "Started running gluster" line in that host's
/var/log/glusterfs/cli.log; every command that changes something leaves one line
in cmd_history.log on the host that ran it. The counts are those lines' growth
during the join, per host:

- the member acting for the pool (the one that probes, adds the brick and
  rebalances),
- every other member (their own view of the pool, and the wait until they see
  the new host),
- the new host.

    bench/commands.py [--runs 3] [--small 3] [--large 6]   (as root, no lab running)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from join import LAB, REPO, playbook, sh, start

B1 = '{path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}'
CLI_RUN = "Started running gluster"


def inventory(hosts):
    nodes = "".join(f"    {h}:\n" for h in hosts)
    return f"""\
gluster_pool:
  hosts:
{nodes}  vars:
    gluster_pool_volume: gv0
    gluster_pool_replica: 1
    gluster_pool_bricks: [{B1}]
"""


def counts(hosts):
    """Per host: (CLI runs so far, commands that changed something so far)."""
    found = {}
    for host in hosts:
        # A host whose glusterd never ran has neither log yet: it counts 0.
        script = (
            f"runs=$(cat /var/log/glusterfs/cli.log 2>/dev/null | grep -c '{CLI_RUN}'); "
            "changes=$(cat /var/log/glusterfs/cmd_history.log 2>/dev/null | grep -c 'volume\\|peer'); "
            "echo $runs $changes"
        )
        out = sh(LAB, "exec", host, "--", "sh", "-c", script).stdout.split()
        found[host] = (int(out[0] or 0), int(out[1] or 0))
    return found


def one_size(members, workdir):
    hosts = [f"node{i}" for i in range(1, members + 2)]
    new = hosts[-1]
    path = workdir / f"pool-{members}.yml"
    path.write_text(inventory(hosts))
    sh(LAB, "up", str(members + 1))
    try:
        playbook([str(path)], REPO / "playbooks" / "site.yml", "--limit", ",".join(hosts[:-1]))
        before = counts(hosts)
        wall = playbook([str(path)], REPO / "playbooks" / "add-node.yml", "-e", f"add_nodes={new}")
        after = counts(hosts)
    finally:
        sh(LAB, "down")
    grown = {h: (after[h][0] - before[h][0], after[h][1] - before[h][1]) for h in hosts}
    # The acting member is the one whose glusterd recorded the changes (probe, add-brick, rebalance).
    anchor = max(hosts[:-1], key=lambda h: grown[h][1])
    others = [grown[h] for h in hosts[:-1] if h != anchor]
    return {
        "wall": wall,
        "anchor": grown[anchor],
        "other_median": statistics.median(runs for runs, _ in others),
        "other_max": max(runs for runs, _ in others),
        "new": grown[new],
        "total": sum(runs for runs, _ in grown.values()),
        "changes": sum(changes for _, changes in grown.values()),
    }


def main():
    args = start(__doc__, small=3, large=6)
    with tempfile.TemporaryDirectory() as tmp:
        for members in (args.small, args.large):
            for run in range(args.runs):
                r = one_size(members, Path(tmp))
                print(
                    f"pool of {members} members, run {run + 1}: acting member {r['anchor'][0]} CLI runs "
                    f"({r['anchor'][1]} changes); each other member median {r['other_median']} "
                    f"(max {r['other_max']}); new host {r['new'][0]}; total {r['total']}; "
                    f"commands that changed something {r['changes']}; join {r['wall']:.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
