#!/usr/bin/python3
"""Time remove-node.yml draining one host against the bare gluster steps, in the same lab.

Each run boots a 6-host lab, builds a replica 3 volume of two sets (node1-3's
first bricks, then node4-6's) with site.yml, and writes a data set through a
client (not timed); then measures:

- drain: `remove-node.yml -e remove_nodes=node4` (gluster only): its brick is
  replaced by a spare node1 declares on its second disk, heal is waited for,
  node4 is detached; its preflight reads and checks the whole pool first;
- floor: the same drain of node5 by hand, with a spare on node2's second
  disk, one direct command per step: mkfs.xfs + mount + mkdir of the spare,
  replace-brick commit force, heal info summary until nothing is pending,
  peer detach. Both heal the same set's data.

    bench/drain.py [--runs 3] [--files 200] [--kib 1024]   (as root, no lab running, after scripts/setup)
"""

from __future__ import annotations

import statistics
import tempfile
import time

from join import B1, B2, LAB, REPO, build_pool, gluster, lab_up, on, playbook, sh, start

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import parse_heal_summary

INVENTORY = f"""\
gluster_pool:
  hosts:
    node1: {{gluster_pool_bricks: [{B1}, {B2}]}}
    node2:
    node3:
    node4:
    node5:
    node6:
  vars:
    gluster_pool_volume: gv0
    gluster_pool_replica: 3
    gluster_pool_rebalance: fix-layout
    gluster_pool_bricks: [{B1}]
"""


def write_data(files, kib):
    on(
        "node1",
        "mkdir -p /mnt/w && mount -t glusterfs node1:/gv0 /mnt/w && "
        f"for i in $(seq 1 {files}); do head -c {kib}K /dev/urandom > /mnt/w/f$i; done && umount /mnt/w",
    )


def healed(set_bricks):
    counts = parse_heal_summary(gluster("node1", "volume", "heal", "gv0", "info", "summary"))
    mine = [h for h in counts if h.name in set_bricks]
    return len(mine) == len(set_bricks) and all(h.reached and not h.pending and not h.possibly_healing for h in mine)


def floor(devices):
    """The drain of node5 by hand."""
    started = time.perf_counter()
    on(
        "node2",
        f"mkfs.xfs -q -i size=512 {devices['node2'][1]} && mkdir -p /bricks/b2 && "
        f"mount {devices['node2'][1]} /bricks/b2 && mkdir /bricks/b2/brick",
    )
    gluster(
        "node1", "volume", "replace-brick", "gv0", "node5:/bricks/b1/brick", "node2:/bricks/b2/brick", "commit", "force"
    )
    new_set = {"node1:/bricks/b2/brick", "node2:/bricks/b2/brick", "node6:/bricks/b1/brick"}
    while not healed(new_set):
        time.sleep(0.1)
    gluster("node1", "peer", "detach", "node5")
    return time.perf_counter() - started


def one_run(inventory, files, kib):
    devices = lab_up(6)
    try:
        # node1's second brick is the drain's spare: out of the volume until then.
        build_pool(inventory)
        write_data(files, kib)
        drain = playbook([inventory], REPO / "playbooks" / "remove-node.yml", "-e", "remove_nodes=node4")
        return drain, floor(devices)
    finally:
        sh(LAB, "down")


def main():
    args = start(__doc__, files=200, kib=1024)
    runs, files, kib = args.runs, args.files, args.kib
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as inventory:
        inventory.write(INVENTORY)
        inventory.flush()
        results = [one_run(inventory.name, files, kib) for _ in range(runs)]
    drains, floors = (sorted(column) for column in zip(*results, strict=True))
    f = statistics.median(floors)
    print(f"runs: {runs}; data: {files} files of {kib} KiB on a volume of 2 sets")
    print(
        f"floor (bare gluster steps: spare, replace-brick, heal, detach): median {f:.1f}s  "
        f"{[round(x, 1) for x in floors]}"
    )
    print(
        f"remove-node.yml drain of one host: median {statistics.median(drains):.1f}s  "
        f"{[round(x, 1) for x in drains]}  = {statistics.median(drains) / f:.2f}x floor"
    )


if __name__ == "__main__":
    main()
