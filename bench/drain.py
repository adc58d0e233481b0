#!/usr/bin/python3
"""Time remove-node.yml draining one host, and replace-node.yml replacing a dead one,
against the bare gluster steps, in the same lab.

Each run boots an 8-host lab, builds a replica 3 volume of two sets of node1-6's
first bricks with site.yml (which deals them out: node1, node3, node5 and node2,
node4, node6), writes a data set through a client
and then leaves the pool alone for --settle seconds, so that the self-heal
daemons' start-up crawl is long over (none of it timed). Then, in turn:

- drain: `remove-node.yml -e remove_nodes=node4` (gluster only): its brick is
  replaced by a spare node1 declares on its second disk, heal is started and
  waited for, node4 is detached; its preflight reads and checks the whole pool
  first;
- drain floor: the same drain of node5 by hand, with a spare on node2's second
  disk, one direct command per step: mkfs.xfs + mount + mkdir of the spare,
  replace-brick commit force, volume heal, heal info summary until nothing is
  pending, peer detach. Both heal the same set's data;
- replacement: node6 powered off (timed from when the pool sees it
  disconnected, and at least a minute after the drain's run, so that the
  controller holds no SSH connection to it any more, as when a host died
  before its replacement was started: through a connection ssh still keeps to a
  host that died, it waits for its keep-alives, tens of seconds),
  `replace-node.yml -e failed=node6 -e replacement=node7`: node7
  prepared and probed, node6's brick replaced by node7's, heal started and
  waited for, node6 detached;
- replacement floor: node3 powered off, the same by hand onto node8: start
  glusterd, mkfs.xfs + mount + mkdir, peer probe, wait for Peer in Cluster,
  replace-brick commit force, volume heal, wait, peer detach.

    bench/drain.py [--runs 3] [--files 200] [--kib 1024] [--settle 60]
    (as root, no lab running, after scripts/setup)
"""

from __future__ import annotations

import statistics
import tempfile
import time

from join import B1, B2, LAB, REPO, build_pool, gluster, lab_up, on, on_rc, playbook, sh, start

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    parse_heal_summary,
    parse_pool_list,
    parse_volume_info,
)

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

# After the drains: the members, the dead node6 and its replacement node7.
REPLACE_INVENTORY = INVENTORY.replace("    node4:\n    node5:\n", "").replace(
    "    node6:\n", "    node6:\n    node7:\n"
)


# ansible.cfg's ssh_args: ControlPersist=60s.
CONTROL_PERSIST = 60


def write_data(files, kib):
    on(
        "node1",
        "mkdir -p /mnt/w && mount -t glusterfs node1:/gv0 /mnt/w && "
        f"for i in $(seq 1 {files}); do head -c {kib}K /dev/urandom > /mnt/w/f$i; done && umount /mnt/w",
    )


def set_of(brick):
    """The bricks of the replica set that holds `brick`, as volume info lists them."""
    names = [b.name for b in parse_volume_info(gluster("node1", "volume", "info", "gv0"))[0].bricks]
    start = names.index(brick) // 3 * 3
    return set(names[start : start + 3])


def healed(set_bricks):
    counts = parse_heal_summary(gluster("node1", "volume", "heal", "gv0", "info", "summary"))
    mine = [h for h in counts if h.name in set_bricks]
    return len(mine) == len(set_bricks) and all(h.reached and not h.pending and not h.possibly_healing for h in mine)


def trigger_heal():
    """`volume heal gv0`, again while the daemons switch to the new graph (a few seconds)."""
    while on_rc("node1", "gluster --mode=script volume heal gv0") != 0:
        time.sleep(0.25)


def wait_healed(set_bricks):
    while not healed(set_bricks):
        time.sleep(0.25)


def spare(host, device, mount):
    on(host, f"mkfs.xfs -q -i size=512 {device} && mkdir -p {mount} && mount {device} {mount} && mkdir {mount}/brick")


def drain_floor(devices):
    """The drain of node5 by hand."""
    started = time.perf_counter()
    spare("node2", devices["node2"][1], "/bricks/b2")
    gluster(
        "node1", "volume", "replace-brick", "gv0", "node5:/bricks/b1/brick", "node2:/bricks/b2/brick", "commit", "force"
    )
    trigger_heal()
    wait_healed(set_of("node2:/bricks/b2/brick"))
    gluster("node1", "peer", "detach", "node5")
    return time.perf_counter() - started


def power_off(host):
    """Cut the host's power; return once node1's glusterd counts it disconnected."""
    sh(LAB, "poweroff", host)
    while any(p.hostname == host and p.connected for p in parse_pool_list(gluster("node1", "pool", "list"))):
        time.sleep(0.5)


def replace_floor(devices):
    """The replacement of the dead node3 by node8, by hand."""
    started = time.perf_counter()
    on("node8", "glusterd -p /run/glusterd.pid")
    spare("node8", devices["node8"][0], "/bricks/b1")
    gluster("node1", "peer", "probe", "node8")
    while not any(p.hostname == "node8" and p.in_cluster for p in parse_pool_list(gluster("node1", "pool", "list"))):
        time.sleep(0.1)
    gluster(
        "node1", "volume", "replace-brick", "gv0", "node3:/bricks/b1/brick", "node8:/bricks/b1/brick", "commit", "force"
    )
    trigger_heal()
    wait_healed(set_of("node8:/bricks/b1/brick"))
    gluster("node1", "peer", "detach", "node3")
    return time.perf_counter() - started


def one_run(inventory, replace_inventory, files, kib, settle):
    devices = lab_up(8)
    try:
        # node1's second brick is the drain's spare: out of the volume until then.
        build_pool(inventory)
        write_data(files, kib)
        time.sleep(settle)
        drain = playbook([inventory], REPO / "playbooks" / "remove-node.yml", "-e", "remove_nodes=node4")
        drain_ended = time.monotonic()
        drain_bare = drain_floor(devices)
        power_off("node6")
        # The drain's connection to node6 is closed by then.
        time.sleep(max(0.0, CONTROL_PERSIST + 5 - (time.monotonic() - drain_ended)))
        replacing = ["-e", "failed=node6", "-e", "replacement=node7"]
        replace = playbook([replace_inventory], REPO / "playbooks" / "replace-node.yml", *replacing)
        power_off("node3")
        return drain, drain_bare, replace, replace_floor(devices)
    finally:
        sh(LAB, "down")


def row(label, values, floor=None):
    median = statistics.median(values)
    ratio = f"  = {median / floor:.2f}x floor" if floor else ""
    print(f"{label}: median {median:.1f}s  {[round(x, 1) for x in sorted(values)]}{ratio}")
    return median


def main():
    args = start(__doc__, files=200, kib=1024, settle=60)
    with (
        tempfile.NamedTemporaryFile("w", suffix=".yml") as inventory,
        tempfile.NamedTemporaryFile("w", suffix=".yml") as replace_inventory,
    ):
        inventory.write(INVENTORY)
        inventory.flush()
        replace_inventory.write(REPLACE_INVENTORY)
        replace_inventory.flush()
        results = [
            one_run(inventory.name, replace_inventory.name, args.files, args.kib, args.settle) for _ in range(args.runs)
        ]
    drains, drain_floors, replaces, replace_floors = zip(*results, strict=True)
    print(f"runs: {args.runs}; {args.files} files of {args.kib} KiB on a volume of 2 sets; settled {args.settle} s")
    floor = row("drain floor (spare, replace-brick, volume heal, wait, detach)", drain_floors)
    row("remove-node.yml drain of one host", drains, floor)
    floor = row("replacement floor (glusterd, brick, probe, replace-brick, volume heal, wait, detach)", replace_floors)
    row("replace-node.yml replacement of a dead host", replaces, floor)


if __name__ == "__main__":
    main()
