#!/usr/bin/python3
"""Time the two ways a host joins both the Gluster pool and the Ganeti cluster,
against the bare steps they need, in the same lab.

Each run boots a 6-host lab, initialises a Ganeti cluster on node1 and applies
site.yml to node1 to node3 (a distributed volume of one brick per host, the
gluster disk template, the node-add hook; not timed), then measures:

- hook: an admin's `gnt-node add node4` on the master, whose node-add hook runs
  add-node.yml for node4 through ansible-runner (Gluster join, then the Ganeti
  side on every node);
- playbook: `add-node.yml -e add_nodes=node5` from the controller (Gluster join,
  then the Ganeti side and `gnt-node add node5`, whose hook stands aside);
- floor: the same for node4 by hand, in a lab of its own built the same way (so
  that it starts from the cluster the hook's join started from: three nodes),
  one direct command per step: start glusterd, mkfs.xfs + mount + mkdir of its
  brick, peer probe, wait for Peer in Cluster, add-brick, fix-layout rebalance
  and wait (polled at the module's pace), copy file-storage-paths, authorize the
  master's key, `gnt-node add` (hook removed for it);
- no-op: add-node.yml again over the 5 hosts when there is nothing to do, then
  site.yml likewise;
- Ansible's floor on the same 5 hosts: a playbook of the same three plays
  (the Ganeti checks, the pool, the Ganeti side), each one trivial task (ping).

A distributed volume keeps each join to one brick on the new host; placement
across replica sets and its floor are bench/join.py's subject.

    bench/ganeti_join.py [--runs 3]   (as root, no lab running, after scripts/setup)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from join import LAB, distributed_inventory, gluster, on, playbook, sh, start  # noqa: E402

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import backoff  # noqa: E402
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (  # noqa: E402
    parse_pool_list,
    parse_rebalance_status,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume import POLL_SECONDS  # noqa: E402

HOOK = "/etc/ganeti/hooks/node-add-post.d/50-ganeti-gluster-join"
ANSIBLE_FLOOR = """\
- name: The Ganeti checks' hosts, one trivial task
  hosts: ganeti_nodes
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
- name: The Gluster play's hosts, one trivial task
  hosts: gluster_pool
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
- name: The Ganeti play's hosts, one trivial task
  hosts: ganeti_nodes
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""


def inventory(hosts):
    nodes = "".join(f"    {h}:\n" for h in hosts)
    return (
        distributed_inventory(hosts)
        + f"""\
ganeti_master:
  hosts:
    node1:
ganeti_nodes:
  hosts:
{nodes}  vars:
    ganeti_gluster_disk_hook_project_dir: "{{{{ lab_project_dir }}}}"
    ganeti_gluster_disk_hook_python: "{{{{ ansible_playbook_python }}}}"
    ganeti_gluster_disk_hook_inventory:
      - "{{{{ lab_state_dir }}}}/inventory-inside.yml"
      - "{{{{ lab_project_dir }}}}/bench/.ganeti-join-inventory/hosts.yml"
"""
    )


def authorize_master_key(host):
    key = on("node1", "cat /root/.ssh/id_rsa.pub").stdout.strip()
    on(host, f"mkdir -p /root/.ssh && echo '{key}' >> /root/.ssh/authorized_keys")


def floor(host, device):
    """`host` joins both by hand, one direct command per step."""
    started = time.perf_counter()
    on(host, "glusterd -p /run/glusterd.pid")
    on(host, f"mkfs.xfs -q -i size=512 {device} && mkdir -p /bricks/b1 && mount {device} /bricks/b1")
    on(host, "mkdir /bricks/b1/brick")
    gluster("node1", "peer", "probe", host)
    while not any(p.hostname == host and p.in_cluster for p in parse_pool_list(gluster("node1", "pool", "list"))):
        time.sleep(0.1)
    gluster("node1", "volume", "add-brick", "gv0", f"{host}:/bricks/b1/brick")
    gluster("node1", "volume", "rebalance", "gv0", "fix-layout", "start")
    pauses = backoff(*POLL_SECONDS)
    while not parse_rebalance_status(gluster("node1", "volume", "rebalance", "gv0", "status")).completed:
        time.sleep(next(pauses))
    paths = on("node1", "cat /etc/ganeti/file-storage-paths").stdout
    on(host, f"printf '%s' '{paths}' > /etc/ganeti/file-storage-paths")
    authorize_master_key(host)
    on("node1", f"gnt-node add --no-ssh-key-check {host}")
    return time.perf_counter() - started


def build_cluster(before):
    """A 6-host lab with the Ganeti cluster and site.yml on node1 to node3 (not timed); the
    lab's hosts."""
    sh(LAB, "up", "6")
    playbook([str(before)], str(REPO / "molecule" / "shared" / "ganeti-init.yml"))
    playbook([str(before)], str(REPO / "playbooks" / "site.yml"))
    return json.loads(sh(LAB, "status", "--json").stdout)["hosts"]


def one_run(workdir):
    before = workdir / "before.yml"
    before.write_text(inventory(["node1", "node2", "node3"]))
    # What the hook reads: the admin declares node4 (and node5, which the
    # playbook joins) before gnt-node add.
    after = workdir / "hosts.yml"
    after.write_text(inventory(["node1", "node2", "node3", "node4", "node5"]))
    trivial = workdir / "ansible-floor.yml"
    trivial.write_text(ANSIBLE_FLOOR)
    try:
        build_cluster(before)
        authorize_master_key("node4")
        started = time.perf_counter()
        on("node1", "gnt-node add --no-ssh-key-check node4")
        hook = time.perf_counter() - started
        joined = any(p.hostname == "node4" and p.in_cluster for p in parse_pool_list(gluster("node1", "pool", "list")))
        if not joined:
            raise SystemExit("bench: the hook did not join node4; see node1:/var/log/ganeti/ganeti-gluster-join.log")
        direct = playbook([str(after)], str(REPO / "playbooks" / "add-node.yml"), "-e", "add_nodes=node5")
        noop = playbook([str(after)], str(REPO / "playbooks" / "add-node.yml"))
        site_noop = playbook([str(after)], str(REPO / "playbooks" / "site.yml"))
        ansible_floor = playbook([str(after)], str(trivial))
    finally:
        sh(LAB, "down")
    try:
        hosts = build_cluster(before)
        on("node1", f"rm {HOOK}")
        bare = floor("node4", next(h for h in hosts if h["name"] == "node4")["block_devices"][0])
        return hook, direct, noop, site_noop, ansible_floor, bare
    finally:
        sh(LAB, "down")


def main():
    runs = start(__doc__).runs
    # The hook on node1 reads the inventory from a path inside the project.
    workdir = REPO / "bench" / ".ganeti-join-inventory"
    workdir.mkdir(exist_ok=True)
    try:
        results = [one_run(workdir) for _ in range(runs)]
    finally:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    hooks, directs, noops, site_noops, ansible_floors, floors = (
        sorted(column) for column in zip(*results, strict=True)
    )
    f = statistics.median(floors)

    def line(what, values, ratio=True):
        median = statistics.median(values)
        tail = f"  = {median / f:.2f}x floor" if ratio else ""
        return f"{what}: median {median:.1f}s  {[round(x, 1) for x in values]}{tail}"

    print(f"runs: {runs}")
    print(line("floor (bare steps: Gluster join + gnt-node add)", floors, ratio=False))
    print(line("gnt-node add with the hook's join", hooks))
    print(line("add-node.yml, Gluster and Ganeti", directs))
    print(line("add-node.yml no-op, 5 hosts", noops, ratio=False))
    print(line("site.yml no-op, 5 hosts", site_noops, ratio=False))
    a = statistics.median(ansible_floors)
    print(line("Ansible floor (three plays, one ping each), 5 hosts", ansible_floors, ratio=False))
    print(
        f"no-op ratios to Ansible's floor: add-node.yml {statistics.median(noops) / a:.2f}x, "
        f"site.yml {statistics.median(site_noops) / a:.2f}x; hook path to the direct join "
        f"{statistics.median(hooks) / statistics.median(directs):.2f}x"
    )


if __name__ == "__main__":
    main()
