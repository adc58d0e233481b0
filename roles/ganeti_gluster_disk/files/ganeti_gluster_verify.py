# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ganeti cluster-verify post hook: the Gluster storage's findings in `gnt-cluster verify`.

The role ganeti_gluster_disk installs this file into
/etc/ganeti/hooks/cluster-verify-post.d/ on every node, its settings into
CONFIG_FILE, and the collection's gluster_cli/health libraries into the
settings' lib_dir. Ganeti runs cluster-verify post hooks on every node of the
verified group; a hook that exits non-zero makes verify print its output under
"Script NAME failed" and fail. So this hook exits 1 with one line per finding,
and 0 (printing nothing) when there is none.

On every node it checks its own side: the FUSE client (mount.glusterfs) and
QEMU's gluster driver are installed, Ganeti's file-storage-paths accepts the
gluster storage dir, the gluster storage dir, when mounted
(Ganeti mounts it when a disk is first used), is the configured volume and
answers, and a master candidate has the node-add hook (when the role installs
it): a node Ganeti promoted after the last site.yml run would, once master, add
nodes to Ganeti only. On the master only (Ganeti's rule: this host's FQDN is GANETI_MASTER)
it reads the pool once, with the rules of gluster_volume_health: peers, bricks,
heal, split-brain, self-heal daemons, tasks, quorum. Every gluster command has
COMMAND_TIMEOUT seconds and the whole read DEADLINE, and the mount check
MOUNT_TIMEOUT (in a child process), so verify does not hang on a frozen
glusterd or FUSE client.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import time

CONFIG_FILE = "/etc/ganeti/ganeti-gluster-verify.json"
COMMAND_TIMEOUT = 20
DEADLINE = 45
MOUNT_TIMEOUT = 10
ERROR, WARNING = "ERROR", "WARNING"
QEMU_DRIVER_GLOB = "/usr/lib/*/qemu/block-gluster.so"
MOUNT_HELPERS = ("/sbin/mount.glusterfs", "/usr/sbin/mount.glusterfs")
# Ganeti's list of the directories a node accepts file-based disks under (pathutils.FILE_STORAGE_PATHS_FILE).
STORAGE_PATHS_FILE = "/etc/ganeti/file-storage-paths"


def mount_of(path):
    """(source, fstype) of the filesystem mounted at path, or None. Only the parent is
    resolved: a stat of a hung FUSE mount itself would block."""
    real = os.path.join(os.path.realpath(os.path.dirname(path.rstrip("/"))), os.path.basename(path.rstrip("/")))
    found = None
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            separator = fields.index("-")
            if fields[4].encode().decode("unicode_escape") == real:
                found = (fields[separator + 2], fields[separator + 1])  # the last mount there wins
    return found


# Prefixes Ganeti never accepts file-based disks under (storage/filestorage.py of Ganeti 3.0,
# _GetForbiddenFileStoragePaths).
FORBIDDEN_STORAGE_PREFIXES = (
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/proc",
    "/root",
    "/sys",
    *(f"{prefix}/{name}" for prefix in ("", "/usr", "/usr/local") for name in ("bin", "lib", "lib32", "lib64", "sbin")),
)


def is_at_or_below(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def storage_dir_refusal(storage_dir, listed):
    """Why a node whose file-storage-paths has the lines `listed` refuses disks under
    storage_dir, or None: it, or a directory above it, must be listed (blank, comment and
    relative lines do not count) and it must not be under a prefix Ganeti forbids.
    `gnt-cluster verify` compares the file only when the file or sharedfile template is
    enabled: nothing else looks at it for gluster."""
    wanted = os.path.normpath(storage_dir)
    forbidden = [p for p in FORBIDDEN_STORAGE_PREFIXES if is_at_or_below(wanted, p)]
    if forbidden:
        return f"{storage_dir} is under {forbidden[0]}, where Ganeti accepts no disk"
    for line in listed:
        allowed = line.strip()
        usable = allowed and not allowed.startswith("#") and os.path.isabs(allowed)
        if usable and is_at_or_below(wanted, os.path.normpath(allowed)):
            return None
    return f"{STORAGE_PATHS_FILE} does not list {storage_dir} or a directory above it"


def node_findings(settings, support):
    """This node's own side: client, QEMU driver, the storage dir's mount."""
    findings = []
    if not any(os.access(p, os.X_OK) for p in MOUNT_HELPERS):
        findings.append((ERROR, "the GlusterFS client (mount.glusterfs) is not installed: install glusterfs-client"))
    if not glob.glob(QEMU_DRIVER_GLOB):
        severity = ERROR if settings.get("access") == "userspace" else WARNING
        findings.append((severity, "QEMU's gluster driver is not installed: install qemu-block-extra"))
    storage_dir = settings["storage_dir"]
    try:
        with open(STORAGE_PATHS_FILE, encoding="utf-8", errors="replace") as handle:
            listed = handle.read().splitlines()
    except OSError:
        listed = []
    refusal = storage_dir_refusal(storage_dir, listed)
    if refusal:
        findings.append(
            (
                ERROR,
                f"{refusal}: Ganeti refuses every gluster disk on this node (create, start, failover or migration "
                "to it). Run site.yml, which lists it on every node",
            )
        )
    mounted = mount_of(storage_dir)
    if mounted is not None:
        source, fstype = mounted
        volume = source.rsplit(":", 1)[-1].strip("/")
        if fstype != "fuse.glusterfs" or volume != settings["volume"]:
            findings.append(
                (ERROR, f"{storage_dir} is {source} ({fstype}), not volume {settings['volume']}: unmount it")
            )
        else:
            # In a child: a hung FUSE client blocks whoever stats the mount.
            returncode, _stdout, stderr = support.run_bounded(["stat", "-f", storage_dir], MOUNT_TIMEOUT)
            if returncode != 0:
                lines = stderr.strip().splitlines() or ["no answer"]
                why = f" within {MOUNT_TIMEOUT} s" if returncode is None else f": {lines[-1]}"
                findings.append((ERROR, f"{storage_dir} (volume {settings['volume']}) does not answer{why}"))
    missing = [path for path in settings.get("join_hook_files") or [] if not os.access(path, os.R_OK)]
    if missing and support.is_master_candidate():
        findings.append(
            (
                WARNING,
                f"this node is a master candidate without the node-add hook ({', '.join(missing)} missing): once "
                "it is the master, gnt-node add adds a node to Ganeti only, not to the Gluster pool. Run site.yml, "
                "which installs the hook on every node that can become master",
            )
        )
    interpreter = shebang_of((settings.get("join_hook_files") or [None])[0])
    if interpreter and not os.access(interpreter, os.X_OK) and support.is_master_candidate():
        findings.append(
            (
                WARNING,
                f"the node-add hook's Python {interpreter} is missing here: once this node is the master, Ganeti "
                "cannot run the hook and gnt-node add adds a node to Ganeti only. Run site.yml, which sets it up",
            )
        )
    return findings


def shebang_of(path):
    """The interpreter a script's first line names, or None."""
    try:
        with open(path or "", encoding="utf-8") as script:
            first = script.readline()
    except (OSError, UnicodeDecodeError):
        return None
    return first[2:].split()[0] if first.startswith("#!") and first[2:].split() else None


def pool_findings(settings, support):
    """The pool and the volume as the master's glusterd sees them."""
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli, GlusterError
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import UNSAFE, read_volume

    runner = support.Runner(time.monotonic() + DEADLINE, COMMAND_TIMEOUT)
    try:
        cli = GlusterCli(runner, sleep=runner.sleep)
        peers = cli.pool_list()
        volume = cli.volume(settings["volume"])
        if volume is None:
            return [(ERROR, f"volume {settings['volume']} does not exist in the pool")]
        report = read_volume(cli, volume, peers)
    except (GlusterError, support.OutOfTime, FileNotFoundError) as exc:
        return [(ERROR, f"cannot read the Gluster pool here: {exc}")]
    return [
        (ERROR if f["severity"] == UNSAFE else WARNING, f"{f['subject']}: {f['reason']}") for f in report["findings"]
    ]


def hook_support(lib_dir):
    """The collection's hook_support module, from the copy in lib_dir."""
    if lib_dir not in sys.path:
        sys.path.insert(0, lib_dir)
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hook_support as support

    return support


def main(environ=None):
    environ = os.environ if environ is None else environ
    try:
        with open(CONFIG_FILE, encoding="utf-8") as handle:
            settings = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"ERROR: gluster: the hook's settings {CONFIG_FILE} cannot be read: {exc}")
        return 1
    support = hook_support(settings["lib_dir"])
    findings = node_findings(settings, support)
    if support.is_master(environ):
        findings += pool_findings(settings, support)
    for severity, text in findings:
        print(f"{severity}: gluster: {text}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
