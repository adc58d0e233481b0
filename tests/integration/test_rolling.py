"""rolling.yml on the lab: four nodes of a Ganeti cluster and a replica 3 volume of two
sets, two instances on the gluster template, and a FUSE and a gfapi writer on a fifth
host (a client of the volume, outside the pool) running through the whole roll. Every
node is rebooted by the operator's tasks (ansible.builtin.reboot), the master last.

The roll is interrupted on its second node, Gluster stopped there (the operator's tasks
hold it until the test kills the controller), then run again, which finishes that node,
leaves out the one already done and rolls the rest; a third run of the same roll
changes nothing.

Asserted on what the cluster shows: no write failed and both files are exact on every
brick; every file written before is unchanged; each instance runs at every moment
sampled; every node booted again exactly once (its boot id); nothing is left to heal
and no node stays drained; the pool's op-version is the highest its peers support."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import parse_volume_status

from .ansible_helpers import gluster_xml, run_playbook_from, volume_info
from .lab_helpers import REPO, fresh_lab, ssh
from .writers import Writers

pytestmark = pytest.mark.lab

LAB_HOSTS = REPO / "inventory" / "lab" / "lab_hosts"
NODES = ("node1", "node2", "node3", "node4")
INVENTORY = """\
gluster_pool:
  hosts:
    node1:
      gluster_pool_bricks: &two
        - {path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}
        - {path: /bricks/b2/brick, device: "{{ lab_block_devices[1] }}"}
    node2:
      gluster_pool_bricks: *two
    node3:
    node4:
  vars:
    gluster_pool_volume: gv0
    gluster_pool_replica: 3
    gluster_pool_bricks:
      - {path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}
ganeti_master:
  hosts:
    node1:
ganeti_nodes:
  hosts:
    node1:
    node2:
    node3:
    node4:
  vars:
    # An operator's own checkout on the master candidates (the lab's hosts see it).
    ganeti_gluster_disk_hook_project_dir: "{{ lab_project_dir }}"
    ganeti_gluster_disk_hook_python: "{{ ansible_playbook_python }}"
"""
# The operator's work on each node while it is out: a reboot.
REBOOT_TASKS = """\
- name: Reboot the node
  ansible.builtin.reboot:
    reboot_timeout: 300
"""
# The same, except that node3 holds the roll there, its Gluster stopped, until the test
# kills the controller.
HELD = "/run/rolling-held"
HOLD_ON_NODE3_TASKS = f"""\
- name: Hold the roll on node3
  when: inventory_hostname == 'node3'
  block:
    - name: Say that the roll is held
      ansible.builtin.file:
        path: {HELD}
        state: touch
        mode: "0644"
    - name: Wait for what never comes
      ansible.builtin.wait_for:
        path: /run/never
        timeout: 900
- name: Reboot the node
  ansible.builtin.reboot:
    reboot_timeout: 300
  when: inventory_hostname != 'node3'
"""


def play(work, playbook, extravars=None, cancel=None, inventory="hosts.yml"):
    envvars = {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    inventories = [LAB_HOSTS, work / inventory]
    return run_playbook_from(work, playbook, inventories, envvars, extravars=extravars, cancel=cancel)


def boot_id(host):
    return ssh(host, "cat /proc/sys/kernel/random/boot_id").stdout.strip()


def on_master(command):
    """`command`'s output on the Ganeti master, whichever node it is now (None: none answered)."""
    for host in NODES:
        out = ssh(host, command, timeout=30)
        if out.returncode == 0:
            return out.stdout
    return None


def instances():
    """name -> (primary node, oper_state) as the master reports."""
    listed = on_master("gnt-instance list --no-headers --separator=' ' -o name,pnode,oper_state")
    if listed is None:
        return None
    return {name: (pnode, state) for name, pnode, state in (line.split() for line in listed.splitlines())}


def migrating():
    """The instances a running job migrates (the fake hypervisor marks one down on its old
    node before up on its new one, within the job: a real one keeps it running)."""
    running = on_master("gnt-job list --no-headers --running -o summary") or ""
    return {
        line.strip()[len("INSTANCE_MIGRATE(") : -1]
        for line in running.splitlines()
        if line.strip().startswith("INSTANCE_MIGRATE(")
    }


class Sampler(threading.Thread):
    """Reads the instances' state every few seconds while the roll runs: (seconds since the
    start, the instances, those a job was migrating just before or after)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.stopping, self.started = [], threading.Event(), time.monotonic()

    def run(self):
        while not self.stopping.wait(2):
            before, seen, after = migrating(), instances(), migrating()
            self.samples.append((round(time.monotonic() - self.started), seen, before | after))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp("rolling")
    (work / "hosts.yml").write_text(INVENTORY)
    (work / "reboot.yml").write_text(REBOOT_TASKS)
    (work / "hold-on-node3.yml").write_text(HOLD_ON_NODE3_TASKS)
    with fresh_lab(5):
        rc, stats = play(work, REPO / "molecule" / "shared" / "ganeti-init.yml")
        assert rc == 0, stats
        rc, stats = play(work, REPO / "playbooks" / "site.yml")
        assert rc == 0, stats
        for name, node in (("inst1", "node2"), ("inst2", "node3")):
            add = (
                "gnt-instance add -t gluster --disk=0:size=1G,access=kernelspace -o lab+default "
                f"-n {node} --no-name-check --no-ip-check {name}"
            )
            out = ssh("node1", add, timeout=300)
            assert out.returncode == 0, out.stdout + out.stderr
        yield work


def cluster_state():
    """What a refusal must leave as it was."""
    return (
        ssh("node1", "gluster --mode=script --xml volume info").stdout,
        ssh("node1", "gluster --mode=script --xml pool list").stdout,
        ssh("node1", "gnt-node list --no-headers -o name,drained,pinst_cnt,tags").stdout,
        boot_id("node2"),
    )


GLUSTER = "gluster --mode=script"
# Beside gv0's bricks, on node2's to node4's first disk: a pure distribute volume, a
# dispersed one, a replica 2 one with client quorum, and another with server quorum on, which with the
# pool's 4 peers at a ratio of 90 % needs them all.
BREAKABLE_VOLUMES = [
    (
        "node1",
        " && ".join(
            [
                f"{GLUSTER} volume create plain node4:/bricks/b1/plain",
                f"{GLUSTER} volume create ec disperse 3 redundancy 1 "
                "node2:/bricks/b1/ec node3:/bricks/b1/ec node4:/bricks/b1/ec force",
                f"{GLUSTER} volume create duo replica 2 node2:/bricks/b1/duo node3:/bricks/b1/duo force",
                # Gluster leaves a replica 2 volume without client quorum; with it, the first brick counts.
                f"{GLUSTER} volume set duo cluster.quorum-type auto",
                f"{GLUSTER} volume create pair replica 3 node2:/bricks/b1/pair node3:/bricks/b1/pair "
                "node4:/bricks/b1/pair",
                f"{GLUSTER} volume set pair cluster.server-quorum-type server",
                f"{GLUSTER} volume set all cluster.server-quorum-ratio 90",
                f"for v in plain ec duo pair; do {GLUSTER} volume start $v; done",
            ]
        ),
    )
]
UNDO_BREAKABLE_VOLUMES = [
    (
        "node1",
        f"for v in plain ec duo pair; do {GLUSTER} volume stop $v && {GLUSTER} volume delete $v; done && "
        f"{GLUSTER} volume set all cluster.server-quorum-ratio 51",
    ),
    *((host, "rm -rf /bricks/b1/plain /bricks/b1/ec /bricks/b1/duo /bricks/b1/pair") for host in NODES[1:]),
]


@pytest.mark.parametrize(
    ("case", "prepare", "undo", "messages"),
    [
        ("unknown name", [], [], ("node9 is not a host of gluster_pool or ganeti_nodes in this inventory",)),
        (
            # Every volume refusal at once: the roll names them all in one message.
            "volumes the roll would break",
            BREAKABLE_VOLUMES,
            UNDO_BREAKABLE_VOLUMES,
            (
                "volume plain is pure distribute",
                "volume ec is dispersed",
                "set 0 of volume duo (node2:/bricks/b1/duo, node3:/bricks/b1/duo) keeps 1 of 2 bricks with node2 down",
                "volume pair has server quorum on (cluster.server-quorum-type server), which needs 4 of the pool's 4",
            ),
        ),
        (
            "instance on local storage",
            [
                (
                    "node1",
                    "gnt-instance add -t file --disk=0:size=1G -o lab+default -n node3 --no-name-check --no-ip-check "
                    "local1",
                )
            ],
            [("node1", "gnt-instance remove -f local1")],
            ("local1",),
        ),
        (
            # Ganeti starts a migrated instance only where its minmem is free. 1 TiB: --force lets
            # a running instance's memory grow past what any node has, --ignore-ipolicy past
            # the instance policy's 32 GiB.
            "too little memory for an instance",
            [("node1", "gnt-instance modify --force --ignore-ipolicy -B minmem=1048576,maxmem=1048576 inst1")],
            [("node1", "gnt-instance modify --force -B minmem=default,maxmem=default inst1")],
            ("inst1 needs 1048576 MiB free on its new node",),
        ),
    ],
)
def test_refusals_come_before_any_node_is_touched(cluster, case, prepare, undo, messages):
    for host, command in prepare:
        out = ssh(host, command, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
    try:
        before = cluster_state()
        extravars = {"rolling_tasks": str(cluster / "reboot.yml")}
        if case == "unknown name":
            extravars["rolling_nodes"] = "node2,node9"
        rc, failures = play(cluster, REPO / "playbooks" / "rolling.yml", extravars)
        assert rc != 0, failures
        for message in messages:
            assert any(message in line for line in failures), (message, failures)
        assert cluster_state() == before
    finally:
        for host, command in undo:
            assert ssh(host, command, timeout=300).returncode == 0


def test_a_ganeti_node_outside_the_pool_is_refused(cluster):
    """With the default gluster:host (127.0.0.1) a node mounts the volume from its own
    glusterd: node5, declared a Ganeti node but no peer, could take no instance."""
    ganeti_hosts = "    node4:\n  vars:\n    # An operator"
    outside = INVENTORY.replace(ganeti_hosts, ganeti_hosts.replace("node4:\n", "node4:\n    node5:\n"))
    assert outside != INVENTORY
    (cluster / "outside.yml").write_text(outside)
    before = cluster_state()
    rc, failures = play(cluster, REPO / "playbooks" / "site.yml", inventory="outside.yml")
    assert rc != 0, failures
    message = "node5 would join Ganeti, but its glusterd does not hold volume gv0"
    assert any(message in line for line in failures), failures
    assert cluster_state() == before


def when_held_on(host):
    """A cancel callback for the runner: True once the roll is held on `host`."""
    last = [0.0]

    def held():
        if time.monotonic() - last[0] < 1:
            return False
        last[0] = time.monotonic()
        return ssh(host, f"test -e {HELD}", timeout=30).returncode == 0

    return held


def test_an_interrupted_roll_goes_on_where_it_stopped_with_vms_running_and_no_write_lost(cluster):
    work = cluster
    gv0 = volume_info("node1", "gv0")
    assert gv0.set_size == 3 and len(gv0.bricks) == 6
    writers = Writers(
        "gv0", "node5", "vm-fuse", "node5", "vm-gfapi", gfapi_writes=2000, pause_ms=700, servers=list(NODES)
    )
    boots = {host: boot_id(host) for host in NODES}
    assert all(state == "Y" for _node, state in instances().values()), instances()
    writers.start()
    # Files written before the roll, in both sets, read back at the end.
    write = "mkdir -p /mnt/writers/d && for i in $(seq 1 40); do head -c 64K /dev/urandom > /mnt/writers/d/f$i; done"
    assert ssh("node5", write).returncode == 0
    before = ssh("node5", "cd /mnt/writers/d && sha256sum *").stdout
    sampler = Sampler()
    sampler.start()
    started = time.monotonic()
    roll = {"rolling_tasks": str(work / "reboot.yml"), "rolling_id": "test-roll"}
    try:
        # The order is node2, node3, node4, then node1 (the master). Killed at node3, its
        # Gluster stopped:
        held = {**roll, "rolling_tasks": str(work / "hold-on-node3.yml")}
        rc, stopped = play(work, REPO / "playbooks" / "rolling.yml", held, cancel=when_held_on("node3"))
        assert rc != 0, stopped
        assert ssh("node3", "pgrep -x glusterd").returncode == 1
        halfway = {host: boot_id(host) for host in NODES}
        assert [h for h in NODES if halfway[h] != boots[h]] == ["node2"], (boots, halfway)
        tagged = on_master("gnt-node list --no-headers --separator=' ' -o name,drained,tags")
        assert "node3 Y ganeti-gluster:rolling" in tagged, tagged
        rc, stats = play(work, REPO / "playbooks" / "rolling.yml", roll)
    finally:
        sampler.stopping.set()
        sampler.join()
    took = time.monotonic() - started
    # The gfapi client wrote through the whole roll, every server down in turn.
    assert writers.gfapi_running(), took
    fuse_written, fuse_failed, gfapi_written, gfapi_failed = writers.stop(gfapi_wait=1500)
    assert rc == 0, stats
    # Each node booted again, node2 only once: the second run left it out.
    after = {host: boot_id(host) for host in NODES}
    assert after["node2"] == halfway["node2"], (halfway, after)
    assert all(after[host] not in (boots[host], halfway[host]) for host in ("node3", "node4", "node1")), after
    samples = [(t, seen, moving) for t, seen, moving in sampler.samples if seen is not None]
    down = [
        (t, name, seen[name])
        for t, seen, moving in samples
        for name in seen
        if seen[name][1] != "Y" and name not in moving
    ]
    assert len(samples) > 20 and not down, (down, len(samples))
    assert {name for _t, seen, _moving in samples for name in seen} == {"inst1", "inst2"}
    master = ssh("node1", "gnt-cluster getmaster").stdout.strip()
    assert master == "node2", master  # node1's turn came last: node2 took over
    nodes = ssh(master, "gnt-node list --no-headers --separator=' ' -o name,drained,tags")
    assert nodes.returncode == 0 and len(nodes.stdout.splitlines()) == 4, nodes.stderr
    assert all(line.split()[1] == "N" for line in nodes.stdout.splitlines()), nodes.stdout
    assert "ganeti-gluster:rolling" not in nodes.stdout
    heal = gluster_xml("node1", "volume", "heal", "gv0", "info", "summary")
    assert {b.findtext("numberOfEntriesInHealPending") for b in heal.iterfind(".//brick")} == {"0"}
    assert all(b.online for b in parse_volume_status(gluster_xml("node1", "volume", "status", "gv0")))
    assert ssh("node5", "cd /mnt/writers/d && sha256sum *").stdout == before and before.count("\n") == 40
    assert (fuse_failed, gfapi_failed) == (0, 0), writers.gfapi_failures
    assert fuse_written > 0 and gfapi_written > 0
    bricks = [b.name for b in volume_info("node1", "gv0").bricks]
    fuse_set = [b for b in bricks if ssh(b.split(":")[0], f"test -e {b.split(':')[1]}/vm-fuse").returncode == 0]
    gfapi_set = [b for b in bricks if ssh(b.split(":")[0], f"test -e {b.split(':')[1]}/vm-gfapi").returncode == 0]
    assert len(fuse_set) == 3 and len(gfapi_set) == 3
    assert writers.fuse_file_is_exact(fuse_written, fuse_set) == {"volume": True, **dict.fromkeys(fuse_set, True)}
    exact = writers.gfapi_file_is_exact(gfapi_written, gfapi_set)
    assert exact == {"volume": True, **dict.fromkeys(gfapi_set, True)}, (exact, writers.gfapi_unlike)
    versions = [
        gluster_xml("node1", "volume", "get", "all", option).findtext(".//Opt/Value")
        for option in ("cluster.op-version", "cluster.max-op-version")
    ]
    assert versions[0] == versions[1], versions
    # The same roll again: every node is done, nothing changes.
    rc, stats = play(work, REPO / "playbooks" / "rolling.yml", roll)
    assert rc == 0 and stats["changed_tasks"] == [], stats
    assert {host: boot_id(host) for host in NODES} == after
