# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the ganeti_gluster_disk role, made on the controller before anything changes.

ganeti_node_plan: from the cluster's node list (ganeti_cluster_info on the
master), which hosts of the ganeti_nodes group are nodes, which join in this
run, which are left out, and what forbids the run.

ganeti_storage_paths: the file-storage-paths every node gets, byte for byte.
"""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import same_name


def ganeti_node_plan(hosts, names, cluster_nodes, master, add_nodes=None):
    """hosts: the ganeti_nodes group's hosts in this run; names: host -> its Ganeti name; cluster_nodes: the
    `nodes` of ganeti_cluster_info; master: the ganeti_master host; add_nodes: the hosts
    this run may add (a list or comma-separated string; None: every host not yet a node).
    """
    hosts = list(hosts)
    names = {h: (names or {}).get(h) or h for h in hosts}
    errors, warnings = [], []
    if master not in hosts:
        errors.append(f"the ganeti_master host {master} is not in the ganeti_nodes group, or left out by --limit")
    if isinstance(add_nodes, str):
        add_nodes = [n.strip() for n in add_nodes.split(",") if n.strip()]

    members, joining, left_out = [], [], []
    for host in hosts:
        node = next((n for n in cluster_nodes if same_name(n["name"], names[host])), None)
        if node is None:
            (joining if add_nodes is None or host in add_nodes else left_out).append(host)
        elif node.get("offline"):
            warnings.append(f"{host} is an offline Ganeti node; it is left as it is")
            left_out.append(host)
        else:
            members.append(host)
    hook_hosts = [
        h
        for h in members
        if any(same_name(n["name"], names[h]) and (n.get("master") or n.get("master_candidate")) for n in cluster_nodes)
    ]
    return {
        "members": members,
        "joining": joining,
        "left_out": left_out,
        "hook_hosts": hook_hosts,
        "errors": errors,
        "warnings": warnings,
    }


def ganeti_storage_paths(master_content, storage_dir):
    """The master's file-storage-paths with storage_dir added when it is missing.

    Every node gets exactly this text: `gnt-cluster verify` compares the file's
    checksum across nodes. What the master lists already is kept as it is.
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
