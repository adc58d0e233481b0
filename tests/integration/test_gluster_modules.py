"""The gluster modules on real glusterd in a 4-host lab.

The tests run in order and build on each other: bricks, then peers, then a
volume that grows. Each module runs twice (the second run changes nothing),
in check mode first (which changes nothing), and each refusal leaves the
cluster exactly as it was (`volume info` identical before and after).
"""

from __future__ import annotations

import time
from xml.etree import ElementTree

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import parse_volume_status

from .ansible_helpers import gluster_xml, pool, run_module, volume_info
from .lab_helpers import fresh_lab, lab, lab_state, ssh
from .writers import Writers

pytestmark = pytest.mark.lab

# The drain's cases of docs/reliability.md (scripts/reliability-doc): case -> (what the
# project does, the test that builds the state for real: here, or a molecule playbook).
LIFECYCLE = {
    "a leaving host named by an address that neither the pool nor the volume uses": (
        "found by its glusterd UUID: its brick is replaced, the set keeps distinct hosts",
        "test_drain_replaces_a_brick_whose_set_stays_and_heal_ends_under_vm_writes",
    ),
    "heal after a replace-brick, with a FUSE and a gfapi writer rewriting files on that set throughout": (
        "starts the self-heal daemons' crawl itself, then again when nothing progresses (their own crawl set a day "
        "apart); ends when heal info shows nothing pending, in split-brain or possibly healing: 0 failed writes, "
        "both files exact on every brick",
        "test_drain_replaces_a_brick_whose_set_stays_and_heal_ends_under_vm_writes",
    ),
    "a host's brick back after it was down while files changed (a restart, a rolling upgrade)": (
        "gluster_volume_heal refuses while the brick is down, then starts the crawl itself (the daemons' own set a "
        "day apart) and returns once heal info shows nothing pending: the brick's copies equal its set's",
        "test_heal_after_a_brick_was_down_is_started_and_waited_for",
    ),
    "a brick with no spare on a host outside its set": (
        "refused before any change, naming what to add; volume info as it was",
        "test_drain_refuses_a_brick_without_a_spare_on_another_host",
    ),
    "a set whose bricks all leave": (
        "removed with its data migrated; committed only once every node that hosts one of its bricks reports the "
        "migration complete with no failed or skipped file",
        "test_drain_removes_a_set_with_its_data_moved",
    ),
    "a dead host whose brick was the first of a replica 2 set under cluster.quorum-type auto (the set takes no "
    "write)": (
        "its brick is replaced with a warning that names the set: disks held open since the death stay unusable "
        "(restart those instances); a file opened after the replacement is written at once",
        "test_a_replacement_names_a_replica_2_set_whose_quorum_went_with_the_dead_host",
    ),
    "a dead host whose data brick held an arbiter set's only good copy (files changed while the other data brick "
    "was down, not healed before the death; the volume's root among them)": (
        "health reports the set unsafe, naming the entries its arbiter lists and the surviving data brick does not "
        "(compared by gfid); the replacement is refused, volume info and pool list as they were (a replace-brick "
        "then fails half-way)",
        "test_an_arbiter_set_whose_only_good_copy_died_is_unsafe_and_not_replaced",
    ),
    "a pool probed by FQDN, its first set created by FQDN but for one brick named short, grown by the hook and "
    "from an inventory of addresses, drained from an inventory of short names (the host leaving a peer by FQDN "
    "with a brick named short and one by FQDN)": (
        "remove-node.yml finds the host's bricks by glusterd UUID whatever name each carries, puts a spare outside "
        "each set in its place (each set on three hosts after), fails the instance over, takes the node out of "
        "Ganeti, which knows it by FQDN, and detaches it; a second run changes nothing",
        "molecule/ganeti/verify-drain.yml",
    ),
}

BRICK = "/bricks/b1/brick"
SPARE = "/bricks/b2/brick"


@pytest.fixture(scope="module")
def devices():
    """A 4-host lab with glusterd running on each host; host -> its two block devices."""
    with fresh_lab(4):
        for host in ("node1", "node2", "node3", "node4"):
            assert ssh(host, "glusterd -p /run/glusterd.pid").returncode == 0
        yield {h["name"]: h["block_devices"] for h in lab_state()["hosts"]}


def blkid_type(host, device):
    return ssh(host, f"blkid -p -o value -s TYPE {device}").stdout.strip()


def volume_info_xml(host="node1"):
    return ssh(host, "gluster --mode=script --xml volume info").stdout


def cluster_state(host="node1"):
    """What a refusal must leave as it was: the volumes, the pool, and each volume's tasks
    (a rebalance or remove-brick started, which volume info does not show)."""
    status = gluster_xml(host, "volume", "status", "all")
    tasks = [ElementTree.tostring(t, encoding="unicode") for t in status.iterfind(".//volume/tasks")]
    return volume_info_xml(host), ssh(host, "gluster --mode=script --xml pool list").stdout, tasks


def test_brick_check_mode_then_prepare_then_no_change(devices):
    device = devices["node1"][0]
    checked = run_module("node1", "gluster_brick", {"device": device, "path": BRICK}, check=True, diff=True)
    assert checked["changed"] and checked["formatted"] and not checked["failed"]
    assert any(argv[0].endswith("mkfs.xfs") for argv in checked["commands"])
    assert blkid_type("node1", device) == ""  # still blank
    fstab = ssh("node1", "cat /etc/fstab")
    assert fstab.returncode == 0 and "/bricks/b1" not in fstab.stdout

    for host in ("node1", "node2", "node3", "node4"):
        first = run_module(host, "gluster_brick", {"device": devices[host][0], "path": BRICK})
        assert first["changed"] and first["formatted"] and first["mounted"] and first["created"], first
        again = run_module(host, "gluster_brick", {"device": devices[host][0], "path": BRICK})
        assert not again["changed"] and not again["failed"], again

    fs_uuid = ssh("node1", f"blkid -p -o value -s UUID {device}").stdout.strip()
    fstab = ssh("node1", "cat /etc/fstab").stdout
    # nofail and a device timeout: a dead brick disk does not stop the boot.
    boot_safe = "noatime,inode64,nofail,x-systemd.device-timeout=30s,x-systemd.before=glusterd.service"
    assert f"UUID={fs_uuid}\t/bricks/b1\txfs\t{boot_safe}\t0\t0" in fstab.splitlines()
    mounted = ssh("node1", "findmnt -n -o SOURCE,FSTYPE /bricks/b1").stdout.split()
    assert mounted == [device, "xfs"]
    assert ssh("node1", f"test -d {BRICK}").returncode == 0


def test_brick_info_reports_the_prepared_brick(devices):
    info = run_module("node1", "gluster_brick_info", {"paths": [BRICK, "/bricks/b9/brick"]})
    prepared, missing = info["bricks"]
    assert (prepared["exists"], prepared["fs_type"], prepared["xfs_inode_size"]) == (True, "xfs", 512)
    assert (prepared["device"], prepared["mount_point"], prepared["on_root_fs"]) == (
        devices["node1"][0],
        "/bricks/b1",
        False,
    )
    assert prepared["empty"] is True and prepared["volume_id"] is None
    assert prepared["size_bytes"] > 3 * 2**30
    assert (missing["exists"], missing["on_root_fs"], missing["empty"]) == (False, True, None)


def test_brick_refuses_a_device_with_another_filesystem(devices):
    device = devices["node3"][1]
    assert ssh("node3", f"mkfs.ext4 -q {device}").returncode == 0
    refused = run_module("node3", "gluster_brick", {"device": device, "path": SPARE})
    assert refused["failed"]
    assert refused["msg"].startswith(f"{device} carries an ext4 filesystem (UUID ")
    assert refused["msg"].endswith("refusing to format it. If its contents can be destroyed, set force: true")
    assert blkid_type("node3", device) == "ext4"
    forced = run_module("node3", "gluster_brick", {"device": device, "path": SPARE, "force": True})
    assert forced["changed"] and forced["formatted"], forced
    assert blkid_type("node3", device) == "xfs"


def test_peer_check_mode_probe_and_no_change(devices):
    nodes = {"nodes": ["node1", "node2", "node3"]}
    checked = run_module("node1", "gluster_peer", nodes, check=True)
    assert checked["changed"] and checked["probed"] == ["node2", "node3"]
    assert len(pool("node1")) == 1
    probed = run_module("node1", "gluster_peer", nodes)
    assert probed["changed"] and sorted(probed["probed"]) == ["node2", "node3"], probed
    peers = {p.hostname: p for p in pool("node1") if not p.is_local}
    assert set(peers) == {"node2", "node3"} and all(p.in_cluster for p in peers.values())
    assert not run_module("node1", "gluster_peer", nodes)["changed"]


def test_volume_create_in_check_mode_then_for_real(devices):
    args = {
        "name": "gv0",
        "state": "started",
        "replica": 3,
        "bricks": [f"node{n}:{BRICK}" for n in (1, 2, 3)],
        "options": {"cluster.quorum-type": "auto", "performance.quick-read": False},
    }
    checked = run_module("node1", "gluster_volume", args, check=True)
    assert checked["changed"] and checked["commands"][0][3:5] == ["volume", "create"]
    assert volume_info("node1", "gv0") is None

    created = run_module("node1", "gluster_volume", args)
    assert created["changed"] and not created["failed"], created
    gv0 = volume_info("node2", "gv0")
    assert gv0.started and (gv0.type_str, gv0.replica_count) == ("Replicate", 3)
    assert [b.name for b in gv0.bricks] == args["bricks"]
    assert gv0.options["cluster.quorum-type"] == "auto" and gv0.options["performance.quick-read"] == "off"
    assert not run_module("node1", "gluster_volume", args)["changed"]


@pytest.mark.parametrize(
    ("bricks", "extra", "message"),
    [
        ([f"node4:{BRICK}"], {}, "brick host node4 is not in the trusted pool; probe it first"),
        (
            ["node1:/bricks/b2/x", "node2:/bricks/b2/x", "node3:/bricks/b2/x", "node3:/bricks/b2/y"],
            {},
            "replica 3 volume gv0 grows in whole sets of 3 bricks; 4 new bricks were given",
        ),
        (
            [f"node3:{SPARE}"],
            {},
            "replica 3 needs bricks on 3 distinct hosts per set; the new bricks are on 1 host (node3); "
            "add 2 spare bricks on other hosts or 2 more nodes",
        ),
        ([], {"replica": 2}, "volume gv0 is replica 3; this module does not change a volume's layout"),
    ],
)
def test_volume_refusals_leave_the_cluster_untouched(devices, bricks, extra, message):
    before = cluster_state()
    args = {
        "name": "gv0",
        "state": "started",
        "replica": 3,
        "bricks": [f"node{n}:{BRICK}" for n in (1, 2, 3)] + bricks,
        **extra,
    }
    refused = run_module("node1", "gluster_volume", args)
    assert refused["failed"]
    assert refused["msg"].startswith(message), refused["msg"]
    assert cluster_state() == before


def test_volume_expands_with_a_new_node_and_spares_then_rebalances(devices):
    for host in ("node1", "node2"):
        assert run_module(host, "gluster_brick", {"device": devices[host][1], "path": SPARE})["changed"]
    assert run_module("node1", "gluster_peer", {"nodes": ["node4"]})["changed"]
    bricks = [f"node{n}:{BRICK}" for n in (1, 2, 3, 4)] + [f"node1:{SPARE}", f"node2:{SPARE}"]
    args = {"name": "gv0", "state": "started", "replica": 3, "bricks": bricks, "rebalance": "fix-layout"}

    before = volume_info_xml()
    checked = run_module("node1", "gluster_volume", args, check=True, diff=True)
    assert checked["changed"] and sorted(checked["added_bricks"]) == sorted(bricks[3:])
    assert volume_info_xml() == before

    grown = run_module("node1", "gluster_volume", args)
    assert grown["changed"] and not grown["failed"], grown
    assert grown["rebalance"]["status"] == "fix-layout completed"
    gv0 = volume_info("node3", "gv0")
    assert (gv0.type_str, gv0.brick_count) == ("Distributed-Replicate", 6)
    new_set = gv0.bricks[3:]
    assert len({b.host_uuid for b in new_set}) == 3
    assert gv0.options["user.ganeti-gluster.rebalance"] == "done"
    status = gluster_xml("node1", "volume", "status", "gv0")
    online = [n.findtext("path") for n in status.iterfind(".//node") if n.findtext("status") == "1"]
    assert online.count(BRICK) == 4 and online.count(SPARE) == 2

    again = run_module("node1", "gluster_volume", args)
    assert not again["changed"] and again["commands"] == [], again


def test_peer_absent_refuses_while_bricks_remain(devices):
    before = cluster_state()
    refused = run_module("node1", "gluster_peer", {"nodes": ["node4"], "state": "absent"})
    assert refused["failed"]
    assert refused["msg"].startswith("refusing to detach peers that host bricks: node4 hosts bricks of volume gv0")
    assert cluster_state() == before


def test_clear_stale_volume_id_only_when_safe(devices):
    gv0 = volume_info("node1", "gv0")
    stale = "/bricks/b2/stale"
    hex_id = gv0.id.replace("-", "")
    assert (
        ssh(
            "node3", f"mkdir -p {stale}/.glusterfs && setfattr -n trusted.glusterfs.volume-id -v 0x{hex_id} {stale}"
        ).returncode
        == 0
    )

    other = "00000000-0000-0000-0000-000000000001"
    wrong = run_module("node3", "gluster_brick", {"path": stale, "clear_volume_id": other})
    assert wrong["failed"] and f"carries volume id {gv0.id}, not {other}" in wrong["msg"]

    in_use = run_module("node1", "gluster_brick", {"path": BRICK, "clear_volume_id": gv0.id})
    assert in_use["failed"] and in_use["msg"] == f"{BRICK} is a brick of volume gv0; its volume id is not stale"

    ssh("node3", f"touch {stale}/data")
    holds = run_module("node3", "gluster_brick", {"path": stale, "clear_volume_id": gv0.id})
    assert holds["failed"] and "holds 1 entries besides .glusterfs (data)" in holds["msg"]
    ssh("node3", f"rm {stale}/data")

    checked = run_module("node3", "gluster_brick", {"path": stale, "clear_volume_id": gv0.id}, check=True)
    assert checked["changed"] and checked["cleared_volume_id"] == gv0.id
    cleared = run_module("node3", "gluster_brick", {"path": stale, "clear_volume_id": gv0.id})
    assert cleared["changed"] and cleared["cleared_volume_id"] == gv0.id
    xattrs = ssh("node3", f"getfattr -d -m trusted. {stale} && ls -A {stale}")
    assert xattrs.returncode == 0, xattrs.stderr
    assert "volume-id" not in xattrs.stdout and ".glusterfs" not in xattrs.stdout
    assert not run_module("node3", "gluster_brick", {"path": stale, "clear_volume_id": gv0.id})["changed"]


def checksums(volume, host="node1"):
    """path -> sha256 of every file, read through a fresh client mount."""
    out = ssh(
        host,
        f"m=$(mktemp -d) && mount -t glusterfs {host}:/{volume} $m && (cd $m && find . -type f | sort | "
        "xargs -r sha256sum); s=$?; umount $m; rmdir $m; exit $s",
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return dict(reversed(line.split(maxsplit=1)) for line in out.stdout.splitlines())


def write_files(volume, count, host="node1"):
    out = ssh(
        host,
        f"m=$(mktemp -d) && mount -t glusterfs {host}:/{volume} $m && mkdir -p $m/d && "
        f"for i in $(seq 1 {count}); do head -c 64K /dev/urandom > $m/d/f$i; done; umount $m; rmdir $m",
        timeout=300,
    )
    assert out.returncode == 0, out.stderr


def test_drain_refuses_a_brick_without_a_spare_on_another_host(devices):
    write_files("gv0", 60)
    before = cluster_state()
    refused = run_module("node1", "gluster_volume_drain", {"name": "gv0", "hosts": ["node4"]})
    assert refused["failed"] and not refused["changed"]
    assert "keeps node1, node2 and needs 1 spare brick(s) on other hosts" in refused["msg"]
    assert cluster_state() == before


def files_on(brick, count, prefix):
    """Names (prefix0, prefix1, ...) created through a mount until `count` of them land on `brick`."""
    host, path = brick.split(":", 1)
    found = []
    for i in range(40):
        name = f"{prefix}{i}"
        assert (
            ssh(
                "node1",
                f"mkdir -p /mnt/writers && (mountpoint -q /mnt/writers || mount -t glusterfs "
                f"node1:/gv0 /mnt/writers) && touch /mnt/writers/{name}",
            ).returncode
            == 0
        )
        if ssh(host, f"test -e {path}/{name}").returncode == 0:
            found.append(name)
            if len(found) == count:
                return found
    raise AssertionError(f"no {count} names of 40 hashed to {brick}")


def test_drain_replaces_a_brick_whose_set_stays_and_heal_ends_under_vm_writes(devices):
    """node4 is named by its address, which neither the pool nor the volume uses: it is found
    by its glusterd UUID. A FUSE and a gfapi writer rewrite a file each on its set the whole
    time: heal must end, no write fails, and both files are exact on every brick of the set."""
    files = checksums("gv0")
    # node3's second device is mounted at /bricks/b2 since test_brick_refuses_a_device_with_another_filesystem.
    assert run_module("node3", "gluster_brick", {"path": "/bricks/b2/spare"})["changed"]
    node4 = next(h["address"] for h in lab_state()["hosts"] if h["name"] == "node4")
    args = {"name": "gv0", "hosts": [node4], "spares": ["node3:/bricks/b2/spare"]}
    before = volume_info_xml()
    old_set = [b.name for b in volume_info("node1", "gv0").bricks[3:]]
    checked = run_module("node1", "gluster_volume_drain", args, check=True)
    assert checked["changed"] and checked["plan"]["replace"] == [
        {"set": 1, "old": f"node4:{BRICK}", "new": "node3:/bricks/b2/spare"}
    ]
    assert volume_info_xml() == before

    # As on a pool whose self-heal daemons have run for weeks, their own crawl comes too
    # late to end this heal (it comes every cluster.heal-timeout): the drain starts it.
    assert ssh("node1", "gluster --mode=script volume set gv0 cluster.heal-timeout 86400").returncode == 0
    fuse_file, gfapi_file = files_on(f"node4:{BRICK}", 2, "vm")
    writers = Writers("gv0", "node1", fuse_file, "node2", gfapi_file)
    writers.start()
    try:
        drained = run_module("node1", "gluster_volume_drain", args)
        # Both wrote through the whole heal.
        assert writers.gfapi_running()
    finally:
        fuse_written, fuse_failed, gfapi_written, gfapi_failed = writers.stop()
    assert drained["changed"] and not drained["failed"], drained
    gv0 = volume_info("node1", "gv0")
    # The new brick takes the old one's place in its set.
    new_set = ["node3:/bricks/b2/spare" if name == f"node4:{BRICK}" else name for name in old_set]
    assert [b.name for b in gv0.bricks[3:]] == new_set
    heal = gluster_xml("node1", "volume", "heal", "gv0", "info", "summary")
    assert {b.findtext("numberOfEntriesInHealPending") for b in heal.iterfind(".//brick")} == {"0"}
    assert (fuse_failed, gfapi_failed) == (0, 0), writers.gfapi_failures
    assert fuse_written > 0 and gfapi_written > 0
    assert writers.fuse_file_is_exact(fuse_written, new_set) == {"volume": True, **dict.fromkeys(new_set, True)}
    exact = writers.gfapi_file_is_exact(gfapi_written, new_set)
    assert exact == {"volume": True, **dict.fromkeys(new_set, True)}, (
        exact,
        writers.gfapi_unlike,
        writers.gfapi_read_output,
    )
    assert ssh("node1", "umount /mnt/writers").returncode == 0
    now = checksums("gv0")
    assert {k: v for k, v in now.items() if k.startswith("./d/")} == files and len(files) == 60
    assert not run_module("node1", "gluster_volume_drain", args)["changed"]
    assert ssh("node1", "gluster --mode=script volume reset gv0 cluster.heal-timeout").returncode == 0


def brick_sums(brick, directory="d"):
    """name -> sha256 of the files of `directory` on `brick` (HOST:PATH), as the brick holds them."""
    host, path = brick.split(":", 1)
    out = ssh(host, f"cd {path}/{directory} && find . -type f | sort | xargs -r sha256sum", timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(reversed(line.split(maxsplit=1)) for line in out.stdout.splitlines())


def test_heal_after_a_brick_was_down_is_started_and_waited_for(devices):
    """node2's brick of set 0 stops while files change; the module refuses while it is down,
    then, once it is back, starts the crawl itself (the daemons' own one set a day apart) and
    returns when heal info shows nothing: node2's copies equal node1's."""
    down = f"node2:{BRICK}"
    pid = next(b.pid for b in parse_volume_status(gluster_xml("node1", "volume", "status", "gv0")) if b.name == down)
    assert ssh("node1", "gluster --mode=script volume set gv0 cluster.heal-timeout 86400").returncode == 0
    assert ssh("node2", f"kill {pid}").returncode == 0
    write_files("gv0", 60)  # new content in every file of d/
    before = volume_info_xml()
    refused = run_module("node1", "gluster_volume_heal", {"hosts": ["node2"]})
    assert refused["failed"] and refused["commands"] == [], refused
    assert refused["msg"].startswith(f"bricks {down} of volume gv0 are offline: heal cannot end without them")
    assert volume_info_xml() == before
    summary = gluster_xml("node1", "volume", "heal", "gv0", "info", "summary")
    assert int(summary.findtext(".//brick/numberOfEntriesInHealPending")) > 0

    assert ssh("node1", "gluster --mode=script volume start gv0 force").returncode == 0
    healed = run_module("node1", "gluster_volume_heal", {"hosts": ["node2"]})
    assert not healed["failed"], healed
    assert [v["sets"] for v in healed["volumes"]] == [[0, 1]]
    heal = gluster_xml("node1", "volume", "heal", "gv0", "info", "summary")
    assert {b.findtext("numberOfEntriesInHealPending") for b in heal.iterfind(".//brick")} == {"0"}
    assert brick_sums(down) == brick_sums(f"node1:{BRICK}") and len(brick_sums(down)) > 0
    assert not run_module("node1", "gluster_volume_heal", {"hosts": ["node2"]})["changed"]
    assert ssh("node1", "gluster --mode=script volume reset gv0 cluster.heal-timeout").returncode == 0


GLUSTER_PIDS = "pgrep -x 'glusterd|glustereventsd|glusterfsd|glusterfs' | sort -n | tr '\\n' ' '"
# Gluster's events notifier with the command line of Debian's unit, started by hand (the lab
# has no systemd): it stays in the foreground, with a forked child for its webhooks (two
# processes), found by that command line.
EVENTS_DAEMON = "/usr/sbin/glustereventsd --pid-file /var/run/glustereventsd.pid"
EVENTS_PIDS = f"pgrep -f -x '/usr/bin/python3 {EVENTS_DAEMON}'"
RECORD = "/var/lib/ganeti-gluster/gluster-stopped.json"
EVENTS_RECORD = "/var/lib/ganeti-gluster/gluster-stopped-glustereventsd.json"
# The notifier's UDP port (/etc/glusterfs/eventsconfig.json), held on IPv4 and IPv6.
PORT_HOLDER = (
    "import socket, time\n"
    "v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    'v4.bind(("0.0.0.0", 55555))\n'
    "v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
    "v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n"
    'v6.bind(("::", 55555))\n'
    "time.sleep(600)\n"
)
STORAGE = "/var/run/ganeti/gluster/gv0"
# As /proc/mounts names it (/var/run links to /run).
MOUNTED = "/run/ganeti/gluster/gv0"


def test_daemons_stop_every_gluster_process_then_start_and_heal(devices):
    """node3 as a rolling upgrade takes it down: refused while a FUSE mount is busy or a
    gfapi client runs there; then every Gluster process ends (the FUSE mount first, kept
    for the start), files change meanwhile, and once started again heal brings node3's
    bricks back to their sets' copies."""
    mount = f"mkdir -p {STORAGE} && mount -t glusterfs node3:/gv0 {STORAGE}"
    assert ssh("node3", mount).returncode == 0
    events = ssh("node3", f"setsid {EVENTS_DAEMON} </dev/null >/dev/null 2>&1 & echo $!").stdout.strip()
    assert ssh("node3", f"sleep 1; ps -o args= -p {events}").stdout.split()[1:] == EVENTS_DAEMON.split()
    pids = ssh("node3", GLUSTER_PIDS).stdout
    busy = ssh("node3", f"cd {STORAGE} && (setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!)").stdout.strip()
    refused = run_module("node3", "gluster_daemons", {"state": "stopped"})
    assert refused["failed"] and f"{MOUNTED} by {busy} (sleep 600)" in refused["msg"], refused
    assert ssh("node3", f"kill {busy}").returncode == 0
    assert ssh("node3", "qemu-img create -q -f raw gluster://node3/gv0/gfapi.img 1M").returncode == 0
    gfapi = "setsid qemu-io -f raw -c 'sleep 600000' gluster://node3/gv0/gfapi.img </dev/null >/dev/null 2>&1 & echo $!"
    qemu = ssh("node3", gfapi).stdout.strip()
    held = "for i in $(seq 1 100); do grep -q libgfapi /proc/{0}/maps && break; sleep 0.1; done"
    assert ssh("node3", held.format(qemu)).returncode == 0
    refused = run_module("node3", "gluster_daemons", {"state": "stopped"})
    assert refused["failed"] and "through libgfapi on this host: " + qemu in refused["msg"], refused
    assert ssh("node3", f"kill {qemu}").returncode == 0
    assert ssh("node3", GLUSTER_PIDS).stdout == pids and ssh("node3", f"mountpoint -q {STORAGE}").returncode == 0

    checked = run_module("node3", "gluster_daemons", {"state": "stopped"}, check=True)
    assert checked["changed"] and [p["role"] for p in checked["stopped"]][:2] == ["glusterd", "glustereventsd"]
    assert checked["stopped"][1]["pid"] == int(events), checked
    assert sorted(str(p["pid"]) for p in checked["stopped"]) == sorted(pids.split())
    assert ssh("node3", GLUSTER_PIDS).stdout == pids
    stopped = run_module("node3", "gluster_daemons", {"state": "stopped"})
    assert stopped["changed"] and not stopped["failed"] and stopped["killed"] == [], stopped
    left = ssh("node3", GLUSTER_PIDS)
    assert left.returncode == 0 and left.stdout.strip() == "", left
    assert ssh("node3", f"mountpoint -q {STORAGE}").returncode != 0
    assert not run_module("node3", "gluster_daemons", {"state": "stopped"})["changed"]
    node3 = next(p for p in pool("node1") if "node3" in p.names)
    assert not node3.connected
    write_files("gv0", 60)  # files change while node3 is down

    # The notifier's port held by another process: it binds nothing, and stays up without
    # it. The module ends it again and fails, keeping its records; Gluster itself is back.
    holder = ssh("node3", f"setsid python3 -c '{PORT_HOLDER}' </dev/null >/dev/null 2>&1 & echo $!").stdout.strip()
    assert ssh("node3", f"sleep 1; kill -0 {holder}").returncode == 0
    failed = run_module("node3", "gluster_daemons", {"state": "started"})
    assert failed["failed"] and failed["started"] and not failed["events_started"], failed
    assert failed["msg"].startswith("glustereventsd was started again but held no UDP socket after 15 s"), failed
    assert failed["mounted"] == [{"source": "node3:/gv0", "target": MOUNTED}]
    assert ssh("node3", EVENTS_PIDS).stdout.split() == []
    assert ssh("node3", f"test -e {RECORD} && test -e {EVENTS_RECORD} && kill {holder}").returncode == 0

    started = run_module("node3", "gluster_daemons", {"state": "started"})
    assert started["changed"] and not started["failed"], started
    assert ssh("node3", f"mountpoint -q {STORAGE}").returncode == 0
    # The notifier again, as it ran: new processes with the same command line.
    assert started["events_started"] and ssh("node3", f"test -e {EVENTS_RECORD}").returncode != 0, started
    again = ssh("node3", EVENTS_PIDS).stdout.split()
    assert again and not set(again) & set(pids.split()), (again, pids)
    # The module answers for node3's view; node1's glusterd reconnects to a restarted peer on
    # its own timer (a few seconds), and lists node3's bricks only then.
    status = parse_volume_status(gluster_xml("node3", "volume", "status", "gv0"))
    assert all(b.online for b in status) and len(status) == 6
    bricks_online("gv0", [b.name for b in status], seconds=30)
    healed = run_module("node1", "gluster_volume_heal", {"hosts": ["node3"]})
    assert not healed["failed"], healed
    assert brick_sums(f"node3:{BRICK}") == brick_sums(f"node1:{BRICK}")
    assert brick_sums("node3:/bricks/b2/spare") == brick_sums(f"node1:{SPARE}")
    assert not run_module("node3", "gluster_daemons", {"state": "started"})["changed"]
    assert ssh("node3", f"rm -f {STORAGE}/gfapi.img && umount {STORAGE} && kill {' '.join(again)}").returncode == 0


def test_drain_removes_a_set_with_its_data_moved(devices):
    bricks = ["node3:/bricks/b2/dv", "node4:/bricks/b1/dv"]
    for brick in bricks:
        host, path = brick.split(":")
        assert ssh(host, f"mkdir -p {path}").returncode == 0
    assert run_module("node1", "gluster_volume", {"name": "dv", "state": "started", "bricks": bricks})["changed"]
    write_files("dv", 80)
    files = checksums("dv")

    last = run_module("node1", "gluster_volume_drain", {"name": "dv", "hosts": ["node3", "node4"]})
    assert last["failed"] and "no set would remain" in last["msg"]

    drained = run_module("node1", "gluster_volume_drain", {"name": "dv", "hosts": ["node4"]})
    assert drained["changed"] and not drained["failed"], drained
    assert drained["plan"]["remove_sets"] == [{"set": 1, "bricks": ["node4:/bricks/b1/dv"]}]
    assert [b["name"] for b in drained["removed_bricks"]] == ["node4:/bricks/b1/dv"]
    assert [b.name for b in volume_info("node1", "dv").bricks] == ["node3:/bricks/b2/dv"]
    assert checksums("dv") == files and len(files) == 80
    # What remove-node.yml looks for before the detach: data files left on the removed brick.
    left = run_module("node4", "gluster_brick_info", {"paths": ["/bricks/b1/dv"], "count_files": True})
    assert left["bricks"][0]["data_files"] == 0, left
    assert ssh("node4", "mkdir -p /bricks/b1/dv/d && echo x > /bricks/b1/dv/d/late").returncode == 0
    left = run_module("node4", "gluster_brick_info", {"paths": ["/bricks/b1/dv"], "count_files": True})
    assert (left["bricks"][0]["data_files"], left["bricks"][0]["data_file_samples"]) == (1, ["d/late"])
    assert ssh("node4", "rm /bricks/b1/dv/d/late").returncode == 0
    assert not run_module("node1", "gluster_volume_drain", {"name": "dv", "hosts": ["node4"]})["changed"]
    stopped = run_module("node1", "gluster_volume", {"name": "dv", "state": "absent"})
    assert stopped["changed"]


def test_volume_stop_start_and_absent(devices):
    args = {"name": "scratch", "state": "started", "bricks": ["node3:/bricks/b2/brick"]}
    assert run_module("node1", "gluster_volume", args)["changed"]
    assert volume_info("node1", "scratch").started
    stopped = run_module("node1", "gluster_volume", {**args, "state": "stopped"})
    assert stopped["changed"] and not volume_info("node1", "scratch").started
    assert not run_module("node1", "gluster_volume", {**args, "state": "stopped"})["changed"]
    gone = run_module("node1", "gluster_volume", {"name": "scratch", "state": "absent"})
    assert gone["changed"] and volume_info("node1", "scratch") is None
    assert not run_module("node1", "gluster_volume", {"name": "scratch", "state": "absent"})["changed"]


def test_a_brick_marked_arbiter_is_its_sets_arbiter(devices):
    # Placed by name, node1's brick would come first and node3's would be the arbiter.
    bricks = ["node2:/bricks/b2/arbdata", "node3:/bricks/b2/arbdata", "node1:/bricks/b2/arbiter"]
    for brick in bricks:
        host, path = brick.split(":")
        assert ssh(host, f"mkdir -p {path}").returncode == 0
    args = {
        "name": "arb",
        "state": "started",
        "replica": 3,
        "arbiter": 1,
        "bricks": bricks,
        "arbiter_bricks": ["node1:/bricks/b2/arbiter"],
    }
    assert run_module("node1", "gluster_volume", args)["changed"]
    arb = volume_info("node1", "arb")
    assert [b.name for b in arb.bricks if b.is_arbiter] == ["node1:/bricks/b2/arbiter"]
    assert arb.bricks[-1].name == "node1:/bricks/b2/arbiter"
    assert not run_module("node1", "gluster_volume", args)["changed"]
    assert run_module("node1", "gluster_volume", {"name": "arb", "state": "absent"})["changed"]


R2_WRITE = "dd if=/dev/urandom of=/mnt/r2/disk bs=64k count=16 conv=notrunc,fsync status=none"
AV_BRICKS = ["node4:/bricks/b1/av", "node1:/bricks/b2/av", "node2:/bricks/b1/av"]  # the last, the arbiter
HEAL_SWITCHES = (
    "cluster.self-heal-daemon",
    "cluster.data-self-heal",
    "cluster.metadata-self-heal",
    "cluster.entry-self-heal",
)


def gluster_ok(*commands, host="node1"):
    for command in commands:
        assert ssh(host, f"gluster --mode=script {command}").returncode == 0, command


def bricks_online(volume, bricks, seconds=60):
    for _ in range(seconds):
        status = parse_volume_status(gluster_xml("node1", "volume", "status", volume))
        if {b.name for b in status if b.online} >= set(bricks):
            return
        time.sleep(1)
    raise AssertionError(f"bricks {bricks} of {volume} not online after {seconds} s")


@pytest.fixture(scope="module")
def node4_dead(devices):
    """node4 powered off, with two volumes that hold one of its bricks, each built by hand:
    r2, replica 2 under cluster.quorum-type auto (what `group virt` sets), node4's brick
    first (gluster_volume places node1's first); av, replica 3 arbiter 1 with node4's and
    node1's data bricks, whose files changed while node1's brick was down and had not
    healed when node4 died. A short ping-timeout only shortens the waits on the dead host.
    Last in this file: node4 stays off."""
    for brick in ["node4:/bricks/b1/r2", "node1:/bricks/b2/r2", *AV_BRICKS]:
        host, path = brick.split(":")
        assert ssh(host, f"mkdir -p {path}").returncode == 0
    gluster_ok(
        "volume create r2 replica 2 node4:/bricks/b1/r2 node1:/bricks/b2/r2 force",
        "volume set r2 cluster.quorum-type auto",
        "volume set r2 network.ping-timeout 5",
        "volume start r2",
        f"volume create av replica 3 arbiter 1 {' '.join(AV_BRICKS)} force",
        "volume set av network.ping-timeout 5",
        *(f"volume set av {switch} off" for switch in HEAL_SWITCHES),
        "volume start av",
    )
    assert [b.name for b in volume_info("node1", "r2").bricks] == ["node4:/bricks/b1/r2", "node1:/bricks/b2/r2"]
    mount = "mkdir -p /mnt/{0} && mount -t glusterfs node1:/{0} /mnt/{0}"
    assert ssh("node1", f"{mount.format('r2')} && {R2_WRITE}").returncode == 0
    assert (
        ssh("node1", f"{mount.format('av')} && echo old > /mnt/av/disk0 && echo kept > /mnt/av/disk1").returncode == 0
    )
    survivor = AV_BRICKS[1]
    pid = next(b.pid for b in parse_volume_status(gluster_xml("node1", "volume", "status", "av")) if b.name == survivor)
    assert ssh("node1", f"kill {pid}").returncode == 0
    assert ssh("node1", "echo new > /mnt/av/disk0 && echo created > /mnt/av/disk2").returncode == 0
    gluster_ok("volume start av force")
    bricks_online("av", AV_BRICKS)

    node4 = {"node4", next(h["address"] for h in lab_state()["hosts"] if h["name"] == "node4")}
    assert lab("poweroff", "node4").returncode == 0
    for _ in range(60):
        peer = next(p for p in pool("node1") if p.hostname in node4)
        if not peer.connected:
            break
        time.sleep(1)
    else:
        raise AssertionError("node1 still counts node4 connected after 60 s")
    gluster_ok(*(f"volume set av {switch} on" for switch in HEAL_SWITCHES))
    yield
    for volume in ("r2", "av"):
        ssh("node1", f"umount /mnt/{volume}")


def test_a_replacement_names_a_replica_2_set_whose_quorum_went_with_the_dead_host(node4_dead):
    """With node4's power cut, r2 takes no write; the module that replaces the brick warns
    of the set, and a file opened after the replacement is written at once."""
    assert run_module("node3", "gluster_brick", {"path": "/bricks/b2/r2spare"})["changed"]
    assert ssh("node1", R2_WRITE, timeout=120).returncode != 0  # no client quorum

    args = {"name": "r2", "hosts": ["node4"], "spares": ["node3:/bricks/b2/r2spare"], "lost": True, "wait_heal": False}
    replaced = run_module("node1", "gluster_volume_drain", args)
    assert replaced["changed"] and not replaced["failed"], replaced
    assert [b.name for b in volume_info("node1", "r2").bricks] == ["node3:/bricks/b2/r2spare", "node1:/bricks/b2/r2"]
    assert any(
        w.startswith("set 0 of volume r2 has had no client quorum since node4 died (cluster.quorum-type auto: 1 of 2")
        for w in replaced.get("warnings", [])
    ), replaced.get("warnings")
    assert ssh("node1", R2_WRITE, timeout=120).returncode == 0
    assert ssh("node3", "test -f /bricks/b2/r2spare/disk").returncode == 0
    assert not run_module("node1", "gluster_volume_drain", args)["changed"]


def test_an_arbiter_set_whose_only_good_copy_died_is_unsafe_and_not_replaced(node4_dead):
    """av: the arbiter blames node1's brick for what changed while it was down, so that data
    is only on node4's: no client can use the volume (its root is among the entries). The
    health report says so, and the replacement is refused with nothing changed (a
    replace-brick now fails half-way and leaves the new brick's glusterd unable to start)."""
    assert ssh("node1", "cat /mnt/av/disk1").returncode != 0  # the root: nothing is served
    health = run_module("node1", "gluster_volume_health", {"volumes": ["av"]})
    assert health["verdict"] == "unsafe", health
    findings = health["volumes"][0]["findings"]
    (orphans,) = [f for f in findings if f["subject"] == AV_BRICKS[2] and f["severity"] == "unsafe"]
    assert orphans["reason"].startswith(
        f"the arbiter lists 3 entries for heal that {AV_BRICKS[1]} does not (/, /disk0, /disk2)"
    ), orphans

    assert run_module("node3", "gluster_brick", {"path": "/bricks/b2/avspare"})["changed"]
    before = cluster_state()
    args = {"name": "av", "hosts": ["node4"], "spares": ["node3:/bricks/b2/avspare"], "lost": True}
    refused = run_module("node1", "gluster_volume_drain", args)
    assert refused["failed"] and refused["commands"] == [], refused
    assert f"{AV_BRICKS[2]}: the arbiter lists 3 entries" in refused["msg"], refused["msg"]
    assert "Nothing was changed" in refused["msg"]
    assert cluster_state() == before
