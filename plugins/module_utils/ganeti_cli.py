# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ganeti CLI: command builders, one runner, pure parsers.

Cluster configuration comes from ``gnt-cluster info``, whose output Ganeti
documents as a valid YAML object (NEWS, 2.8), and node lists from ``gnt-node
list`` with named fields and a separator. Whether this host is the master is
read from ssconf, the files Ganeti keeps on every node for exactly that, so a
module can say what is wrong before it runs any Ganeti command.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import socket
import time
from dataclasses import dataclass, field

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import C_LOCALE, CommandError, backoff
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import (
    addresses,
    agreement,
    identity,
    is_this_host,
    normalized,
)

SSCONF_DIR = "/var/lib/ganeti"
GLUSTER = "gluster"
GLUSTER_ACCESS = ("kernelspace", "userspace")
NODE_FIELDS = ("name", "master_candidate", "offline", "master", "pip", "sip", "vm_capable", "master_capable")


class GanetiError(CommandError):
    """A Ganeti command failed, or the cluster is in no state to run one."""


@dataclass(frozen=True)
class ClusterConfig:
    """What the gluster disk template depends on, from ``gnt-cluster info``."""

    name: str
    master: str
    enabled_disk_templates: tuple
    ipolicy_disk_templates: tuple
    gluster_params: dict = field(default_factory=dict)
    gluster_storage_dir: str = ""
    file_storage_dir: str = ""
    ssh_key_type: str = "rsa"

    def as_dict(self):
        return {
            "name": self.name,
            "master": self.master,
            "enabled_disk_templates": list(self.enabled_disk_templates),
            "ipolicy_disk_templates": list(self.ipolicy_disk_templates),
            "gluster_params": dict(self.gluster_params),
            "gluster_storage_dir": self.gluster_storage_dir,
            "file_storage_dir": self.file_storage_dir,
            "ssh_key_type": self.ssh_key_type,
        }


@dataclass(frozen=True)
class Node:
    name: str
    master_candidate: bool
    offline: bool
    master: bool
    pip: str = ""
    sip: str = ""
    vm_capable: bool = True
    # Ganeti promotes only such nodes to master candidates (and so to master).
    master_capable: bool = True

    def as_dict(self):
        return {
            "name": self.name,
            "master_candidate": self.master_candidate,
            "offline": self.offline,
            "master": self.master,
            "pip": self.pip,
            "sip": self.sip,
            "vm_capable": self.vm_capable,
            "master_capable": self.master_capable,
        }

    def is_named(self, name, resolve=None):
        """Whether `name` designates this node: Ganeti's own name, or an address of
        `name` (as this host resolves it, as Ganeti does) that is the node's primary
        or secondary IP."""
        return self.is_named_by(identity([name], resolve=resolve or addresses))

    def is_named_by(self, named):
        """is_named for a name already resolved (name_identity), to compare with many nodes."""
        return agreement(named, identity([self.name], [self.pip, self.sip])) is not None


def name_identity(name):
    """A name as Node.is_named compares it, resolved once."""
    return identity([name], resolve=addresses)


def find_node(nodes, wanted):
    """(node, refusal): the one node of Ganeti's that `wanted` names (hosts rules)."""
    matches = [n for n in nodes if n.is_named(wanted)]
    if not matches:
        known = ", ".join(n.name for n in nodes) or "none"
        return None, f"{wanted} is not a Ganeti node (Ganeti's nodes: {known}); give one by its name or address"
    if len(matches) > 1:
        return None, f"{wanted} names more than one Ganeti node ({', '.join(n.name for n in matches)})"
    return matches[0], None


def _word_list(value):
    """'file, gluster' -> ('file', 'gluster'); Ganeti prints an empty list as nothing."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(w.strip() for w in str(value).split(",") if w.strip())


def parse_cluster_info(data):
    """ClusterConfig from ``gnt-cluster info`` already loaded as YAML."""
    if not isinstance(data, dict) or "Cluster parameters" not in data:
        raise ValueError("gnt-cluster info printed no 'Cluster parameters' section")
    params = data["Cluster parameters"] or {}
    ipolicy = data.get("Instance policy - limits for instances") or {}
    disk_params = data.get("Default disk parameters") or {}
    gluster = disk_params.get(GLUSTER) or {}
    return ClusterConfig(
        name=str(data.get("Cluster name", "")),
        master=str(data.get("Master node", "")),
        enabled_disk_templates=_word_list(params.get("enabled disk templates")),
        ipolicy_disk_templates=_word_list(ipolicy.get("allowed disk templates")),
        gluster_params={k: str(v) for k, v in gluster.items()},
        gluster_storage_dir=str(params.get("gluster storage path") or ""),
        file_storage_dir=str(params.get("file storage path") or ""),
        ssh_key_type=str(params.get("ssh_key_type") or "rsa"),
    )


def _rows(text, fields, command):
    """The |-separated rows of a `gnt-* list --no-headers --separator=|`, each checked
    to have one value per field."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        values = [v.strip() for v in line.split("|")]
        if len(values) != len(fields):
            raise ValueError(f"{command} printed {line!r}, not {len(fields)} fields")
        rows.append(values)
    return rows


def parse_node_list(text):
    """Nodes from ``gnt-node list`` run with node_list_args()."""
    return [
        Node(
            name=name,
            master_candidate=candidate == "Y",
            offline=offline == "Y",
            master=master == "Y",
            pip=pip,
            sip=sip,
            vm_capable=vm_capable == "Y",
            master_capable=master_capable == "Y",
        )
        for name, candidate, offline, master, pip, sip, vm_capable, master_capable in _rows(
            text, NODE_FIELDS, "gnt-node list"
        )
    ]


# What `gnt-* list` prints for a value it has not got (Ganeti's RSS_DESCRIPTION):
# "??" unknown field, "?" no data (a node did not answer the RPC), "-" unavailable,
# "*" the node is marked offline (Ganeti did not ask it).
NO_VALUE = frozenset(["??", "?", "-", "*"])

# Fields luxid fills from a node_info RPC to each node's ganeti-noded (Query/Node.hs,
# nodeLiveRpcCall): "bootid" is in every answer, so it is "?" exactly when the node's
# noded did not answer the master, and "*" when the node is offline (not asked).
# "mfree" is what the hypervisor reports free for instances, the value Ganeti's own
# CheckNodeFreeMemory compares with. Listed for removals only: every live field
# costs an RPC to every node.
NODE_STATE_FIELDS = ("name", "offline", "drained", "vm_capable", "bootid", "mfree")


@dataclass(frozen=True)
class NodeState:
    """A node as Ganeti sees it now (``gnt-node list`` with fields that ask its noded)."""

    name: str
    offline: bool
    drained: bool
    vm_capable: bool
    # None: its ganeti-noded did not answer the master (or, offline, was not asked).
    boot_id: str | None = None
    # MiB free for instances; None when unknown (no answer, no hypervisor data).
    memory_free: int | None = None

    def as_dict(self):
        return {
            "name": self.name,
            "offline": self.offline,
            "drained": self.drained,
            "vm_capable": self.vm_capable,
            "boot_id": self.boot_id,
            "memory_free": self.memory_free,
        }


def _mebibytes(value, what, command):
    """A size printed with --units=m, or None for a value Ganeti has not got."""
    if value in NO_VALUE:
        return None
    if not value.isdigit():
        raise ValueError(f"{command} printed {value!r} for {what}, not a number of MiB")
    return int(value)


def parse_node_states(text):
    """NodeStates from ``gnt-node list`` run with node_state_args()."""
    command = "gnt-node list"
    return [
        NodeState(
            name=name,
            offline=offline == "Y",
            drained=drained == "Y",
            vm_capable=vm_capable == "Y",
            boot_id=None if bootid in NO_VALUE else bootid,
            memory_free=_mebibytes(mfree, f"the free memory of {name}", command),
        )
        for name, offline, drained, vm_capable, bootid, mfree in _rows(text, NODE_STATE_FIELDS, command)
    ]


# Disk templates whose disks any node reaches (Ganeti's DTS_EXT_MIRROR): their
# instances fail over to any node, without a secondary.
SHARED_DISK_TEMPLATES = frozenset(["blockdev", "diskless", "ext", "gluster", "rbd", "sharedfile"])
# be/minmem: the memory Ganeti wants free on a failover's target node before it
# starts the instance there (TLMigrateInstance.CheckPrereq, CheckNodeFreeMemory);
# be/maxmem: what the instance may take of it as it starts (_InstanceStartupMemory).
INSTANCE_FIELDS = ("name", "pnode", "snodes", "disk_template", "oper_state", "admin_state", "be/minmem", "be/maxmem")


@dataclass(frozen=True)
class Instance:
    name: str
    pnode: str
    snodes: tuple
    disk_template: str
    running: bool
    # Whether Ganeti is told to keep it running (admin_state "up"): a failover starts it then.
    admin_up: bool = True
    # be/minmem and be/maxmem in MiB (None: Ganeti could not fill its backend parameters).
    min_memory: int | None = None
    max_memory: int | None = None
    # Read by instance_move_list_args() only: oper_ram (MiB the running guest has now,
    # as its hypervisor reports; None when it does not run), tags, and
    # be/always_failover (Ganeti then fails it over whenever asked to migrate it).
    memory: int | None = None
    tags: tuple = ()
    always_failover: bool = False


def parse_instance_list(text):
    """Instances from ``gnt-instance list`` run with instance_list_args(). oper_state is
    "Y" only when the primary's noded answered that it runs there; "?" when Ganeti
    could not ask (the node offline or not answering; Query/Instance.hs, operStatusExtract)."""
    command = "gnt-instance list"
    return [
        Instance(
            name,
            pnode,
            _word_list(snodes),
            template,
            running == "Y",
            admin == "up",
            _mebibytes(minmem, f"the minmem of {name}", command),
            _mebibytes(maxmem, f"the maxmem of {name}", command),
        )
        for name, pnode, snodes, template, running, admin, minmem, maxmem in _rows(text, INSTANCE_FIELDS, command)
    ]


# What a move off a node needs besides: the memory Ganeti weighs for a live migration
# (oper_ram, the memory the running guest has), the tags a roll marks, and whether
# Ganeti turns a migration into a failover. tags print comma-joined (gnt-instance
# list's format override); a tag has no comma.
INSTANCE_MOVE_FIELDS = (*INSTANCE_FIELDS, "oper_ram", "tags", "be/always_failover")


def parse_instance_moves(text):
    """Instances from ``gnt-instance list`` run with instance_move_list_args()."""
    command = "gnt-instance list"
    return [
        Instance(
            name,
            pnode,
            _word_list(snodes),
            template,
            running == "Y",
            admin == "up",
            _mebibytes(minmem, f"the minmem of {name}", command),
            _mebibytes(maxmem, f"the maxmem of {name}", command),
            _mebibytes(ram, f"the memory {name} runs with", command),
            _word_list(tags),
            always_failover == "Y",
        )
        for name, pnode, snodes, template, running, admin, minmem, maxmem, ram, tags, always_failover in _rows(
            text, INSTANCE_MOVE_FIELDS, command
        )
    ]


# Ganeti's tag rule (objects.TaggableObject.ValidateTag, constants.MAX_TAG_LEN).
TAG_PATTERN = re.compile(r"^[\w.+*/:@-]+$")
# A line of `gnt-cluster verify --error-codes` (cmdlib/cluster/verify.py, _ErrorMsgList):
# "  - LEVEL:CODE:KIND:ITEM:MESSAGE", the first of a list after the job's timestamp.
VERIFY_LINE = re.compile(r"(?:^|\s)- (ERROR|WARNING):([A-Z0-9_]+):([a-z]+):([^:]*):(.*)$")
VERIFY_JOBS_FAILED = re.compile(r"^(\d+) job\(s\) failed while verifying the cluster", re.MULTILINE)


@dataclass(frozen=True)
class VerifyFinding:
    """One error or warning of `gnt-cluster verify`, about a node, an instance, the cluster..."""

    level: str
    code: str
    kind: str
    item: str
    message: str

    def as_dict(self):
        return {"level": self.level, "code": self.code, "kind": self.kind, "item": self.item, "message": self.message}


def parse_verify(text):
    """(findings, jobs that failed) from `gnt-cluster verify --error-codes`."""
    findings = [
        VerifyFinding(*(part.strip() for part in match.groups()))
        for match in (VERIFY_LINE.search(line) for line in text.splitlines())
        if match
    ]
    failed = VERIFY_JOBS_FAILED.search(text)
    return findings, int(failed.group(1)) if failed else 0


def cluster_verify_args():
    return ["gnt-cluster", "verify", "--error-codes"]


MAX_TAG_LENGTH = 128


def tag_problem(tag):
    """Why Ganeti would refuse `tag`, or None."""
    if not tag:
        return "a tag cannot be empty"
    if len(tag) > MAX_TAG_LENGTH:
        return f"tag {tag!r} is longer than Ganeti's {MAX_TAG_LENGTH} characters"
    if not TAG_PATTERN.match(tag):
        return f"tag {tag!r} has characters Ganeti does not allow in a tag (letters, digits and _.+*/:@- only)"
    return None


def parse_tags(text):
    """Tags from ``gnt-node list-tags``: one a line."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


# A job's states (constants.JOB_STATUS_*, as gnt-job list prints them): these three end it.
JOB_ENDED = frozenset(["success", "error", "canceled"])
# A job's status is one query to the master's queue: polled often at first (a live
# migration of a small VM ends in a few seconds), then every 2 s, so that a run goes on
# within 2 s of the job's end (it was up to 10 s: bench/rolling.py).
JOB_POLL_SECONDS = (0.25, 2.0)


def parse_job_id(text):
    """The job id a command run with submitted() printed (--print-jobid: the first line)."""
    first = text.strip().splitlines()[:1]
    if not first or not first[0].strip().isdigit():
        raise ValueError(f"Ganeti printed {text.strip()[:80]!r}, not the id of the job it submitted")
    return int(first[0].strip())


def parse_job_status(text, job_id):
    """The status of job `job_id` from ``gnt-job list`` run with job_status_args()."""
    for job, status in _rows(text, ("id", "status"), "gnt-job list"):
        if job == str(job_id):
            return status
    raise ValueError(f"gnt-job list does not list job {job_id}")


# Opcodes (as a job's summary names them: Ganeti's OP_ID without "OP_") that put an
# instance on a node or take it off one, its primary or its secondary. A summary names
# the instance (or nothing), never the node it goes to, so a plan waits for each of these
# wherever it runs.
PLACING_OPS = frozenset(
    [
        "INSTANCE_CREATE",
        "INSTANCE_MULTI_ALLOC",
        "INSTANCE_MIGRATE",
        "INSTANCE_FAILOVER",
        "INSTANCE_MOVE",
        "INSTANCE_REPLACE_DISKS",
        "INSTANCE_RECREATE_DISKS",
        "INSTANCE_SET_PARAMS",
        "INSTANCE_CHANGE_GROUP",
        "NODE_MIGRATE",
        "NODE_EVACUATE",
        "GROUP_EVACUATE",
    ]
)
# One op of a job's summary (opcodes.OpCode.Summary): OP_ID[3:], then its subject in
# parentheses when the opcode has one; the job's ops are joined by commas.
SUMMARY_OP = re.compile(r"([A-Z][A-Z0-9_]*)(?:\(([^()]*)\))?")


@dataclass(frozen=True)
class Job:
    """A job of Ganeti's queue: its id, status, summary as Ganeti printed it, and its ops
    read from it, each (OP, subject or "")."""

    id: int
    status: str
    summary: str
    ops: tuple

    def places_instances(self):
        return any(op in PLACING_OPS for op, _subject in self.ops)

    def names_any(self, names):
        """Whether an op's subject designates one of `names` as Ganeti expands a name it is
        given (the whole name, or its first labels: utils.MatchNameComponent)."""
        wanted = [n.lower() for n in names]
        return any(
            given == name or name.startswith(given + ".")
            for _op, subject in self.ops
            for given in [subject.strip().lower()]
            if given
            for name in wanted
        )

    def as_dict(self):
        return {"id": self.id, "status": self.status, "summary": self.summary}


def parse_jobs(text):
    """Jobs from ``gnt-job list`` run with unfinished_jobs_args(). The summary comes last
    and is split off whole: its subjects are names, which hold no separator."""
    jobs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("|", 2)]
        if len(fields) != 3 or not fields[0].isdigit():
            raise ValueError(f"gnt-job list printed {line!r}, not a job's id, status and summary")
        job_id, status, summary = fields
        jobs.append(Job(int(job_id), status, summary, tuple(SUMMARY_OP.findall(summary))))
    return jobs


@dataclass(frozen=True)
class Placement:
    """Where an instance is, from Ganeti's configuration alone (no RPC): instance_place_args()."""

    name: str
    pnode: str
    snodes: tuple
    tags: tuple


def parse_placements(text):
    return [
        Placement(name, pnode, _word_list(snodes), _word_list(tags))
        for name, pnode, snodes, tags in _rows(text, ("name", "pnode", "snodes", "tags"), "gnt-instance list")
    ]


class JobsUnfinished(GanetiError):
    """Jobs a plan must wait for have not ended in time: `waited`, every one waited for."""

    def __init__(self, message, waited, argv=None):
        super().__init__(message, argv)
        self.waited = waited


# -- command builders ----------------------------------------------------------


def group_list_args():
    # The uuid, and the policy's numbers and template names, cannot hold the separator; the
    # disk parameters, last, may (a volume or a DRBD option's string).
    return ["gnt-group", "list", "--no-headers", "--separator=|", "-o", "uuid,custom_ipolicy,custom_diskparams"]


def node_group_uuids(ssconf_text):
    """Node group UUID -> name, from ssconf's nodegroups file ("UUID NAME" lines)."""
    pairs = (line.split(None, 1) for line in (ssconf_text or "").splitlines())
    return {pair[0]: pair[1].strip() for pair in pairs if len(pair) == 2}


def parse_group_overrides(text, names=None):
    """What node groups set of their own for the gluster template, from group_list_args'
    output and `names` (UUID -> name; a group not named is called by its UUID):
    ({group: {"gluster": its gluster disk parameters, "disk_templates": the disk templates
    its instance policy allows, or None}}, [rows that could not be read]). Groups that set
    neither are left out. gnt-group prints these fields as Python literals.
    """
    overrides, unread = {}, []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("|", 2)
        try:
            ipolicy, diskparams = map(ast.literal_eval, fields[1:])  # a row short of a field fails to unpack
        except (ValueError, SyntaxError):
            ipolicy = diskparams = None
        if not isinstance(diskparams, dict) or not isinstance(ipolicy, dict):
            unread.append(line)
            continue
        gluster = {str(k): str(v) for k, v in (diskparams.get(GLUSTER) or {}).items()}
        templates = ipolicy.get("disk-templates")
        if gluster or templates is not None:
            name = (names or {}).get(fields[0], fields[0])
            overrides[name] = {"gluster": gluster, "disk_templates": None if templates is None else list(templates)}
    return overrides, unread


def group_departures(found, params):
    """What a group (an entry of parse_group_overrides) sets that keeps its instances off the
    gluster disk parameters `params` or off the gluster template: (its differing parameters,
    whether its disk templates leave gluster out)."""
    differ = {k: v for k, v in sorted(found["gluster"].items()) if k in params and v != params[k]}
    templates = found["disk_templates"]
    return differ, templates is not None and GLUSTER not in templates


def group_follow_args(group, found, params):
    """The `gnt-group modify` that makes `group` follow the cluster's gluster disk parameters
    `params` (the wanted ones) and its disk templates, or None when it does already. Ganeti
    3.0 refuses to unset a group's access (it checks the value before it takes "default" as
    unset): that one is set to the cluster's instead."""
    differ, no_gluster = group_departures(found, params)
    args = []
    if differ:
        settings = ",".join(f"{k}={params[k] if k == 'access' else 'default'}" for k in differ)
        args += ["-D", f"{GLUSTER}:{settings}"]
    if no_gluster:
        args.append("--ipolicy-disk-templates=default")
    return ["gnt-group", "modify", *args, group] if args else None


def group_override_warnings(overrides, params):
    """Words for each group whose own settings keep its instances off the gluster disk
    parameters `params` (the cluster's, as wanted) or off the gluster template."""
    warnings = []
    for group, found in sorted(overrides.items()):
        differ, no_gluster = group_departures(found, params)
        what = [f"the gluster disk parameters {','.join(f'{k}={v}' for k, v in differ.items())}"] if differ else []
        if no_gluster:
            what.append(f"an instance policy that allows the disk templates {','.join(found['disk_templates'])} only")
        if what:
            warnings.append(
                f"node group {group} has {' and '.join(what)} of its own: its instances follow the group, not the "
                f"cluster's gluster settings; {shlex.join(group_follow_args(group, found, params))} makes it "
                "follow the cluster"
            )
    return warnings


def node_list_args():
    return ["gnt-node", "list", "--no-headers", "--separator=|", "--output=" + ",".join(NODE_FIELDS)]


def node_state_args():
    return ["gnt-node", "list", "--no-headers", "--separator=|", "--units=m", "--output=" + ",".join(NODE_STATE_FIELDS)]


def cluster_modify_args(enabled_disk_templates=None, ipolicy_disk_templates=None, gluster_params=None):
    """``gnt-cluster modify`` for what differs (None: leave it)."""
    args = ["gnt-cluster", "modify"]
    if enabled_disk_templates is not None:
        args.append("--enabled-disk-templates=" + ",".join(enabled_disk_templates))
    if ipolicy_disk_templates is not None:
        args.append("--ipolicy-disk-templates=" + ",".join(ipolicy_disk_templates))
    if gluster_params:
        args += ["-D", f"{GLUSTER}:" + ",".join(f"{k}={v}" for k, v in gluster_params.items())]
    return args


def instance_list_args(fields=INSTANCE_FIELDS):
    return [
        "gnt-instance",
        "list",
        "--no-headers",
        "--separator=|",
        "--units=m",
        "--output=" + ",".join(fields),
    ]


def failover_args(instance, target):
    return ["gnt-instance", "failover", "--force", f"--target-node={target}", instance]


def instance_move_list_args():
    return instance_list_args(INSTANCE_MOVE_FIELDS)


def migrate_args(instance, target):
    """Live-migrate `instance` to `target`. --no-runtime-changes: Ganeti shrinks a guest
    whose memory the target cannot hold (TLMigrateInstance._ExecMigration balloons it
    down) unless told not to; a migration then fails instead."""
    return ["gnt-instance", "migrate", "--force", "--no-runtime-changes", f"--target-node={target}", instance]


def submitted(args):
    """`args` (a command whose last word is its object) sent to Ganeti's queue as a job,
    its id printed, without waiting for it (--submit --print-jobid)."""
    return [*args[:-1], "--submit", "--print-jobid", args[-1]]


# A job named by its id is listed even once archived (measured on Ganeti 3.0: after
# gnt-job archive, gnt-job list ID prints its status); an unknown id prints "-".
def job_status_args(job_id):
    return ["gnt-job", "list", "--no-headers", "--separator=|", "--output=id,status", str(job_id)]


# The states of a job that has not ended (constants.JOBS_PENDING and running), as a
# query filter: gnt-job's own --pending and --running options exclude each other.
UNFINISHED_JOBS_FILTER = " or ".join(f'status == "{s}"' for s in ("queued", "waiting", "running", "canceling"))


def unfinished_jobs_args():
    return [
        "gnt-job",
        "list",
        "--no-headers",
        "--separator=|",
        "--output=id,status,summary",
        "--filter",
        UNFINISHED_JOBS_FILTER,
    ]


def instance_place_args():
    """Where each instance is: fields of Ganeti's configuration, so no node is asked."""
    return ["gnt-instance", "list", "--no-headers", "--separator=|", "--output=name,pnode,snodes,tags"]


def job_wait_args(job_id):
    """Wait for a job to end; its exit code and stderr say how it ended (Ganeti's error)."""
    return ["gnt-job", "wait", str(job_id)]


def node_drained_args(name, drained):
    """Set a node's drained flag. Draining demotes a master candidate; --auto-promote lets
    Ganeti promote another when the pool would be short (LUNodeSetParams.CheckPrereq)."""
    if drained:
        return ["gnt-node", "modify", "--drained=yes", "--auto-promote", name]
    return ["gnt-node", "modify", "--drained=no", name]


def node_tags_args(name):
    return ["gnt-node", "list-tags", name]


def add_tags_args(kind, name, tags):
    """``gnt-node add-tags`` or ``gnt-instance add-tags`` (kind "node" or "instance")."""
    return [f"gnt-{kind}", "add-tags", name, *tags]


def remove_tags_args(kind, name, tags):
    return [f"gnt-{kind}", "remove-tags", name, *tags]


def node_remove_args(name):
    return ["gnt-node", "remove", name]


def node_offline_args(name):
    """Mark a dead node offline: Ganeti stops sending it RPCs (a failover off it then
    neither waits for it nor needs --ignore-consistency). --auto-promote: a master
    candidate's place is taken by another node."""
    return ["gnt-node", "modify", "--offline=yes", "--auto-promote", name]


def redist_conf_args():
    return ["gnt-cluster", "redist-conf"]


def ssh_name(name):
    """The name Ganeti's ssh uses for a node given as `name` (netutils.GetHostname):
    the FQDN as this host resolves it, lower case; its known_hosts entry is looked up by it."""
    return normalized(socket.getfqdn(name))


# Marks the lines this collection puts into Ganeti's known_hosts for an add, so that
# a run that was interrupted before it took them out leaves nothing the next cannot find.
KNOWN_HOSTS_TAG = "ganeti-gluster-node-add"


def known_hosts_lines(name, public_keys):
    """Tagged known_hosts lines for `name` from ssh_host_*_key.pub contents ("TYPE BASE64 [comment]")."""
    lines = []
    for key in public_keys:
        fields = key.split()
        if len(fields) < 2 or not fields[0].startswith(("ssh-", "ecdsa-", "sk-")):
            raise ValueError(f"not an SSH public key: {key.strip()[:60]!r}")
        lines.append(f"{name} {fields[0]} {fields[1]} {KNOWN_HOSTS_TAG}")
    return list(dict.fromkeys(lines))


def tagged_lines(text):
    """The lines of `text` an add put there and did not take out."""
    return [line for line in text.splitlines() if line.split()[-1:] == [KNOWN_HOSTS_TAG]]


def with_lines(text, lines):
    """`text` with those of `lines` it lacks appended; and the lines appended."""
    present = set(text.splitlines())
    added = [line for line in dict.fromkeys(lines) if line not in present]
    if not added:
        return text, []
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(line + "\n" for line in added), added


def without_lines(text, lines):
    """`text` without exactly those lines (anything Ganeti wrote meanwhile stays)."""
    drop = set(lines)
    return "".join(line for line in text.splitlines(keepends=True) if line.rstrip("\n") not in drop)


def node_add_args(name, ssh_key_check=True, secondary_ip=None, group=None):
    args = ["gnt-node", "add"]
    if not ssh_key_check:
        args.append("--no-ssh-key-check")
    if secondary_ip:
        args += ["--secondary-ip", secondary_ip]
    if group:
        args += ["--node-group", group]
    return [*args, name]


def node_group_names(ssconf_text):
    """The node groups' names from ssconf's nodegroups file ("UUID NAME" lines)."""
    return [
        line.split(None, 1)[1].strip() for line in (ssconf_text or "").splitlines() if len(line.split(None, 1)) == 2
    ]


# -- whether a node answers ------------------------------------------------------

NODED_SERVICE = "ganeti-noded"
NODED_DEFAULT_PORT = 1811
# Seconds; Ganeti's own RPC connect timeout (RPC_CONNECT_TIMEOUT).
CONNECT_TIMEOUT = 5


def noded_port():
    """ganeti-noded's TCP port, found as Ganeti finds it (netutils.GetDaemonPort):
    /etc/services, else 1811."""
    try:
        return socket.getservbyname(NODED_SERVICE, "tcp")
    except OSError:
        return NODED_DEFAULT_PORT


def tcp_answer(address, port, timeout=CONNECT_TIMEOUT):
    """How `address` answers a TCP connection to `port` from this host: "accepted"
    (something listens), "refused" (its kernel answered with a reset: the host is up),
    or None (no answer within `timeout`, or no route to it)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "accepted"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return None


# -- this host's place in the cluster -------------------------------------------


def read_ssconf(key, ssconf_dir=SSCONF_DIR):
    """An ssconf value (None when the file is missing: no cluster on this host)."""
    try:
        with open(os.path.join(ssconf_dir, f"ssconf_{key}")) as handle:
            return handle.read().strip()
    except FileNotFoundError:
        return None


def check_master(ssconf_dir=SSCONF_DIR, is_me=is_this_host):
    """Raise GanetiError unless this host is the master of an initialised cluster
    (the master's name is this host's, or resolves to one of its addresses)."""
    master = read_ssconf("master_node", ssconf_dir)
    if master is None:
        raise GanetiError(
            "no Ganeti cluster on this host (no ssconf_master_node in "
            f"{ssconf_dir}); initialise one with gnt-cluster init, or run this on the master"
        )
    if not is_me(master):
        raise GanetiError(f"this host ({socket.getfqdn()}) is not the Ganeti master; the master is {master}: run there")
    return master


class GanetiCli:
    """Runs Ganeti commands for a module: argv lists, C locale, typed errors."""

    def __init__(self, module):
        self.module = module
        self.bins = {}

    def argv(self, args):
        tool, rest = args[0], list(args[1:])
        if tool not in self.bins:
            self.bins[tool] = self.module.get_bin_path(tool, required=True)
        return [self.bins[tool]] + [str(a) for a in rest]

    def run(self, args, data=None):
        argv = self.argv(args)
        rc, out, err = self.module.run_command(argv, check_rc=False, environ_update=C_LOCALE, data=data)
        if rc != 0:
            detail = (err.strip() or out.strip() or "no output").splitlines()[-1]
            raise GanetiError(f"{' '.join(args[:2])} failed (exit {rc}): {detail}", argv, rc, out, err)
        return out

    def cluster_config(self):
        from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

        if not HAS_YAML:
            raise GanetiError("reading gnt-cluster info needs PyYAML on this host (Debian: python3-yaml)")
        out = self.run(["gnt-cluster", "info"])
        try:
            return parse_cluster_info(yaml_load(out))
        except Exception as exc:  # the YAML library's own errors vary by version
            raise GanetiError(f"gnt-cluster info printed what this module cannot read: {exc}", stdout=out) from None

    def _listed(self, args, parse):
        """A `gnt-* list` run and parsed; rows it cannot read are a GanetiError."""
        out = self.run(args)
        try:
            return parse(out)
        except ValueError as exc:
            raise GanetiError(str(exc), stdout=out) from None

    def instances(self):
        return self._listed(instance_list_args(), parse_instance_list)

    def nodes(self):
        return self._listed(node_list_args(), parse_node_list)

    def group_overrides(self):
        """parse_group_overrides of gnt-group list, the groups named as ssconf names them."""
        names = node_group_uuids(read_ssconf("nodegroups"))
        return parse_group_overrides(self.run(group_list_args()), names)

    def verify(self):
        """(findings, failed jobs) of `gnt-cluster verify`, which exits 1 when it found an error."""
        args = cluster_verify_args()
        argv = self.argv(args)
        rc, out, err = self.module.run_command(argv, check_rc=False, environ_update=C_LOCALE)
        findings, failed_jobs = parse_verify(out)
        # Exit 1 is explained by an error found or a job failed; warnings alone do not fail it.
        if rc != 0 and not failed_jobs and not any(f.level == "ERROR" for f in findings):
            detail = (err.strip() or out.strip() or "no output").splitlines()[-1]
            raise GanetiError(f"gnt-cluster verify failed (exit {rc}): {detail}", argv, rc, out, err)
        return findings, failed_jobs

    def node_states(self):
        return self._listed(node_state_args(), parse_node_states)

    def instance_moves(self):
        return self._listed(instance_move_list_args(), parse_instance_moves)

    def node_tags(self, name):
        return self._listed(node_tags_args(name), parse_tags)

    def wait_for_jobs(self, nodes, budget, homes=(), clock=None, sleep=None):
        """Wait up to `budget` seconds until Ganeti's queue holds no unfinished job that
        places instances (PLACING_OPS, on any node) or names one of `nodes` or an instance on
        them (primary or secondary, or tagged with one of `homes`): a move left running by a
        run whose own wait ran out, or an admin's. A plan read before they end would move
        again what they move. The queue is listed again until none is left, since a
        node's migration or evacuation ends by submitting a job per instance. Returns the
        jobs waited for, each as first found (none: nothing needs reading again); raises
        JobsUnfinished naming those left when the time is up."""
        clock, sleep = clock or time.monotonic, sleep or time.sleep
        pauses = backoff(*JOB_POLL_SECONDS)
        waited, names, deadline = {}, None, None
        while True:
            jobs = self._listed(unfinished_jobs_args(), parse_jobs)
            if names is None and any(not job.places_instances() for job in jobs):
                # Read once: the jobs that move instances are waited for whatever they name, and
                # the plan reads everything again after any wait.
                names = list(nodes) + [
                    p.name
                    for p in self._listed(instance_place_args(), parse_placements)
                    if p.pnode in nodes or set(p.snodes) & set(nodes) or set(p.tags) & set(homes)
                ]
            left = [job for job in jobs if job.places_instances() or job.names_any(names or nodes)]
            for job in left:
                waited.setdefault(job.id, job)
            if not left:
                return list(waited.values())
            now = clock()
            deadline = now + budget if deadline is None else deadline
            if now >= deadline:
                raise JobsUnfinished(
                    f"Ganeti jobs that move instances or touch {', '.join(nodes)} have not ended after {budget} s: "
                    + "; ".join(f"job {job.id} {job.summary} ({job.status})" for job in left)
                    + "; a plan made now would move again what they move. Follow them with gnt-job watch "
                    f"{left[0].id}, then run again (or give them longer: lock_wait). Nothing was changed.",
                    list(waited.values()),
                    self.argv(unfinished_jobs_args()),
                )
            sleep(min(next(pauses), deadline - now))
