# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a brick sits on: mounts, devices, XFS superblocks, fstab, Gluster xattrs.

Parsers are pure (they take text or bytes); the few functions that read the
system say so in their names (read_*, probe_*).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import uuid

VOLUME_ID_XATTR = "trusted.glusterfs.volume-id"
GFID_XATTR = "trusted.gfid"
GLUSTER_METADATA_DIR = ".glusterfs"
# Gluster 10's brick process also keeps .glusterfs-anonymous-inode-<volume id> in the brick root.
GLUSTER_METADATA_PREFIX = ".glusterfs-anonymous-inode-"

# Added to a brick's fstab options unless the caller gives them (see boot_safe_mount_options).
# nofail takes the mount off local-fs.target's wait, so glusterd is ordered after it
# itself: a late disk (SAN, multipath) would otherwise find glusterd starting a brick
# process on the empty mount point, which exits and stays down.
BOOT_SAFE_OPTIONS = ("nofail", "x-systemd.device-timeout=30s", "x-systemd.before=glusterd.service")

XFS_MAGIC = b"XFSB"
XFS_INODESIZE_OFFSET = 104  # sb_inodesize, big-endian u16 (xfs_format.h)


# -- mounts -----------------------------------------------------------------


def _unescape_mount_field(text):
    # mountinfo escapes space, tab, newline and backslash as \\ooo.
    return text.encode().decode("unicode_escape") if "\\" in text else text


def parse_mountinfo(text):
    """Mounts from /proc/self/mountinfo, in mount order."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        major, minor = fields[2].split(":")
        mounts.append(
            {
                "mount_point": _unescape_mount_field(fields[4]),
                "device_number": (int(major), int(minor)),
                "options": fields[5],
                "fs_type": fields[sep + 1],
                "source": _unescape_mount_field(fields[sep + 2]) if len(fields) > sep + 2 else "",
            }
        )
    return mounts


def read_mounts():
    with open("/proc/self/mountinfo") as handle:
        return parse_mountinfo(handle.read())


def mount_at(mounts, mount_point):
    """The mount visible at mount_point (the last one mounted there), or None."""
    found = None
    for mount in mounts:
        if mount["mount_point"] == mount_point:
            found = mount
    return found


def mount_containing(mounts, path):
    """The mount that holds `path` (which need not exist): the longest mount point above it."""
    best = None
    for mount in mounts:
        point = mount["mount_point"]
        holds = path == point or path.startswith(point.rstrip("/") + "/")
        if holds and (best is None or len(point) >= len(best["mount_point"])):
            best = mount
    return best


def device_number(device):
    """(major, minor) of a block device node; raises OSError if it is not one."""
    st = os.stat(device)
    if not (st.st_mode & 0o170000) == 0o060000:
        raise OSError(errno.ENOTBLK, f"{device} is not a block device")
    return (os.major(st.st_rdev), os.minor(st.st_rdev))


# -- devices ----------------------------------------------------------------


def read_device_bytes(device):
    fd = os.open(device, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def parse_key_values(text):
    """KEY=VALUE lines as a dict: `blkid -p -o export DEVICE` (TYPE, UUID, PTTYPE, USAGE, ...),
    glusterd's store files (glusterd.info, a volume's brick files)."""
    probed = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            probed[key.strip()] = value.strip()
    return probed


def describe_signature(probed):
    """What a device carries, in words, or None when blkid found nothing."""
    if probed.get("PTTYPE"):
        return f"a partition table ({probed['PTTYPE']})"
    kind = probed.get("TYPE")
    if kind == "LVM2_member":
        return "an LVM physical volume signature (LVM2_member)"
    if kind:
        article = "an" if kind[0].lower() in "aeiou" else "a"
        return f"{article} {kind} filesystem" + (f" (UUID {probed['UUID']})" if probed.get("UUID") else "")
    if probed.get("USAGE"):
        return f"a {probed['USAGE']} signature"
    return None


def parse_xfs_inode_size(superblock):
    """Inode size from the first bytes of an XFS device, or None if it is not XFS."""
    if len(superblock) < XFS_INODESIZE_OFFSET + 2 or superblock[:4] != XFS_MAGIC:
        return None
    return struct.unpack(">H", superblock[XFS_INODESIZE_OFFSET : XFS_INODESIZE_OFFSET + 2])[0]


def read_xfs_inode_size(device):
    try:
        with open(device, "rb") as handle:
            return parse_xfs_inode_size(handle.read(512))
    except OSError:
        return None


# -- fstab ------------------------------------------------------------------


def parse_fstab(text):
    """(line index, fields) for each entry line of an fstab."""
    entries = []
    for index, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        if len(fields) >= 2:
            entries.append((index, fields))
    return entries


def fstab_lines_at(text, mount_point):
    """(line number from 1, fields) of each fstab entry for mount_point."""
    return [(index + 1, fields) for index, fields in parse_fstab(text) if fields[1] == mount_point]


# The tags an fstab source can name a device by, and the udev links that carry them.
FSTAB_TAGS = ("UUID", "LABEL", "PARTUUID", "PARTLABEL")
UDEV_TAG_LINKS = {f"/dev/disk/by-{tag.lower()}/": tag for tag in FSTAB_TAGS}


def _unescape_bytes(text, pattern, base):
    raw = re.sub(pattern, lambda m: bytes([int(m.group(1), base)]), text.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


def unescape_fstab_field(field):
    """An fstab field as libmount reads it: \\ooo (octal) is the only escape."""
    return _unescape_bytes(field, rb"\\([0-7]{3})", 8)


def fstab_spec_tag(spec):
    """(tag, value) for an fstab source (as the file holds it) that names a device by tag,
    TAG=value or TAG="value", or by a udev link /dev/disk/by-TAG/NAME (NAME as udev encodes
    it, \\xNN); None for anything else."""
    spec = unescape_fstab_field(spec)
    key, sep, value = spec.partition("=")
    if sep and key in FSTAB_TAGS:
        quoted = len(value) >= 2 and value[0] == value[-1] == '"'
        return key, value[1:-1] if quoted else value
    for link_dir, tag in UDEV_TAG_LINKS.items():
        if spec.startswith(link_dir):
            return tag, _unescape_bytes(spec[len(link_dir) :], rb"\\x([0-9a-fA-F]{2})", 16)
    return None


def boot_safe_mount_options(options):
    """`options` with nofail, a systemd device timeout and glusterd ordered after the mount,
    each added when absent: a brick disk that died or is late then costs the boot that
    timeout, not an emergency shell, and glusterd starts no brick before its disk."""
    parts = [part for part in options.split(",") if part]
    given = {part.partition("=")[0] for part in parts}
    # x-systemd.before may be given many times: an admin's own ordering keeps glusterd's.
    return ",".join(
        parts
        + [
            extra
            for extra in BOOT_SAFE_OPTIONS
            if extra not in parts and (extra.startswith("x-systemd.before=") or extra.partition("=")[0] not in given)
        ]
    )


def fstab_with_entry(text, entry):
    """The fstab text with `entry` (a field list) as the one line for its mount point."""
    lines = text.splitlines()
    line = "\t".join(entry)
    indexes = [i for i, fields in parse_fstab(text) if fields[1] == entry[1]]
    if indexes:
        lines[indexes[0]] = line
        for extra in reversed(indexes[1:]):
            del lines[extra]
    else:
        lines.append(line)
    return "\n".join(lines) + "\n"


def read_volume_id(path):
    try:
        raw = os.getxattr(path, VOLUME_ID_XATTR)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOENT, errno.ENOTSUP):
            return None
        raise
    return str(uuid.UUID(bytes=raw)) if len(raw) == 16 else raw.hex()


def has_xattr(path, name):
    try:
        os.getxattr(path, name)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOENT, errno.ENOTSUP, errno.ENOTDIR):
            return False
        raise
    return True


def volume_part_at(path):
    """The first of `path` and its parents that carries a brick's gfid or volume id, or
    None: what glusterd refuses as "already part of a volume" (glusterd_is_path_in_use),
    and what `force` lets through."""
    here = os.path.normpath(path)
    while True:
        if any(has_xattr(here, name) for name in (GFID_XATTR, VOLUME_ID_XATTR)):
            return here
        if here == "/":
            return None
        here = os.path.dirname(here)


def is_gluster_metadata(name):
    return name == GLUSTER_METADATA_DIR or name.startswith(GLUSTER_METADATA_PREFIX)


def read_entries(path):
    """Names in a directory, sorted; [] when it does not exist."""
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


def some_names(names, limit=5):
    """The first few names, for a message."""
    return ", ".join(names[:limit]) + (" ..." if len(names) > limit else "")


def contents_besides_metadata(path):
    """Entries of a brick directory other than Gluster's own metadata directories."""
    return sorted(name for name in os.listdir(path) if not is_gluster_metadata(name))


# A DHT link file points at the brick that holds a file: empty, mode ---------T, this
# xattr. A remove-brick's migration may leave them behind; they hold no data.
DHT_LINKTO_XATTR = "trusted.glusterfs.dht.linkto"


def is_link_file(path, status):
    if status.st_size or stat.S_IMODE(status.st_mode) != stat.S_ISVTX:
        return False
    try:
        os.getxattr(path, DHT_LINKTO_XATTR, follow_symlinks=False)
    except OSError:
        return False
    return True


def data_files(path, limit=5):
    """Regular files under a brick directory, Gluster's metadata and DHT link files left
    out: what the volume no longer has once that brick left it. (count, the first few)."""
    path = os.fspath(path)
    count, first = 0, []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if root != path or not is_gluster_metadata(d))
        for name in sorted(files):
            full = os.path.join(root, name)
            status = os.lstat(full)
            if not stat.S_ISREG(status.st_mode) or is_link_file(full, status):
                continue
            count += 1
            if len(first) < limit:
                first.append(os.path.relpath(full, path))
    return count, first


def read_brick_info(path, mounts=None):
    """Everything gluster_brick_info reports about one brick path."""
    mounts = read_mounts() if mounts is None else mounts
    path = os.path.normpath(path)
    exists = os.path.isdir(path)
    mount = mount_containing(mounts, path) or {}
    root = mount_at(mounts, "/") or {}
    source = mount.get("source", "")
    info = {
        "path": path,
        "exists": exists,
        "mount_point": mount.get("mount_point"),
        "device": source if source.startswith("/dev/") else None,
        "fs_type": mount.get("fs_type"),
        "mount_options": mount.get("options"),
        "xfs_inode_size": None,
        "size_bytes": None,
        "free_bytes": None,
        "on_root_fs": bool(mount) and mount.get("device_number") == root.get("device_number"),
        "volume_id": None,
        "part_of_volume_at": volume_part_at(path),
        "empty": None,
        "entries": None,
    }
    if info["fs_type"] == "xfs" and info["device"]:
        info["xfs_inode_size"] = read_xfs_inode_size(info["device"])
    probe_at = path if exists else mount.get("mount_point")
    if probe_at and os.path.isdir(probe_at):
        stats = os.statvfs(probe_at)
        info["size_bytes"] = stats.f_blocks * stats.f_frsize
        info["free_bytes"] = stats.f_bavail * stats.f_frsize
    if exists:
        info["volume_id"] = read_volume_id(path)
        entries = contents_besides_metadata(path)
        info["empty"] = not entries
        info["entries"] = len(entries)
    return info
