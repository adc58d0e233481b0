"""Pure helpers behind gluster_brick and gluster_brick_info."""

import os
import struct

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import brick_fs
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_fs import (
    contents_besides_metadata,
    describe_signature,
    fstab_spec_tag,
    fstab_with_entry,
    mount_at,
    mount_containing,
    parse_fstab,
    parse_key_values,
    parse_mountinfo,
    parse_xfs_inode_size,
    unescape_fstab_field,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.files import replace_file

MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 22 0:21 / /run rw,nosuid - tmpfs tmpfs rw
61 22 7:0 / /bricks/b1 rw,noatime - xfs /dev/loop0 rw,inode64
62 22 7:1 / /bricks/with\\040space rw - xfs /dev/loop1 rw
63 61 7:2 / /bricks/b1 rw - xfs /dev/loop2 rw
"""


def test_mountinfo_fields_and_escapes():
    mounts = parse_mountinfo(MOUNTINFO)
    assert [m["mount_point"] for m in mounts] == ["/", "/run", "/bricks/b1", "/bricks/with space", "/bricks/b1"]
    assert mounts[2] == {
        "mount_point": "/bricks/b1",
        "device_number": (7, 0),
        "options": "rw,noatime",
        "fs_type": "xfs",
        "source": "/dev/loop0",
    }


def test_the_last_mount_on_a_point_wins_and_paths_find_their_filesystem():
    mounts = parse_mountinfo(MOUNTINFO)
    assert mount_at(mounts, "/bricks/b1")["source"] == "/dev/loop2"
    assert mount_at(mounts, "/bricks") is None
    assert mount_containing(mounts, "/bricks/b1/brick")["source"] == "/dev/loop2"
    assert mount_containing(mounts, "/bricks/b10/brick")["mount_point"] == "/"
    assert mount_containing(mounts, "/runner")["mount_point"] == "/"


def test_signatures_in_words():
    assert describe_signature({}) is None
    assert describe_signature(parse_key_values("PTUUID=ab\nPTTYPE=gpt\n")) == "a partition table (gpt)"
    assert describe_signature(parse_key_values("UUID=x\nTYPE=LVM2_member\nUSAGE=raid\n")) == (
        "an LVM physical volume signature (LVM2_member)"
    )
    assert describe_signature({"TYPE": "ext4", "UUID": "u"}) == "an ext4 filesystem (UUID u)"
    assert describe_signature({"TYPE": "btrfs"}) == "a btrfs filesystem"
    assert describe_signature({"USAGE": "crypto"}) == "a crypto signature"


def test_xfs_inode_size_from_the_superblock():
    superblock = bytearray(512)
    superblock[:4] = b"XFSB"
    superblock[104:106] = struct.pack(">H", 512)
    assert parse_xfs_inode_size(bytes(superblock)) == 512
    assert parse_xfs_inode_size(b"\0" * 512) is None
    assert parse_xfs_inode_size(b"XFSB") is None


def test_fstab_entry_replaces_the_mount_points_lines_and_keeps_the_rest():
    text = "# static\nUUID=root / ext4 defaults 0 1\n/dev/sdb /bricks/b1 xfs defaults 0 0\nold /bricks/b1 xfs x 0 0\n"
    entry = ["UUID=new", "/bricks/b1", "xfs", "noatime,inode64", "0", "0"]
    updated = fstab_with_entry(text, entry)
    assert updated == "# static\nUUID=root / ext4 defaults 0 1\nUUID=new\t/bricks/b1\txfs\tnoatime,inode64\t0\t0\n"
    assert [f for _number, f in parse_fstab(updated)][1] == entry
    assert fstab_with_entry("", entry) == "UUID=new\t/bricks/b1\txfs\tnoatime,inode64\t0\t0\n"


def test_file_written_atomically_keeps_its_mode(tmp_path):
    target = tmp_path / "fstab"
    target.write_text("old\n")
    target.chmod(0o640)
    moved = []

    class Module:
        def atomic_move(self, src, dest, unsafe_writes=False):
            moved.append((os.path.dirname(src), dest, unsafe_writes))
            os.replace(src, dest)

    replace_file(Module(), str(target), "new\n")
    assert moved == [(str(tmp_path), str(target), True)]
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["fstab"]


def test_gluster_metadata_is_not_content(tmp_path):
    for name in (".glusterfs", ".glusterfs-anonymous-inode-1234", "data"):
        (tmp_path / name).mkdir()
    assert contents_besides_metadata(str(tmp_path)) == ["data"]


def test_fstab_sources_by_tag_and_by_udev_link():
    assert fstab_spec_tag('UUID="ab-12"') == ("UUID", "ab-12")
    assert fstab_spec_tag("LABEL=my\\040brick") == ("LABEL", "my brick")
    assert fstab_spec_tag("/dev/disk/by-label/my\\x20brick") == ("LABEL", "my brick")
    assert fstab_spec_tag("/dev/disk/by-partuuid/0a0b-01") == ("PARTUUID", "0a0b-01")
    assert fstab_spec_tag("PARTLABEL=gluster") == ("PARTLABEL", "gluster")
    assert fstab_spec_tag("/dev/sdb") is None
    assert fstab_spec_tag("/dev/disk/by-id/wwn-0x5000") is None  # a link, matched by resolving it
    assert fstab_spec_tag("tmpfs") is None


def test_fstab_escapes_are_decoded_as_libmount_and_udev_do():
    # libmount knows only \\ooo, on bytes: UTF-8 written as octal bytes reads back as UTF-8.
    assert unescape_fstab_field("br\\303\\274ck\\040one") == "brück one"
    # Anything else stays as written (a Windows-ish label, an unknown escape).
    assert unescape_fstab_field("c:\\users\\xzz\\n") == "c:\\users\\xzz\\n"
    assert fstab_spec_tag("LABEL=a\\xzz") == ("LABEL", "a\\xzz")
    # A udev link's name is decoded with udev's \\xNN, after fstab's own escapes.
    assert fstab_spec_tag("/dev/disk/by-label/br\\xc3\\xbcck") == ("LABEL", "brück")


def test_data_files_leave_out_glusters_metadata_and_dht_link_files(tmp_path):
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_fs import data_files

    (tmp_path / ".glusterfs" / "ab").mkdir(parents=True)
    (tmp_path / ".glusterfs" / "ab" / "gfid").write_bytes(b"x")
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "left").write_bytes(b"data")
    (tmp_path / "top").write_bytes(b"")
    link = tmp_path / "d" / "moved"
    link.write_bytes(b"")
    link.chmod(0o1000)
    try:
        os.setxattr(link, "trusted.glusterfs.dht.linkto", b"gv0-replicate-1\0")
    except OSError:
        pytest.skip("no trusted.* xattrs here (needs root on a filesystem with xattrs)")
    assert data_files(tmp_path) == (2, ["top", "d/e/left"])
    # Sticky and empty but without the xattr: an ordinary file.
    link.chmod(0o1000)
    os.removexattr(link, "trusted.glusterfs.dht.linkto")
    assert data_files(tmp_path, limit=1) == (3, ["top"])


def test_the_first_directory_up_the_path_that_was_a_brick_is_found(tmp_path):
    old = tmp_path / "bricks" / "b1" / "brick"
    (old / "sub").mkdir(parents=True)
    assert brick_fs.volume_part_at(str(old / "sub" / "new")) is None
    os.setxattr(old, brick_fs.GFID_XATTR, bytes(16))
    # As glusterd's glusterd_is_path_in_use walks: the path, then each parent up to /.
    assert brick_fs.volume_part_at(str(old / "sub" / "new")) == str(old)
    assert brick_fs.volume_part_at(str(old)) == str(old)
    assert brick_fs.read_brick_info(str(old / "sub"), mounts=[])["part_of_volume_at"] == str(old)
