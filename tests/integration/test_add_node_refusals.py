"""add-node.yml, remove-node.yml and replace-node.yml refuse, before changing
anything, every run they must not make.

A real 3-host replica 3 pool (site.yml), node4 and node5 waiting. Each case
breaks one thing, runs a playbook, and checks the refusal's message (from the
failed task's result) and that the cluster is exactly as it was: the same
`volume info`, the same pool, node4's device still blank.
"""

from __future__ import annotations

import re
import textwrap
import time

import pytest

from .ansible_helpers import gluster_xml, run_playbook
from .ansible_helpers import pool as pool_of
from .fault_lab import brick_online, every_brick_online, peers, wait_until
from .lab_helpers import REPO, end_process, fresh_lab, lab, lab_state, ssh

pytestmark = pytest.mark.lab

LAB_HOSTS = str(REPO / "inventory" / "lab" / "lab_hosts")
# Every sshd of a host (listener and open sessions, which ssh connection reuse
# would keep using), found by executable inside the host's own PID namespace.
STOP_SSHD = 'for p in /proc/[0-9]*; do [ "$(readlink $p/exe)" = /usr/sbin/sshd ] && kill "${p#/proc/}"; done; true'
FIRST_BRICK = '{path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}'
SPARE_BRICK = '{path: /bricks/b2/brick, device: "{{ lab_block_devices[1] }}"}'


def write_inventory(
    path,
    node4_bricks=f"[{FIRST_BRICK}]",
    spares=True,
    volume="gv0",
    group_vars="",
    node2_vars="",
    node3_bricks=f"[{FIRST_BRICK}]",
):
    spare = f"[{FIRST_BRICK}, {SPARE_BRICK}]" if spares else f"[{FIRST_BRICK}]"
    path.write_text(
        textwrap.dedent(f"""\
        gluster_pool:
          hosts:
            node1: {{gluster_pool_bricks: {spare}}}
            node2: {{gluster_pool_bricks: {spare}{node2_vars}}}
            node3: {{gluster_pool_bricks: {node3_bricks}}}
            node4: {{gluster_pool_bricks: {node4_bricks}}}
            node5: {{gluster_pool_bricks: [{FIRST_BRICK}]}}
          vars:
            gluster_pool_volume: {volume}
            gluster_pool_replica: 3
        """)
        + textwrap.indent(textwrap.dedent(group_vars), "    ")
    )
    return str(path)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    with fresh_lab(5):
        bootstrap = write_inventory(tmp_path_factory.mktemp("inv") / "pool.yml", spares=False)
        rc, failures = run_playbook("site.yml", [LAB_HOSTS, bootstrap], limit="node1,node2,node3")
        assert rc == 0, failures
        yield {h["name"]: h["block_devices"] for h in lab_state()["hosts"]}


def stop_glusterd_seen(host):
    """`host`'s glusterd ended, and node1 seeing it disconnected, as the run will."""
    end_process(host, "/run/glusterd.pid")
    wait_until(lambda: not peers()[host].connected, 60, f"node1 to see {host} disconnected")


def stop_brick_seen(brick):
    """A brick process of gv0 ended, and node1's glusterd reporting it offline."""
    host, path = brick.split(":", 1)
    end_process(host, f"/run/gluster/vols/gv0/{host}{path.replace('/', '-')}.pid")
    wait_until(lambda: brick_online(brick) is False, 60, f"node1 to see {brick} offline")


def restart_bricks():
    """Every brick of gv0 started again and online before the next case."""
    assert ssh("node1", "gluster --mode=script volume start gv0 force").returncode == 0
    wait_until(every_brick_online, 60, "every brick of gv0 online")


def wait_pool_healthy(timeout=60):
    deadline = time.monotonic() + timeout
    while not all(p.in_cluster for p in pool_of("node1")):
        assert time.monotonic() < deadline, "the pool did not heal"
        time.sleep(0.5)


def cluster_state(devices):
    return {
        "volume": ssh("node1", "gluster --mode=script --xml volume info").stdout,
        "pool": ssh("node1", "gluster --mode=script --xml pool list").stdout,
        "node4_device": ssh("node4", f"blkid -p -o value -s TYPE {devices['node4'][0]}").stdout,
        "node1_spare": ssh("node1", f"blkid -p -o value -s TYPE {devices['node1'][1]}").stdout,
    }


def refused(devices, inventory, extravars=None, playbook="add-node.yml"):
    before = cluster_state(devices)
    rc, failures = run_playbook(playbook, [LAB_HOSTS, inventory], extravars)
    assert rc != 0
    assert cluster_state(devices) == before
    # A refusal's message is a string, or a list of them when several things are wrong.
    return " ".join(" ".join(m) if isinstance(m, list) else str(m) for m in failures.values())


def test_a_host_not_in_the_inventory(pool, tmp_path):
    message = refused(pool, write_inventory(tmp_path / "i.yml"), {"add_nodes": "node4,node9"})
    assert "add_nodes names hosts that are not in the gluster_pool group: node9" in message


def test_a_volume_that_does_not_exist(pool, tmp_path):
    message = refused(pool, write_inventory(tmp_path / "i.yml", volume="nosuch"), {"add_nodes": "node4"})
    assert re.search(r"volume nosuch does not exist on the pool of node\d; build it with playbooks/site.yml", message)


def test_new_bricks_that_cannot_be_placed(pool, tmp_path):
    message = refused(pool, write_inventory(tmp_path / "i.yml", spares=False), {"add_nodes": "node4"})
    assert (
        "replica 3 needs bricks on 3 distinct hosts per set; the new bricks are on 1 host (node4); "
        "add 2 spare bricks on other hosts or 2 more nodes"
    ) in message


def test_a_brick_on_the_root_filesystem(pool, tmp_path):
    inventory = write_inventory(tmp_path / "i.yml", node4_bricks="[{path: /srv/brick4}]")
    message = refused(pool, inventory, {"add_nodes": "node4"})
    assert "/srv/brick4 is on the root filesystem (set gluster_pool_allow_root_bricks: true to allow it)" in message


def test_a_device_that_carries_a_filesystem(pool, tmp_path):
    device = pool["node5"][0]
    assert ssh("node5", f"mkfs.ext4 -q {device}").returncode == 0
    try:
        message = refused(pool, write_inventory(tmp_path / "i.yml"), {"add_nodes": "node5"})
        assert f"{device} carries an ext4 filesystem" in message
        assert ssh("node5", f"blkid -p -o value -s TYPE {device}").stdout.strip() == "ext4"
    finally:
        ssh("node5", f"wipefs --all --quiet {device}")


def test_an_existing_member_that_is_down(pool, tmp_path):
    try:
        stop_glusterd_seen("node3")
        message = refused(pool, write_inventory(tmp_path / "i.yml"), {"add_nodes": "node4"})
        assert "existing member node3 is Peer in Cluster, disconnected, as node1 sees it" in message
    finally:
        assert ssh("node3", "glusterd -p /run/glusterd.pid").returncode == 0
        wait_pool_healthy()


def test_an_existing_member_that_is_unreachable(pool, tmp_path):
    assert lab("exec", "node2", "--", "sh", "-c", STOP_SSHD).returncode == 0
    try:
        message = refused(pool, write_inventory(tmp_path / "i.yml"), {"add_nodes": "node4"})
        assert "existing member node2 is unreachable" in message
    finally:
        assert lab("exec", "node2", "--", "/usr/sbin/sshd", "-E", "/run/sshd.log").returncode == 0


# Bad inputs, each refused before anything changes, with its message: the table in
# docs/reliability.md (scripts/reliability-doc). Each row: what is wrong, the
# inventory changes (write_inventory's arguments), extra vars, a command run on
# node4 first (and its undo), and the message.
DEVICE = "{{ lab_block_devices[0] }}"
MBR = (
    "python3 -c \"import sys; f=open(sys.argv[1],'r+b'); f.seek(446); "
    "f.write(bytes([0,0,2,0,0x83,0,0,0])+(2048).to_bytes(4,'little')+(2048).to_bytes(4,'little')); "
    'f.seek(510); f.write(bytes([0x55,0xAA]))" DEV'
)
BAD_INPUTS = [
    (
        "gluster_pool_bricks is not a list",
        {"node4_bricks": "/bricks/b1/brick"},
        {},
        None,
        None,
        "Elements value for option 'gluster_pool_bricks' is of type str and we were unable to convert to dict",
    ),
    (
        "a brick without a path",
        {"node4_bricks": f'[{{device: "{DEVICE}"}}]'},
        {},
        None,
        None,
        "missing required arguments: path found in gluster_pool_bricks",
    ),
    (
        "a relative brick path",
        {"node4_bricks": "[{path: bricks/b1/brick}]"},
        {},
        None,
        None,
        "brick path 'bricks/b1/brick' must be an absolute, normalized path of letters, digits and . _ + - /",
    ),
    (
        "a brick path with a colon",
        {"node4_bricks": '[{path: "/bricks/b1:x/brick"}]'},
        {},
        None,
        None,
        "must be an absolute, normalized path of letters, digits and . _ + - /",
    ),
    (
        "a brick at the top of the tree",
        {"node4_bricks": "[{path: /brick}]"},
        {},
        None,
        None,
        "brick path /brick must be a directory below a mount point, not a top-level directory",
    ),
    (
        "a brick device outside /dev",
        {"node4_bricks": "[{path: /bricks/b1/brick, device: sdb}]"},
        {},
        None,
        None,
        "brick device 'sdb' must be a block device path under /dev",
    ),
    (
        "an unknown key in a brick",
        {"node4_bricks": "[{path: /bricks/b1/brick, size: 10G}]"},
        {},
        None,
        None,
        "gluster_pool_bricks.size. Supported parameters include: arbiter, device, path",
    ),
    (
        "the same brick path twice",
        {"node4_bricks": f"[{FIRST_BRICK}, {{path: /bricks/b1/brick}}]"},
        {},
        None,
        None,
        "brick path /bricks/b1/brick is listed more than once",
    ),
    (
        "a brick path inside another brick",
        {"node4_bricks": f"[{FIRST_BRICK}, {{path: /bricks/b1/brick/in}}]"},
        {},
        None,
        None,
        "brick path /bricks/b1/brick/in is inside brick /bricks/b1/brick; bricks must not nest",
    ),
    (
        "one device for two bricks",
        {"node4_bricks": f'[{FIRST_BRICK}, {{path: /bricks/b2/brick, device: "{DEVICE}"}}]'},
        {},
        None,
        None,
        "is given for more than one brick; each device makes one filesystem",
    ),
    (
        "a device that does not exist",
        {"node4_bricks": "[{path: /bricks/b1/brick, device: /dev/nosuch}]"},
        {},
        None,
        None,
        "device /dev/nosuch does not exist or is not a block device",
    ),
    (
        "a device that is mounted",
        {},
        {},
        "mkfs.xfs -q DEV && mkdir -p /mnt/elsewhere && mount DEV /mnt/elsewhere",
        "umount /mnt/elsewhere; wipefs --all --quiet DEV",
        "is mounted at /mnt/elsewhere; unmount it or use that mount point",
    ),
    ("a device with a partition table", {}, {}, MBR, "wipefs --all --quiet DEV", "carries a partition table"),
    (
        "a device that is an LVM member",
        {},
        {},
        "pvcreate -q -y DEV",
        "pvremove -q -y DEV; wipefs --all --quiet DEV",
        "carries an LVM physical volume signature (LVM2_member)",
    ),
    (
        "new bricks that do not fill a set",
        {},
        {"add_nodes": "node4,node5"},
        None,
        None,
        "replica 3 volume gv0 grows in whole sets of 3 bricks; 4 new bricks were given",
    ),
    (
        "an arbiter with replica 2",
        {"group_vars": "gluster_pool_replica: 2\ngluster_pool_arbiter: 1\n"},
        {},
        None,
        None,
        "arbiter 1 needs replica 3",
    ),
    (
        "a disperse redundancy too high",
        {"group_vars": "gluster_pool_disperse: 4\ngluster_pool_redundancy: 2\n"},
        {},
        None,
        None,
        "disperse needs at least 3 bricks and a redundancy of at least 1 and less than half of them",
    ),
    ("a volume name with a slash", {"volume": "gv/0"}, {}, None, None, "The volume name is letters, digits, - and _"),
    (
        "a rebalance mode that does not exist",
        {"group_vars": "gluster_pool_rebalance: fast\n"},
        {},
        None,
        None,
        "value of gluster_pool_rebalance must be one of: fix-layout, full, none, got: fast",
    ),
    (
        "a replica count that is not a number",
        {"group_vars": "gluster_pool_replica: three\n"},
        {},
        None,
        None,
        "argument 'gluster_pool_replica' is of type str and we were unable to convert to int",
    ),
    (
        "add_nodes empty",
        {},
        {"add_nodes": ""},
        None,
        None,
        "add_nodes is empty; name the hosts to join, or leave it out to join every new host",
    ),
    (
        "a peer name the pool does not know",
        {"node2_vars": ", gluster_pool_peer_name: gl2.example.net"},
        {},
        None,
        None,
        "gluster_pool_peer_name of node2 is gl2.example.net, but the pool knows that host",
    ),
]


@pytest.mark.parametrize(
    ("changes", "extravars", "setup", "undo", "message"),
    [row[1:] for row in BAD_INPUTS],
    ids=[row[0] for row in BAD_INPUTS],
)
def test_bad_input_is_refused_before_anything_changes(pool, tmp_path, changes, extravars, setup, undo, message):
    device = pool["node4"][0]
    if setup:
        out = ssh("node4", setup.replace("DEV", device))
        assert out.returncode == 0, out.stderr
    try:
        found = refused(pool, write_inventory(tmp_path / "i.yml", **changes), {"add_nodes": "node4", **extravars})
        assert message in found
    finally:
        if undo:
            ssh("node4", undo.replace("DEV", device))


def test_a_drain_without_a_spare_on_a_host_outside_the_set(pool, tmp_path):
    # node1's and node2's spares are in node3's set already; nothing else is declared.
    message = refused(pool, write_inventory(tmp_path / "i.yml"), {"remove_nodes": "node3"}, "remove-node.yml")
    assert "no spare bricks to take the place of the leaving bricks in gv0" in message
    assert "keeps node1, node2 and needs 1 spare brick(s) on other hosts" in message


def test_a_drain_while_a_brick_is_offline(pool, tmp_path):
    brick = "/bricks/b1/brick"
    try:
        stop_brick_seen("node2:/bricks/b1/brick")
        message = refused(pool, write_inventory(tmp_path / "i.yml"), {"remove_nodes": "node3"}, "remove-node.yml")
        assert f"node2:{brick} is offline" in message
    finally:
        restart_bricks()


def test_a_join_with_a_brick_down_is_refused_untouched(pool, tmp_path):
    # One brick of node1-3's set down: degraded (the set keeps its quorum), which the health
    # gate lets through; but the join ends with a rebalance, which needs every brick, and
    # would fail with node4's set already added.
    try:
        stop_brick_seen("node2:/bricks/b1/brick")
        message = refused(pool, write_inventory(tmp_path / "i.yml"), {"add_nodes": "node4"})
        assert (
            "volume gv0 is in no state for this run to end well: brick node2:/bricks/b1/brick is offline (its "
            "brick process is not running), and this run ends with a fix-layout rebalance"
        ) in message, message
        assert "gluster volume start gv0 force" in message and "Nothing was changed" in message
    finally:
        restart_bricks()


def test_a_drain_or_a_full_rebalance_join_while_heal_is_pending(pool, tmp_path):
    # Writes while node2's brick is down leave entries to heal on the others; with the
    # self-heal daemon off they stay until it is back on.
    setup = (
        "gluster --mode=script volume set gv0 cluster.self-heal-daemon off && "
        "mkdir -p /mnt/heal && mount -t glusterfs node1:/gv0 /mnt/heal"
    )
    assert ssh("node1", setup).returncode == 0
    try:
        stop_brick_seen("node2:/bricks/b1/brick")
        assert ssh("node1", "for i in 1 2 3; do echo $i > /mnt/heal/pending-$i; done").returncode == 0
        restart_bricks()
        message = refused(pool, write_inventory(tmp_path / "i.yml"), {"remove_nodes": "node3"}, "remove-node.yml")
        assert re.search(r"node[13]:/bricks/b1/brick has \d+ entries to heal", message), message
        # A full rebalance moves files off that set (fix-layout moves none: a warning only).
        extravars = {"add_nodes": "node4", "gluster_pool_rebalance": "full"}
        message = refused(pool, write_inventory(tmp_path / "j.yml"), extravars)
        assert re.search(r"\d+ entries still to heal on a set this run changes; wait for heal", message), message
    finally:
        ssh("node1", "umount /mnt/heal; gluster --mode=script volume set gv0 cluster.self-heal-daemon on")
        restore_self_heal_daemons()
        ssh("node1", "gluster --mode=script volume heal gv0")
        wait_healed()


def self_heal_daemons_down():
    """Peers (by UUID) of gv0's bricks whose self-heal daemon `volume status` shows offline."""
    info = gluster_xml("node1", "volume", "info", "gv0")
    hosts = {b.get("uuid") or b.findtext("hostUuid") for b in info.iterfind(".//brick")}
    status = gluster_xml("node1", "volume", "status", "gv0", "shd")
    online = {n.findtext("peerid") for n in status.iterfind(".//node") if n.findtext("status") == "1"}
    return hosts - online


def restore_self_heal_daemons(timeout=30):
    """Every brick's host with its self-heal daemon running again, as the next tests
    need. Turned back on, Gluster 10 starts the daemons itself; where one stays down
    (once on CI, node1's), `volume start force` starts it, as an admin would."""
    deadline = time.monotonic() + timeout
    while self_heal_daemons_down() and time.monotonic() < deadline:
        time.sleep(1)
    if self_heal_daemons_down():
        assert ssh("node1", "gluster --mode=script volume start gv0 force").returncode == 0
        deadline = time.monotonic() + timeout
        while down := self_heal_daemons_down():
            assert time.monotonic() < deadline, f"self-heal daemons still down on {down}"
            time.sleep(1)


def wait_healed(timeout=120):
    deadline = time.monotonic() + timeout
    while (
        ssh("node1", "gluster volume heal gv0 info summary | grep -c 'Total Number of entries: [1-9]'").stdout.strip()
        != "0"
    ):
        assert time.monotonic() < deadline, "heal did not finish"
        time.sleep(1)


def test_a_drain_while_a_member_is_down(pool, tmp_path):
    try:
        stop_glusterd_seen("node2")
        message = refused(pool, write_inventory(tmp_path / "i.yml"), {"remove_nodes": "node3"}, "remove-node.yml")
        assert "existing member node2 is Peer in Cluster, disconnected" in message
    finally:
        assert ssh("node2", "glusterd -p /run/glusterd.pid").returncode == 0
        wait_pool_healthy()


def test_a_drain_of_every_member(pool, tmp_path):
    message = refused(
        pool, write_inventory(tmp_path / "i.yml"), {"remove_nodes": "node1,node2,node3"}, "remove-node.yml"
    )
    assert "no member of the pool would stay: node1, node2, node3 are all of them" in message


def test_a_replacement_of_a_host_that_runs(pool, tmp_path):
    extravars = {"failed": "node2", "replacement": "node4"}
    message = refused(pool, write_inventory(tmp_path / "i.yml"), extravars, "replace-node.yml")
    assert "node2 is not dead: its glusterd answers" in message


def test_a_replacement_of_a_host_whose_glusterd_is_down_but_bricks_run(pool, tmp_path):
    try:
        stop_glusterd_seen("node3")
        extravars = {"failed": "node3", "replacement": "node4"}
        message = refused(pool, write_inventory(tmp_path / "i.yml"), extravars, "replace-node.yml")
        assert re.search(r"node3 answers over SSH and runs (.*, )?glusterfsd \d+", message), message
    finally:
        assert ssh("node3", "glusterd -p /run/glusterd.pid").returncode == 0
        wait_pool_healthy()


# It joins node4, whose blank device the cases above rely on; the drain refusals below
# start from the pool it leaves (node4 a member, its set with node1's and node2's spares).
def test_an_unreachable_host_left_out_by_add_nodes_does_not_block_the_join(pool, tmp_path):
    assert lab("exec", "node5", "--", "sh", "-c", STOP_SSHD).returncode == 0
    try:
        rc, failures = run_playbook(
            "add-node.yml", [LAB_HOSTS, write_inventory(tmp_path / "i.yml")], {"add_nodes": "node4"}
        )
        assert rc == 0, failures
        peers = {p.hostname: p for p in pool_of("node1") if not p.is_local}
        assert set(peers) == {"node2", "node3", "node4"} and peers["node4"].in_cluster
    finally:
        assert lab("exec", "node5", "--", "/usr/sbin/sshd", "-E", "/run/sshd.log").returncode == 0


# Drains refused before anything changes: remove-node.yml for node4, whose set
# (node4, node1's and node2's second bricks) needs a spare on node3, the one member
# outside it. node3 declares one on its second device; each row sets that spare (or
# the pool) up wrong on the hosts it names, the drain is refused in its preflight with
# the message, and the pool, the volume and the spare are as they were (no fstab line
# for it: nothing was prepared). The table in docs/reliability.md (scripts/reliability-doc).
NODE3_SPARE = f"[{FIRST_BRICK}, {SPARE_BRICK}]"
SPARE_FS = "mkfs.xfs -q -i size=512 DEV && mkdir -p /bricks/b2 && mount DEV /bricks/b2 && mkdir /bricks/b2/brick"
SPARE_FS_UNDO = "umount /bricks/b2; wipefs --all --quiet DEV"
FOREIGN_VOLUME_ID = "00112233-4455-6677-8899-aabbccddeeff"
FOREIGN_ID_HEX = FOREIGN_VOLUME_ID.replace("-", "")
DRAIN_REFUSALS = [
    (
        "a spare brick that carries another volume's id",
        {"node3": f"{SPARE_FS} && setfattr -n trusted.glusterfs.volume-id -v 0x{FOREIGN_ID_HEX} /bricks/b2/brick"},
        {"node3": SPARE_FS_UNDO},
        f"/bricks/b2/brick carries the id of another volume ({FOREIGN_VOLUME_ID})",
    ),
    (
        "a spare brick with less room than its set holds",
        # node4's brick filesystem holds 1 GiB beside the brick; the spare's keeps 64 MiB free.
        {
            "node4": "fallocate -l 1G /bricks/b1/filler",
            "node3": f"{SPARE_FS} && fallocate -l $(( $(df --output=avail -B1 /bricks/b2 | tail -1) - 67108864 )) "
            "/bricks/b2/filler",
        },
        {"node4": "rm -f /bricks/b1/filler", "node3": SPARE_FS_UNDO},
        "it cannot take node4:/bricks/b1/brick's place",
    ),
    (
        "a leaving host that holds a brick of another volume",
        {"node1": "gluster --mode=script volume create gv1 node4:/bricks/b1/gv1 force"},
        {"node1": "gluster --mode=script volume delete gv1", "node4": "rm -rf /bricks/b1/gv1"},
        "node4 holds bricks of volume gv1 (node4:/bricks/b1/gv1)",
    ),
]


@pytest.fixture(scope="module")
def node4_joined(pool, tmp_path_factory):
    """The pool with node4 a member, as the join test above leaves it (joined here when run alone)."""
    if not any(p.hostname == "node4" and p.in_cluster for p in pool_of("node1")):
        inventory = write_inventory(tmp_path_factory.mktemp("inv") / "join.yml")
        rc, failures = run_playbook("add-node.yml", [LAB_HOSTS, inventory], {"add_nodes": "node4"})
        assert rc == 0, failures
    return pool


@pytest.mark.parametrize(
    ("setup", "undo", "message"), [row[1:] for row in DRAIN_REFUSALS], ids=[row[0] for row in DRAIN_REFUSALS]
)
def test_a_drain_is_refused_before_anything_changes(node4_joined, tmp_path, setup, undo, message):
    device = node4_joined["node3"][1]
    try:
        for host, command in setup.items():
            out = ssh(host, command.replace("DEV", device))
            assert out.returncode == 0, out.stderr
        # The pool these refusals start from has every self-heal daemon running.
        assert not self_heal_daemons_down()
        spare_before = ssh("node3", "getfattr -d -m . -e hex /bricks/b2/brick; ls -A /bricks/b2").stdout
        inventory = write_inventory(tmp_path / "i.yml", node3_bricks=NODE3_SPARE)
        found = refused(node4_joined, inventory, {"remove_nodes": "node4"}, "remove-node.yml")
        assert message in found
        assert "Nothing was changed" in found
        assert ssh("node3", "getfattr -d -m . -e hex /bricks/b2/brick; ls -A /bricks/b2").stdout == spare_before
        assert ssh("node3", "grep -c ' /bricks/b2 ' /etc/fstab").stdout.strip() == "0"
    finally:
        for host, command in undo.items():
            ssh(host, command.replace("DEV", device))
