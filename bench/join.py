#!/usr/bin/python3
"""Time add-node.yml joining one host against the bare gluster steps, in the same lab.

Each run boots an 8-host lab and builds a replica 3 pool on node1 to node3
(site.yml, not timed), then measures:

- join (k = 1): `add-node.yml -e add_nodes=node4`, node4's brick completed by
  spare bricks on node1 and node2 (brick preparation, probe, add-brick, fix-layout);
- no-op: the same playbook again, over 4 hosts, when there is nothing to do;
- join (k = 3): `add-node.yml -e add_nodes=node5,node6,node7`, one new set of
  one brick on each: the same three bricks, one add-brick and one rebalance as
  k = 1, three hosts to prepare and probe instead of one;
- floor: the same k = 1 join done by hand, in a lab of its own built the same way
  (so that it starts from the pool the k = 1 join started from: three peers, one
  set), each step one direct command: start glusterd on node4, mkfs.xfs + mount +
  mkdir for node4's brick and the spares on node1 and node2, peer probe, wait for
  Peer in Cluster, add-brick, rebalance fix-layout, wait (polled at the module's
  pace: `rebalance status` is a transaction that asks every node).

    bench/join.py [--runs 3]        (as root, no lab running, after scripts/setup)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB = str(REPO / "bin" / "lab")
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import backoff  # noqa: E402
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (  # noqa: E402
    interpret,
    parse_pool_list,
    parse_rebalance_status,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume import POLL_SECONDS  # noqa: E402

B1 = '{path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}'
B2 = '{path: /bricks/b2/brick, device: "{{ lab_block_devices[1] }}"}'


def spare_inventory(joining, rebalance):
    """gluster_pool for a replica 3 join: node1 and node2 with a spare second brick,
    node3 and the `joining` hosts with one brick each."""
    nodes = "".join(f"    {h}: {{gluster_pool_bricks: [{B1}]}}\n" for h in ["node3", *joining])
    return f"""\
gluster_pool:
  hosts:
    node1: {{gluster_pool_bricks: [{B1}, {B2}]}}
    node2: {{gluster_pool_bricks: [{B1}, {B2}]}}
{nodes}  vars: {{gluster_pool_volume: gv0, gluster_pool_replica: 3, gluster_pool_rebalance: {rebalance}}}
"""


INVENTORY = spare_inventory(["node4", "node5", "node6", "node7"], "fix-layout")


def distributed_inventory(hosts):
    """gluster_pool over hosts: volume gv0, replica 1, one device brick each."""
    nodes = "".join(f"    {h}:\n" for h in hosts)
    return f"""\
gluster_pool:
  hosts:
{nodes}  vars:
    gluster_pool_volume: gv0
    gluster_pool_replica: 1
    gluster_pool_bricks: [{B1}]
"""


class CommandFailed(Exception):
    """A bench command exited non-zero: its argv, exit code and the end of its output."""


def sh(*argv, **kwargs):
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def on_rc(host, script):
    """The exit status of `script` on `host`, for a command that may fail (the lab's own
    failure to run it still raises)."""
    return int(sh(LAB, "exec", host, "--", "sh", "-c", f"{script} >/dev/null 2>&1; echo $?").stdout.strip())


def on(host, script):
    return sh(LAB, "exec", host, "--", "sh", "-ec", script)


def gluster(host, *args):
    proc = subprocess.run(
        [LAB, "exec", host, "--", "gluster", "--mode=script", "--xml", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return interpret(["gluster", "--mode=script", "--xml", *args], proc.returncode, proc.stdout, proc.stderr)


def playbook(inventories, path, *extra):
    """Run a playbook against the lab and these inventories; return its wall time."""
    argv = ["ansible-playbook", "-i", str(REPO / "inventory" / "lab" / "lab_hosts")]
    for inventory in inventories:
        argv += ["-i", inventory]
    started = time.perf_counter()
    sh(*argv, str(path), *extra, cwd=REPO)
    return time.perf_counter() - started


def bare_join(new_host, bricks):
    """The bare steps of a replica 3 join up to add-brick, one direct command each: start
    glusterd on new_host, mkfs.xfs + mount + mkdir for each brick (host, device, mount
    point), peer probe from node1, wait for Peer in Cluster, add-brick."""
    on(new_host, "glusterd -p /run/glusterd.pid")
    for host, device, mount in bricks:
        on(
            host,
            f"mkfs.xfs -q -i size=512 {device} && mkdir -p {mount} && mount {device} {mount} && mkdir {mount}/brick",
        )
    gluster("node1", "peer", "probe", new_host)
    while not any(p.hostname == new_host and p.in_cluster for p in parse_pool_list(gluster("node1", "pool", "list"))):
        time.sleep(0.1)
    gluster("node1", "volume", "add-brick", "gv0", "replica", "3", *(f"{h}:{m}/brick" for h, _, m in bricks))


def floor(devices):
    """The k = 1 join of node4 by hand, one direct command per step."""
    started = time.perf_counter()
    bare_join(
        "node4",
        [
            ("node4", devices["node4"][0], "/bricks/b1"),
            ("node1", devices["node1"][1], "/bricks/b2"),
            ("node2", devices["node2"][1], "/bricks/b2"),
        ],
    )
    gluster("node1", "volume", "rebalance", "gv0", "fix-layout", "start")
    pauses = backoff(*POLL_SECONDS)
    while not parse_rebalance_status(gluster("node1", "volume", "rebalance", "gv0", "status")).completed:
        time.sleep(next(pauses))
    return time.perf_counter() - started


def lab_up(count):
    """Boot the lab; each host's block devices."""
    sh(LAB, "up", str(count))
    return {h["name"]: h["block_devices"] for h in json.loads(sh(LAB, "status", "--json").stdout)["hosts"]}


def build_pool(inventory, *extra):
    """site.yml over the inventory with each host's first brick only (the others are spares)."""
    playbook(
        [inventory], REPO / "playbooks" / "site.yml", *extra, "-e", f"@{REPO / 'molecule/shared/vars/first-brick.yml'}"
    )


def one_run(inventory):
    lab_up(8)
    try:
        build_pool(inventory, "--limit", "node1,node2,node3")
        join = playbook([inventory], REPO / "playbooks" / "add-node.yml", "-e", "add_nodes=node4")
        noop = playbook([inventory], REPO / "playbooks" / "add-node.yml", "--limit", "node1,node2,node3,node4")
        join3 = playbook([inventory], REPO / "playbooks" / "add-node.yml", "-e", "add_nodes=node5,node6,node7")
    finally:
        sh(LAB, "down")
    devices = lab_up(8)
    try:
        build_pool(inventory, "--limit", "node1,node2,node3")
        return join, noop, join3, floor(devices)
    finally:
        sh(LAB, "down")


def start(doc, **counts):
    """The command line (--runs, and --NAME for each of `counts`, NAME=default), once the
    machine is fit for a benchmark."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    for name, default in counts.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    if subprocess.run([LAB, "status"], capture_output=True, check=False).returncode == 0:
        sys.exit("bench: a lab is up; run 'bin/lab down' first")
    os.environ["PATH"] = f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}"
    return args


def main():
    runs = start(__doc__).runs
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as inventory:
        inventory.write(INVENTORY)
        inventory.flush()
        results = [one_run(inventory.name) for _ in range(runs)]
    joins, noops, joins3, floors = (sorted(column) for column in zip(*results, strict=True))
    f = statistics.median(floors)
    print(f"runs: {runs}")
    print(f"floor (bare gluster steps, node4 + 2 spares): median {f:.1f}s  {[round(x, 1) for x in floors]}")
    print(
        f"add-node.yml join of one host: median {statistics.median(joins):.1f}s  {[round(x, 1) for x in joins]}"
        f"  = {statistics.median(joins) / f:.2f}x floor"
    )
    print(f"add-node.yml no-op, 4 hosts: median {statistics.median(noops):.1f}s  {[round(x, 1) for x in noops]}")
    print(
        f"add-node.yml join of three hosts: median {statistics.median(joins3):.1f}s  {[round(x, 1) for x in joins3]}"
        f"  = {statistics.median(joins3) / statistics.median(joins):.2f}x the join of one"
    )


if __name__ == "__main__":
    main()
