"""gluster_brick with a device (issue 9): it never mounts over a directory that holds data, and
its /etc/fstab entry neither strands a host at boot nor overwrites or deletes anyone else's."""

import os
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_brick

from .module_harness import Expected, run_module

DEVICE = "/dev/sdb"
NUMBER = (8, 16)
UUID = "0f6e4b0c-5b8f-4a47-9d4c-2d1c7e6a9b01"
OTHER_UUID = "7a1d2c3b-0000-4e5f-8a9b-0c1d2e3f4a5b"
BLKID = ["/usr/sbin/blkid", "-p", "-o", "export", DEVICE]
MKFS = ["/usr/sbin/mkfs.xfs", "-q", "-i", "size=512", DEVICE]
XFS = f"DEVNAME={DEVICE}\nUUID={UUID}\nBLOCK_SIZE=512\nTYPE=xfs\nUSAGE=filesystem\n"
ROOT = {"mount_point": "/", "device_number": (254, 0), "options": "rw", "fs_type": "ext4", "source": "/dev/vda"}
ROOT_LINE = "UUID=root-fs / ext4 errors=remount-ro 0 1"
BOOT_SAFE = "noatime,inode64,nofail,x-systemd.device-timeout=30s,x-systemd.before=glusterd.service"


def blank():
    return Expected(BLKID, 2, "")


def xfs():
    return Expected(BLKID, 0, XFS)


class Host:
    """One host's view for gluster_brick: a temporary /etc/fstab and brick tree, the device
    /dev/sdb (faked: its number, size and mounts), and run_module with those in place."""

    def __init__(self, tmp_path):
        self.etc = tmp_path / "etc"
        self.etc.mkdir()
        self.fstab = self.etc / "fstab"
        self.mount_point = str(tmp_path / "bricks" / "b1")
        self.path = self.mount_point + "/brick"
        self.mounts = [ROOT]
        # glusterd's state on this host: none until a test writes it.
        self.glusterd = tmp_path / "glusterd"

    def mounted(self):
        self.mounts = [ROOT, {**ROOT, "mount_point": self.mount_point, "device_number": NUMBER, "source": DEVICE}]

    def line(self, spec=f"UUID={UUID}", options=BOOT_SAFE):
        return f"{spec}\t{self.mount_point}\txfs\t{options}\t0\t0"

    def run(self, commands, **args):
        with (
            mock.patch.object(gluster_brick, "FSTAB", str(self.fstab)),
            mock.patch.object(gluster_brick, "GLUSTERD_STATE", str(self.glusterd)),
            mock.patch.object(gluster_brick, "device_number", lambda device: NUMBER),
            mock.patch.object(gluster_brick, "read_device_bytes", lambda device: 10 * 2**30),
            mock.patch.object(gluster_brick, "read_mounts", lambda: self.mounts),
            mock.patch.object(gluster_brick, "read_brick_info", lambda path: {"path": path}),
        ):
            return run_module(gluster_brick.main, {"path": self.path, "device": DEVICE, **args}, commands)


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


# -- a mount point that holds data --------------------------------------------


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_mount_point_that_holds_data_is_refused_before_anything_runs(host, check_mode):
    # A directory brick that later got a `device:` in the inventory.
    os.makedirs(host.path + "/.glusterfs")
    open(host.mount_point + "/notes.txt", "w").close()
    host.fstab.write_text(ROOT_LINE + "\n")
    result = host.run([], _ansible_check_mode=check_mode)
    assert result.failed
    assert result.result["msg"] == (
        f"{host.mount_point} is not empty (brick, notes.txt); it holds data that mounting {DEVICE} there would "
        "hide: move it away or drop `device:`"
    )
    assert (result.result["commands"], result.result["formatted"], result.result["fstab_changed"]) == ([], False, False)
    assert host.fstab.read_text() == ROOT_LINE + "\n"


def test_the_refusal_names_a_few_entries_of_many(host):
    os.makedirs(host.mount_point)
    for name in ("a", "b", "c", "d", "e", "f", ".hidden"):
        open(os.path.join(host.mount_point, name), "w").close()
    result = host.run([])
    assert result.failed
    assert result.result["msg"].startswith(f"{host.mount_point} is not empty (.hidden, a, b, c, d ...); ")


def test_an_empty_mount_point_gets_the_new_filesystem(host):
    os.makedirs(host.mount_point)
    host.fstab.write_text(ROOT_LINE + "\n")
    result = host.run([blank(), Expected(MKFS), xfs(), Expected(["/usr/sbin/mount", host.mount_point])])
    assert not result.failed, result.result
    assert (result.result["formatted"], result.result["mounted"], result.result["uuid"]) == (True, True, UUID)
    assert result.result["device_number"] == "8:16"
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line()}\n"


def test_a_rerun_with_the_filesystem_mounted_changes_nothing(host):
    os.makedirs(host.path + "/.glusterfs")
    host.mounted()
    host.fstab.write_text(f"{ROOT_LINE}\n{host.line()}\n")
    result = host.run([xfs()])
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"]) == (False, [])
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line()}\n"


# -- /etc/fstab ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mount_options", "written"),
    [
        ("noatime,inode64", BOOT_SAFE),
        ("noatime,nofail", "noatime,nofail,x-systemd.device-timeout=30s,x-systemd.before=glusterd.service"),
        (
            "inode64,x-systemd.device-timeout=2min",
            "inode64,x-systemd.device-timeout=2min,nofail,x-systemd.before=glusterd.service",
        ),
        (
            "x-systemd.before=nfs-server.service",
            "x-systemd.before=nfs-server.service,nofail,x-systemd.device-timeout=30s,x-systemd.before=glusterd.service",
        ),
    ],
)
def test_a_dead_disk_does_not_stop_the_boot(host, mount_options, written):
    host.fstab.write_text(ROOT_LINE + "\n")
    result = host.run(
        [blank(), Expected(MKFS), xfs(), Expected(["/usr/sbin/mount", host.mount_point])], mount_options=mount_options
    )
    assert not result.failed, result.result
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line(options=written)}\n"


@pytest.mark.parametrize(
    "blkid_after_mkfs",
    [Expected(BLKID, 2, ""), Expected(BLKID, 0, f"DEVNAME={DEVICE}\nTYPE=xfs\n")],
    ids=["nothing", "no-uuid"],
)
def test_no_uuid_after_mkfs_fails_and_writes_no_placeholder(host, blkid_after_mkfs):
    host.fstab.write_text(ROOT_LINE + "\n")
    result = host.run([blank(), Expected(MKFS), blkid_after_mkfs])
    assert result.failed
    msg = result.result["msg"]
    assert msg.startswith(f"blkid found no filesystem UUID on {DEVICE} after mkfs.xfs (")
    assert " ".join(BLKID) in msg
    assert "refusing to write" in msg
    assert host.fstab.read_text() == ROOT_LINE + "\n"


def test_an_xfs_filesystem_without_uuid_is_not_formatted_or_written(host):
    host.fstab.write_text(ROOT_LINE + "\n")
    result = host.run([Expected(BLKID, 0, f"DEVNAME={DEVICE}\nTYPE=xfs\n")], force=True)
    assert result.failed
    assert result.result["msg"].startswith(f"blkid found no filesystem UUID on {DEVICE} (")
    assert (result.result["formatted"], result.result["commands"]) == (False, [])
    assert host.fstab.read_text() == ROOT_LINE + "\n"


def test_another_entry_for_the_mount_point_is_refused_not_deleted(host):
    # Ours (by device path, as a hand-made entry would be) and, below it, another filesystem's.
    ours = f"{DEVICE} {host.mount_point} xfs defaults 0 0"
    text = f"{ROOT_LINE}\n{ours}\nUUID={OTHER_UUID} {host.mount_point} xfs defaults 0 0\n"
    host.fstab.write_text(text)
    result = host.run([xfs(), tag_lookup(f"UUID={OTHER_UUID}", "/dev/sdc")])
    assert result.failed
    assert result.result["msg"] == (
        f"{host.fstab} line 3 mounts another filesystem at {host.mount_point}: "
        f"'UUID={OTHER_UUID} {host.mount_point} xfs defaults 0 0' (this brick's is UUID={UUID}); "
        "refusing to replace or delete it. Remove or fix that line by hand, then run again"
    )
    assert (result.result["commands"], result.result["fstab_changed"]) == ([], False)
    assert host.fstab.read_text() == text


def test_force_does_not_replace_another_filesystems_entry(host):
    text = f"{ROOT_LINE}\nUUID={OTHER_UUID} {host.mount_point} xfs defaults 0 0\n"
    host.fstab.write_text(text)
    result = host.run([blank()], force=True)
    assert result.failed
    assert result.result["msg"].startswith(f"{host.fstab} line 2 mounts another filesystem at {host.mount_point}: ")
    assert "(this brick's is a new filesystem on /dev/sdb)" in result.result["msg"]
    assert result.result["commands"] == []
    assert host.fstab.read_text() == text


def tag_lookup(tag, *devices):
    """libblkid's answer to which devices carry a tag (exit 2: none)."""
    argv = ["/usr/sbin/blkid", "-c", "/dev/null", "-o", "device", "-t", tag]
    return Expected(argv, 0, "".join(f"{d}\n" for d in devices)) if devices else Expected(argv, 2, "")


@pytest.mark.parametrize(
    ("spec", "tag"),
    [
        ("LABEL=brick\\040one", "LABEL=brick one"),
        ("/dev/disk/by-label/brick\\x20one", "LABEL=brick one"),  # a link udev has not made (no udev here)
        ("PARTLABEL=gluster-b1", "PARTLABEL=gluster-b1"),
        (f'UUID="{UUID}"', None),  # the filesystem's own UUID: no lookup
    ],
)
def test_an_admins_own_line_for_the_brick_is_adopted_keeping_its_source(host, spec, tag):
    # A pool built by hand: the brick mounted through the admin's fstab line, with default options.
    os.makedirs(host.path + "/.glusterfs")
    host.mounted()
    host.fstab.write_text(f"{ROOT_LINE}\n{spec} {host.mount_point} xfs defaults 0 0\n")
    lookups = [tag_lookup(tag, DEVICE)] if tag else []
    first = host.run([xfs(), *lookups])
    assert not first.failed, first.result
    assert (first.result["changed"], first.result["fstab_changed"], first.result["commands"]) == (True, True, [])
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line(spec=spec)}\n"
    again = host.run([xfs(), *lookups])
    assert (again.result["changed"], again.result["fstab_changed"]) == (False, False)


def test_adopting_an_admins_line_in_check_mode_writes_nothing_and_shows_the_new_line(host):
    os.makedirs(host.path + "/.glusterfs")
    host.mounted()
    text = f"{ROOT_LINE}\nLABEL=b1 {host.mount_point} xfs defaults 0 0\n"
    host.fstab.write_text(text)
    result = host.run([xfs(), tag_lookup("LABEL=b1", DEVICE)], _ansible_check_mode=True, _ansible_diff=True)
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["fstab_changed"]) == (True, True)
    assert result.result["diff"]["before"]["fstab"] == f"LABEL=b1 {host.mount_point} xfs defaults 0 0"
    assert result.result["diff"]["after"]["fstab"] == host.line(spec="LABEL=b1")
    assert host.fstab.read_text() == text


@pytest.mark.parametrize(
    ("spec", "tag"),
    [
        ("LABEL=other", "LABEL=other"),
        ("PARTUUID=0a0b0c0d-01", "PARTUUID=0a0b0c0d-01"),
        ("/dev/disk/by-label/other", "LABEL=other"),
        # libblkid compares a UUID as written: an upper-case one does not mount this filesystem.
        (f"UUID={UUID.upper()}", f"UUID={UUID.upper()}"),
    ],
)
def test_a_line_naming_another_device_or_none_is_refused(host, spec, tag):
    text = f"{ROOT_LINE}\n{spec} {host.mount_point} xfs defaults 0 0\n"
    host.fstab.write_text(text)
    host.mounted()
    result = host.run([xfs(), tag_lookup(tag, *(["/dev/sdc"] if "other" in tag else []))])
    assert result.failed
    assert result.result["msg"].startswith(f"{host.fstab} line 2 mounts another filesystem at {host.mount_point}: ")
    assert host.fstab.read_text() == text


def test_a_label_that_two_devices_carry_is_refused(host):
    # Cloned disks: mount would take either of them at boot.
    text = f"{ROOT_LINE}\nLABEL=b1 {host.mount_point} xfs defaults 0 0\n"
    host.fstab.write_text(text)
    host.mounted()
    result = host.run([xfs(), tag_lookup("LABEL=b1", "/dev/sdc", DEVICE)])
    assert result.failed
    assert result.result["msg"] == (
        f"{host.fstab} line 2 mounts LABEL=b1 at {host.mount_point}, and 2 devices carry that LABEL (/dev/sdb, "
        f"/dev/sdc): mount may take either. Make it unique or name /dev/sdb's filesystem by UUID={UUID} in that "
        "line, then run again"
    )
    assert host.fstab.read_text() == text


def test_a_device_formatted_in_this_run_is_named_by_its_new_uuid(host):
    # The admin's line names the disk by a link to the device; after mkfs it is named by the
    # new filesystem's UUID, as check mode said it would be.
    os.makedirs(host.mount_point)
    link = host.etc / "by-id-disk"
    link.symlink_to(DEVICE)
    host.fstab.write_text(f"{ROOT_LINE}\n{link} {host.mount_point} xfs defaults 0 0\n")
    result = host.run([blank(), Expected(MKFS), xfs(), Expected(["/usr/sbin/mount", host.mount_point])])
    assert not result.failed, result.result
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line()}\n"


def test_fstab_is_replaced_through_atomic_move_keeping_its_mode(host):
    host.fstab.write_text(ROOT_LINE + "\n")
    host.fstab.chmod(0o640)
    moves = []
    real_atomic_move = basic.AnsibleModule.atomic_move

    def atomic_move(module, src, dest, *args, **kwargs):
        moves.append((os.path.dirname(src), dest))
        return real_atomic_move(module, src, dest, *args, **kwargs)

    with mock.patch.object(basic.AnsibleModule, "atomic_move", atomic_move):
        result = host.run([blank(), Expected(MKFS), xfs(), Expected(["/usr/sbin/mount", host.mount_point])])
    assert not result.failed, result.result
    assert moves == [(str(host.etc), str(host.fstab))]
    assert host.fstab.stat().st_mode & 0o7777 == 0o640
    assert sorted(p.name for p in host.etc.iterdir()) == ["fstab"]
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line()}\n"


def test_an_entry_from_an_earlier_version_gets_nofail_in_check_mode_as_a_diff(host):
    old = f"UUID={UUID} {host.mount_point} xfs noatime,inode64 0 0"
    host.mounted()
    host.fstab.write_text(f"{ROOT_LINE}\n{old}\n")
    result = host.run([xfs()], _ansible_check_mode=True, _ansible_diff=True)
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["fstab_changed"]) == (True, True)
    assert result.result["diff"]["before"]["fstab"] == old
    assert result.result["diff"]["after"]["fstab"] == host.line()
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{old}\n"


def test_an_entry_from_an_earlier_version_gets_nofail_then_stays(host):
    host.mounted()
    host.fstab.write_text(f"{ROOT_LINE}\nUUID={UUID} {host.mount_point} xfs noatime,inode64 0 0\n# end\n")
    first = host.run([xfs()])
    assert not first.failed, first.result
    assert (first.result["changed"], first.result["fstab_changed"]) == (True, True)
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line()}\n# end\n"
    again = host.run([xfs()])
    assert (again.result["changed"], again.result["fstab_changed"]) == (False, False)


@pytest.mark.parametrize(
    ("spec", "kept"),
    # /dev/sdb may be another disk after the next boot; the filesystem's UUID is not.
    [(f"/dev/disk/by-uuid/{UUID}", True), (f"UUID={UUID}", True), (DEVICE, False)],
)
def test_an_entry_naming_the_filesystem_another_way_is_ours_and_rewritten(host, spec, kept):
    host.mounted()
    os.makedirs(host.path)
    host.fstab.write_text(f"{ROOT_LINE}\n{spec} {host.mount_point} xfs noatime 0 2\n")
    result = host.run([xfs()])
    assert not result.failed, result.result
    assert result.result["fstab_changed"] is True
    assert host.fstab.read_text() == f"{ROOT_LINE}\n{host.line(spec=spec if kept else f'UUID={UUID}')}\n"


def glusterd_state(root, path, volume="gv0", uuid="u-local", other=("u-other", "/bricks/b2/brick")):
    """glusterd's store as it keeps it: this host's UUID, and brick files of `volume`."""
    (root / "glusterd.info").parent.mkdir(parents=True, exist_ok=True)
    (root / "glusterd.info").write_text(f"UUID={uuid}\noperating-version=100000\n")
    bricks = root / "vols" / volume / "bricks"
    bricks.mkdir(parents=True)
    (bricks / "node4:-brick").write_text(f"uuid={uuid}\nhostname=node4\npath={path}\n")
    (bricks / "node2:-brick").write_text(f"uuid={other[0]}\nhostname=node2\npath={other[1]}\n")


def test_a_brick_of_a_volume_missing_here_is_not_made_again_on_the_filesystem_below(host):
    # Its filesystem not mounted: a directory brick (no device) would be made on /.
    glusterd_state(host.glusterd, host.path)
    with mock.patch.object(gluster_brick, "GLUSTERD_STATE", str(host.glusterd)):
        result = run_module(gluster_brick.main, {"path": host.path}, [])
    assert result.failed and not os.path.exists(host.path)
    assert result.result["msg"].startswith(f"{host.path} is a brick of volume gv0 but does not exist: its filesystem")


def test_glusterd_state_on_disk_names_this_hosts_bricks_only(tmp_path):
    from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_brick import volumes_in_glusterd_state

    glusterd_state(tmp_path, "/bricks/b1/brick")
    assert volumes_in_glusterd_state("/bricks/b1/brick", str(tmp_path)) == ["gv0"]
    # Another host's brick at the same path is not this host's.
    assert volumes_in_glusterd_state("/bricks/b2/brick", str(tmp_path)) == []
    assert volumes_in_glusterd_state("/bricks/b1/brick", str(tmp_path / "none")) == []


@pytest.mark.parametrize("depth", [1, 2])
def test_a_mount_point_reached_through_a_symbolic_link_is_refused_before_anything_runs(tmp_path, depth):
    # /data -> /srv/data: mountinfo would list /srv/data/..., and the next run would find
    # the mount point "not empty". Whether or not the directories below the link exist yet.
    real = tmp_path / "srv" / "data"
    real.mkdir(parents=True)
    os.symlink(real, tmp_path / "data")
    host = Host(tmp_path)
    host.mount_point = str(tmp_path / "data" / "gluster" / "b1") if depth == 2 else str(tmp_path / "data" / "b1")
    host.path = host.mount_point + "/brick"
    result = host.run([])
    assert result.failed and result.result["commands"] == []
    assert result.result["msg"].startswith(f"the mount point {host.mount_point} is reached through a symbolic link")


def test_a_directory_brick_below_a_symbolic_link_is_fine(tmp_path):
    # glusterd names a brick by the path as given: only a mount is looked up by the real path.
    real = tmp_path / "srv" / "data"
    real.mkdir(parents=True)
    os.symlink(real, tmp_path / "data")
    path = str(tmp_path / "data" / "brick")
    with mock.patch.object(gluster_brick, "GLUSTERD_STATE", str(tmp_path / "glusterd")):
        result = run_module(gluster_brick.main, {"path": path}, [])
    assert not result.failed, result.result
    assert (real / "brick").is_dir()
