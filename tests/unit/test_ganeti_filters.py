"""The ganeti_gluster_disk role's decisions (plugins/filter/ganeti_nodes.py)."""

from ansible_collections.ganeti_gluster.cluster.plugins.filter.ganeti_nodes import (
    ganeti_node_plan,
    ganeti_storage_paths,
)

NODES = [
    {"name": "node1.example.net", "master": True, "master_candidate": True, "offline": False, "pip": "10.0.0.1"},
    # Not master_capable: Ganeti never makes it a candidate, nor master.
    {
        "name": "node2.example.net",
        "master": False,
        "master_candidate": False,
        "offline": False,
        "pip": "10.0.0.2",
        "master_capable": False,
    },
    {"name": "node3.example.net", "master": False, "master_candidate": True, "offline": True, "pip": "10.0.0.3"},
]
HOSTS = ["node1", "node2", "node3", "node4", "node5"]
# The controller's resolver: short names resolve (search domain), as on most sites.
RESOLVER = {f"node{i}": {f"10.0.0.{i}"} for i in range(1, 6)}


def resolve(name):
    return RESOLVER.get(name, set())


def test_members_by_short_name_joiners_and_offline_nodes():
    plan = ganeti_node_plan(HOSTS, {}, NODES, "node1", resolve=resolve)
    assert plan["members"] == ["node1", "node2"]
    assert plan["joining"] == ["node4", "node5"]
    assert plan["left_out"] == ["node3"]
    assert plan["hook_hosts"] == ["node1"]
    assert plan["warnings"] == ["node3 is an offline Ganeti node; it is left as it is"]
    assert plan["errors"] == []


def test_a_node_ganeti_may_promote_gets_the_hook_before_it_is_a_candidate():
    # A drain with --auto-promote, or a removal, makes a master_capable node a candidate
    # with no run of ours in between; it may be master next.
    promotable = [NODES[0], {**NODES[1], "master_capable": True}]
    assert ganeti_node_plan(["node1", "node2"], {}, promotable, "node1", resolve=resolve)["hook_hosts"] == [
        "node1",
        "node2",
    ]


def test_add_nodes_limits_who_joins():
    plan = ganeti_node_plan(HOSTS, {"node5": "gl05.example.net"}, NODES, "node1", "node5, node9", resolve=resolve)
    assert plan["joining"] == ["node5"]
    assert "node4" in plan["left_out"]
    assert plan["add_nodes"] == ["node5", "node9"]
    assert ganeti_node_plan(HOSTS, {}, NODES, "node1", resolve=resolve)["add_nodes"] is None


def test_a_host_that_ganeti_would_refuse_to_add_is_an_error_before_anything_changes():
    dual = [{**NODES[0], "sip": "10.1.0.1"}, *NODES[1:]]
    single = [{**NODES[0], "sip": "10.0.0.1"}, *NODES[1:]]
    hosts = ["node1", "node2", "node4", "node5"]

    def errors(nodes, **declared):
        return ganeti_node_plan(hosts, {}, nodes, "node1", "node4", resolve=resolve, **declared)["errors"]

    assert errors(dual) == [
        "node4 joins a cluster whose nodes have a secondary network (the master node1.example.net's secondary IP "
        "is 10.1.0.1): give it its own (ganeti_gluster_disk_secondary_ip)"
    ]
    # node5 is not added by this run: what it declares is not judged.
    assert errors(dual, secondary_ips={"node4": "10.1.0.4", "node5": None}) == []
    assert errors(single, secondary_ips={"node4": "10.1.0.4"}) == [
        "ganeti_gluster_disk_secondary_ip of node4 is 10.1.0.4, but the cluster's nodes have no secondary network "
        "(the master has none): leave it unset"
    ]
    assert errors(single, secondary_ips={"node4": ""}, node_groups=["default"]) == []
    assert errors(dual, secondary_ips={"node4": "fd00::4"}) == [
        "ganeti_gluster_disk_secondary_ip of node4 is fd00::4, not an IPv4 address"
    ]
    assert errors(dual, secondary_ips={"node4": "10.1.0.1"}) == [
        "ganeti_gluster_disk_secondary_ip of node4 is 10.1.0.1, an address of the node node1.example.net"
    ]
    assert errors(single, node_groups=["default", "rack2"]) == [
        "the cluster has the node groups default, rack2: name the one node4 joins (ganeti_gluster_disk_node_group)"
    ]
    assert errors(single, node_groups=["default", "rack2"], groups={"node4": "rack2"}) == []
    assert errors(single, node_groups=["default"], groups={"node4": "rack3"}) == [
        "ganeti_gluster_disk_node_group of node4 is rack3, not a node group of the cluster (default)"
    ]


def test_a_replacement_is_planned_with_the_node_it_replaces_gone():
    dead = {**NODES[1], "sip": "10.1.0.2"}
    nodes = [{**NODES[0], "sip": "10.1.0.1"}, dead]
    hosts = ["node1", "node6"]
    # node6 is new hardware under the dead node's name: a member while node2 is there.
    same_name = {"node6": "node2.example.net"}
    declared = {"secondary_ips": {"node6": "10.1.0.6"}}
    assert ganeti_node_plan(hosts, same_name, nodes, "node1", "node6", resolve=resolve, **declared)["members"] == [
        "node1",
        "node6",
    ]
    plan = ganeti_node_plan(
        hosts, same_name, nodes, "node1", "node6", resolve=resolve, removed=["node2.example.net"], **declared
    )
    assert (plan["errors"], plan["joining"], plan["members"]) == ([], ["node6"], ["node1"])
    assert plan["names"]["node6"] == "node2.example.net"

    # The name still resolves to the dead node's address: Ganeti would add node6 there.
    old_dns = {"node1": {"10.0.0.1"}, "node2.example.net": {"10.0.0.2"}}.get
    plan = ganeti_node_plan(
        hosts, same_name, nodes, "node1", "node6", resolve=old_dns, removed=["node2.example.net"], **declared
    )
    assert plan["errors"] == [
        "node6 resolves to 10.0.0.2, an address of the node node2.example.net, which this run removes as dead: "
        "Ganeti would add node6 there, and the proof of death wants that address silent. Give node6 its own "
        "address, or replace without it in ganeti_nodes, then move the address and run add-node.yml for it"
    ]

    # Its address stays taken: the proof of death wants it silent until the removal.
    plan = ganeti_node_plan(
        hosts,
        {},
        nodes,
        "node1",
        "node6",
        resolve=resolve,
        removed=["node2.example.net"],
        secondary_ips={"node6": "10.1.0.2"},
    )
    assert plan["errors"] == [
        "ganeti_gluster_disk_secondary_ip of node6 is 10.1.0.2, an address of the node node2.example.net, which "
        "this run removes as dead: its proof of death wants that address silent, and Ganeti's add wants it "
        "answering on node6. Replace without node6 in ganeti_nodes, then move the address and run add-node.yml "
        "for it"
    ]


def test_master_outside_the_group_is_an_error():
    assert ganeti_node_plan(["node2"], {}, NODES, "node1", resolve=resolve)["errors"] == [
        "the ganeti_master host node1 is not in the ganeti_nodes group, or left out by --limit"
    ]


def test_storage_paths_keep_the_masters_text_and_add_the_dir_once():
    assert ganeti_storage_paths("", "/var/run/ganeti/gluster") == "/var/run/ganeti/gluster\n"
    assert ganeti_storage_paths("# paths\n/srv/a", "/var/run/ganeti/gluster") == (
        "# paths\n/srv/a\n/var/run/ganeti/gluster\n"
    )
    listed = "/srv/a\n/var/run/ganeti/gluster/\n"
    assert ganeti_storage_paths(listed, "/var/run/ganeti/gluster") == listed


def test_an_inventory_keyed_by_address_finds_nodes_by_their_primary_ip():
    hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.4"]
    plan = ganeti_node_plan(hosts, {}, NODES, "10.0.0.1", resolve=lambda n: set())
    assert (plan["members"], plan["joining"], plan["errors"]) == (["10.0.0.1", "10.0.0.2"], ["10.0.0.4"], [])
    assert plan["names"] == {"10.0.0.1": "node1.example.net", "10.0.0.2": "node2.example.net", "10.0.0.4": "10.0.0.4"}
    assert plan["hook_hosts"] == ["10.0.0.1"]


def test_first_labels_are_no_evidence_and_a_name_that_disagrees_is_refused():
    # node2.rack-b shares node2.example.net's first label, not its address
    plan = ganeti_node_plan(["node1", "node2.rack-b"], {}, NODES, "node1", resolve={"node1": {"10.0.0.1"}}.get)
    assert plan["joining"] == ["node2.rack-b"]
    bad = ganeti_node_plan(["node1", "node2"], {"node2": "node2.rack-b"}, NODES, "node1", resolve=resolve)
    assert bad["errors"] == [
        "ganeti_gluster_disk_node_name of node2 is node2.rack-b, but Ganeti knows that host as node2.example.net; "
        "set it to that name or leave it unset"
    ]


def test_two_hosts_on_one_node_are_refused_naming_both():
    plan = ganeti_node_plan(["node1", "10.0.0.1"], {}, NODES, "node1", resolve=resolve)
    assert plan["errors"] == [
        "Ganeti node node1.example.net matches more than one host: node1 (by address 10.0.0.1), "
        "10.0.0.1 (by address 10.0.0.1); give each host a name that only it has"
    ]


def test_hosts_the_controller_cannot_resolve_are_found_by_their_ssh_address_and_fqdn():
    # As the role calls it: each host's SSH address and the FQDN it gives itself.
    other = {h: [f"10.0.0.{h[-1]}", f"{h}.example.net"] for h in ("node1", "node2", "node4")}
    hosts = ["node1", "node2", "node4"]
    plan = ganeti_node_plan(hosts, {}, NODES, "node1", None, other, resolve=lambda n: set())
    assert (plan["members"], plan["joining"], plan["errors"]) == (["node1", "node2"], ["node4"], [])
    assert plan["names"] == {"node1": "node1.example.net", "node2": "node2.example.net", "node4": "node4"}
    # Once added, Ganeti knows node4 by its FQDN and made it a candidate: the same call finds it a hook host.
    added = [*NODES, {"name": "node4.example.net", "master_candidate": True, "offline": False, "pip": "10.0.0.4"}]
    after = ganeti_node_plan(hosts, {}, added, "node1", None, other, resolve=lambda n: set())
    assert after["members"] == hosts and after["hook_hosts"] == ["node1", "node4"]


def test_an_inventory_keyed_by_fqdn_finds_nodes_ganeti_knows_by_short_name():
    short = [{**n, "name": n["name"].split(".", maxsplit=1)[0]} for n in NODES]
    hosts = ["node1.example.net", "node2.example.net", "node4.example.net"]
    other = {h: [f"10.0.0.{h[4]}"] for h in hosts}
    plan = ganeti_node_plan(hosts, {}, short, hosts[0], None, other, resolve=lambda n: set())
    assert (plan["members"], plan["joining"], plan["errors"]) == (hosts[:2], ["node4.example.net"], [])
    assert plan["names"] == {
        "node1.example.net": "node1",
        "node2.example.net": "node2",
        "node4.example.net": "node4.example.net",
    }
