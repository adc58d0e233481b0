#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ganeti_node
short_description: Add hosts to a Ganeti cluster as nodes, or remove them
version_added: "0.1.0"
description:
  - Runs on the master. Reads the cluster's nodes and runs C(gnt-node add) for each name in
    O(nodes) that is not one of them yet, in order.
  - Ganeti connects to a new node as root with the master's SSH key, so that key must already be in
    the new node's C(/root/.ssh/authorized_keys).
  - C(gnt-node add) runs the cluster's node-add hooks; the hook of the role
    C(ganeti_gluster_disk) joins the node to the Gluster pool unless told that a playbook does.
  - With O(state=absent), removes the named nodes that are nodes (C(gnt-node remove)). A node that is the
    primary of instances is refused, unless O(evacuate). Then each of its instances on shared storage
    (gluster, rbd, sharedfile, ext, blockdev, diskless) fails over to another node and must be there,
    running as before, before any node is removed. The master, an instance with a secondary on a leaving
    node, and one on a node's local storage are refused before any change.
  - A failover's target must be online, not drained, vm_capable, and its ganeti-noded must answer the
    master (C(gnt-node list) fields C(offline), C(drained), C(vm_capable), C(bootid)). An instance whose
    admin state is up is started there, and Ganeti first checks that the target has the instance's
    C(be/minmem) free (C(mfree); TLMigrateInstance.CheckPrereq), then starts it with up to its
    C(be/maxmem), all of which the guest may use. So, before the first change, the module places every
    instance to move so that each target's free memory covers what O(failover_memory) says of all those it
    receives (largest first, each onto the target with the most memory left, or packed tighter when that
    leaves one out) and refuses, saying what is short, when they do not fit.
  - With O(dead), the nodes are dead (C(replace-node.yml)). First, before any change, the module looks for
    these signs of life and refuses the node on any one. Its ganeti-noded answers the master (luxid fills
    the live field C(bootid) only from the node's answer; a node that does not answer shows C(?), an
    offline one C(*)); Ganeti reports an instance running there (C(oper_state) V(Y)); or its primary or
    secondary address answers the master on ganeti-noded's port (a listener accepts the connection, or the
    host's kernel refuses it). The refusal says what was seen and asks the operator to check the host's
    power and its out-of-band console (IPMI, iLO, iDRAC) and to power it off there before running again.
    The playbook's SSH check (running C(glusterfsd), C(ganeti-noded), C(qemu-system-*), C(kvm)) covers a
    host that answers SSH.
  - A node already marked offline (by an interrupted run, or by the admin) is no longer asked by Ganeti, so
    its C(bootid) proves nothing; the module does not take the offline mark as proof and checks the port
    on its addresses again on every run.
  - Then each dead node is marked offline (C(gnt-node modify --offline=yes --auto-promote)), so that Ganeti
    sends it nothing more and a failover off it neither waits for it nor needs C(--ignore-consistency); its
    instances then fail over (with O(evacuate), the operator's word that the host is down) and must run on
    their new node as their admin state says, and the node is removed. A cut management network is not a
    power cut, and none of these checks sees a host it cannot reach; an instance still running there would
    share its disks with its failed-over self.
  - With O(state=absent), the module reads, plans and acts under a lock on the master (O(lock_wait)), in check
    mode too, since the module of a run whose controller was killed goes on to its end there, and a re-run
    waits for it. Holding it, the module waits for the Ganeti jobs that move instances, or touch a leaving
    node or an instance on it, before it reads the rest.
options:
  nodes:
    description: Names of the hosts that shall be nodes, as Ganeti knows them (resolvable names).
    type: list
    elements: str
    required: true
  state:
    description: V(present) adds the missing nodes; V(absent) removes the named nodes that are nodes.
    type: str
    choices: [present, absent]
    default: present
  ssh_key_check:
    description:
      - Verify the new node's SSH host key against Ganeti's known hosts. V(false) passes
        C(--no-ssh-key-check), which an operator may choose but which trusts whatever answers.
    type: bool
    default: true
  host_keys:
    description:
      - Public SSH host keys of the nodes to add, by the name given in O(nodes), each the content
        of one C(/etc/ssh/ssh_host_*_key.pub), read over a connection already verified (Ansible's own).
      - C(gnt-node add) checks a new node's host key against O(known_hosts) only, and without a
        terminal it cannot ask. For the duration of each add, the module puts that node's keys
        there under the name Ganeti connects to (the node's FQDN as the master resolves it);
        afterwards it takes exactly those lines out again and, because C(gnt-node add) copies
        that file to every node, runs C(gnt-cluster redist-conf) so that Ganeti's copies are as
        Ganeti keeps them (C(gnt-node add) gives the new node the cluster's own host key).
      - Nodes without keys here need their key in O(known_hosts) already.
    type: dict
    default: {}
  join_marker_dir:
    version_added: 0.2.0
    description:
      - Where the role's node-add hook looks for markers (C(ganeti_gluster_disk_hook_data_dir)/joining). For the
        duration of each add, the module leaves there a file named as the node, naming this module's process; the
        hook that this add fires finds it and leaves the join to the caller. Once this process has ended (a
        controller that died mid-run), the hook takes the marker as stale and joins the node itself.
    type: path
  secondary_ips:
    version_added: 0.2.0
    description:
      - The secondary IP of each node to add, by the name given in O(nodes) (C(gnt-node add --secondary-ip)).
        Ganeti wants one when the master has a secondary IP of its own, and none when it has not.
    type: dict
    default: {}
  groups:
    version_added: 0.2.0
    description:
      - The node group of each node to add, by the name given in O(nodes) (C(gnt-node add --node-group)).
        Ganeti wants one when the cluster has more than one node group.
    type: dict
    default: {}
  evacuate:
    description: With O(state=absent), fail the leaving nodes' shared-storage instances over to other nodes first.
    type: bool
    default: false
  dead:
    description:
      - With O(state=absent), the nodes are dead; check that they show no sign of life, then mark them
        offline first (see above).
    type: bool
    default: false
  node_expected:
    version_added: 0.2.0
    description:
      - With O(state=absent) and O(dead), O(nodes) are the names of one host that the inventory declares a
        Ganeti node. When none of them names a node, the host was removed before, or Ganeti knows it by
        another name and address; a dead node does not answer the master, so when any node does not answer
        (offline, or no C(bootid)) and none of O(other_hosts) names it, the module refuses, naming those
        nodes, rather than leave the dead node in Ganeti unseen.
    type: bool
    default: false
  other_hosts:
    version_added: 0.2.0
    description:
      - With O(node_expected), the names and addresses of the inventory's other Ganeti hosts; a node that
        does not answer and that one of them names is theirs (a node kept offline, another dead host).
    type: list
    elements: str
    default: []
  failover_memory:
    version_added: 0.2.0
    description:
      - What a failover that starts an instance must find free on its new node, summed over the instances
        each node receives.
      - V(maxmem), the memory the guest may use; Ganeti starts it with up to that much (a KVM guest takes its
        memory as it touches it, so a node's free memory does not yet show what guests just started there
        will take).
      - V(minmem), only what Ganeti itself checks; for guests that give memory back (a balloon driver), when
        the nodes cannot hold every guest at its maxmem.
    type: str
    choices: [maxmem, minmem]
    default: maxmem
  known_hosts:
    description: Ganeti's known hosts file (C(GlobalKnownHostsFile) of its ssh).
    type: path
    default: /var/lib/ganeti/known_hosts
extends_documentation_fragment:
  - ganeti_gluster.cluster.attributes.ACTION_MODULE
  - ganeti_gluster.cluster.ganeti_lock
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Read node4's host key over Ansible's connection
  ansible.builtin.slurp:
    path: /etc/ssh/ssh_host_ed25519_key.pub
  register: node4_key
  delegate_to: node4.example.net

- name: Make node4 a Ganeti node
  ganeti_gluster.cluster.ganeti_node:
    nodes: [node4.example.net]
    host_keys:
      node4.example.net: ["{{ node4_key.content | b64decode }}"]
  delegate_to: "{{ groups['ganeti_master'][0] }}"
  run_once: true
"""

RETURN = r"""
added:
  description: The nodes this run added (or would add, in check mode).
  returned: always
  type: list
  elements: str
  sample:
    - node4
commands:
  description: The Ganeti commands run, or in check mode those that would run, as argv lists.
  returned: always
  type: list
  elements: list
  sample:
    - - /usr/sbin/gnt-node
      - add
      - node4
known_hosts_lines:
  description: The lines put into O(known_hosts) for the adds (and taken out again).
  returned: always
  type: list
  elements: str
  sample:
    - node4 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB ganeti-gluster-node-add
removed:
  description: With O(state=absent), the nodes removed (or that would be).
  returned: when state is absent
  type: list
  elements: str
  sample:
    - node3
failed_over:
  description: With O(state=absent), each instance failed over (C(instance), C(from), C(to)).
  returned: when state is absent
  type: list
  elements: dict
  sample:
    - instance: inst2
      from: node3
      to: node1
offlined:
  description: With O(dead), the nodes marked offline (or that would be).
  returned: when state is absent
  type: list
  elements: str
  sample:
    - node3
lock_waited:
  description: With O(state=absent), seconds the module waited for the lock (see O(lock_wait)).
  returned: when state is absent
  type: float
  sample: 0.0
jobs_waited:
  description:
    - With O(state=absent), the Ganeti jobs the module waited for before it read the rest (see O(lock_wait)),
      each as it was first found unfinished.
  returned: when state is absent
  type: list
  elements: dict
  sample:
    - id: 212
      status: running
      summary: INSTANCE_FAILOVER(inst2)
dead_checks:
  description: With O(dead), what the module saw of each dead node (signs of life first), by node name.
  returned: when state is absent
  type: dict
  sample: {"node3": ["its ganeti-noded does not answer the master", "10.77.0.13 does not answer on port 1811"]}
nodes:
  description: The cluster's nodes after the run (see M(ganeti_gluster.cluster.ganeti_cluster_info)).
  returned: success
  type: list
  elements: dict
  sample:
    - name: node1
      master_candidate: true
      offline: false
      master: true
      pip: 10.77.0.11
      sip: 10.77.0.11
      vm_capable: true
    - name: node2
      master_candidate: true
      offline: false
      master: false
      pip: 10.77.0.12
      sip: 10.77.0.12
      vm_capable: true
"""

import contextlib
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.files import read_text, replace_file, texts_of
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    SHARED_DISK_TEMPLATES,
    GanetiCli,
    GanetiError,
    JobsUnfinished,
    check_master,
    failover_args,
    known_hosts_lines,
    name_identity,
    node_add_args,
    node_offline_args,
    node_remove_args,
    noded_port,
    redist_conf_args,
    ssh_name,
    tagged_lines,
    tcp_answer,
    with_lines,
    without_lines,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_lock import LOCK_OPTIONS, ganeti_lock
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_placement import (
    failover_targets,
    place_instances,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hook_support import process_token
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import is_loopback, is_valid_host

# Read by the role's node-remove-pre hook (ganeti_gluster_remove.py, MARKER_DIR).
REMOVAL_MARKERS = "/var/lib/ganeti-gluster/removing"

# Ganeti's prepare-node-join gives the new node the cluster's (this master's) host
# keys of these types (SSH_DAEMON_KEYFILES); its later ssh to the node may see them.
MASTER_HOST_KEYS = ("/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/ssh_host_ecdsa_key.pub", "/etc/ssh/ssh_host_dsa_key.pub")


def master_host_keys():
    return texts_of(MASTER_HOST_KEYS)


def restore_known_hosts(module, cli, path, lines, result):
    """Take `lines` out of Ganeti's known_hosts and redistribute it: gnt-node add copies
    that file, our lines included, to every node."""
    replace_file(module, path, without_lines(read_text(path), lines))
    result["commands"].append(cli.argv(redist_conf_args()))
    cli.run(redist_conf_args())


def add_node(module, cli, name, keys, result):
    """gnt-node add NAME, with NAME's host keys known to Ganeti's ssh, and a marker naming
    this process in O(join_marker_dir), for its duration."""
    marker = os.path.join(module.params["join_marker_dir"], name) if module.params["join_marker_dir"] else None
    if marker is None or module.check_mode:
        return _add_node(module, cli, name, keys, result)
    os.makedirs(module.params["join_marker_dir"], mode=0o700, exist_ok=True)
    replace_file(module, marker, process_token() + "\n", mode=0o600)
    try:
        return _add_node(module, cli, name, keys, result)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(marker)


def _add_node(module, cli, name, keys, result):
    args = node_add_args(
        name,
        module.params["ssh_key_check"],
        secondary_ip=module.params["secondary_ips"].get(name),
        group=module.params["groups"].get(name),
    )
    result["commands"].append(cli.argv(args))
    path = module.params["known_hosts"]
    lines = []
    if keys and module.params["ssh_key_check"]:
        lines = known_hosts_lines(ssh_name(name), list(keys) + master_host_keys())
    if module.check_mode:
        result["known_hosts_lines"] += lines
        return
    text, added = with_lines(read_text(path), lines)
    if added:
        replace_file(module, path, text)
        result["known_hosts_lines"] += added
    try:
        cli.run(args)
    except GanetiError as exc:
        exc.message += (
            f"; check that the master's root SSH key is in {name}:/root/.ssh/authorized_keys and that "
            f"{name} resolves to its primary address"
        )
        if added:
            try:
                restore_known_hosts(module, cli, path, added, result)
            except (GanetiError, OSError) as cleanup:
                exc.message += f"; and taking its host keys out of {path} failed too: {cleanup}"
        raise
    if added:
        restore_known_hosts(module, cli, path, added, result)


@contextlib.contextmanager
def removal_marker(name, directory=REMOVAL_MARKERS):
    """A marker the role's node-remove hook reads: remove-node.yml is removing `name`."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def proof_of_death(leaving, states, instances, answers, port):
    """(refusals, seen) for the `leaving` nodes, declared dead, before Ganeti is told
    so. Pure. `states`: NodeState by node name; `answers`: {node: {address: tcp_answer}};
    `seen`: {node: what was seen}, refusing or not.

    Any sign of life refuses the node: Ganeti's RPC to its ganeti-noded answered
    (luxid fills bootid only then); Ganeti reports an instance running there
    (oper_state); its primary or secondary address answers on ganeti-noded's port
    from the master (a listener accepts, or its kernel refuses: the host is up). A
    node already marked offline (an interrupted run, or the admin) is not asked by
    Ganeti any more: the port, on every address, is what still shows it down."""
    refusals, seen = [], {}
    for node in leaving:
        state = states.get(node.name)
        alive, quiet = [], []
        if state is not None and state.offline:
            quiet.append("marked offline: Ganeti no longer asks it")
        elif state is not None and state.boot_id is not None:
            alive.append(f"its ganeti-noded answers the master (boot id {state.boot_id})")
        else:
            quiet.append("its ganeti-noded does not answer the master")
        running = [i.name for i in instances if i.pnode == node.name and i.running]
        if running:
            alive.append(f"Ganeti reports {', '.join(running)} running there")
        for address, answer in answers.get(node.name, {}).items():
            if answer == "accepted":
                alive.append(f"{address} accepts connections on ganeti-noded's port {port}")
            elif answer == "refused":
                alive.append(f"{address} answers (port {port} refused the connection: the host is up)")
            else:
                quiet.append(f"{address} does not answer on port {port}")
        seen[node.name] = alive + quiet
        if alive:
            refusals.append(
                f"{node.name} is declared dead but is not: {'; '.join(alive)}. A cut management network is not a "
                "power cut, and an instance still running there would share its disks with its failed-over self: "
                "check the host's power and its out-of-band console (IPMI, iLO, iDRAC), power it off there and "
                "confirm that it stays off, then run again (a host that runs leaves with remove-node.yml; a new host "
                "that took one of its addresses must give it up until the dead node is removed)"
            )
    return refusals, seen


def remove_plan(leaving, instances, evacuate, dead=False, states=(), memory="maxmem"):
    """(failovers [(instance, from, to)], refusals) for removing the `leaving` nodes. Pure.

    A node with instances on it is refused unless evacuate; then only instances on
    shared storage (Ganeti's DTS_EXT_MIRROR: gluster, rbd, ...) move, by failover, to
    the other nodes that can take them (`states`, NodeState of every node: see
    failover_targets and place_instances). Instances with a secondary on a leaving node,
    and the master, are refused. `dead`: the leaving nodes are dead (the refusal names
    replace-node.yml's switch); `memory`: the failover_memory option."""
    names = {n.name for n in leaving}
    offline = {n.name for n in leaving if n.offline}
    refusals, moving = [], []
    for node in leaving:
        if node.master:
            refusals.append(f"{node.name} is the master; make another node master first (gnt-cluster master-failover)")
    for instance in instances:
        if names & set(instance.snodes):
            refusals.append(
                f"{instance.name} has its secondary on {', '.join(sorted(names & set(instance.snodes)))}: "
                "move it first (gnt-node evacuate)"
            )
        if instance.pnode not in names:
            continue
        if not evacuate and dead:
            refusals.append(
                f"{instance.pnode} is the primary node of {instance.name}: run with ganeti_failover_dead=true to "
                f"fail it over to another node, once you are sure {instance.pnode} is down (an instance still "
                "running there would share its disks with the failed-over one)"
            )
        elif not evacuate:
            refusals.append(
                f"{instance.pnode} is the primary node of {instance.name}: move it first, or run with "
                "ganeti_evacuate=true (it fails such instances over to other nodes)"
            )
        elif instance.disk_template not in SHARED_DISK_TEMPLATES:
            refusals.append(
                f"{instance.name} ({instance.disk_template}) cannot fail over off {instance.pnode}: its disks are "
                "not on shared storage; move it first (gnt-instance move, or export and import)"
            )
        elif not dead and instance.pnode in offline:
            # Ganeti neither shuts an instance down nor checks its disks on an offline
            # node: the failover would start a second copy if it still runs there.
            refusals.append(
                f"{instance.pnode} is marked offline in Ganeti, so a failover of {instance.name} would not stop it "
                f"there first: if {instance.pnode} is dead, replace it with replace-node.yml (which proves it "
                f"dead first); if it runs, mark it online (gnt-node modify -O no {instance.pnode}) and run again"
            )
        else:
            moving.append(instance)
    if not moving:
        return [], refusals
    if not dead:
        # A failover off a live node first shuts the instance down there, through its noded.
        by_name = {s.name: s for s in states}
        silent = sorted({i.pnode for i in moving if by_name.get(i.pnode) is None or by_name[i.pnode].boot_id is None})
        refusals += [
            f"{name}'s ganeti-noded does not answer the master, so a failover could not stop its instances there: "
            "start it (systemctl start ganeti), or, if the host is dead, replace it with replace-node.yml"
            for name in silent
        ]
    targets, excluded = failover_targets(states, names)
    if not targets:
        why = "; ".join(excluded) if excluded else "there is no other node"
        refusals.append(f"no node can take {', '.join(i.name for i in moving)}: {why}")
        return [], refusals
    placed, shortages = place_instances(moving, targets, memory)
    refusals += shortages
    return [(i, i.pnode, placed[i.name]) for i in moving if i.name in placed], refusals


def node_addresses(node):
    """The addresses the master reaches `node` by: its primary and, when it has its own, its
    secondary (a node cut off its management network may still answer on the other)."""
    return [a for a in dict.fromkeys([node.pip, node.sip]) if a]


def remove_nodes(module, cli, wanted, before, lock_waited):
    """state=absent: prove dead nodes dead and mark them offline, fail the leaving nodes'
    instances over where asked, check they run there, then gnt-node remove each; refuse
    before any change what cannot be done. `lock_waited`: seconds waited for the lock."""
    dead, evacuate = module.params["dead"], module.params["evacuate"]
    result = {
        "changed": False,
        "removed": [],
        "failed_over": [],
        "offlined": [],
        "commands": [],
        "dead_checks": {},
        "lock_waited": lock_waited,
        "jobs_waited": [],
    }
    leaving = [n for n in before if any(n.is_named(name) for name in wanted)]
    if leaving:
        try:
            waited = cli.wait_for_jobs([n.name for n in leaving], module.params["lock_wait"])
        except JobsUnfinished as exc:
            result["jobs_waited"] = [job.as_dict() for job in exc.waited]
            module.fail_json(**exc.fail_kwargs(), **result)
        except GanetiError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)
        result["jobs_waited"] = [job.as_dict() for job in waited]
        if waited:
            # They may have moved instances onto or off these nodes, or changed their flags.
            before = read_nodes(module, cli, result)
            leaving = [n for n in before if any(n.is_named(name) for name in wanted)]
    if dead and not leaving and module.params["node_expected"]:
        # Removed by an earlier run, or known to Ganeti by a name and address the inventory
        # does not give: a dead node does not answer the master, so any node that does not,
        # and that is none of the inventory's other hosts, may be it.
        # Each name resolved once, not once per node.
        others = [name_identity(name) for name in module.params["other_hosts"]]
        theirs = {n.name for n in before if any(n.is_named_by(other) for other in others)}
        try:
            silent = [s.name for s in cli.node_states() if (s.offline or s.boot_id is None) and s.name not in theirs]
        except GanetiError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)
        if silent:
            module.fail_json(
                msg=f"no Ganeti node is named {', '.join(wanted)} (by name, or an address such a name resolves to "
                f"on the master), and Ganeti has nodes that do not answer: {', '.join(silent)}. If one of them is "
                "that host, give its name as Ganeti knows it (ganeti_gluster_disk_node_name), then run again. "
                "Nothing was changed.",
                **result,
            )
    try:
        instances = cli.instances() if leaving else []
        states = cli.node_states() if leaving and (dead or evacuate) else []
        gluster_host = cli.cluster_config().gluster_params.get("host", "") if leaving else ""
    except GanetiError as exc:
        module.fail_json(**exc.fail_kwargs(), **result)
    # The name every node's client asks for the volume must still lead to a node that stays
    # (a name of several nodes, one of which stays, does; a server outside Ganeti is not ours to judge).
    serving = [n for n in leaving if gluster_host and not is_loopback(gluster_host) and n.is_named(gluster_host)]
    staying = [n for n in before if n not in leaving and n.is_named(gluster_host)] if serving else []
    refusals = [
        f"{n.name} is the Gluster server every node's client asks for the volume (gluster:host={gluster_host}): "
        "once it leaves, no instance can start, migrate or fail over. Name another first (gnt-cluster modify -D "
        "gluster:host=127.0.0.1 has each node ask its own glusterd; or a peer that stays), then run again"
        for n in ([] if staying else serving)
    ]
    if dead and leaving:
        port = noded_port()
        answers = {n.name: {a: tcp_answer(a, port) for a in node_addresses(n)} for n in leaving}
        dead_refusals, result["dead_checks"] = proof_of_death(
            leaving, {s.name: s for s in states}, instances, answers, port
        )
        refusals += dead_refusals
    failovers, plan_refusals = remove_plan(
        leaving, instances, evacuate, dead=dead, states=states, memory=module.params["failover_memory"]
    )
    refusals += plan_refusals
    if refusals:
        module.fail_json(
            msg="refusing to remove "
            + ", ".join(n.name for n in leaving)
            + ": "
            + "; ".join(refusals)
            + ". Nothing was changed.",
            **result,
        )
    offline = [n.name for n in leaving if dead and not n.offline]
    commands = [node_offline_args(name) for name in offline]
    commands += [failover_args(i.name, target) for i, _source, target in failovers]
    commands += [node_remove_args(n.name) for n in leaving]
    result["commands"] = [cli.argv(args) for args in commands]
    result["changed"] = bool(commands)
    if module.check_mode or not commands:
        moves = [{"instance": i.name, "from": source, "to": target} for i, source, target in failovers]
        result.update(offlined=offline, failed_over=moves, removed=[n.name for n in leaving])
        module.exit_json(**result)
    # What is done, step by step: a failure half-way reports only that.
    ran = []

    def run(args):
        cli.run(args)
        ran.append(cli.argv(args))

    try:
        for name in offline:
            run(node_offline_args(name))
            result["offlined"].append(name)
        for instance, source, target in failovers:
            run(failover_args(instance.name, target))
            result["failed_over"].append({"instance": instance.name, "from": source, "to": target})
        moved = {i.name: i for i in cli.instances()}
        # A failover shuts the instance down and starts it on its new node when its
        # admin state is up (TLMigrateInstance._ExecFailover), whatever it did before: one
        # that had crashed comes up, one running while marked down stays down.
        wrong = [
            f"{i.name} on {moved[i.name].pnode}, {'running' if moved[i.name].running else 'stopped'}"
            for i, _source, target in failovers
            if moved.get(i.name) is None or moved[i.name].pnode != target or moved[i.name].running != i.admin_up
        ]
        if wrong:
            result["commands"] = ran
            module.fail_json(
                msg="after the failover, instances are not where and how they should be: "
                + "; ".join(wrong)
                + ". No node was removed.",
                **result,
            )
        for node in leaving:
            # The node-remove hook lets this removal through: the drain follows it.
            with removal_marker(node.name):
                run(node_remove_args(node.name))
            result["removed"].append(node.name)
    except GanetiError as exc:
        result.update(commands=ran, changed=bool(ran))
        failure = exc.fail_kwargs()
        failure["msg"] += (
            " What was done before it is in offlined, failed_over and removed; fix the cause and run again, which "
            "goes on from there."
        )
        module.fail_json(**failure, **result)
    module.exit_json(**result)


def read_nodes(module, cli, result):
    """The cluster's nodes, read on the master; the module fails otherwise."""
    try:
        check_master()
        return cli.nodes()
    except GanetiError as exc:
        module.fail_json(**exc.fail_kwargs(), **result)


def main():
    module = AnsibleModule(
        argument_spec={
            "nodes": {"type": "list", "elements": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "evacuate": {"type": "bool", "default": False},
            "dead": {"type": "bool", "default": False},
            "failover_memory": {"type": "str", "choices": ["maxmem", "minmem"], "default": "maxmem"},
            "node_expected": {"type": "bool", "default": False},
            "other_hosts": {"type": "list", "elements": "str", "default": []},
            "ssh_key_check": {"type": "bool", "default": True},
            "host_keys": {"type": "dict", "default": {}, "no_log": False},
            "secondary_ips": {"type": "dict", "default": {}},
            "join_marker_dir": {"type": "path"},
            "groups": {"type": "dict", "default": {}},
            "known_hosts": {"type": "path", "default": "/var/lib/ganeti/known_hosts"},
            **LOCK_OPTIONS,
        },
        supports_check_mode=True,
    )
    wanted = module.params["nodes"]
    bad = [n for n in wanted if not is_valid_host(n)]
    if bad:
        module.fail_json(msg=f"not host names: {', '.join(map(repr, bad))}")

    keys = {}
    for name, value in module.params["host_keys"].items():
        keys[name] = [value] if isinstance(value, str) else list(value or [])
        try:
            known_hosts_lines(name, keys[name])
        except ValueError as exc:
            module.fail_json(msg=f"host_keys of {name}: {exc}")

    cli = GanetiCli(module)
    result = {"changed": False, "added": [], "commands": [], "known_hosts_lines": []}
    if module.params["state"] == "absent":
        # Read under the lock too: a killed run's module may still be moving instances.
        with ganeti_lock(module) as holder:
            remove_nodes(module, cli, wanted, read_nodes(module, cli, result), holder["waited"])
    before = read_nodes(module, cli, result)
    missing = [name for name in dict.fromkeys(wanted) if not any(n.is_named(name) for n in before)]

    # Lines an interrupted add left in Ganeti's known_hosts (and so on every node).
    leftovers = tagged_lines(read_text(module.params["known_hosts"]))
    if leftovers:
        result["changed"] = True
        result["known_hosts_lines"] += leftovers
        if module.check_mode:
            result["commands"].append(cli.argv(redist_conf_args()))
        else:
            try:
                restore_known_hosts(module, cli, module.params["known_hosts"], leftovers, result)
            except (GanetiError, OSError) as exc:
                module.fail_json(
                    msg=f"cannot take an earlier add's lines out of {module.params['known_hosts']}: {exc}", **result
                )

    after = before
    for name in missing:
        result["added"].append(name)
        result["changed"] = True
        try:
            add_node(module, cli, name, keys.get(name), result)
        except GanetiError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)
        except OSError as exc:
            module.fail_json(msg=f"cannot write {module.params['known_hosts']} for the add of {name}: {exc}", **result)
    if missing and not module.check_mode:
        try:
            after = cli.nodes()
        except GanetiError as exc:
            module.fail_json(**exc.fail_kwargs(), **result)
    result["nodes"] = [n.as_dict() for n in after]
    if module._diff:
        names = [n.name for n in before]
        result["diff"] = {"before": {"nodes": names}, "after": {"nodes": names + missing}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
