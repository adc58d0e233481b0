"""Faults injected at named phases of a real join, and what they cost: nothing.

One lab: node1-3 are a replica 3 pool holding a dataset (checksums kept); each
case joins its own new host, whose first brick makes a set with spare directory
bricks on node1 and node2 (on their second disk, mounted at /bricks/b2). A case
injects its fault, then asserts on cluster state: no file lost (read back
through a fresh client mount), the volume started, every brick of the hosts the
fault left alone online. After the fault is cleared, a re-run converges; the
last case runs once more over every host the cases joined and asserts that
nothing changes (one run for all, not one per case: each costs a full join).

The cases share the lab but not their hosts or bricks; they run in file order.
FAULTS is the table docs/reliability.md is made from (scripts/reliability-doc).

Runs at once (after the two joins): each pair of runs must change the pool
under one lock, on the member that acts for it (the lowest glusterd UUID,
hosts being drained included). The hosts a case drains are given the lowest
UUIDs (node16 < node18 < node20 < node21 < any other), so that they are the
member that acts when they leave: the case the lock used to split over two
hosts. A join and a drain are ordered by the fault hook (the other run is the
fault, run whole at a named task); two drains start together, and the
lock's hold log (LOCK_PATH.log on every host) shows that no two of their
changes ran at once from two hosts.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterOpError,
    parse_rebalance_status,
    rebalance_process_unanswered,
)

from .ansible_helpers import gluster_xml, volume_info
from .ansible_helpers import pool as pool_of
from .fault_lab import (
    FIRST_BRICK,
    Run,
    assert_nothing_lost,
    bricks_of,
    cluster_state,
    lab_exec,
    on_host,
    peers,
    play,
    pool_healthy,
    pool_inventory,
    start_glusterd,
    stop_glusterd,
    volume_status_answers,
    wait_until,
    write_dataset,
)
from .lab_helpers import fresh_lab, lab, lab_state, ssh

pytestmark = pytest.mark.lab

HOSTS = 23
VOLUME_TASK = "Create or grow the volume"
BRICKS_TASK = "Prepare the bricks"
PROBE_TASK = "Probe the hosts that join, from a member of the pool"
DETACH_TASK = "Detach the drained hosts from the pool"
LEFT_BEHIND_TASK = "Look for files left on the bricks the drain removed"
DRAIN_PLAY = "Drain the hosts out of the GlusterFS volume and pool"
LOCK_DIR = "/var/lib/ganeti-gluster"

# fault -> (what the project does, what the operator does); the rows of docs/reliability.md.
FAULTS = {
    "glusterd stopped on a member before the run": (
        "refuses before any change, naming the member and its state",
        "start glusterd on that member, re-run",
    ),
    "glusterd stopped on a member between the peer probe and add-brick": (
        "the run fails at the volume step; nothing is added while a member is away; the volume stays up "
        "on the other replicas",
        "start glusterd on that member, re-run",
    ),
    "the new host's network cut right after the peer probe": (
        "the run fails (the new host is unreachable; no brick goes on it; a gluster command in flight times out "
        "after the CLI's 120 s); the next run waits up to 30 s for glusterd to reconnect to it, refuses a member "
        "still disconnected after that, and waits out a lock a blip left (glusterd frees it after 180 s)",
        "restore the network, re-run",
    ),
    "a probed host lost for good before it got a brick": (
        "once glusterd sees it disconnected, the next run detaches that peer (an inventory host that declares "
        "bricks, holds none, and is unreachable: no data) with a warning, and goes on",
        "nothing; before that host joins again, clear its /var/lib/glusterd/peers",
    ),
    "ansible-playbook killed (SIGKILL) during brick preparation": (
        "nothing reached the pool; a brick half prepared is finished by the re-run",
        "re-run",
    ),
    "ansible-playbook killed (SIGKILL) between the peer probe and add-brick": (
        "the new host is a peer without bricks; the volume is untouched",
        "re-run",
    ),
    "ansible-playbook killed (SIGKILL) during the rebalance": (
        "the bricks are in; the rebalance mark stays pending, the next run waits for the running pass and runs its own",
        "re-run",
    ),
    "a join whose time to wait for the rebalance is up (the node-add hook's, before Ganeti stops waiting)": (
        "the bricks are in and the run ends joined, with a warning; the pass goes on in the background (none is "
        "started after that time), the rebalance mark stays pending, and the module lets go of the pool's lock "
        "instead of holding it after the hook gave up",
        "nothing; the next site.yml or add-node.yml run waits for the pass and pays what is owed",
    ),
    "two add-node.yml for two new hosts started at the same moment": (
        "the modules that change the pool hold its lock on the member that acts for it (lowest glusterd UUID) "
        "while they read, compare and act; the other run waits, then works from the pool as it is by then",
        "nothing; a run that waits longer than gluster_pool_lock_wait refuses, naming the run that holds the lock",
    ),
    "a drain of the member that acts for the pool while a join waits to probe from it": (
        "every run locks the member with the lowest glusterd UUID, a host being drained included; the join, "
        "planned before the drain detached that member, checks under the lock that its host still sees the "
        "members it planned with, and refuses with nothing changed instead of probing from a detached host "
        "(which would start a second pool)",
        "run the join again: it plans from the pool as it is",
    ),
    "a join that reaches the leaving member that acts for the pool after the drain handed the pool over": (
        "the leaving member hands the pool over under its own lock before the member that acts once it is gone "
        "detaches it; a change that takes the lock there afterwards refuses, nothing changed",
        "run the join again once the drain is done",
    ),
    "two remove-node.yml for two hosts of one replica set started at the same moment": (
        "both change the pool from the same member, one drain's replace-brick and heal before the other's (the "
        "lock's hold log shows no two changes at once from two hosts); a drain that plans while the other heals, "
        "or reaches the member after it handed the pool over, refuses with nothing changed",
        "run the refused one again",
    ),
    "a brick process down before a join that ends with a rebalance (test_add_node_refusals.py)": (
        "refuses before any change, naming the brick: the rebalance after add-brick would wait for every brick "
        "and fail with the new bricks in; volume info and pool list as they were",
        "start the brick (gluster volume start VOLUME force) or bring its host back, re-run; or grow the volume "
        "with gluster_pool_rebalance: none and rebalance later",
    ),
    "a join that Ganeti's part would refuse (a node group the cluster does not have; molecule scenario ganeti)": (
        "refuses in the first play, before the pool's play: volume info, pool list and Ganeti's nodes as they were",
        "fix the inventory (ganeti_gluster_disk_node_group, ganeti_gluster_disk_secondary_ip, Ganeti installed on "
        "the host), re-run",
    ),
    "two gnt-node add at once on the master (two node-add hooks; molecule scenario ganeti)": (
        "the second hook waits for the first (join.lock, at most lock_wait), then joins its node",
        "nothing",
    ),
    "a node-add hook whose join hangs (a member's glusterd frozen; molecule scenario ganeti)": (
        "the run timeout stops the join and its leftover processes; the node is a Ganeti node, the hook exits 3, "
        "Ganeti warns, the log says which limit ran out and what to run",
        "fix the cause, then run add-node.yml -e add_nodes=NODE (it converges)",
    ),
    "ansible-playbook killed (SIGKILL) right after a drain's remove-brick commit, a file left on the removed brick": (
        "the leaving host noted the bricks the drain removes from it before the drain; every later run looks for "
        "files on them and keeps the host a peer, its brick mounted, until none is left",
        "copy the files named back into the volume through a client mount, remove them from the brick, re-run",
    ),
    "replace-node.yml's controller killed while the dead node's instance fails over, the run started again at "
    "once (molecule scenario remove-replace-node)": (
        "the first run's module goes on alone on the master and fails the instance over; the second run's waits "
        "for it (ganeti.lock) and plans from what it left: the instance failed over once, node5's bricks in node3's "
        "places, the replacement finished; a third run changes nothing",
        "re-run",
    ),
    "a drain whose live migration outlives its timeout, run again at once while Ganeti's job still runs "
    "(molecule scenario rolling)": (
        "the first run fails naming the job, which goes on in Ganeti; the second waits until no job that places "
        "instances is left in Ganeti's queue, then plans from where it ended: each instance migrated once",
        "re-run",
    ),
    "an add-brick that failed and left the volume's id on the new bricks": (
        "clears that id (only the target volume's own id, only on empty bricks) and adds them",
        "re-run",
    ),
}


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    with fresh_lab(HOSTS):
        inventories = tmp_path_factory.mktemp("faults")
        run = play("site.yml", pool_inventory(inventories / "pool.yml"), {}, timeout=600)
        assert run.rc == 0, run.failures
        devices = {h["name"]: h["block_devices"] for h in lab_state()["hosts"]}
        for host in ("node1", "node2"):
            out = ssh(
                host,
                f"mkfs.xfs -q -i size=512 {devices[host][1]} && mkdir -p /bricks/b2 && "
                f"mount {devices[host][1]} /bricks/b2",
            )
            assert out.returncode == 0, out.stderr
        write_dataset()
        yield {"dir": inventories, "devices": devices}


def converges(inventory, extravars):
    """After the fault is cleared, a re-run converges (test_every_join_converged checks
    that a further run changes nothing)."""
    again = play("add-node.yml", inventory, extravars)
    assert again.rc == 0, again.failures


def joined(host, spare):
    assert host in peers() and peers()[host].in_cluster
    assert bricks_of(host) == [f"{host}:/bricks/b1/brick"]
    assert {f"node1:/bricks/b2/{spare}", f"node2:/bricks/b2/{spare}"} <= set(
        b for h in ("node1", "node2") for b in bricks_of(h)
    )


def test_glusterd_stopped_on_a_member_before_the_run(pool):
    inventory = pool_inventory(pool["dir"] / "a.yml", ["node4"], ["a"])
    before = cluster_state()
    assert stop_glusterd("node3").returncode == 0
    try:
        run = play("add-node.yml", inventory, {"add_nodes": "node4"})
        assert run.rc != 0
        assert "existing member node3 is Peer in Cluster, disconnected" in str(run.failures)
        assert ssh("node4", f"blkid -p {pool['devices']['node4'][0]}").returncode == 2  # still blank
        assert ssh("node1", "test -e /bricks/b2/a").returncode == 1  # no spare made
    finally:
        assert start_glusterd("node3").returncode == 0
        wait_until(pool_healthy)
    assert cluster_state() == before
    assert_nothing_lost()
    converges(inventory, {"add_nodes": "node4"})
    joined("node4", "a")
    assert_nothing_lost()


def test_glusterd_stopped_on_a_member_between_probe_and_add_brick(pool):
    inventory = pool_inventory(pool["dir"] / "b.yml", ["node5"], ["b"])
    try:
        run = play(
            "add-node.yml",
            inventory,
            {"add_nodes": "node5"},
            fault_at=VOLUME_TASK,
            fault=on_host("node3", "kill $(cat /run/glusterd.pid)"),
        )
        assert run.rc != 0
        assert bricks_of("node5") == []
        assert_nothing_lost(down=("node3",))
    finally:
        assert start_glusterd("node3").returncode == 0
        wait_until(pool_healthy)
    converges(inventory, {"add_nodes": "node5"})
    joined("node5", "b")
    assert_nothing_lost()


def test_the_new_hosts_network_cut_right_after_the_probe(pool):
    inventory = pool_inventory(pool["dir"] / "c.yml", ["node6"], ["c"])
    try:
        run = play(
            "add-node.yml",
            inventory,
            {"add_nodes": "node6"},
            fault_at=VOLUME_TASK,
            fault=on_host("node6", "ip link set eth0 down"),
        )
        assert run.rc != 0
        assert "node6" in peers() and bricks_of("node6") == []
        assert_nothing_lost()
    finally:
        lab_exec("node6", "ip link set eth0 up")
        wait_until(lambda: pool_healthy("node6"))
        # node1's connection to node6 held the cut transaction's lock request unacknowledged:
        # glusterd sets no TCP user timeout on peer connections (glusterd.vol has none), so it
        # may not notice the cut for the kernel's 15 retransmissions (about 15 min), and keepalive
        # probes only an idle connection. Back on the link, node6 takes that lock and frees it
        # after 180 s (GF_LOCK_TIMER); until then every cluster-wide command meets "Locking failed
        # on node6", which GlusterCli waits out (200 s). Seen on the lab: 512 bytes unacked, 11
        # retransmissions, still ESTABLISHED 3.5 min after the cut.
        wait_until(volume_status_answers, timeout=240, what="glusterd to free the lock the cut left on node6")
    converges(inventory, {"add_nodes": "node6"})
    joined("node6", "c")
    assert_nothing_lost()


def test_a_probed_host_lost_for_good_is_detached_by_the_next_join(pool):
    lost = pool_inventory(pool["dir"] / "d1.yml", ["node7"], ["d1"])
    # The host dies after the probe: its glusterd goes (its peers see it go), then its network.
    run = play(
        "add-node.yml",
        lost,
        {"add_nodes": "node7"},
        fault_at=VOLUME_TASK,
        fault=on_host("node7", "kill $(cat /run/glusterd.pid); sleep 1; ip link set eth0 down"),
    )
    assert run.rc != 0 and "node7" in peers()
    wait_until(lambda: not peers()["node7"].connected, timeout=60, what="node1 to see node7 disconnected")
    # node7 never comes back; the next join (node8, with node7 still in the inventory) is not blocked.
    inventory = pool_inventory(pool["dir"] / "d2.yml", ["node7", "node8"], ["d2"])
    converges(inventory, {"add_nodes": "node8"})
    assert "node7" not in peers()
    joined("node8", "d2")
    assert_nothing_lost()


def test_the_run_killed_during_brick_preparation(pool):
    inventory = pool_inventory(pool["dir"] / "e.yml", ["node9"], ["e"])
    device = pool["devices"]["node9"][0]
    # The kill lands once the brick's filesystem is made: during the brick's preparation
    # (formatted, maybe mounted) or right after it, before the probe.
    formatted = (
        f'i=0; until [ "$(blkid -p -o value -s TYPE {device})" = xfs ]; '
        "do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done"
    )
    run = play(
        "add-node.yml",
        inventory,
        {"add_nodes": "node9"},
        fault_at=BRICKS_TASK,
        fault=on_host("node9", formatted),
        wait="async",
        kill=True,
    )
    assert run.killed, run
    assert ssh("node9", f"blkid -p -o value -s TYPE {device}").stdout.strip() == "xfs"
    assert "node9" not in peers()
    assert_nothing_lost()
    converges(inventory, {"add_nodes": "node9"})
    joined("node9", "e")
    assert_nothing_lost()


def test_the_run_killed_between_probe_and_add_brick(pool):
    inventory = pool_inventory(pool["dir"] / "f.yml", ["node10"], ["f"])
    run = play("add-node.yml", inventory, {"add_nodes": "node10"}, fault_at=VOLUME_TASK, kill=True)
    assert run.killed, run
    assert peers()["node10"].in_cluster and bricks_of("node10") == []
    assert_nothing_lost()
    converges(inventory, {"add_nodes": "node10"})
    joined("node10", "f")
    assert_nothing_lost()


def test_the_run_killed_during_the_rebalance(pool):
    inventory = pool_inventory(pool["dir"] / "g.yml", ["node11"], ["g"], rebalance="full")
    # Once this run's first pass has started (a task id other than the last one's), the
    # controller dies. Waiting to see it "in progress" raced with a short pass on a busy
    # machine: the pass, and the run's closing pass that moves nothing, could both end
    # between two reads, and the run marked the rebalance done before the kill.
    task_id = "gluster --mode=script --xml volume rebalance gv0 status 2>/dev/null | grep -o '<task-id>[^<]*' | head -1"
    # The mark is read there, at the kill: the run's module on node1 is not killed with the
    # controller (its SSH session outlives it), and may finish the passes and mark the
    # rebalance done before the test could read the mark afterwards (seen in CI).
    wait_for_pass = (
        f"old=$({task_id}); for i in $(seq 1 600); do "
        f'now=$({task_id}); [ -n "$now" ] && [ "$now" != "$old" ] && break; '
        "sleep 0.1; done; "
        "gluster --mode=script volume get gv0 user.ganeti-gluster.rebalance > /root/rebalance-mark-at-kill; "
        # No new pass within the minute: the run was not killed during one (the suite fails the case).
        '[ -n "$now" ] && [ "$now" != "$old" ]'
    )
    run = play(
        "add-node.yml",
        inventory,
        {"add_nodes": "node11"},
        fault_at=VOLUME_TASK,
        fault=on_host("node1", wait_for_pass),
        wait="async",
        kill=True,
    )
    assert run.killed, run
    assert bricks_of("node11") == ["node11:/bricks/b1/brick"]
    # What the run still owed when it died was on the volume, for the next one.
    assert "pending full" in ssh("node1", "cat /root/rebalance-mark-at-kill").stdout
    assert_nothing_lost()
    converges(inventory, {"add_nodes": "node11"})
    joined("node11", "g")
    assert "pending" not in (rebalance_mark() or "")
    assert_nothing_lost()


def rebalance_mark():
    return volume_info("node1", "gv0").options.get("user.ganeti-gluster.rebalance")


def rebalance_status():
    """gv0's rebalance status on node1, asked again while a node's rebalance process
    exits (the CLI then fails, as the modules know)."""
    read = []

    def answered():
        try:
            read.append(parse_rebalance_status(gluster_xml("node1", "volume", "rebalance", "gv0", "status")))
        except GlusterOpError as exc:
            if not rebalance_process_unanswered(exc):
                raise
            return False
        return True

    wait_until(answered, timeout=60, what="gv0's rebalance status")
    assert read[-1] is not None, "gv0 has no rebalance on record"
    return read[-1]


def test_a_join_out_of_time_for_its_rebalance_leaves_it_owed_and_the_next_run_pays_it(pool):
    """The node-add hook's case: the run's time to wait for the rebalance
    (gluster_pool_rebalance_wait_until, here long past) is up once the bricks are in.
    The run ends joined without starting a pass, the mark keeps what is owed, and the
    next run pays it."""
    inventory = pool_inventory(pool["dir"] / "j.yml", ["node23"], ["j"])
    last_task = rebalance_status().task_id  # the earlier cases' joins rebalanced
    run = play("add-node.yml", inventory, {"add_nodes": "node23", "gluster_pool_rebalance_wait_until": 1})
    assert run.rc == 0, run.failures
    assert bricks_of("node23") == ["node23:/bricks/b1/brick"]
    assert rebalance_mark() == "pending fix-layout"
    assert rebalance_status().task_id == last_task  # no pass was started
    assert_nothing_lost()
    converges(inventory, {"add_nodes": "node23"})
    joined("node23", "j")
    assert rebalance_mark() == "done"
    status = rebalance_status()
    assert status.task_id != last_task and status.completed
    assert {b.host_uuid for b in volume_info("node1", "gv0").bricks} <= status.completed_nodes
    assert_nothing_lost()


def test_an_add_brick_that_failed_and_left_the_volume_id(pool):
    inventory = pool_inventory(pool["dir"] / "h.yml", ["node12"], ["h"])
    device = pool["devices"]["node12"][0]
    volume_id = ssh("node1", "gluster --mode=script volume info gv0 | sed -n 's/^Volume ID: //p'").stdout.strip()
    xattr = f"setfattr -n trusted.glusterfs.volume-id -v 0x{volume_id.replace('-', '')}"
    # What a failed add-brick leaves: the bricks made, the volume's id on them, not in the volume.
    out = ssh(
        "node12",
        f"mkfs.xfs -q -i size=512 {device} && mkdir -p /bricks/b1 && mount {device} /bricks/b1 && "
        f"mkdir /bricks/b1/brick && {xattr} /bricks/b1/brick",
    )
    assert out.returncode == 0, out.stderr
    for host in ("node1", "node2"):
        assert ssh(host, f"mkdir /bricks/b2/h && {xattr} /bricks/b2/h").returncode == 0
    converges(inventory, {"add_nodes": "node12"})
    joined("node12", "h")
    assert_nothing_lost()


def test_two_joins_started_at_the_same_moment(pool):
    # Two operators (two inventories, two controllers' worth of runs) join two hosts at once.
    runs = {}
    inventories = {
        host: pool_inventory(pool["dir"] / f"i-{host}.yml", [host], [f"i-{host}"]) for host in ("node13", "node14")
    }

    def join(host):
        runs[host] = play("add-node.yml", inventories[host], {"add_nodes": host})

    threads = [threading.Thread(target=join, args=(host,)) for host in inventories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One held the pool's lock, the other waited for it, read the pool again and joined.
    assert {h: r.rc for h, r in runs.items()} == {"node13": 0, "node14": 0}, {h: r.failures for h, r in runs.items()}
    for host in inventories:
        joined(host, f"i-{host}")
    assert_nothing_lost()


def lowest_uuid(rank):
    """Glusterd UUIDs below any random one, in the order of `rank`."""
    return f"00000000-0000-4000-8000-{rank:012d}"


def force_uuid(host, uuid):
    """Give a host that has not joined yet the glusterd UUID `uuid`: glusterd makes its UUID
    (and writes glusterd.info) at the first request it serves, not at its start; the UUID is
    changed while it has no peer."""
    script = f"""
    set -e
    info=/var/lib/glusterd/glusterd.info
    [ -s /run/glusterd.pid ] && kill -0 "$(cat /run/glusterd.pid)" 2>/dev/null || glusterd -p /run/glusterd.pid
    for i in $(seq 1 100); do
        gluster --mode=script pool list >/dev/null 2>&1 || true
        grep -q '^UUID=' $info 2>/dev/null && break
        sleep 0.1
    done
    p=$(cat /run/glusterd.pid); kill "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
    sed -i 's/^UUID=.*/UUID={uuid}/' $info
    glusterd -p /run/glusterd.pid
    for i in $(seq 1 100); do gluster --mode=script pool list >/dev/null 2>&1 && break; sleep 0.1; done
    """
    out = ssh(host, script)
    assert out.returncode == 0, out.stderr
    assert [(p.uuid, p.is_local) for p in pool_of(host)] == [(uuid, True)]


def spare(name):
    """A spare directory brick on the host's second disk (mounted at /bricks/b2)."""
    return f"{{path: /bricks/b2/{name}}}"


def second_disk(pool, host):
    """The host's second device as an XFS at /bricks/b2, as the fixture made node1's and node2's."""
    device = pool["devices"][host][1]
    out = ssh(
        host,
        f"mountpoint -q /bricks/b2 || {{ mkfs.xfs -q -i size=512 {device} && mkdir -p /bricks/b2 && "
        f"mount {device} /bricks/b2; }}",
    )
    assert out.returncode == 0, out.stderr


def hosts_inventory(path, bricks):
    """An inventory of the gluster_pool hosts given, each with its bricks (YAML flow maps)."""
    lines = ["gluster_pool:", "  hosts:"]
    lines += [f"    {host}: {{gluster_pool_bricks: [{', '.join(specs)}]}}" for host, specs in bricks.items()]
    lines += ["  vars:", "    gluster_pool_volume: gv0", "    gluster_pool_replica: 3"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def nested(playbook, inventory, extravars, report):
    """argv of a fault that runs a whole other playbook (fault_lab.play) and writes its Run,
    as JSON, to `report`; the fault settings of the run it strikes are not passed on."""
    code = textwrap.dedent(f"""
        import dataclasses, json, sys
        sys.path[:0] = {sys.path!r}
        from tests.integration.fault_lab import play
        run = play({playbook!r}, {inventory!r}, {extravars!r})
        with open({str(report)!r}, "w") as handle:
            json.dump(dataclasses.asdict(run), handle)
    """)
    names = ("FAULT_AT_TASK", "FAULT_AT_PLAY", "FAULT_COMMAND", "FAULT_WAIT", "FAULT_KILL")
    unset = [arg for name in names for arg in ("-u", name)]
    return ["env", *unset, sys.executable, "-c", code]


def nested_run(report):
    return Run(**json.loads(Path(report).read_text()))


def message(run):
    return " ".join(" ".join(m) if isinstance(m, list) else str(m) for m in run.failures.values())


def holds(hosts, owners):
    """The lock's holds by `owners` (lock_owner), logged on `hosts`, that the guard let through."""
    found = []
    for host in hosts:
        out = ssh(host, f"cat {LOCK_DIR}/pool.lock.log 2>/dev/null; true")
        for line in out.stdout.splitlines():
            hold = json.loads(line)
            if hold.get("owner") in owners and "refused" not in hold:
                found.append({**hold, "host": host})
    return found


def test_a_drain_of_the_acting_member_while_a_join_waits_to_probe_from_it(pool, tmp_path):
    # node16 joins with the lowest glusterd UUID: from then on it acts for the pool.
    force_uuid("node16", lowest_uuid(16))
    first = {"node1": [FIRST_BRICK, spare("ca")], "node2": [FIRST_BRICK, spare("ca")], "node3": [FIRST_BRICK]}
    converges(hosts_inventory(pool["dir"] / "ca.yml", {**first, "node16": [FIRST_BRICK]}), {"add_nodes": "node16"})
    joined("node16", "ca")
    second_disk(pool, "node3")
    drain = hosts_inventory(
        pool["dir"] / "ca-drain.yml",
        {**first, "node3": [FIRST_BRICK, spare("ca3")], "node16": [FIRST_BRICK]},
    )
    join = hosts_inventory(
        pool["dir"] / "cb.yml",
        {
            "node1": [FIRST_BRICK, spare("cb")],
            "node2": [FIRST_BRICK, spare("cb")],
            "node3": [FIRST_BRICK],
            "node16": [FIRST_BRICK],
            "node17": [FIRST_BRICK],
        },
    )
    # The join plans with node16 acting; right before it probes from there, the whole
    # drain of node16 runs: its brick replaced by node3's spare, then node16 detached.
    report = tmp_path / "drain.json"
    run = play(
        "add-node.yml",
        join,
        {"add_nodes": "node17"},
        fault_at=PROBE_TASK,
        fault=nested("remove-node.yml", drain, {"remove_nodes": "node16"}, report),
        timeout=1800,
    )
    drained = nested_run(report)
    assert drained.rc == 0, drained.failures
    assert run.rc != 0
    assert "another run detached this host from the pool" in message(run), run.failures
    # No second pool: node16, detached, probed nobody; node17 is in no pool.
    assert [p.is_local for p in pool_of("node16")] == [True]
    assert [p for p in pool_of("node17") if not p.is_local] == []
    assert "node16" not in peers() and "node17" not in peers()
    assert bricks_of("node16") == [] and "node3:/bricks/b2/ca3" in bricks_of("node3")
    assert all(p.in_cluster for p in peers().values())
    assert_nothing_lost()
    # Run again: it plans from the pool as it is (node16, alone, is left out) and joins node17.
    converges(join, {"add_nodes": "node17"})
    joined("node17", "cb")
    assert_nothing_lost()


def test_a_join_that_reaches_the_leaving_acting_member_after_its_hand_over(pool, tmp_path):
    force_uuid("node18", lowest_uuid(18))
    first = {"node1": [FIRST_BRICK, spare("cc")], "node2": [FIRST_BRICK, spare("cc")], "node3": [FIRST_BRICK]}
    converges(hosts_inventory(pool["dir"] / "cc.yml", {**first, "node18": [FIRST_BRICK]}), {"add_nodes": "node18"})
    joined("node18", "cc")
    second_disk(pool, "node3")
    drain = hosts_inventory(
        pool["dir"] / "cc-drain.yml", {**first, "node3": [FIRST_BRICK, spare("cc3")], "node18": [FIRST_BRICK]}
    )
    # An inventory that lists node18, whose bricks an operator already took out of it.
    join = hosts_inventory(
        pool["dir"] / "cd.yml",
        {
            "node1": [FIRST_BRICK, spare("cd")],
            "node2": [FIRST_BRICK, spare("cd")],
            "node3": [FIRST_BRICK],
            "node18": [],
            "node19": [FIRST_BRICK],
        },
    )
    # The drain moves node18's brick and hands the pool over; right before it detaches
    # node18, the whole join runs, planning with node18 (still a member) acting.
    report = tmp_path / "join.json"
    run = play(
        "remove-node.yml",
        drain,
        {"remove_nodes": "node18"},
        fault_at=DETACH_TASK,
        # The drain's own play: the check play before it starts the same tasks, skipped.
        in_play=DRAIN_PLAY,
        fault=nested("add-node.yml", join, {"add_nodes": "node19"}, report),
        timeout=1800,
    )
    refused = nested_run(report)
    assert run.rc == 0, run.failures
    assert refused.rc != 0
    assert "this host leaves the pool" in message(refused) and "handed the pool over here" in message(refused)
    # The refused join changed nothing in the pool: node19 is in it nowhere.
    assert "node19" not in peers() and bricks_of("node19") == []
    assert [p for p in pool_of("node19") if not p.is_local] == []
    assert "node18" not in peers() and bricks_of("node18") == [] and "node3:/bricks/b2/cc3" in bricks_of("node3")
    # The hand-over record is spent with the detach, and gone: it binds no later pool.
    assert ssh("node18", f"test -e {LOCK_DIR}/pool.lock.leaving").returncode == 1
    assert_nothing_lost()
    converges(join, {"add_nodes": "node19"})
    joined("node19", "cd")
    assert_nothing_lost()


def test_two_drains_of_hosts_of_one_set_run_one_after_the_other(pool):
    force_uuid("node20", lowest_uuid(20))
    force_uuid("node21", lowest_uuid(21))
    second_disk(pool, "node3")
    # One set of node20, node21 and a spare on node1.
    base = {"node1": [FIRST_BRICK, spare("ce")], "node2": [FIRST_BRICK], "node3": [FIRST_BRICK]}
    both = {"node20": [FIRST_BRICK], "node21": [FIRST_BRICK]}
    converges(hosts_inventory(pool["dir"] / "ce.yml", {**base, **both}), {"add_nodes": "node20,node21"})
    volume = volume_info("node1", "gv0")
    (index,) = {i // 3 for i, b in enumerate(volume.bricks) if b.name.startswith(("node20:", "node21:"))}
    assert {b.name.split(":")[0] for b in volume.bricks[index * 3 : index * 3 + 3]} == {"node20", "node21", "node1"}
    # Each drain has its own spare outside the set: node20's on node3, node21's on node2.
    inventories = {
        "node20": hosts_inventory(
            pool["dir"] / "ce-drain20.yml", {**base, "node3": [FIRST_BRICK, spare("ce3")], **both}
        ),
        "node21": hosts_inventory(
            pool["dir"] / "ce-drain21.yml", {**base, "node2": [FIRST_BRICK, spare("ce2")], **both}
        ),
    }
    owners = {host: f"drain of {host}" for host in inventories}
    runs = {}

    def remove(host):
        runs[host] = play(
            "remove-node.yml", inventories[host], {"remove_nodes": host, "gluster_pool_lock_owner": owners[host]}
        )

    threads = [threading.Thread(target=remove, args=(host,)) for host in inventories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for host, run in runs.items():
        if run.rc != 0:
            # Refused cleanly (it planned while the other healed, or met its hand-over or its
            # lock): nothing changed by it, and run again it finishes.
            assert re.search(r"Nothing was changed|another run changes the pool", message(run)), run.failures
            again = play(
                "remove-node.yml", inventories[host], {"remove_nodes": host, "gluster_pool_lock_owner": owners[host]}
            )
            assert again.rc == 0, again.failures
    assert "node20" not in peers() and "node21" not in peers()
    assert {"node3:/bricks/b2/ce3", "node2:/bricks/b2/ce2"} <= set(bricks_of("node3") + bricks_of("node2"))
    assert all(p.in_cluster for p in peers().values())
    # Never two changes at once from two hosts: every hold of one drain's changes ended
    # before any of the other's began elsewhere (on one host, the flock orders them).
    held = holds(["node1", "node2", "node3", "node20", "node21"], set(owners.values()))
    assert {h["owner"] for h in held} == set(owners.values()), held
    for one in held:
        for other in held:
            if one["owner"] != other["owner"] and one["host"] != other["host"]:
                assert one["until"] <= other["since"] or other["until"] <= one["since"], (one, other)
    assert_nothing_lost()


def test_an_inventory_keyed_by_ip_address_joins_a_host_to_a_pool_built_with_names(pool):
    # The pool knows node1-3 by name; this operator's inventory names every host by its address.
    lab_inventory = json.loads(lab("inventory").stdout)
    hostvars = lab_inventory["_meta"]["hostvars"]
    address = {host: hostvars[host]["ansible_host"] for host in hostvars}

    def bricks(*extra):
        return [{"path": "/bricks/b1/brick", "device": "{{ lab_block_devices[0] }}"}, *extra]

    spare = {"path": "/bricks/b2/ip"}
    hosts = {
        address["node1"]: {"gluster_pool_bricks": bricks(spare)},
        address["node2"]: {"gluster_pool_bricks": bricks(spare)},
        address["node3"]: {"gluster_pool_bricks": bricks()},
        address["node15"]: {"gluster_pool_bricks": bricks()},
    }
    for host, name in zip(hosts, ["node1", "node2", "node3", "node15"], strict=True):
        hosts[host]["lab_block_devices"] = hostvars[name]["lab_block_devices"]
    inventory = pool["dir"] / "by-address.yml"
    inventory.write_text(
        json.dumps(
            {
                "gluster_pool": {
                    "hosts": hosts,
                    "vars": {"gluster_pool_volume": "gv0", "gluster_pool_replica": 3, **lab_inventory["lab"]["vars"]},
                }
            }
        )
    )
    converges(str(inventory), {"add_nodes": address["node15"]})
    third = play("add-node.yml", str(inventory), {"add_nodes": address["node15"]})
    assert third.rc == 0 and third.changed == 0, (third.failures, third.stats)
    new = address["node15"]
    assert peers()[new].in_cluster  # probed by the name the inventory gives it
    assert bricks_of(new) == [f"{new}:/bricks/b1/brick"]
    # node1 and node2 keep the names the pool knows them by, for their new bricks too.
    assert {"node1:/bricks/b2/ip", "node2:/bricks/b2/ip"} <= set(bricks_of("node1") + bricks_of("node2"))
    assert_nothing_lost()


# Each case's new host and its spares (node7 was lost for good; node15 joined by address;
# node16, node18, node20 and node21 were drained).
JOINED = {
    "node4": "a",
    "node5": "b",
    "node6": "c",
    "node8": "d2",
    "node9": "e",
    "node10": "f",
    "node11": "g",
    "node12": "h",
    "node13": "i-node13",
    "node14": "i-node14",
    "node17": "cb",
    "node19": "cd",
    "node23": "j",
}


def test_files_left_on_a_removed_brick_keep_its_host_across_runs_until_they_are_back(pool):
    """A pure distribute volume `lo` of node1's spare and node22's brick; remove-node.yml
    drains node22 (its brick removed with a data migration), killed once the commit is
    made, a file then left on the removed brick as a migration can leave one."""
    base = {"node1": [FIRST_BRICK], "node2": [FIRST_BRICK], "node3": [FIRST_BRICK]}
    joining = hosts_inventory(pool["dir"] / "lo-join.yml", {**base, "node22": []})
    converges(joining, {"add_nodes": "node22"})
    device = pool["devices"]["node22"][0]
    out = ssh("node22", f"mkfs.xfs -q -i size=512 {device} && mkdir -p /bricks/b1 && mount {device} /bricks/b1")
    assert out.returncode == 0, out.stderr
    gluster = "gluster --mode=script"
    write = (
        f"{gluster} volume create lo node1:/bricks/b2/lo node22:/bricks/b1/lo && {gluster} volume start lo && "
        "mkdir -p /mnt/lo && mount -t glusterfs node1:/lo /mnt/lo && "
        "for i in $(seq 1 40); do head -c 16K /dev/urandom > /mnt/lo/f$i; done && "
        "(cd /mnt/lo && sha256sum f*) > /root/lo.sums && umount /mnt/lo"
    )
    out = ssh("node1", write, timeout=120)
    assert out.returncode == 0, out.stderr
    assert ssh("node22", "ls /bricks/b1/lo | grep -c '^f'").stdout.strip() not in ("", "0")
    # Each host declares its brick of lo only: a brick of gv0 would be a spare of lo's drain.
    inventory = pool["dir"] / "lo.yml"
    hosts_inventory(inventory, {"node1": [spare("lo")], "node2": [], "node3": [], "node22": ["{path: /bricks/b1/lo}"]})
    inventory.write_text(inventory.read_text().replace("gluster_pool_volume: gv0", "gluster_pool_volume: lo"))
    inventory.write_text(inventory.read_text().replace("gluster_pool_replica: 3", "gluster_pool_replica: 1"))
    leave = {"remove_nodes": "node22"}
    late = "mkdir -p /bricks/b1/lo/d && echo late > /bricks/b1/lo/d/late"
    run = play(
        "remove-node.yml",
        str(inventory),
        leave,
        fault_at=LEFT_BEHIND_TASK,
        fault=on_host("node22", late),
        kill=True,
        in_play=DRAIN_PLAY,
    )
    assert run.killed, run
    lo = [b.name for b in volume_info("node1", "lo").bricks]
    assert lo == ["node1:/bricks/b2/lo"] and peers()["node22"].in_cluster
    # The next run no longer finds node22's brick in the volume, and still looks there.
    again = play("remove-node.yml", str(inventory), leave)
    assert again.rc != 0 and "/bricks/b1/lo holds 1 data files (d/late)" in message(again), again.failures
    assert peers()["node22"].in_cluster
    assert ssh("node22", "mountpoint -q /bricks/b1").returncode == 0
    assert ssh("node22", "rm -r /bricks/b1/lo/d").returncode == 0
    done = play("remove-node.yml", str(inventory), leave)
    assert done.rc == 0, done.failures
    assert "node22" not in peers()
    assert ssh("node22", "test -e /var/lib/ganeti-gluster/removed-bricks-lo.json").returncode == 1
    out = ssh(
        "node1",
        "mount -t glusterfs node1:/lo /mnt/lo && (cd /mnt/lo && sha256sum f*) | cmp - /root/lo.sums; "
        f"status=$?; umount /mnt/lo; {gluster} volume stop lo && {gluster} volume delete lo && exit $status",
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert_nothing_lost()


def test_every_join_converged_a_run_over_all_of_them_changes_nothing(pool):
    inventory = pool_inventory(pool["dir"] / "all.yml", list(JOINED), list(JOINED.values()))
    run = play("add-node.yml", inventory, {"add_nodes": ",".join(JOINED)})
    assert run.rc == 0, run.failures
    assert run.changed == 0, run.stats
    for host, spare in JOINED.items():
        joined(host, spare)
    assert_nothing_lost()
