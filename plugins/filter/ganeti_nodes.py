# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the ganeti_gluster_disk role, made on the controller before anything changes.

ganeti_node_plan: from the cluster's node list (ganeti_cluster_info on the
master), which hosts of the ganeti_nodes group are nodes, which join in this
run, which are left out, and what forbids the run.

ganeti_storage_paths: the file-storage-paths every node gets, byte for byte.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import (
    addresses,
    identity,
    match_identities,
)


def is_ipv4(text):
    try:
        return isinstance(ipaddress.ip_address(str(text)), ipaddress.IPv4Address)
    except ValueError:
        return False


def addresses_of(nodes):
    """{address: node name} for the primary and secondary IPs of `nodes`."""
    return {n.get(field): n["name"] for n in nodes for field in ("pip", "sip") if n.get(field)}


def join_refusals(joining, cluster_nodes, secondary_ips=None, node_groups=None, groups=None, removed=()):
    """Why Ganeti would refuse to add each of `joining` (hosts) with the secondary IP
    (`secondary_ips`: host -> IP) and node group (`groups`: host -> name) the inventory gives
    it, in words. Ganeti 3.0's LUNodeAdd wants a node as single- or dual-homed as the master,
    and a group named once the cluster has more than one (`node_groups`: their names; None
    when not read). Both refusals come after `gnt-node add` has set up the host's SSH.
    `removed`: nodes of `cluster_nodes` the run removes first; their addresses stay taken."""
    secondary_ips = {h: ip for h, ip in (secondary_ips or {}).items() if ip}
    groups = {h: g for h, g in (groups or {}).items() if g}
    master = next((n for n in cluster_nodes if n.get("master")), None)
    dual_homed = bool(master and master.get("sip") and master.get("sip") != master.get("pip"))
    taken = addresses_of(cluster_nodes)
    refusals = []
    for host in joining:
        address = secondary_ips.get(host)
        if address is not None and not is_ipv4(address):
            refusals.append(f"ganeti_gluster_disk_secondary_ip of {host} is {address}, not an IPv4 address")
        elif address in taken and taken[address] in removed:
            # Ganeti's add wants the address answering on the new host; the proof of death, silent.
            refusals.append(
                f"ganeti_gluster_disk_secondary_ip of {host} is {address}, an address of the node {taken[address]}, "
                f"which this run removes as dead: its proof of death wants that address silent, and Ganeti's add "
                f"wants it answering on {host}. Replace without {host} in ganeti_nodes, then move the address and "
                "run add-node.yml for it"
            )
        elif address in taken:
            refusals.append(
                f"ganeti_gluster_disk_secondary_ip of {host} is {address}, an address of the node {taken[address]}"
            )
        if master is not None and dual_homed and host not in secondary_ips:
            refusals.append(
                f"{host} joins a cluster whose nodes have a secondary network (the master {master['name']}'s "
                f"secondary IP is {master['sip']}): give it its own (ganeti_gluster_disk_secondary_ip)"
            )
        elif master is not None and not dual_homed and host in secondary_ips:
            refusals.append(
                f"ganeti_gluster_disk_secondary_ip of {host} is {secondary_ips[host]}, but the cluster's nodes have "
                "no secondary network (the master has none): leave it unset"
            )
        if node_groups is None:
            continue
        group = groups.get(host)
        if group is None and len(node_groups) > 1:
            refusals.append(
                f"the cluster has the node groups {', '.join(node_groups)}: name the one {host} joins "
                "(ganeti_gluster_disk_node_group)"
            )
        elif group is not None and group not in node_groups:
            refusals.append(
                f"ganeti_gluster_disk_node_group of {host} is {group}, not a node group of the cluster "
                f"({', '.join(node_groups) or 'none read'})"
            )
    return refusals


def ganeti_node_plan(
    hosts,
    names,
    cluster_nodes,
    master,
    add_nodes=None,
    inventory_names=None,
    resolve=addresses,
    secondary_ips=None,
    node_groups=None,
    groups=None,
    removed=None,
):
    """hosts: the ganeti_nodes group's hosts in this run; names: host -> ganeti_gluster_disk_node_name,
    where the inventory sets one; cluster_nodes: the `nodes` of ganeti_cluster_info on the master;
    master: the ganeti_master host; add_nodes: the hosts this run may add (a list or
    comma-separated string; None: every host not yet a node); inventory_names: host -> other
    names the inventory or the host's facts give it (ansible_host, its FQDN); secondary_ips,
    node_groups, groups: see join_refusals, whose refusals of the joining hosts are errors;
    removed: names of nodes the run removes before it adds any (replace-node.yml's dead node),
    planned as gone: a host may join by one of their names.

    A host is a node when one of its names is the node's name, or resolves to the node's
    primary or secondary IP; a first label is no evidence. `names` in the result is the
    name Ganeti knows (or shall know) each host by.
    """
    hosts = list(hosts)
    removed = set(removed or [])
    staying = [n for n in cluster_nodes if n["name"] not in removed]
    explicit = {h: n for h, n in (names or {}).items() if n}
    errors, warnings = [], []
    if master not in hosts:
        errors.append(f"the ganeti_master host {master} is not in the ganeti_nodes group, or left out by --limit")
    if add_nodes is not None:
        given = add_nodes.split(",") if isinstance(add_nodes, str) else add_nodes
        add_nodes = [str(n).strip() for n in given if str(n).strip()]

    host_ids = {
        h: identity([h, explicit.get(h), *((inventory_names or {}).get(h) or [])], resolve=resolve) for h in hosts
    }
    nodes = {n["name"]: n for n in staying}
    node_ids = {name: identity([name], [n.get("pip"), n.get("sip")]) for name, n in nodes.items()}
    pairs, match_errors = match_identities(host_ids, node_ids, what="Ganeti node")
    errors += match_errors
    for host, node in pairs.items():
        if host in explicit and explicit[host].rstrip(".").lower() != node.lower():
            errors.append(
                f"ganeti_gluster_disk_node_name of {host} is {explicit[host]}, but Ganeti knows that host as {node}; "
                "set it to that name or leave it unset"
            )

    members, joining, left_out = [], [], []
    for host in hosts:
        node = nodes.get(pairs.get(host))
        if node is None:
            (joining if add_nodes is None or host in add_nodes else left_out).append(host)
        elif node.get("offline"):
            warnings.append(f"{host} is an offline Ganeti node; it is left as it is")
            left_out.append(host)
        else:
            members.append(host)
    errors += join_refusals(joining, cluster_nodes, secondary_ips, node_groups, groups, removed)
    gone = addresses_of(n for n in cluster_nodes if n["name"] in removed)
    for host in joining:
        for address in sorted(host_ids[host]["addresses"] & gone.keys()):
            errors.append(
                f"{host} resolves to {address}, an address of the node {gone[address]}, which this run removes as "
                f"dead: Ganeti would add {host} there, and the proof of death wants that address silent. Give "
                f"{host} its own address, or replace without it in ganeti_nodes, then move the address and run "
                "add-node.yml for it"
            )
    # Every node Ganeti may make master: it promotes master_capable nodes to candidates
    # of itself (a drain's --auto-promote, a removal), with no run of ours in between.
    hook_hosts = [
        h
        for h in members
        if nodes[pairs[h]].get("master")
        or nodes[pairs[h]].get("master_candidate")
        or nodes[pairs[h]].get("master_capable", True)
    ]
    return {
        "members": members,
        "joining": joining,
        "left_out": left_out,
        "hook_hosts": hook_hosts,
        "names": {h: pairs[h] if h in pairs else explicit.get(h, h) for h in hosts},
        # add_nodes as a list (None: every host that is not a node yet).
        "add_nodes": add_nodes,
        "errors": errors,
        "warnings": warnings,
    }


def ganeti_storage_paths(master_content, storage_dir):
    """The master's file-storage-paths with storage_dir added when it is missing.

    Every node gets exactly this text (with the file or sharedfile template enabled,
    `gnt-cluster verify` compares the file's checksum across nodes). What the master
    lists already is kept as it is.
    """
    text = master_content or ""
    listed = {line.strip().rstrip("/") for line in text.splitlines() if line.strip() and not line.startswith("#")}
    if storage_dir.rstrip("/") in listed:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + storage_dir + "\n"


class FilterModule:
    def filters(self):
        return {"ganeti_node_plan": ganeti_node_plan, "ganeti_storage_paths": ganeti_storage_paths}
