"""The ganeti_gluster_disk role's decisions (plugins/filter/ganeti_nodes.py)."""

from ansible_collections.ganeti_gluster.cluster.plugins.filter.ganeti_nodes import (
    ganeti_node_plan,
    ganeti_storage_paths,
)

NODES = [
    {"name": "node1.example.net", "master": True, "master_candidate": True, "offline": False},
    {"name": "node2.example.net", "master": False, "master_candidate": False, "offline": False},
    {"name": "node3.example.net", "master": False, "master_candidate": True, "offline": True},
]
HOSTS = ["node1", "node2", "node3", "node4", "node5"]


def test_members_by_short_name_joiners_and_offline_nodes():
    plan = ganeti_node_plan(HOSTS, {}, NODES, "node1")
    assert plan["members"] == ["node1", "node2"]
    assert plan["joining"] == ["node4", "node5"]
    assert plan["left_out"] == ["node3"]
    assert plan["hook_hosts"] == ["node1"]
    assert plan["warnings"] == ["node3 is an offline Ganeti node; it is left as it is"]
    assert plan["errors"] == []


def test_add_nodes_limits_who_joins():
    plan = ganeti_node_plan(HOSTS, {"node5": "gl05.example.net"}, NODES, "node1", add_nodes="node5, node9")
    assert plan["joining"] == ["node5"]
    assert "node4" in plan["left_out"]


def test_master_outside_the_group_is_an_error():
    assert ganeti_node_plan(["node2"], {}, NODES, "node1")["errors"] == [
        "the ganeti_master host node1 is not in the ganeti_nodes group, or left out by --limit"
    ]


def test_storage_paths_keep_the_masters_text_and_add_the_dir_once():
    assert ganeti_storage_paths("", "/var/run/ganeti/gluster") == "/var/run/ganeti/gluster\n"
    assert ganeti_storage_paths("# paths\n/srv/a", "/var/run/ganeti/gluster") == (
        "# paths\n/srv/a\n/var/run/ganeti/gluster\n"
    )
    listed = "/srv/a\n/var/run/ganeti/gluster/\n"
    assert ganeti_storage_paths(listed, "/var/run/ganeti/gluster") == listed
