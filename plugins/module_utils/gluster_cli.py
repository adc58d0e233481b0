# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gluster CLI in XML mode: command builders, one runner, pure parsers.

Every call is ``gluster --mode=script --xml ARGS`` as an argv list. In XML mode
the CLI exits 0 on many failures, so success is decided by ``opRet`` alone and
a failure becomes a typed error carrying ``opErrno`` and ``opErrstr``.
"""

from __future__ import annotations

import contextlib
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import C_LOCALE, CommandError, backoff

# What glusterd accepts as a volume name.
VOLUME_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# glusterd could not take a volume's or the cluster's lock (EG_ANOTRANS): another
# transaction holds it. Nothing was done; the same command may run again.
OP_ERRNO_BUSY = 30802

# The same refusal from a peer: the originator's lock phase failed there
# (glusterd-mgmt.c, glusterd-syncop.c), released the locks it took, and staged
# nothing. The peer's opErrno is not kept, only this prefix on each line.
PEER_LOCK_FAILED = "Locking failed on "

# How long a command waits for such a lock before its error stands. Any
# `gluster volume status` (a monitoring exporter's, an admin's, the
# cluster-verify hook's) takes the same lock for a moment; a lock left on a peer
# by a transaction whose originator lost it (a network cut) stays until
# glusterd's lock timer frees it, 180 s (GF_LOCK_TIMER).
BUSY_WAIT_SECONDS = 200
BUSY_FIRST_PAUSE = 0.25
BUSY_LONGEST_PAUSE = 4.0

# `rebalance status` and `remove-brick status` ask each node's rebalance process
# through that node's glusterd. A process that exits as its pass completes, or
# is not connected yet after a start, fails the query for its node with this
# text (gd_syncop_mgmt_brick_op: the request unwound when the socket closed),
# prefixed "Brick ops failed on NODE. " for a peer. The query changes nothing,
# and a moment later glusterd answers from the status the process left. Both
# reads are the op glusterd names "Rebalance" (GD_OP_DEFRAG_BRICK_VOLUME in
# glusterd.c's gd_op_list); the recorded outputs are rebalance status's.
REBALANCE_PROCESS_GONE = "Glusterd Syncop Mgmt brick op 'Rebalance' failed."
REBALANCE_PROCESS_WAIT_SECONDS = 30

# `volume heal VOL [full]` starts a crawl of the self-heal daemons. It has no XML
# form (with --xml it prints text all the same) and exits 1 on failure. Right after
# a replace-brick the daemons are switching to the volume's new graph and refuse it
# with this text for a few seconds (about 3 s on the lab); so does a busy glusterd.
# A daemon that does not yet see every brick of a set it serves (the new brick not
# connected yet, or a brick down anywhere in the volume) answers "Commit failed on
# NODE" (afr_xl_op: op_ret -1 when a child is down), having started the crawls it could.
HEAL_DAEMON_NOT_READY = "Glusterd Syncop Mgmt brick op 'Heal' failed"
HEAL_COMMIT_FAILED = "Commit failed on "
GLUSTERD_BUSY = "Another transaction is in progress"
HEAL_PASSING = (HEAL_DAEMON_NOT_READY, HEAL_COMMIT_FAILED, GLUSTERD_BUSY, PEER_LOCK_FAILED)
HEAL_TRIGGER_WAIT_SECONDS = 60

# glusterd's peer state machine (glusterd_friend_sm_state_t).
PEER_IN_CLUSTER = 3
PEER_REJECTED = 6

# `peer probe` succeeds (opRet 0) in three ways, told apart by opErrno.
PROBE_NEW = 0
PROBE_LOCALHOST = 1
PROBE_ALREADY_PEER = 2

# Volume status in `volume info`.
VOLUME_CREATED = 0
VOLUME_STARTED = 1
VOLUME_STOPPED = 2

# Rebalance status (gf_defrag_status_t).
REBALANCE_NOT_STARTED = 0
REBALANCE_RUNNING = {1, 5}
REBALANCE_COMPLETED = {3, 7}
REBALANCE_FAILED = {2, 4, 6, 8}  # stopped or failed, data or layout
# The task types `volume status VOL` lists.
TASK_REBALANCE = "Rebalance"
TASK_REMOVE_BRICK = "Remove brick"


class GlusterError(CommandError):
    """A gluster command failed; glusterd's opErrno and opErrstr when it answered."""

    def __init__(self, message, argv=None, rc=None, stdout="", stderr="", op_errno=None, op_errstr=None):
        super().__init__(message, argv, rc, stdout, stderr)
        self.op_errno = op_errno
        self.op_errstr = op_errstr

    def fail_kwargs(self):
        return {**super().fail_kwargs(), "op_errno": self.op_errno, "op_errstr": self.op_errstr}


class GlusterCliError(GlusterError):
    """The CLI printed no XML: it could not reach glusterd, or rejected its arguments."""


class GlusterOpError(GlusterError):
    """glusterd answered with opRet != 0."""


def script_argv(binary, args):
    """The argv for one non-interactive, XML-mode gluster call."""
    return [binary, "--mode=script", "--xml"] + [str(a) for a in args]


def interpret(argv, rc, stdout, stderr):
    """Turn one CLI run into the parsed <cliOutput> element, or raise GlusterError."""
    what = " ".join(argv[3:]) if len(argv) > 3 else " ".join(argv)
    text = stdout.strip()
    if not text.startswith("<"):
        detail = (stderr.strip() or text or "no output").splitlines()[-1]
        raise GlusterCliError(
            f"gluster {what} failed (exit {rc}): {detail}. Check that glusterd is running on this host.",
            argv=argv,
            rc=rc,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise GlusterCliError(
            f"gluster {what} printed unreadable XML: {exc}", argv=argv, rc=rc, stdout=stdout, stderr=stderr
        ) from None
    op_ret = _int(root.findtext("opRet"), default=-1)
    if op_ret != 0:
        op_errno = _int(root.findtext("opErrno"), default=None)
        op_errstr = (root.findtext("opErrstr") or "").strip() or "no error text"
        raise GlusterOpError(
            f"gluster {what} failed: {op_errstr} (opRet {op_ret}, opErrno {op_errno})",
            argv=argv,
            rc=rc,
            stdout=stdout,
            stderr=stderr,
            op_errno=op_errno,
            op_errstr=op_errstr,
        )
    return root


@dataclass(frozen=True)
class Peer:
    """One entry of ``pool list``: a peer, or this host itself (hostname localhost)."""

    uuid: str
    hostname: str
    hostnames: tuple
    connected: bool
    state: int | None
    state_str: str | None

    @property
    def is_local(self):
        return self.hostname == "localhost" and self.state is None

    @property
    def names(self):
        """Every name the pool lists for it."""
        return {self.hostname, *self.hostnames}

    @property
    def in_cluster(self):
        if self.is_local:
            return True
        return self.state == PEER_IN_CLUSTER and self.connected

    def as_dict(self):
        return {
            "uuid": self.uuid,
            "hostname": self.hostname,
            "hostnames": list(self.hostnames),
            "connected": self.connected,
            "state": self.state,
            "state_str": self.state_str,
            "local": self.is_local,
            "in_cluster": self.in_cluster,
        }


def parse_pool_list(root):
    """Peers from ``pool list``, this host included."""
    peers = []
    for node in root.iterfind("./peerStatus/peer"):
        hostname = (node.findtext("hostname") or "").strip()
        names = tuple(h.text.strip() for h in node.iterfind("./hostnames/hostname") if h.text)
        peers.append(
            Peer(
                uuid=(node.findtext("uuid") or "").strip(),
                hostname=hostname,
                hostnames=names or (hostname,),
                connected=_int(node.findtext("connected"), default=0) == 1,
                state=_int(node.findtext("state"), default=None),
                state_str=(node.findtext("stateStr") or "").strip() or None,
            )
        )
    return peers


@dataclass(frozen=True)
class Brick:
    """One brick of a volume, as `volume info` lists it."""

    name: str
    host_uuid: str
    is_arbiter: bool

    @property
    def host(self):
        return self.name.rsplit(":", 1)[0]

    @property
    def path(self):
        return self.name.rsplit(":", 1)[1]


@dataclass(frozen=True)
class Volume:
    """One volume from `volume info`."""

    name: str
    id: str
    status: int
    status_str: str
    type_str: str
    brick_count: int
    dist_count: int
    replica_count: int
    arbiter_count: int
    disperse_count: int
    redundancy_count: int
    bricks: tuple
    options: dict

    @property
    def started(self):
        return self.status == VOLUME_STARTED

    @property
    def set_size(self):
        """Bricks per replica or disperse set (1 for pure distribute)."""
        if self.disperse_count:
            return self.disperse_count
        return max(self.replica_count, 1)

    @property
    def is_distributed(self):
        """Whether DHT spreads files over more than one subvolume (so rebalance applies)."""
        return self.brick_count // self.set_size > 1

    def as_dict(self):
        return {
            "name": self.name,
            "id": self.id,
            "status": self.status_str,
            "type": self.type_str,
            "brick_count": self.brick_count,
            "distribute_count": self.brick_count // self.set_size,
            "replica_count": self.replica_count,
            "arbiter_count": self.arbiter_count,
            "disperse_count": self.disperse_count,
            "redundancy_count": self.redundancy_count,
            "bricks": [b.name for b in self.bricks],
            "options": dict(self.options),
        }


def parse_volume_info(root):
    """Volumes from `volume info` (all of them, or the one asked for)."""
    volumes = []
    for node in root.iterfind("./volInfo/volumes/volume"):
        bricks = tuple(
            Brick(
                name=(b.findtext("name") or "").strip(),
                host_uuid=(b.findtext("hostUuid") or "").strip(),
                is_arbiter=_int(b.findtext("isArbiter"), default=0) == 1,
            )
            for b in node.iterfind("./bricks/brick")
        )
        options = {
            (o.findtext("name") or "").strip(): (o.findtext("value") or "").strip()
            for o in node.iterfind("./options/option")
        }
        volumes.append(
            Volume(
                name=(node.findtext("name") or "").strip(),
                id=(node.findtext("id") or "").strip(),
                status=_int(node.findtext("status"), default=-1),
                status_str=(node.findtext("statusStr") or "").strip(),
                type_str=(node.findtext("typeStr") or "").strip(),
                brick_count=_int(node.findtext("brickCount"), default=len(bricks)),
                dist_count=_int(node.findtext("distCount"), default=1),
                replica_count=_int(node.findtext("replicaCount"), default=1),
                arbiter_count=_int(node.findtext("arbiterCount"), default=0),
                disperse_count=_int(node.findtext("disperseCount"), default=0),
                redundancy_count=_int(node.findtext("redundancyCount"), default=0),
                bricks=bricks,
                options=options,
            )
        )
    return volumes


@dataclass(frozen=True)
class BrickStatus:
    """A brick process from `volume status`."""

    host: str
    path: str
    peer_uuid: str
    online: bool
    pid: int | None

    @property
    def name(self):
        return f"{self.host}:{self.path}"


def parse_volume_status(root):
    """Brick processes from `volume status VOL` (daemons such as self-heal left out)."""
    bricks = []
    for node in root.iterfind("./volStatus/volumes/volume/node"):
        path = (node.findtext("path") or "").strip()
        if not path.startswith("/"):
            continue
        bricks.append(
            BrickStatus(
                host=(node.findtext("hostname") or "").strip(),
                path=path,
                peer_uuid=(node.findtext("peerid") or "").strip(),
                online=_int(node.findtext("status"), default=0) == 1,
                pid=_int(node.findtext("pid"), default=None),
            )
        )
    return bricks


@dataclass(frozen=True)
class BrickDetail:
    """A brick from `volume status VOL detail`: its process and its filesystem."""

    host: str
    path: str
    peer_uuid: str
    online: bool
    size_total: int | None
    size_free: int | None
    inodes_total: int | None
    inodes_free: int | None

    @property
    def name(self):
        return f"{self.host}:{self.path}"


def parse_volume_status_detail(root):
    """Bricks from `volume status VOL detail`. Bricks of peers glusterd cannot reach are not listed."""
    return [
        BrickDetail(
            host=(node.findtext("hostname") or "").strip(),
            path=(node.findtext("path") or "").strip(),
            peer_uuid=(node.findtext("peerid") or "").strip(),
            online=_int(node.findtext("status"), default=0) == 1,
            size_total=_int(node.findtext("sizeTotal"), default=None),
            size_free=_int(node.findtext("sizeFree"), default=None),
            inodes_total=_int(node.findtext("inodesTotal"), default=None),
            inodes_free=_int(node.findtext("inodesFree"), default=None),
        )
        for node in root.iterfind("./volStatus/volumes/volume/node")
        if (node.findtext("path") or "").strip().startswith("/")
    ]


@dataclass(frozen=True)
class Daemon:
    """A volume's daemon on one peer from `volume status VOL` (the self-heal daemon, ...)."""

    kind: str
    peer_uuid: str
    online: bool


@dataclass(frozen=True)
class Task:
    """A rebalance or remove-brick task from `volume status VOL`."""

    kind: str
    task_id: str
    status: int | None
    status_str: str
    bricks: tuple


def parse_volume_status_daemons(root):
    """The daemons and the tasks `volume status VOL` lists beside the bricks."""
    daemons = [
        Daemon(
            kind=(node.findtext("hostname") or "").strip(),
            peer_uuid=(node.findtext("peerid") or "").strip(),
            online=_int(node.findtext("status"), default=0) == 1,
        )
        for node in root.iterfind("./volStatus/volumes/volume/node")
        if not (node.findtext("path") or "").strip().startswith("/")
    ]
    tasks = [
        Task(
            kind=(node.findtext("type") or "").strip(),
            task_id=(node.findtext("id") or "").strip(),
            status=_int(node.findtext("status"), default=None),
            status_str=(node.findtext("statusStr") or "").strip(),
            bricks=tuple((b.text or "").strip() for b in node.iterfind("./params/brick")),
        )
        for node in root.iterfind("./volStatus/volumes/volume/tasks/task")
    ]
    return daemons, tasks


@dataclass(frozen=True)
class HealCount:
    """One brick of `volume heal VOL info summary`; counts are None when it was not reached ("-")."""

    name: str
    host_uuid: str
    status: str
    total: int | None
    pending: int | None
    split_brain: int | None
    possibly_healing: int | None

    @property
    def reached(self):
        return self.status == "Connected" and self.pending is not None


def parse_heal_summary(root):
    return [
        HealCount(
            name=(node.findtext("name") or "").strip(),
            host_uuid=(node.get("hostUuid") or "").strip(),
            status=(node.findtext("status") or "").strip(),
            total=_int(node.findtext("totalNumberOfEntries"), default=None),
            pending=_int(node.findtext("numberOfEntriesInHealPending"), default=None),
            split_brain=_int(node.findtext("numberOfEntriesInSplitBrain"), default=None),
            possibly_healing=_int(node.findtext("numberOfEntriesPossiblyHealing"), default=None),
        )
        for node in root.iterfind("./healInfo/bricks/brick")
    ]


@dataclass(frozen=True)
class HealEntries:
    """One brick of `volume heal VOL info`: the entries it listed for heal, gfid -> path
    (glfsheal prints the gfid where it cannot resolve a path). Complete only when its status
    is "Connected": a brick not reached lists nothing, one that failed part-way some."""

    name: str
    host_uuid: str
    status: str
    files: dict

    @property
    def complete(self):
        return self.status == "Connected"


def parse_heal_entries(root):
    bricks = []
    for node in root.iterfind("./healInfo/bricks/brick"):
        status = (node.findtext("status") or "").strip()
        files = {f.get("gfid", "").strip(): (f.text or "").strip() for f in node.iterfind("file")}
        bricks.append(
            HealEntries(
                name=(node.findtext("name") or "").strip(),
                host_uuid=(node.get("hostUuid") or "").strip(),
                status=status,
                files=files,
            )
        )
    return bricks


class VolumeOptions(dict):
    """Option -> value from `volume get VOL all`; `defaults` names those left at their default."""

    def __init__(self, values=(), defaults=()):
        super().__init__(values)
        self.defaults = frozenset(defaults)


def parse_volume_get(root):
    """The options of `volume get VOL all`, a default's " (DEFAULT)" suffix taken off."""
    values, defaults = {}, set()
    for node in root.iterfind("./volGetopts/Opt"):
        name = (node.findtext("Option") or "").strip()
        value = (node.findtext("Value") or "").strip()
        if value.endswith(" (DEFAULT)"):
            value = value[: -len(" (DEFAULT)")]
            defaults.add(name)
        values[name] = value
    return VolumeOptions(values, defaults)


@dataclass(frozen=True)
class Rebalance:
    """The aggregate of `volume rebalance VOL status`."""

    task_id: str
    status: int
    status_str: str
    failures: int
    files: int = 0  # files this run moved
    failed_nodes: tuple = ()  # nodes whose own rebalance process failed or stopped
    # glusterd UUIDs of the nodes listed as completed. The CLI leaves out a node whose
    # process has not started yet or did not answer, and aggregates the others: a
    # pass is over only once every node with a brick is listed completed.
    completed_nodes: frozenset = frozenset()

    @property
    def running(self):
        return self.status in REBALANCE_RUNNING

    @property
    def completed(self):
        return self.status in REBALANCE_COMPLETED

    @property
    def failed(self):
        return self.status in REBALANCE_FAILED

    def as_dict(self):
        return {
            "task_id": self.task_id,
            "status": self.status_str,
            "failures": self.failures,
            "files": self.files,
            "failed_nodes": list(self.failed_nodes),
        }


def parse_rebalance_status(root):
    node = root.find("./volRebalance")
    aggregate = node.find("./aggregate") if node is not None else None
    if aggregate is None:
        return None
    status, status_str = rebalance_state(
        [
            (_int(n.findtext("status"), default=REBALANCE_NOT_STARTED), n.findtext("statusStr"))
            for n in node.findall("./node")
        ],
        (_int(aggregate.findtext("status"), default=REBALANCE_NOT_STARTED), aggregate.findtext("statusStr")),
    )
    return Rebalance(
        task_id=(node.findtext("task-id") or "").strip(),
        status=status,
        status_str=status_str,
        failures=_int(aggregate.findtext("failures"), default=0),
        files=_int(aggregate.findtext("files"), default=0),
        failed_nodes=tuple(
            (n.findtext("nodeName") or "").strip()
            for n in node.findall("./node")
            if _int(n.findtext("status"), default=REBALANCE_NOT_STARTED) in REBALANCE_FAILED
        ),
        completed_nodes=frozenset(
            (n.findtext("id") or "").strip()
            for n in node.findall("./node")
            if _int(n.findtext("status"), default=REBALANCE_NOT_STARTED) in REBALANCE_COMPLETED
        ),
    )


def rebalance_state(rows, aggregate):
    """(status, statusStr) of a rebalance from its node rows: running while a row runs,
    else failed when a row failed or stopped, else completed when every row completed.
    The CLI's aggregate ranks only the data rebalance's statuses (cli-xml-output.c); a
    fix-layout pass's (5 to 8) it reads past its table, so it can say completed while
    a node's pass failed. With no rows, the aggregate stands."""
    for wanted in (REBALANCE_RUNNING, REBALANCE_FAILED):
        for status, status_str in rows:
            if status in wanted:
                return status, (status_str or "").strip()
    for status, status_str in rows:
        if status not in REBALANCE_COMPLETED:  # a node not started yet
            return status, (status_str or "").strip()
    status, status_str = rows[0] if rows else aggregate
    return status, (status_str or "").strip()


@dataclass(frozen=True)
class MigrationNode:
    """One node's row of `remove-brick ... status`. The CLI leaves out a node whose
    migration did not start (nothing of its to move, or it never answered), so a node
    is matched by its glusterd UUID (`node_id`), and one not listed is not done."""

    name: str
    node_id: str
    status: int
    status_str: str
    files: int
    failures: int
    skipped: int

    @property
    def running(self):
        return self.status in REBALANCE_RUNNING

    @property
    def clean(self):
        """Completed, nothing failed or left behind: its bricks' data has moved."""
        return self.status in REBALANCE_COMPLETED and not self.failures and not self.skipped


def parse_remove_brick_status(root):
    """The per-node rows of `volume remove-brick VOL BRICKS status`."""
    return [
        MigrationNode(
            name=(n.findtext("nodeName") or "").strip(),
            node_id=(n.findtext("id") or "").strip(),
            status=_int(n.findtext("status"), default=REBALANCE_NOT_STARTED),
            status_str=(n.findtext("statusStr") or "").strip(),
            files=_int(n.findtext("files"), default=0),
            failures=_int(n.findtext("failures"), default=0),
            skipped=_int(n.findtext("skipped"), default=0),
        )
        for n in root.iterfind("./volRemoveBrick/node")
    ]


def probe_outcome(root):
    """PROBE_NEW, PROBE_LOCALHOST or PROBE_ALREADY_PEER for a successful `peer probe`."""
    return _int(root.findtext("opErrno"), default=PROBE_NEW)


# -- command builders: argument lists after `gluster --mode=script --xml` ----


def volume_layout_args(replica=None, arbiter=0, disperse=None, redundancy=None):
    """The layout part of `volume create` and `volume add-brick`."""
    args = []
    if disperse:
        args += ["disperse", str(disperse)]
        if redundancy:
            args += ["redundancy", str(redundancy)]
    elif replica and replica > 1:
        args += ["replica", str(replica)]
        if arbiter:
            args += ["arbiter", str(arbiter)]
    return args


def volume_create_args(name, bricks, replica=None, arbiter=0, disperse=None, redundancy=None, force=False):
    args = ["volume", "create", name, *volume_layout_args(replica, arbiter, disperse, redundancy), *bricks]
    return args + (["force"] if force else [])


def add_brick_args(name, bricks, replica=None, force=False):
    # A disperse volume grows by whole disperse sets without restating its
    # layout; a replicated one states its (unchanged) replica count.
    args = ["volume", "add-brick", name]
    if replica and replica > 1:
        args += ["replica", str(replica)]
    return args + list(bricks) + (["force"] if force else [])


def rebalance_start_args(name, mode):
    if mode == "fix-layout":
        return ["volume", "rebalance", name, "fix-layout", "start"]
    return ["volume", "rebalance", name, "start"]


def _int(text, default):
    try:
        return int(text.strip())
    except (AttributeError, ValueError):
        return default


def _error_lines(exc):
    """glusterd's error, one line per node that failed (none when it gave no text)."""
    return [line for line in (exc.op_errstr or "").splitlines() if line.strip()]


def lock_was_taken(exc):
    """Whether glusterd refused `exc`'s command only because a lock, here or on a
    peer, was held by another transaction (nothing was done)."""
    if exc.op_errno == OP_ERRNO_BUSY:
        return True
    lines = _error_lines(exc)
    return bool(lines) and all(line.startswith(PEER_LOCK_FAILED) for line in lines)


def no_rebalance_on_record(exc):
    """Whether `exc` is glusterd's answer to a rebalance status when it keeps no rebalance
    for the volume (never run, a remove-brick since, or glusterd restarted): glusterd-rebalance.c."""
    return "Rebalance not started" in (exc.op_errstr or "")


def rebalance_process_unanswered(exc):
    """Whether `exc` failed only because a node's rebalance process was exiting or
    not yet connected when glusterd asked it (see REBALANCE_PROCESS_GONE)."""
    lines = _error_lines(exc)
    return bool(lines) and all(REBALANCE_PROCESS_GONE in line for line in lines)


@contextlib.contextmanager
def rebalance_process_advice(volume):
    """Where to look when a node's rebalance process still did not answer."""
    try:
        yield
    except GlusterOpError as exc:
        if rebalance_process_unanswered(exc):
            node = re.match(r"Brick ops failed on (\S+)\. ", exc.op_errstr or "")
            where = f"on {node.group(1)}" if node else "on this host"
            exc.message += f" See /var/log/glusterfs/{volume}-rebalance.log and glusterd.log {where}."
            exc.args = (exc.message,)
        raise


def busy_pauses(wait=BUSY_WAIT_SECONDS, first=BUSY_FIRST_PAUSE, longest=BUSY_LONGEST_PAUSE):
    """The pauses between tries of a command glusterd refused for a moment (its lock
    taken; a read of a rebalance process that was exiting): doubling from `first`
    up to `longest`, `wait` seconds in all."""
    pauses, total = [], 0.0
    for pause in backoff(first, longest):
        if total + pause > wait:
            return pauses
        pauses.append(pause)
        total += pause


class GlusterCli:
    """Runs gluster for a module: argv lists, C locale, check_rc off, opRet checked.

    A command refused because another transaction holds glusterd's lock, here
    (opErrno 30802) or on a peer ("Locking failed on PEER"), before anything is
    done, is tried again for up to BUSY_WAIT_SECONDS. The status reads of a
    rebalance or a brick removal are also asked again while a node's rebalance
    process is exiting or starting (REBALANCE_PROCESS_GONE). Any other failure
    is raised at once.
    """

    def __init__(self, module, sleep=time.sleep):
        self._module = module
        self._sleep = sleep
        self.binary = module.get_bin_path("gluster", required=True)

    def argv(self, *args):
        return script_argv(self.binary, args)

    def run(self, *args, passing=None):
        """The command's <cliOutput>. `passing`, for a read only: a test of the
        errors a moment clears, asked again for up to REBALANCE_PROCESS_WAIT_SECONDS.

        A module whose whole read has a deadline (the verify hook's runner has a
        `deadline`, in time.monotonic()) gets the error at once rather than a pause
        that would run past it, so the caller can report what it could read."""
        argv = self.argv(*args)
        busy_waits = iter(busy_pauses())
        passing_waits = iter(busy_pauses(wait=REBALANCE_PROCESS_WAIT_SECONDS))
        deadline = getattr(self._module, "deadline", None)
        while True:
            rc, stdout, stderr = self._module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
            try:
                return interpret(argv, rc, stdout, stderr)
            except GlusterOpError as exc:
                if lock_was_taken(exc):
                    pause = next(busy_waits, None)
                    if pause is None:
                        raise self._busy_too_long(exc) from None
                elif passing is not None and passing(exc):
                    pause = next(passing_waits, None)
                    if pause is None:
                        exc.message += f" It still failed after {REBALANCE_PROCESS_WAIT_SECONDS} s."
                        exc.args = (exc.message,)
                        raise
                else:
                    raise
                if deadline is not None and time.monotonic() + pause >= deadline:
                    raise
                self._sleep(pause)

    @staticmethod
    def _busy_too_long(exc):
        if exc.op_errno == OP_ERRNO_BUSY:
            exc.message += (
                f" glusterd's lock stayed taken for {BUSY_WAIT_SECONDS} s: see which command holds it "
                "(glusterd.log: 'Lock for ... held by'), let it end, and run again."
            )
        else:
            exc.message += (
                f" The lock on those peers stayed taken, or they did not answer, for {BUSY_WAIT_SECONDS} "
                "s: see their glusterd.log ('Lock for ... held by'; a transaction cut off leaves one for "
                "180 s), let it end, and run again."
            )
        exc.args = (exc.message,)
        return exc

    def pool_list(self):
        return parse_pool_list(self.run("pool", "list"))

    def volume(self, name):
        """The named volume, or None when there is none by that name."""
        # `volume info` of every volume, so a missing one is an empty answer
        # rather than an error to tell apart from other errors.
        for volume in parse_volume_info(self.run("volume", "info")):
            if volume.name == name:
                return volume
        return None

    def volumes(self):
        return parse_volume_info(self.run("volume", "info"))

    def volume_status(self, name):
        return parse_volume_status(self.run("volume", "status", name))

    def rebalance_status(self, name):
        with rebalance_process_advice(name):
            root = self.run("volume", "rebalance", name, "status", passing=rebalance_process_unanswered)
        return parse_rebalance_status(root)

    def volume_status_detail(self, name):
        return parse_volume_status_detail(self.run("volume", "status", name, "detail"))

    def volume_status_daemons(self, name):
        return parse_volume_status_daemons(self.run("volume", "status", name))

    def heal_summary(self, name):
        return parse_heal_summary(self.run("volume", "heal", name, "info", "summary"))

    def heal_entries(self, name):
        return parse_heal_entries(self.run("volume", "heal", name, "info"))

    def volume_options(self, name):
        return parse_volume_get(self.run("volume", "get", name, "all"))

    def heal_argv(self, name, full=False):
        """`volume heal NAME [full]`, which has no XML form."""
        return [self.binary, "--mode=script", "volume", "heal", name] + (["full"] if full else [])

    def trigger_heal(self, name, full=False):
        """Have the self-heal daemons crawl now: their index, or with `full` every file
        (the crawl Gluster's maintainers name for a replaced brick). Asked again for up to
        HEAL_TRIGGER_WAIT_SECONDS while the daemons switch graphs or glusterd is busy."""
        argv = self.heal_argv(name, full)
        waits = iter(busy_pauses(wait=HEAL_TRIGGER_WAIT_SECONDS))
        while True:
            rc, stdout, stderr = self._module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
            if rc == 0:
                return
            text = " ".join((stderr or stdout or "").split())
            passing = any(t in text for t in HEAL_PASSING)
            pause = next(waits, None) if passing else None
            if pause is None:
                raise GlusterCliError(
                    f"gluster volume heal {name}{' full' if full else ''} failed (exit {rc}): {text or 'no output'}"
                    + (f" It still failed after {HEAL_TRIGGER_WAIT_SECONDS} s." if passing else "")
                    + f" See /var/log/glusterfs/glustershd.log on the hosts of volume {name}'s bricks.",
                    argv,
                    rc,
                    stdout,
                    stderr,
                )
            self._sleep(pause)

    def remove_brick_status(self, name, bricks):
        with rebalance_process_advice(name):
            root = self.run("volume", "remove-brick", name, *bricks, "status", passing=rebalance_process_unanswered)
        return parse_remove_brick_status(root)
