#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_brick
short_description: Prepare a GlusterFS brick - filesystem, persistent mount and brick directory
version_added: "0.1.0"
description:
  - With O(device), formats it with XFS when it is blank, records the mount in C(/etc/fstab) by
    filesystem UUID, mounts it at O(mount_point) and creates the brick directory O(path) below it.
  - An existing XFS filesystem on O(device) is used as it is, never formatted again. A device that
    carries anything else (another filesystem, a partition table, an LVM signature) is refused
    unless O(force=true), and the error says what it carries. A mounted device is never formatted.
  - Refuses, before anything is formatted, written or mounted (and so in check mode too), to mount
    over a O(mount_point) directory that is not empty, for example a directory brick that later got
    a device; the error names the directory and a few of its entries. An empty directory, or one
    that already has the device's filesystem mounted on it, is fine.
  - Refuses a mount point reached through a symbolic link (the kernel lists mounts by the real path, so
    the next run would not find it mounted).
  - The C(/etc/fstab) entry lets the host boot without the disk - C(nofail) and
    C(x-systemd.device-timeout=30s) are added to O(mount_options) unless they already set them -
    and has glusterd wait for the mount (C(x-systemd.before=glusterd.service), also added unless set) -
    and is written to a file beside C(/etc/fstab) with its mode and owner, then renamed over it
    (C(atomic_move)).
  - An entry for O(mount_point) that names another filesystem is never replaced or deleted; the
    task fails naming its line. An entry for the same filesystem with other options - an admin's
    own line on a pool built by hand, or one written by an earlier version without C(nofail) - is
    rewritten with O(mount_options). A source names the filesystem when it is a path that resolves
    to O(device), or a tag (C(UUID=), C(LABEL=), C(PARTUUID=), C(PARTLABEL=)) that libblkid finds on
    O(device), as mount will; a tag that more than one device carries is refused. The entry keeps its
    source, unless that is a kernel device name such as C(/dev/sdb), which can change at the next
    boot, or O(device) was formatted in this run; then it names the filesystem by C(UUID=).
  - When C(blkid) reports no filesystem UUID (after formatting, or on an existing XFS), the task
    fails with what C(blkid) said; no entry is written.
  - Without O(device), creates O(path) on whatever filesystem holds it.
  - With O(state=unmounted) (for a host drained out of the pool), unmounts O(device) from O(mount_point)
    and removes its C(/etc/fstab) entry; the filesystem and the data on it stay, never formatted.
    Refused while the local glusterd lists O(path) as a brick of a volume.
  - O(clear_volume_id) removes the C(trusted.glusterfs.volume-id) that a failed C(add-brick) can
    leave on a brick directory, which otherwise makes the next attempt fail with "already part of a
    volume". Only when the caller names that exact id, the brick is not part of that volume, and the
    directory holds nothing besides C(.glusterfs).
options:
  path:
    description: The brick directory. With O(device) it must be below O(mount_point).
    type: path
    required: true
  device:
    description: Block device for the brick's filesystem.
    type: path
  mount_point:
    description: Where to mount O(device). Defaults to the parent directory of O(path).
    type: path
  mkfs_options:
    description: Options for C(mkfs.xfs). Gluster wants 512-byte inodes for its extended attributes.
    type: list
    elements: str
    default: ["-i", "size=512"]
  mount_options:
    description:
      - Mount options written to C(/etc/fstab).
      - C(nofail), C(x-systemd.device-timeout=30s) and C(x-systemd.before=glusterd.service) are added
        unless given here (any C(x-systemd.device-timeout=) value is kept; other C(x-systemd.before=) values
        are kept beside glusterd's).
    type: str
    default: noatime,inode64
  force:
    description:
      - Format O(device) even though it carries another filesystem, a partition table or an LVM
        signature. Destroys what is on it. An existing XFS filesystem is still kept.
      - Never replaces or deletes an C(/etc/fstab) entry for O(mount_point) that names another filesystem.
    type: bool
    default: false
  state:
    description: V(mounted) prepares the brick; V(unmounted) takes its filesystem off the host (see above).
    type: str
    choices: [mounted, unmounted]
    default: mounted
  clear_volume_id:
    description:
      - The volume id (UUID) to clear from O(path). Refused when the directory carries another id,
        is a brick of that volume, or holds anything besides C(.glusterfs). Needs glusterd.
    type: str
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
seealso:
  - module: ganeti_gluster.cluster.gluster_brick_info
  - module: ganeti_gluster.cluster.gluster_volume
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Prepare a brick on a blank disk
  ganeti_gluster.cluster.gluster_brick:
    device: /dev/sdb
    path: /bricks/b1/brick

- name: Clear the volume id a failed add-brick left behind
  ganeti_gluster.cluster.gluster_brick:
    path: /bricks/b1/brick
    clear_volume_id: 05ef83ec-3e04-4f1b-9398-191360c8fac3
"""

RETURN = r"""
formatted:
  description: Whether O(device) was (or, in check mode, would be) formatted.
  returned: always
  type: bool
  sample: true
mounted:
  description: Whether O(device) was (or would be) mounted by this run.
  returned: always
  type: bool
  sample: true
unmounted:
  description: With O(state=unmounted), whether O(device) was (or would be) unmounted by this run.
  returned: always
  type: bool
  sample: false
fstab_changed:
  description:
    - Whether the C(/etc/fstab) entry was (or would be) written.
    - In diff mode, C(diff.before.fstab) and C(diff.after.fstab) are the entry's line(s) for
      O(mount_point) before and after.
  returned: always
  type: bool
  sample: true
created:
  description: Whether the brick directory was (or would be) created.
  returned: always
  type: bool
  sample: true
cleared_volume_id:
  description: The volume id cleared from the directory, if any.
  returned: always
  type: str
  sample: null
device_bytes:
  description: Size of O(device) in bytes.
  returned: when device is given
  type: int
  sample: 53687091200
device_number:
  version_added: 0.2.0
  description:
    - The kernel's C(MAJOR:MINOR) of O(device), which names the disk whatever path leads to it (C(/dev/sdb),
      C(/dev/disk/by-id/...)).
  returned: when device is given
  type: str
  sample: "8:16"
uuid:
  description: Filesystem UUID of O(device) (unknown in check mode before formatting).
  returned: when device is given
  type: str
  sample: 0f6e4b0c-5b8f-4a47-9d4c-2d1c7e6a9b01
commands:
  description: Commands run (or that would run) as argv lists.
  returned: always
  type: list
  elements: list
  sample:
    - - /usr/sbin/mkfs.xfs
      - -q
      - -i
      - size=512
      - /dev/vdb
    - - /usr/bin/mount
      - /bricks/b1
brick:
  description: The brick as M(ganeti_gluster.cluster.gluster_brick_info) reports it, after the run.
  returned: always
  type: dict
  sample:
    path: /bricks/b1/brick
    exists: true
    mount_point: /bricks/b1
    device: /dev/vdb
    fs_type: xfs
    mount_options: rw,noatime,inode64
    xfs_inode_size: 512
    size_bytes: 53660876800
    free_bytes: 53286178816
    on_root_fs: false
    volume_id: null
    empty: true
    entries: 0
"""

import contextlib
import os
import shutil
import uuid as uuidlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_fs import (
    GFID_XATTR,
    GLUSTER_METADATA_DIR,
    UDEV_TAG_LINKS,
    VOLUME_ID_XATTR,
    boot_safe_mount_options,
    contents_besides_metadata,
    describe_signature,
    device_number,
    fstab_lines_at,
    fstab_spec_tag,
    fstab_with_entry,
    is_gluster_metadata,
    mount_at,
    parse_key_values,
    read_brick_info,
    read_device_bytes,
    read_entries,
    read_mounts,
    read_volume_id,
    some_names,
    unescape_fstab_field,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.files import replace_file
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    C_LOCALE,
    GlusterCli,
    GlusterError,
)

FSTAB = "/etc/fstab"
# udev and device-mapper names that stay with the disk from one boot to the next
STABLE_DEVICE_LINKS = ("/dev/disk/", "/dev/mapper/")


# glusterd's own record (glusterd-store.h): this host's UUID in glusterd.info, and each
# volume's bricks, one file per brick with "path=" and its host's "uuid=" lines.
GLUSTERD_STATE = "/var/lib/glusterd"


def _store_keys(path):
    with contextlib.suppress(OSError, UnicodeDecodeError), open(path, encoding="utf-8") as store:
        return parse_key_values(store.read())
    return {}


def volumes_in_glusterd_state(path, state=None):
    """The volumes that glusterd's state directory records with this host's brick at `path`."""
    state = state or GLUSTERD_STATE
    local = _store_keys(os.path.join(state, "glusterd.info")).get("UUID")
    vols = os.path.join(state, "vols")
    found = []
    for volume in sorted(os.listdir(vols)) if local and os.path.isdir(vols) else []:
        bricks = os.path.join(vols, volume, "bricks")
        for name in sorted(os.listdir(bricks)) if os.path.isdir(bricks) else []:
            keys = _store_keys(os.path.join(bricks, name))
            if keys.get("path") == path and keys.get("uuid") == local:
                found.append(volume)
                break
    return found


class BrickRun:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.commands = []
        self.result = {
            "changed": False,
            "formatted": False,
            "mounted": False,
            "fstab_changed": False,
            "created": False,
            "cleared_volume_id": None,
            "unmounted": False,
            "commands": self.commands,
        }
        self.diff_before = {}
        self.diff_after = {}

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **extra, **self.result)

    def command(self, argv, mutating=True):
        if mutating:
            self.commands.append(argv)
            if self.module.check_mode:
                self.result["changed"] = True
                return ""
        rc, out, err = self.module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
        if rc != 0:
            self.fail(
                f"{' '.join(argv)} failed (exit {rc}): {(err or out).strip()}", rc=rc, stdout=out, stderr=err, cmd=argv
            )
        if mutating:
            self.result["changed"] = True
        return out

    # -- checks ------------------------------------------------------------

    def validate(self):
        path = os.path.normpath(self.p["path"])
        if not os.path.isabs(path) or path == "/":
            self.fail(f"path must be an absolute directory below /, not {self.p['path']!r}")
        self.path = path
        self.device = self.p["device"]
        self.mount_point = None
        if self.device:
            if not os.path.isabs(self.device):
                self.fail(f"device must be an absolute path, not {self.device!r}")
            self.mount_point = os.path.normpath(self.p["mount_point"] or os.path.dirname(path))
            if self.mount_point == "/" or not path.startswith(self.mount_point + "/"):
                self.fail(
                    f"the brick directory {path} must be below the mount point {self.mount_point} (and the mount "
                    "point not /), so that an unmounted brick is a missing directory, not a write to the root fs"
                )
        elif self.p["mount_point"]:
            self.fail("mount_point needs device")
        # The kernel lists a mount by its real path: a mount point reached through a link
        # would not be found mounted by the next run.
        if self.mount_point:
            existing = self.mount_point
            while not os.path.lexists(existing):
                existing = os.path.dirname(existing)
            real = os.path.join(os.path.realpath(existing), os.path.relpath(self.mount_point, existing))
            if os.path.normpath(real) != self.mount_point:
                self.fail(
                    f"the mount point {self.mount_point} is reached through a symbolic link (it is "
                    f"{os.path.normpath(real)}), and the kernel lists mounts by the real path: give mount_point (or "
                    "the brick path) as it really is"
                )
        if self.p["clear_volume_id"]:
            try:
                self.clear_id = str(uuidlib.UUID(self.p["clear_volume_id"]))
            except ValueError:
                self.fail(f"clear_volume_id must be a volume UUID, not {self.p['clear_volume_id']!r}")

    # -- device, fstab, mount ----------------------------------------------

    def prepare_device(self):
        try:
            number = device_number(self.device)
        except OSError:
            self.fail(f"device {self.device} does not exist or is not a block device")
        self.result["device_bytes"] = read_device_bytes(self.device)
        self.result["device_number"] = f"{number[0]}:{number[1]}"
        mounts = read_mounts()
        elsewhere = [
            m["mount_point"] for m in mounts if m["device_number"] == number and m["mount_point"] != self.mount_point
        ]
        at_point = mount_at(mounts, self.mount_point)
        if at_point is not None and at_point["device_number"] != number:
            self.fail(f"{self.mount_point} already has {at_point['source']} mounted on it, not {self.device}")
        mounted_here = at_point is not None
        if not mounted_here:
            self.refuse_to_hide_data()

        probed = self.probe()
        fs_uuid = probed.get("UUID") if probed.get("TYPE") == "xfs" else None
        if probed.get("TYPE") == "xfs" and not fs_uuid:
            self.fail_no_uuid(
                f"refusing to format it or to write {FSTAB} without one. Check the filesystem "
                f"(xfs_repair -n {self.device}), then run again"
            )
        fstab_text, ours = self.read_fstab(fs_uuid)
        if fs_uuid is None:
            if elsewhere or mounted_here:
                self.fail(
                    f"{self.device} is mounted at {', '.join(elsewhere) or self.mount_point} but carries no "
                    "XFS filesystem; refusing to format a mounted device"
                )
            signature = describe_signature(probed)
            if signature and not self.p["force"]:
                self.fail(
                    f"{self.device} carries {signature}; refusing to format it. If its contents can be "
                    "destroyed, set force: true"
                )
            # In check mode the tools need not be there yet (the role installs xfsprogs after its checks).
            needed = not self.module.check_mode
            if signature:
                wipefs = self.module.get_bin_path("wipefs", required=needed) or "wipefs"
                self.command([wipefs, "--all", self.device])
            mkfs = self.module.get_bin_path("mkfs.xfs", required=needed) or "mkfs.xfs"
            self.command([mkfs, "-q", *self.p["mkfs_options"], *(["-f"] if signature else []), self.device])
            self.result["formatted"] = True
            if not self.module.check_mode:
                fs_uuid = self.probe().get("UUID")
                if not fs_uuid:
                    self.fail_no_uuid(
                        f"refusing to write {FSTAB} without one (a placeholder entry would break the next boot). "
                        f"Check the device (blkid -p {self.device}, the kernel log), then run again",
                        after="after mkfs.xfs ",
                    )
        elif elsewhere:
            self.fail(f"{self.device} is mounted at {', '.join(elsewhere)}; unmount it or use that mount point")
        self.result["uuid"] = fs_uuid

        self.write_fstab(fstab_text, ours, fs_uuid)
        if not mounted_here:
            if not self.module.check_mode:
                os.makedirs(self.mount_point, exist_ok=True)
            self.command([self.module.get_bin_path("mount", required=True), self.mount_point])
            self.result["mounted"] = True

    def refuse_to_hide_data(self):
        """A mount hides what its mount point holds: refuse one over a directory that is not empty."""
        if os.path.lexists(self.mount_point) and not os.path.isdir(self.mount_point):
            self.fail(f"the mount point {self.mount_point} exists and is not a directory")
        entries = read_entries(self.mount_point)
        if entries:
            self.fail(
                f"{self.mount_point} is not empty ({some_names(entries)}); it holds data that mounting "
                f"{self.device} there would hide: move it away or drop `device:`"
            )

    def blkid(self, *args):
        """blkid's exit code and output; it exits 2 when it finds nothing, anything else but 0 fails."""
        argv = [self.module.get_bin_path("blkid", required=True), *args]
        rc, out, err = self.module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
        if rc not in (0, 2):
            self.fail(
                f"{' '.join(argv)} failed (exit {rc}): {(err or out).strip()}", rc=rc, stdout=out, stderr=err, cmd=argv
            )
        return {"rc": rc, "stdout": out, "stderr": err, "cmd": argv}

    def probe(self):
        """Signatures on the device (none when blkid finds none)."""
        self.last_probe = self.blkid("-p", "-o", "export", self.device)
        return parse_key_values(self.last_probe["stdout"]) if self.last_probe["rc"] == 0 else {}

    def fail_no_uuid(self, what_next, after=""):
        run = self.last_probe
        said = (run["stdout"] or run["stderr"]).strip()
        said = f"printed {said!r}" if said else "printed nothing"
        self.fail(
            f"blkid found no filesystem UUID on {self.device} {after}({' '.join(run['cmd'])} exited {run['rc']} "
            f"and {said}); {what_next}",
            **run,
        )

    def names_this_device(self, number, spec, fs_uuid):
        """Whether fstab line `number`'s source names the brick's device: a path (a link such as
        /dev/disk/by-id/...) that resolves to it, or - when it carries its XFS already - a tag
        (UUID=, LABEL=, PARTUUID=, PARTLABEL=, or a /dev/disk/by-TAG/ link udev has not made)
        that libblkid finds on it, as mount will. A tag on more than one device is refused."""
        path = unescape_fstab_field(spec)
        if path.startswith("/"):
            if os.path.realpath(path) == os.path.realpath(self.device):
                return True
            if os.path.exists(path) or not path.startswith(tuple(UDEV_TAG_LINKS)):
                return False
        tagged = fstab_spec_tag(spec)
        if tagged is None or not fs_uuid:
            return False
        if tagged == ("UUID", fs_uuid):  # as this module writes it; blkid probed the device for it
            return True
        devices = self.devices_with_tag(*tagged)
        if os.path.realpath(self.device) not in devices:
            return False
        if len(devices) > 1:
            self.fail(
                f"{FSTAB} line {number} mounts {spec} at {self.mount_point}, and {len(devices)} devices carry "
                f"that {tagged[0]} ({', '.join(sorted(devices))}): mount may take either. Make it unique or name "
                f"{self.device}'s filesystem by UUID={fs_uuid} in that line, then run again"
            )
        return True

    def devices_with_tag(self, tag, value):
        """The devices (resolved paths) libblkid finds TAG=value on, reading them afresh."""
        found = self.blkid("-c", "/dev/null", "-o", "device", "-t", f"{tag}={value}")
        return {os.path.realpath(line.strip()) for line in found["stdout"].splitlines() if line.strip()}

    @staticmethod
    def is_kernel_device_name(spec):
        """/dev/sdb or /dev/loop3, not a tag or a link such as /dev/disk/by-id/... or /dev/mapper/..."""
        path = unescape_fstab_field(spec)
        stable = path.startswith(STABLE_DEVICE_LINKS) or os.path.islink(path)
        return path.startswith("/") and not stable

    def read_fstab(self, fs_uuid):
        """The fstab text and its entries for the mount point, as (line number, fields); refuses
        (before anything is formatted) when one of them mounts another filesystem there.
        `fs_uuid`: the UUID of the XFS the device carries, None for one still to be formatted."""
        try:
            with open(FSTAB) as handle:
                text = handle.read()
        except FileNotFoundError:
            text = ""
        entries = fstab_lines_at(text, self.mount_point)
        for number, fields in entries:
            if not self.names_this_device(number, fields[0], fs_uuid):
                ours = f"UUID={fs_uuid}" if fs_uuid else f"a new filesystem on {self.device}"
                self.fail(
                    f"{FSTAB} line {number} mounts another filesystem at {self.mount_point}: "
                    f"'{' '.join(fields)}' (this brick's is {ours}); refusing to replace or delete it. "
                    "Remove or fix that line by hand, then run again"
                )
        return text, entries

    def write_fstab(self, text, ours, fs_uuid):
        """One entry for the mount point that lets the host boot without the disk. An entry of the
        admin's for this filesystem keeps its source (LABEL=, a /dev/disk link) and gets the boot-safe
        options; a new one, or one naming a kernel device name (which can change at the next boot),
        names the filesystem by UUID. read_fstab refused entries for another filesystem."""
        # Only check mode gets here without a UUID (the device is not formatted yet); nothing is written then.
        spec = f"UUID={fs_uuid}" if fs_uuid else f"UUID=(the new filesystem on {self.device})"
        # A source read before this run formatted the device may name the old filesystem.
        kept = ours[0][1][0] if ours else None
        if kept and fs_uuid and not self.result["formatted"] and not self.is_kernel_device_name(kept):
            spec = kept
        entry = [spec, self.mount_point, "xfs", boot_safe_mount_options(self.p["mount_options"]), "0", "0"]
        lines = text.splitlines()
        before = "\n".join(lines[number - 1].strip() for number, _fields in ours) or None
        self.diff_before["fstab"] = before
        if len(ours) == 1 and ours[0][1][:4] == entry[:4]:
            self.diff_after["fstab"] = before
            return
        self.diff_after["fstab"] = "\t".join(entry)
        self.result["fstab_changed"] = True
        self.result["changed"] = True
        if not self.module.check_mode:
            self.replace_fstab(fstab_with_entry(text, entry))

    def replace_fstab(self, text):
        try:
            replace_file(self.module, FSTAB, text)
        except Exception as exc:
            self.fail(f"could not write {FSTAB}: {exc}")

    # -- the directory -----------------------------------------------------

    def create_directory(self):
        if os.path.isdir(self.path):
            return
        if os.path.exists(self.path):
            self.fail(f"{self.path} exists and is not a directory")
        # A brick of a volume that is not there: its filesystem is not mounted, or it was
        # deleted. Made empty, on whatever filesystem is below, heal would fill it there.
        # glusterd's state on disk says (no command: a new host has no gluster yet).
        held = volumes_in_glusterd_state(self.path)
        if held:
            self.fail(
                f"{self.path} is a brick of volume {', '.join(held)} but does not exist: its filesystem is not "
                "mounted, or it was deleted. Mount it (see /etc/fstab), or replace the brick (gluster volume "
                "reset-brick); an empty directory made here would be filled by heal on the filesystem below"
            )
        self.result["created"] = True
        self.result["changed"] = True
        if not self.module.check_mode:
            os.makedirs(self.path, mode=0o755)

    def volumes_listing_the_brick(self):
        """The names of the volumes with this host's brick at path: glusterd's answer, else its
        state on disk (none on a host without glusterd)."""
        try:
            return [v.name for v in self.volumes_holding_the_brick()]
        except (GlusterError, StopIteration):
            return volumes_in_glusterd_state(self.path)

    def volumes_holding_the_brick(self):
        """The volumes, as this host's glusterd knows them, with this host's brick at path."""
        cli = GlusterCli(self.module)
        local = next(p.uuid for p in cli.pool_list() if p.is_local)
        return [v for v in cli.volumes() if any(b.host_uuid == local and b.path == self.path for b in v.bricks)]

    def clear_volume_id(self):
        if not os.path.isdir(self.path):
            return
        found = read_volume_id(self.path)
        if found is None:
            return
        if found != self.clear_id:
            self.fail(
                f"{self.path} carries volume id {found}, not {self.clear_id}; refusing to clear another volume's id"
            )
        try:
            for volume in self.volumes_holding_the_brick():
                if volume.id == found:
                    self.fail(f"{self.path} is a brick of volume {volume.name}; its volume id is not stale")
        except GlusterError as exc:
            self.module.fail_json(**exc.fail_kwargs())
        entries = contents_besides_metadata(self.path)
        if entries:
            self.fail(
                f"{self.path} holds {len(entries)} entries besides {GLUSTER_METADATA_DIR} ({some_names(entries)}); "
                "refusing to clear its volume id"
            )
        self.result["cleared_volume_id"] = found
        self.result["changed"] = True
        self.diff_before["volume_id"] = found
        self.diff_after["volume_id"] = None
        if self.module.check_mode:
            return
        os.removexattr(self.path, VOLUME_ID_XATTR)
        with contextlib.suppress(OSError):  # a brick that never served a volume has no gfid
            os.removexattr(self.path, GFID_XATTR)
        for name in os.listdir(self.path):
            if is_gluster_metadata(name):
                shutil.rmtree(os.path.join(self.path, name), ignore_errors=True)

    def unmount(self):
        """state=unmounted: the mount goes, then the device's fstab entries for the mount point
        (a mount that cannot go keeps its line). Nothing is formatted or deleted."""
        for volume in self.volumes_listing_the_brick():
            self.fail(f"{self.path} is a brick of volume {volume}; drain this host first")
        try:
            number = device_number(self.device)
        except OSError:
            self.fail(f"device {self.device} does not exist or is not a block device")
        at_point = mount_at(read_mounts(), self.mount_point)
        if at_point is not None and at_point["device_number"] != number:
            self.fail(f"{self.mount_point} has {at_point['source']} mounted on it, not {self.device}; left as it is")
        text, ours = self.read_fstab(self.probe().get("UUID"))
        self.diff_before["fstab"] = "\n".join(text.splitlines()[n - 1].strip() for n, _fields in ours) or None
        self.diff_after["fstab"] = None
        self.diff_before["mounted"] = at_point is not None
        self.diff_after["mounted"] = False
        if at_point is not None:
            self.command([self.module.get_bin_path("umount", required=True), self.mount_point])
            self.result["unmounted"] = True
        if ours:
            self.result["fstab_changed"] = True
            self.result["changed"] = True
            if not self.module.check_mode:
                numbers = {n for n, _fields in ours}
                kept = [line for n, line in enumerate(text.splitlines(), start=1) if n not in numbers]
                self.replace_fstab("\n".join(kept) + ("\n" if kept else ""))
        if self.module._diff:
            self.result["diff"] = {"before": self.diff_before, "after": self.diff_after}
        self.module.exit_json(**self.result)

    def run(self):
        self.validate()
        if self.p["state"] == "unmounted":
            if not self.device:
                self.fail("state unmounted needs device (a directory brick has no mount of its own)")
            self.unmount()
        if self.device:
            self.prepare_device()
        self.diff_before["directory"] = "present" if os.path.isdir(self.path) else "absent"
        self.diff_after["directory"] = "present"
        if self.device and self.module.check_mode and self.result["mounted"]:
            # The directory would be created on the new filesystem, which is not there yet.
            self.result["created"] = True
        else:
            self.create_directory()
        if self.p["clear_volume_id"]:
            self.clear_volume_id()
        self.result["brick"] = read_brick_info(self.path)
        if self.module._diff:
            self.result["diff"] = {"before": self.diff_before, "after": self.diff_after}
        self.module.exit_json(**self.result)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "device": {"type": "path"},
            "mount_point": {"type": "path"},
            "mkfs_options": {"type": "list", "elements": "str", "default": ["-i", "size=512"]},
            "mount_options": {"type": "str", "default": "noatime,inode64"},
            "force": {"type": "bool", "default": False},
            "clear_volume_id": {"type": "str"},
            "state": {"type": "str", "choices": ["mounted", "unmounted"], "default": "mounted"},
        },
        required_by={"mount_point": "device"},
        supports_check_mode=True,
    )
    BrickRun(module).run()


if __name__ == "__main__":
    main()
