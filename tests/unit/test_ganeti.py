"""The Ganeti CLI layer and modules on output captured from Ganeti 3.0 in the lab
(tests/fixtures/ganeti): parsers, command builders, the master check, and which
commands each module runs, in order."""

import json
import os
from pathlib import Path
from unittest import mock

import pytest
import yaml

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import ganeti_cli
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    GanetiError,
    check_master,
    cluster_modify_args,
    node_add_args,
    node_group_names,
    parse_cluster_info,
    parse_node_list,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import read_holds
from ansible_collections.ganeti_gluster.cluster.plugins.modules import (
    ganeti_cluster_info,
    ganeti_cluster_storage,
    ganeti_node,
)

from .module_harness import Expected, holder, run_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ganeti"
INFO = ["/usr/sbin/gnt-cluster", "info"]
NODE_LIST = [
    "/usr/sbin/gnt-node",
    "list",
    "--no-headers",
    "--separator=|",
    "--output=name,master_candidate,offline,master,pip,sip,vm_capable,master_capable",
]

# The queue's unfinished jobs, read by the modules that move instances before they plan.
UNFINISHED_JOBS = [
    "/usr/sbin/gnt-job",
    "list",
    "--no-headers",
    "--separator=|",
    "--output=id,status,summary",
    "--filter",
    'status == "queued" or status == "waiting" or status == "running" or status == "canceling"',
]
NO_JOBS = Expected(UNFINISHED_JOBS, 0, "")
INSTANCE_PLACES = ["/usr/sbin/gnt-instance", "list", "--no-headers", "--separator=|", "--output=name,pnode,snodes,tags"]

GROUP_LIST = [
    "/usr/sbin/gnt-group",
    "list",
    "--no-headers",
    "--separator=|",
    "-o",
    "uuid,custom_ipolicy,custom_diskparams",
]
NO_GROUP_OVERRIDES = Expected(GROUP_LIST, 0, "2b1c9a0e-5f7d-4d6e-9a1b-3c4d5e6f7a8b|{}|{}\n")


def out(name):
    return (FIXTURES / name).read_text()


@pytest.fixture(autouse=True)
def on_the_master():
    with (
        mock.patch.object(ganeti_cluster_storage, "check_master", lambda: "node1"),
        mock.patch.object(ganeti_node, "check_master", lambda: "node1"),
        mock.patch.object(ganeti_cluster_info, "check_master", lambda: "node1"),
    ):
        yield


def test_cluster_info_parses_templates_params_and_paths():
    cluster = parse_cluster_info(yaml.safe_load(out("cluster-info-gluster.txt")))
    assert cluster.name == "labcluster"
    assert cluster.master == "node1"
    assert cluster.enabled_disk_templates == ("file", "gluster")
    assert cluster.ipolicy_disk_templates == ("file", "gluster")
    assert cluster.gluster_params == {"access": "kernelspace", "host": "127.0.0.1", "port": "24007", "volume": "gv0"}
    assert cluster.gluster_storage_dir == "/var/run/ganeti/gluster"
    assert cluster.file_storage_dir == "/srv/ganeti/file-storage"
    assert cluster.ssh_key_type == "rsa"


def test_cluster_info_without_its_sections_is_an_error():
    with pytest.raises(ValueError, match="no 'Cluster parameters' section"):
        parse_cluster_info({"Cluster name": "x"})


def test_node_list_parses_flags():
    nodes = parse_node_list(out("node-list.txt"))
    assert [(n.name, n.master_candidate, n.offline, n.master, n.pip, n.vm_capable) for n in nodes] == [
        ("node1", True, False, True, "10.77.0.11", True),
        ("node2", True, False, False, "10.77.0.12", True),
    ]
    assert not parse_node_list("node3|N|N|N|10.77.0.13|10.77.0.13|N|Y\n")[0].vm_capable
    with pytest.raises(ValueError, match="not 8 fields"):
        parse_node_list("node1|Y\n")


def test_builders():
    assert cluster_modify_args(("file", "gluster"), None, {"volume": "gv0", "access": "userspace"}) == [
        "gnt-cluster",
        "modify",
        "--enabled-disk-templates=file,gluster",
        "-D",
        "gluster:volume=gv0,access=userspace",
    ]
    assert node_add_args("node4") == ["gnt-node", "add", "node4"]
    assert node_add_args("node4", ssh_key_check=False) == ["gnt-node", "add", "--no-ssh-key-check", "node4"]
    assert node_add_args("node4", secondary_ip="10.1.0.4", group="rack2") == [
        "gnt-node",
        "add",
        "--secondary-ip",
        "10.1.0.4",
        "--node-group",
        "rack2",
        "node4",
    ]
    assert node_group_names("0a1b default\n2c3d rack 2\n\n") == ["default", "rack 2"]
    assert node_group_names(None) == []


def test_master_check_reads_ssconf(tmp_path):
    def node1(name):
        return name == "node1.example.net"

    with pytest.raises(GanetiError, match="no Ganeti cluster on this host"):
        check_master(str(tmp_path), is_me=node1)
    (tmp_path / "ssconf_master_node").write_text("node1.rack-b\n")
    with pytest.raises(GanetiError, match=r"is not the Ganeti master; the master is node1\.rack-b"):
        check_master(str(tmp_path), is_me=node1)
    (tmp_path / "ssconf_master_node").write_text("node1.example.net\n")
    assert check_master(str(tmp_path), is_me=node1) == "node1.example.net"


def test_a_node_is_named_by_its_exact_name_or_its_address_never_a_first_label():
    node = parse_node_list(out("node-list.txt"))[1]  # node2, 10.77.0.12
    resolver = {"node2.example.net": {"10.77.0.12"}, "node2.rack-b": {"10.9.0.2"}, "10.77.0.12": {"10.77.0.12"}}
    assert node.is_named("NODE2.", resolve=lambda n: set())
    assert node.is_named("node2.example.net", resolve=lambda n: resolver.get(n, set()))
    assert node.is_named("10.77.0.12", resolve=lambda n: resolver.get(n, set()))
    assert not node.is_named("node2.rack-b", resolve=lambda n: resolver.get(n, set()))
    assert not node.is_named("10.77.0.13", resolve=lambda n: {n})


def storage(args, commands):
    return run_module(
        ganeti_cluster_storage.main,
        args,
        commands,
        bins={"gnt-cluster": "/usr/sbin/gnt-cluster", "gnt-group": "/usr/sbin/gnt-group"},
    )


def test_storage_adds_gluster_to_the_templates_it_keeps_and_sets_params():
    modify = [
        "/usr/sbin/gnt-cluster",
        "modify",
        "--enabled-disk-templates=file,gluster",
        "--ipolicy-disk-templates=file,gluster",
        "-D",
        "gluster:volume=gv1",
    ]
    result = storage(
        {"volume": "gv1", "_ansible_diff": True},
        [
            Expected(INFO, 0, out("cluster-info-file-only.txt")),
            NO_GROUP_OVERRIDES,
            Expected(INSTANCE_LIST, 0, ""),
            Expected(modify, 0, ""),
            Expected(INFO, 0, out("cluster-info-gluster.txt")),
        ],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["commands"] == [modify]
    assert result.result["diff"]["before"]["enabled_disk_templates"] == ["file"]
    assert result.result["diff"]["after"]["enabled_disk_templates"] == ["file", "gluster"]


def test_a_volume_change_is_refused_while_instances_have_their_disks_on_the_volume():
    info = out("cluster-info-gluster.txt")
    result = storage(
        {"volume": "gv1"},
        [
            Expected(INFO, 0, info),
            NO_GROUP_OVERRIDES,
            Expected(INSTANCE_LIST, 0, "inst1|node1||gluster|Y|up|128|256\nweb|node2||file|Y|up|64|128\n"),
        ],
    )
    assert result.failed and result.result["commands"] == []
    assert result.result["msg"].startswith(
        "refusing to change gluster:volume from gv0 to gv1: instances inst1 have (or, of the mixed template, may "
        "have) disks on gv0"
    )
    # No instance on the gluster template: the volume may change.
    modify = ["/usr/sbin/gnt-cluster", "modify", "-D", "gluster:volume=gv1"]
    then = [Expected(modify, 0, ""), Expected(INFO, 0, info)]
    result = storage(
        {"volume": "gv1"},
        [
            Expected(INFO, 0, info),
            NO_GROUP_OVERRIDES,
            Expected(INSTANCE_LIST, 0, "web|node2||file|Y|up|64|128\n"),
            *then,
        ],
    )
    assert not result.failed and result.result["commands"] == [modify]


def test_storage_in_check_mode_runs_only_the_read():
    result = storage(
        {"volume": "gv0", "access": "userspace", "_ansible_check_mode": True},
        [Expected(INFO, 0, out("cluster-info-file-only.txt")), NO_GROUP_OVERRIDES],
    )
    assert (result.failed, result.result["changed"]) == (False, True)
    assert result.result["commands"][0][2:] == [
        "--enabled-disk-templates=file,gluster",
        "--ipolicy-disk-templates=file,gluster",
        "-D",
        "gluster:access=userspace",
    ]


def test_storage_that_matches_changes_nothing():
    result = storage({"volume": "gv0"}, [Expected(INFO, 0, out("cluster-info-gluster.txt")), NO_GROUP_OVERRIDES])
    assert (result.failed, result.result["changed"], result.result["commands"]) == (False, False, [])


def test_storage_dir_that_differs_is_refused_before_any_change():
    result = storage(
        {"volume": "gv0", "storage_dir": "/srv/gluster"},
        [Expected(INFO, 0, out("cluster-info-file-only.txt")), NO_GROUP_OVERRIDES],
    )
    assert result.failed
    assert result.result["msg"].startswith(
        "the cluster's gluster storage dir is /var/run/ganeti/gluster, not /srv/gluster"
    )
    assert result.result["commands"] == []


def test_node_groups_that_keep_their_instances_off_the_wanted_gluster_settings_are_returned_and_warned_of():
    groups = (
        "u-default|{}|{}\n"
        "u-rack2|{'disk-templates': ['plain']}|{'gluster': {'access': 'userspace', 'port': 24008}}\n"
        "u-same|{}|{'gluster': {'volume': 'gv0'}, 'plain': {'stripes': 2}}\n"
        # A string parameter may hold the separator; the group's name comes from ssconf.
        "u-pipe|{'disk-templates': ['gluster', 'drbd']}|{'drbd': {'net-custom': '--a|b'}}\n"
    )
    names = "u-default default\nu-rack2 rack 2\nu-same same\nu-pipe a|b\n"
    with mock.patch.object(ganeti_cli, "read_ssconf", lambda key: names if key == "nodegroups" else None):
        result = storage(
            {"volume": "gv0"},
            [Expected(INFO, 0, out("cluster-info-gluster.txt")), Expected(GROUP_LIST, 0, groups)],
        )
    assert not result.failed, result.result
    follow = ["gnt-group", "modify", "-D", "gluster:access=kernelspace,port=default"]
    assert result.result["group_overrides"] == {
        "rack 2": {
            "gluster": {"access": "userspace", "port": "24008"},
            "disk_templates": ["plain"],
            "follow_cluster": [*follow, "--ipolicy-disk-templates=default", "rack 2"],
        },
        "same": {"gluster": {"volume": "gv0"}, "disk_templates": None, "follow_cluster": None},
        "a|b": {"gluster": {}, "disk_templates": ["gluster", "drbd"], "follow_cluster": None},
    }
    # Only "rack 2" keeps its instances off: its access differs and its policy leaves gluster out.
    wanted = {"host": "127.0.0.1", "port": "24007", "volume": "gv0", "access": "kernelspace"}
    overrides, unread = ganeti_cli.parse_group_overrides(groups, ganeti_cli.node_group_uuids(names))
    assert unread == []
    assert ganeti_cli.group_override_warnings(overrides, wanted) == [
        "node group rack 2 has the gluster disk parameters access=userspace,port=24008 and an instance policy "
        "that allows the disk templates plain only of its own: its instances follow the group, not the "
        "cluster's gluster settings; gnt-group modify -D gluster:access=kernelspace,port=default "
        "--ipolicy-disk-templates=default 'rack 2' makes it follow the cluster"
    ]


def test_a_group_row_that_cannot_be_read_is_reported_not_guessed():
    overrides, unread = ganeti_cli.parse_group_overrides("u1|{'disk-templates': |{}\nu2|{}\nu3|{}|{}\n")
    assert (overrides, unread) == ({}, ["u1|{'disk-templates': |{}", "u2|{}"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"volume": "gv0", "port": 0}, "port must be 1 to 65535"),
        ({"volume": "gv0", "host": "bad host"}, "is not a host name or an address"),
        ({"volume": "a,b"}, "is not a Gluster volume name"),
    ],
)
def test_storage_argument_errors_run_nothing(args, message):
    result = storage(args, [])
    assert result.failed
    assert message in result.result["msg"]


def test_node_adds_only_missing_nodes_in_order():
    add = ["/usr/sbin/gnt-node", "add", "--no-ssh-key-check", "node4"]
    result = run_module(
        ganeti_node.main,
        {"nodes": ["node1", "node2", "node4"], "ssh_key_check": False},
        [
            Expected(NODE_LIST, 0, out("node-list.txt")),
            Expected(add, 0, ""),
            Expected(NODE_LIST, 0, out("node-list.txt") + "node4|Y|N|N|10.77.0.14|10.77.0.14|Y|Y\n"),
        ],
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["added"]) == (True, ["node4"])
    assert result.result["nodes"][-1]["name"] == "node4"


@pytest.mark.parametrize("rc", [0, 1])
def test_each_add_leaves_a_marker_naming_this_process_for_the_hook_while_it_runs(tmp_path, rc):
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hook_support import process_token

    markers = tmp_path / "joining"
    seen = []

    def marker_is_there():
        seen.append((markers / "node4").read_text())
        assert (markers / "node4").stat().st_mode & 0o777 == 0o600

    add = ["/usr/sbin/gnt-node", "add", "node4"]
    result = run_module(
        ganeti_node.main,
        {"nodes": ["node4"], "join_marker_dir": str(markers)},
        [Expected(NODE_LIST, 0, out("node-list.txt")), Expected(add, rc, "", "", marker_is_there)]
        + ([Expected(NODE_LIST, 0, out("node-list.txt"))] if rc == 0 else []),
    )
    assert result.failed == (rc != 0)
    assert seen == [process_token() + "\n"]
    assert list(markers.iterdir()) == []


def test_node_failure_says_what_to_check():
    add = ["/usr/sbin/gnt-node", "add", "node4"]
    result = run_module(
        ganeti_node.main,
        {"nodes": ["node4"]},
        [Expected(NODE_LIST, 0, out("node-list.txt")), Expected(add, 1, "", "Failure: ssh connection refused\n")],
    )
    assert result.failed
    assert result.result["msg"].startswith("gnt-node add failed (exit 1): Failure: ssh connection refused; check")


def test_node_present_and_check_mode_run_no_add():
    present = run_module(ganeti_node.main, {"nodes": ["node2"]}, [Expected(NODE_LIST, 0, out("node-list.txt"))])
    assert (present.result["changed"], present.result["commands"]) == (False, [])
    # The inventory's FQDN names the node Ganeti knows by its short name: by its address.
    with mock.patch.object(ganeti_cli, "addresses", {"node2.example.net": {"10.77.0.12"}}.get):
        fqdn = run_module(
            ganeti_node.main, {"nodes": ["node2.example.net"]}, [Expected(NODE_LIST, 0, out("node-list.txt"))]
        )
    assert (fqdn.result["changed"], fqdn.result["commands"]) == (False, [])
    checked = run_module(
        ganeti_node.main,
        {"nodes": ["node5"], "_ansible_check_mode": True},
        [Expected(NODE_LIST, 0, out("node-list.txt"))],
    )
    assert checked.result["added"] == ["node5"]
    assert checked.result["commands"] == [["/usr/sbin/gnt-node", "add", "node5"]]


def test_cluster_info_module_off_the_master():
    def not_master():
        raise GanetiError("this host (node2) is not the Ganeti master; the master is node1: run there")

    with (
        mock.patch.object(ganeti_cluster_info, "check_master", not_master),
        mock.patch.object(ganeti_cluster_info, "read_ssconf", lambda key: "node1"),
    ):
        strict = run_module(ganeti_cluster_info.main, {}, [])
        lenient = run_module(ganeti_cluster_info.main, {"must_be_master": False}, [])
    assert strict.failed and "the master is node1" in strict.result["msg"]
    assert (lenient.failed, lenient.result["master"], lenient.result["is_master"]) == (False, "node1", False)


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTestOnly root@node4\n"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFakeKeyToo root@node4\n"


def key_check_run(tmp_path, add_rc=0):
    """gnt-node add node4 with node4's host keys, Ganeti's known_hosts in tmp_path."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("labcluster ssh-rsa AAAAclusterkey\n")
    known_hosts.chmod(0o644)
    seen = []

    def during_add():
        seen.append(known_hosts.read_text())

    add = ["/usr/sbin/gnt-node", "add", "node4"]
    commands = [Expected(NODE_LIST, 0, out("node-list.txt")), Expected(add, add_rc, "", "", during=during_add)]
    commands.append(Expected(["/usr/sbin/gnt-cluster", "redist-conf"], 0, ""))
    if add_rc == 0:
        commands.append(Expected(NODE_LIST, 0, out("node-list.txt") + "node4|Y|N|N|10.77.0.14|10.77.0.14|Y|Y\n"))
    with (
        mock.patch.object(ganeti_node, "ssh_name", lambda name: f"{name}.example.net"),
        # prepare-node-join gives node4 the cluster's rsa key: known under node4's name too.
        mock.patch.object(ganeti_node, "master_host_keys", lambda: ["ssh-rsa AAAAclusterkey root@node1\n"]),
    ):
        result = run_module(
            ganeti_node.main,
            {"nodes": ["node4"], "host_keys": {"node4": [ED25519, RSA]}, "known_hosts": str(known_hosts)},
            commands,
        )
    return result, known_hosts, seen


def test_a_new_nodes_host_keys_are_known_to_ganeti_for_the_add_only(tmp_path):
    result, known_hosts, seen = key_check_run(tmp_path)
    assert not result.failed, result.result
    # During the add: the cluster's line, and node4's keys under the name Ganeti's ssh uses.
    assert seen == [
        "labcluster ssh-rsa AAAAclusterkey\n"
        "node4.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTestOnly ganeti-gluster-node-add\n"
        "node4.example.net ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFakeKeyToo ganeti-gluster-node-add\n"
        "node4.example.net ssh-rsa AAAAclusterkey ganeti-gluster-node-add\n"
    ]
    # After: Ganeti's file as it was (mode kept), and its copies redistributed from it.
    assert known_hosts.read_text() == "labcluster ssh-rsa AAAAclusterkey\n"
    assert known_hosts.stat().st_mode & 0o777 == 0o644
    assert result.result["commands"][-1] == ["/usr/sbin/gnt-cluster", "redist-conf"]
    assert "--no-ssh-key-check" not in result.result["commands"][0]


def test_a_failed_add_still_restores_ganetis_known_hosts(tmp_path):
    result, known_hosts, seen = key_check_run(tmp_path, add_rc=1)
    assert result.failed and "gnt-node add failed" in result.result["msg"]
    assert len(seen) == 1 and "node4.example.net ssh-ed25519" in seen[0]
    assert known_hosts.read_text() == "labcluster ssh-rsa AAAAclusterkey\n"


def test_host_keys_that_are_not_keys_are_refused_before_anything_runs(tmp_path):
    result = run_module(ganeti_node.main, {"nodes": ["node4"], "host_keys": {"node4": ["-----BEGIN"]}}, [])
    assert result.failed and result.result["msg"] == "host_keys of node4: not an SSH public key: '-----BEGIN'"


def test_lines_an_interrupted_add_left_are_taken_out_and_redistributed(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("labcluster ssh-rsa AAAAclusterkey\nnode9 ssh-ed25519 AAAAleft ganeti-gluster-node-add\n")
    redist = Expected(["/usr/sbin/gnt-cluster", "redist-conf"], 0, "")
    result = run_module(
        ganeti_node.main,
        {"nodes": ["node1"], "known_hosts": str(known_hosts)},
        [Expected(NODE_LIST, 0, out("node-list.txt")), redist],
    )
    assert not result.failed, result.result
    assert known_hosts.read_text() == "labcluster ssh-rsa AAAAclusterkey\n"
    assert result.result["changed"] and result.result["added"] == []


INSTANCE_LIST = [
    "/usr/sbin/gnt-instance",
    "list",
    "--no-headers",
    "--separator=|",
    "--units=m",
    "--output=name,pnode,snodes,disk_template,oper_state,admin_state,be/minmem,be/maxmem",
]
NODE_STATES = [
    "/usr/sbin/gnt-node",
    "list",
    "--no-headers",
    "--separator=|",
    "--units=m",
    "--output=name,offline,drained,vm_capable,bootid,mfree",
]
NODES_WITH_NODE3 = out("node-list.txt") + "node3|Y|N|N|10.77.0.13|10.77.0.13|Y|Y\n"
NODES_WITH_NODE3_OFFLINE = out("node-list.txt") + "node3|N|Y|N|10.77.0.13|10.77.0.13|Y|Y\n"
BOOT1, BOOT2, BOOT3 = (
    "8d4a0c1e-5b1f-4b9e-9a55-0e4f8f3c2a11",
    "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "0c5a4f1e-2d6b-4f7a-9e3c-5b8d1a2f6e90",
)
# node3's ganeti-noded does not answer the master: luxid prints "?" for its live fields.
STATES_NODE3_SILENT = f"node1|N|N|Y|{BOOT1}|3712\nnode2|N|N|Y|{BOOT2}|3650\nnode3|N|N|Y|?|?\n"
# Marked offline (an earlier, interrupted run): not asked, "*".
STATES_NODE3_OFFLINE = f"node1|N|N|Y|{BOOT1}|3712\nnode2|N|N|Y|{BOOT2}|3650\nnode3|Y|N|Y|*|*\n"
# Ganeti cannot tell whether an instance runs on a node that does not answer: "?".
INST2_ON_NODE3 = "inst2|node3||gluster|?|up|512|1024\n"
OFFLINE_NODE3 = ["/usr/sbin/gnt-node", "modify", "--offline=yes", "--auto-promote", "node3"]
FAILOVER_INST2 = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst2"]
REMOVE_NODE3 = ["/usr/sbin/gnt-node", "remove", "node3"]


def remove_node3(
    commands, answer=None, dead=True, evacuate=True, check_mode=False, nodes=("node3",), expected=False, others=()
):
    """ganeti_node removing node3 (dead: its port, probed from the master, answers `answer`),
    with `commands` the exact commands it may run, in order. (module result, addresses probed)"""
    probed = []

    def tcp_answer(address, port):
        probed.append((address, port))
        return answer

    args = {
        "nodes": list(nodes),
        "node_expected": expected,
        "other_hosts": list(others),
        "state": "absent",
        "dead": dead,
        "evacuate": evacuate,
        "_ansible_check_mode": check_mode,
    }
    with (
        # The marker for the node-remove hook is written under /var/lib; not here.
        mock.patch.object(ganeti_node, "removal_marker", lambda name: mock.MagicMock()),
        mock.patch.object(ganeti_node, "tcp_answer", tcp_answer),
        mock.patch.object(ganeti_node, "noded_port", lambda: 1811),
        # Names compare as names here (no resolver: a lookup of "node3" could wait for DNS).
        mock.patch.object(ganeti_cli, "addresses", lambda name: set()),
    ):
        return run_module(ganeti_node.main, args, commands), probed


def dead_node3_reads(nodes=NODES_WITH_NODE3, instances=INST2_ON_NODE3, states=STATES_NODE3_SILENT):
    return [
        Expected(NODE_LIST, 0, nodes),
        NO_JOBS,
        Expected(INSTANCE_LIST, 0, instances),
        Expected(NODE_STATES, 0, states),
        Expected(INFO, 0, out("cluster-info-gluster.txt")),
    ]


def test_a_dead_node_is_proven_dead_marked_offline_its_instances_fail_over_then_it_goes():
    result, probed = remove_node3(
        [
            *dead_node3_reads(),
            Expected(OFFLINE_NODE3),
            Expected(FAILOVER_INST2),
            Expected(INSTANCE_LIST, 0, "inst2|node1||gluster|Y|up|512|1024\n"),
            Expected(REMOVE_NODE3),
        ]
    )
    assert not result.failed, result.result
    assert (result.result["offlined"], result.result["removed"]) == (["node3"], ["node3"])
    assert probed == [("10.77.0.13", 1811)]
    assert result.result["dead_checks"] == {
        "node3": ["its ganeti-noded does not answer the master", "10.77.0.13 does not answer on port 1811"]
    }


def test_an_instance_not_running_after_the_failover_off_a_dead_node_stops_the_removal():
    result, _probed = remove_node3(
        [
            *dead_node3_reads(),
            Expected(OFFLINE_NODE3),
            Expected(FAILOVER_INST2),
            Expected(INSTANCE_LIST, 0, "inst2|node1||gluster|N|up|512|1024\n"),
        ]
    )
    assert result.failed
    assert result.result["msg"].startswith("after the failover, instances are not where and how they should be: inst2")


ALIVE_ADVICE = (
    "A cut management network is not a power cut, and an instance still running there would share its disks "
    "with its failed-over self: check the host's power and its out-of-band console (IPMI, iLO, iDRAC), power it "
    "off there and confirm that it stays off, then run again (a host that runs leaves with remove-node.yml; a new "
    "host that took one of its addresses must give it up until the dead node is removed). Nothing was changed."
)


@pytest.mark.parametrize(
    ("reads", "answer", "sign"),
    [
        (
            dead_node3_reads(states=STATES_NODE3_SILENT.replace("node3|N|N|Y|?|?", f"node3|N|N|Y|{BOOT3}|3500")),
            None,
            f"its ganeti-noded answers the master (boot id {BOOT3})",
        ),
        (
            dead_node3_reads(instances="inst2|node3||gluster|Y|up|512|1024\n"),
            None,
            "Ganeti reports inst2 running there",
        ),
        (dead_node3_reads(), "accepted", "10.77.0.13 accepts connections on ganeti-noded's port 1811"),
        (
            # Marked offline by an earlier run: Ganeti no longer asks it, the port still shows it up.
            dead_node3_reads(nodes=NODES_WITH_NODE3_OFFLINE, states=STATES_NODE3_OFFLINE),
            "refused",
            "10.77.0.13 answers (port 1811 refused the connection: the host is up)",
        ),
    ],
    ids=["noded-answers", "instance-runs", "port-accepts", "offline-but-host-up"],
)
def test_a_dead_node_that_shows_a_sign_of_life_is_refused_after_the_reads_only(reads, answer, sign):
    # The harness fails on any command not listed: only the three reads run.
    result, probed = remove_node3(reads, answer=answer)
    assert result.failed
    assert (
        result.result["msg"] == f"refusing to remove node3: node3 is declared dead but is not: {sign}. " + ALIVE_ADVICE
    )
    assert probed == [("10.77.0.13", 1811)]
    assert result.result["changed"] is False and result.result["commands"] == []


def test_a_node_offline_from_an_interrupted_run_is_checked_again_and_not_marked_twice():
    result, probed = remove_node3(
        [
            *dead_node3_reads(nodes=NODES_WITH_NODE3_OFFLINE, states=STATES_NODE3_OFFLINE),
            Expected(FAILOVER_INST2),
            Expected(INSTANCE_LIST, 0, "inst2|node1||gluster|Y|up|512|1024\n"),
            Expected(REMOVE_NODE3),
        ]
    )
    assert not result.failed, result.result
    assert result.result["offlined"] == [] and probed == [("10.77.0.13", 1811)]
    assert result.result["dead_checks"]["node3"][0] == "marked offline: Ganeti no longer asks it"


def test_a_dead_node_in_check_mode_is_proven_dead_and_nothing_is_changed():
    result, probed = remove_node3(dead_node3_reads(), check_mode=True)
    assert not result.failed, result.result
    assert probed == [("10.77.0.13", 1811)]
    assert result.result["changed"] is True
    assert result.result["commands"] == [OFFLINE_NODE3, FAILOVER_INST2, REMOVE_NODE3]


def test_the_proof_comes_before_the_switch_refusal_and_both_are_said():
    result, _probed = remove_node3(dead_node3_reads(instances="inst2|node3||gluster|Y|up|512|1024\n"), evacuate=False)
    assert result.failed
    message = result.result["msg"]
    assert message.startswith("refusing to remove node3: node3 is declared dead but is not: Ganeti reports inst2")
    assert "node3 is the primary node of inst2: run with ganeti_failover_dead=true" in message


def test_a_failover_that_does_not_fit_the_targets_memory_is_refused_before_the_offline_mark():
    states = STATES_NODE3_SILENT.replace("|3712", "|400").replace("|3650", "|256")
    result, _probed = remove_node3(dead_node3_reads(states=states))
    assert result.failed
    assert result.result["msg"] == (
        "refusing to remove node3: inst2 needs 1024 MiB free on its new node (its maxmem: Ganeti starts it with up "
        "to that much, and the guest may use all of it) and no node has that much left once the others are placed "
        "(node1 400 MiB, node2 256 MiB): free memory there, or move instances elsewhere first; a guest that gives "
        "memory back (a balloon driver) needs only its minmem: failover_memory=minmem. Nothing was changed."
    )


NODES_WITH_NODE4 = out("node-list.txt") + "node4|N|N|N|10.77.0.14|10.77.0.14|Y|Y\n"
INST1_ON_NODE4 = "inst1|node4||gluster|Y|up|128|256\n"


# Every node answers, and each has memory free: remove_node4's usual reads.
ALL_ANSWER = f"node1|N|N|Y|{BOOT1}|3712\nnode2|N|N|Y|{BOOT2}|3650\nnode4|N|N|Y|{BOOT3}|3000\n"


def remove_node4(
    states=ALL_ANSWER,
    then=(),
    gluster_host="127.0.0.1",
    resolved=None,
    instances=INST1_ON_NODE4,
    jobs=(NO_JOBS,),
    **args,
):
    """remove-node.yml's ganeti_node for node4, alive, with evacuate: no proof of death. The
    cluster's gluster:host is `gluster_host`; names resolve as `resolved` says (none by default);
    `jobs`: the reads of Ganeti's queue (none unfinished by default); `args`: more module arguments."""
    info = out("cluster-info-gluster.txt").replace("host: 127.0.0.1", f"host: {gluster_host}")
    with (
        mock.patch.object(ganeti_node, "removal_marker", lambda name: mock.MagicMock()),
        mock.patch.object(ganeti_node, "tcp_answer", mock.Mock(side_effect=AssertionError("probed a live node"))),
        mock.patch.object(ganeti_cli, "addresses", lambda name: set((resolved or {}).get(name, ()))),
    ):
        return run_module(
            ganeti_node.main,
            {"nodes": ["node4"], "state": "absent", "evacuate": True, **args},
            [
                Expected(NODE_LIST, 0, NODES_WITH_NODE4),
                *jobs,
                Expected(INSTANCE_LIST, 0, instances),
                Expected(NODE_STATES, 0, states),
                Expected(INFO, 0, info),
                *then,
            ],
        )


def test_a_drain_fails_instances_over_to_a_node_that_can_take_them():
    failover = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst1"]
    result = remove_node4(
        then=[
            Expected(failover),
            Expected(INSTANCE_LIST, 0, "inst1|node1||gluster|Y|up|128|256\n"),
            Expected(["/usr/sbin/gnt-node", "remove", "node4"]),
        ],
    )
    assert not result.failed, result.result
    assert result.result["failed_over"] == [{"instance": "inst1", "from": "node4", "to": "node1"}]
    assert result.result["offlined"] == [] and result.result["dead_checks"] == {}


def test_a_removal_reads_and_acts_under_the_lock_and_logs_its_hold(ganeti_lock_in_tmp):
    failover = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst1"]

    def lock_is_held():
        assert json.loads(Path(ganeti_lock_in_tmp).read_text())["owner"] == "remove-node.yml run by root"

    result = remove_node4(
        then=[
            Expected(failover, during=lock_is_held),
            Expected(INSTANCE_LIST, 0, "inst1|node1||gluster|Y|up|128|256\n"),
            Expected(["/usr/sbin/gnt-node", "remove", "node4"]),
        ],
        lock_owner="remove-node.yml run by root",
    )
    assert not result.failed, result.result
    assert 0 <= result.result["lock_waited"] < 1
    assert Path(ganeti_lock_in_tmp).read_text() == ""
    assert [hold["owner"] for hold in read_holds(ganeti_lock_in_tmp)] == ["remove-node.yml run by root"]


def test_a_removal_waits_for_the_lock_then_refuses_naming_its_holder_before_any_read(ganeti_lock_in_tmp):
    proc = holder(ganeti_lock_in_tmp)
    try:
        with mock.patch.object(ganeti_node, "check_master", mock.Mock(side_effect=AssertionError("read Ganeti"))):
            result = run_module(ganeti_node.main, {"nodes": ["node4"], "state": "absent", "lock_wait": 1}, [])
    finally:
        proc.kill()
        proc.wait()
    assert result.failed
    assert result.result["msg"].startswith(
        f"another run changes Ganeti's nodes: run A: add-node.yml from ctl1 (pid {proc.pid}, since"
    )
    assert "raise lock_wait (-e ganeti_lock_wait=SECONDS for the playbooks)" in result.result["msg"]
    assert result.result["lock_holder"]["pid"] == proc.pid


def test_a_plan_in_check_mode_waits_for_the_lock_too_and_adds_take_none(ganeti_lock_in_tmp):
    # A plan made while another run's module still moves instances would be stale; an add
    # fires the node-add hook, whose own run adds with state=present: that must never wait.
    proc = holder(ganeti_lock_in_tmp)
    try:
        with mock.patch.object(ganeti_node, "check_master", mock.Mock(side_effect=AssertionError("read Ganeti"))):
            planned = run_module(
                ganeti_node.main,
                {"nodes": ["node4"], "state": "absent", "lock_wait": 0, "_ansible_check_mode": True},
                [],
            )
        present = run_module(
            ganeti_node.main, {"nodes": ["node1"], "lock_wait": 0}, [Expected(NODE_LIST, 0, NODES_WITH_NODE4)]
        )
    finally:
        proc.kill()
        proc.wait()
    assert planned.failed and "another run changes Ganeti's nodes" in planned.result["msg"]
    assert "(-e ganeti_lock_wait=SECONDS for the playbooks)" in planned.result["msg"]
    assert not present.failed and present.result["added"] == []


def test_a_plan_in_check_mode_writes_nothing_where_no_run_ever_took_the_lock(ganeti_lock_in_tmp):
    planned = remove_node4(_ansible_check_mode=True)
    assert not planned.failed and planned.result["lock_waited"] == 0.0
    assert not os.path.exists(ganeti_lock_in_tmp) and not os.path.exists(ganeti_lock_in_tmp + ".log")
    # Once a run made it, a plan takes it, and its hold is logged as a check mode one.
    remove_node4(
        then=[
            Expected(["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst1"]),
            Expected(INSTANCE_LIST, 0, "inst1|node1||gluster|Y|up|128|256\n"),
            Expected(["/usr/sbin/gnt-node", "remove", "node4"]),
        ]
    )
    remove_node4(_ansible_check_mode=True)
    assert [hold.get("check_mode", False) for hold in read_holds(ganeti_lock_in_tmp)] == [False, True]


def test_a_failure_half_way_reports_only_what_was_done():
    # Two instances to move: the second failover fails; the first is done, the node is not removed.
    first = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst1"]
    second = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node2", "inst2"]
    result = remove_node4(
        instances=INST1_ON_NODE4 + "inst2|node4||gluster|Y|up|128|256\n",
        then=[Expected(first), Expected(second, 1, "", "Failure: prerequisites not met\n")],
    )
    assert result.failed
    assert result.result["failed_over"] == [{"instance": "inst1", "from": "node4", "to": "node1"}]
    assert result.result["removed"] == [] and result.result["offlined"] == []
    assert result.result["changed"] and result.result["commands"] == [first]
    assert result.result["msg"].endswith(
        "What was done before it is in offlined, failed_over and removed; fix the cause and run again, which goes "
        "on from there."
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [("N|up", "Y|up"), ("Y|down", "N|down")],
    ids=["crashed, admin up: started there", "running, admin down: stays down"],
)
def test_a_failover_off_a_live_node_leaves_each_instance_as_its_admin_state_says(before, after):
    failover = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst1"]
    result = remove_node4(
        instances=f"inst1|node4||gluster|{before}|128|256\n",
        then=[
            Expected(failover),
            Expected(INSTANCE_LIST, 0, f"inst1|node1||gluster|{after}|128|256\n"),
            Expected(["/usr/sbin/gnt-node", "remove", "node4"]),
        ],
    )
    assert not result.failed, result.result
    assert result.result["removed"] == ["node4"]


def test_a_gluster_host_name_that_still_leads_to_a_staying_node_lets_the_node_go():
    # A name over node1 and node4: node1 stays and still answers for it.
    failover = ["/usr/sbin/gnt-instance", "failover", "--force", "--target-node=node1", "inst1"]
    then = [
        Expected(failover),
        Expected(INSTANCE_LIST, 0, "inst1|node1||gluster|Y|up|128|256\n"),
        Expected(["/usr/sbin/gnt-node", "remove", "node4"]),
    ]
    resolved = {"gluster.example.com": ["10.77.0.11", "10.77.0.14"]}
    result = remove_node4(then=then, gluster_host="gluster.example.com", resolved=resolved)
    assert not result.failed, result.result


def test_the_node_every_client_asks_for_the_volume_is_refused_before_anything_changes():
    result = remove_node4(gluster_host="10.77.0.14")
    assert result.failed
    assert result.result["msg"].startswith(
        "refusing to remove node4: node4 is the Gluster server every node's client asks for the volume "
        "(gluster:host=10.77.0.14): once it leaves, no instance can start, migrate or fail over."
    )
    assert result.result["msg"].endswith("Nothing was changed.")


def test_a_drain_whose_other_nodes_cannot_take_an_instance_changes_nothing():
    # node1 drained, node2 not vm_capable: no target, refused after the reads.
    states = f"node1|N|Y|Y|{BOOT1}|3712\nnode2|N|N|N|{BOOT2}|?\nnode4|N|N|Y|{BOOT3}|3000\n"
    result = remove_node4(states)
    assert result.failed
    assert result.result["msg"] == (
        "refusing to remove node4: no node can take inst1: node1 is drained; node2 is not vm_capable. "
        "Nothing was changed."
    )


def test_a_removal_waits_for_a_failover_left_running_then_reads_the_nodes_again():
    # An earlier run's failover of inst1 off node4 still runs: the plan waits for it, and
    # the instance it moved is not failed over again.
    jobs = [
        Expected(UNFINISHED_JOBS, 0, "31|running|INSTANCE_FAILOVER(inst1)\n"),
        Expected(UNFINISHED_JOBS, 0, "31|running|INSTANCE_FAILOVER(inst1)\n"),
        NO_JOBS,
        Expected(NODE_LIST, 0, NODES_WITH_NODE4),
    ]
    with mock.patch.object(ganeti_cli.time, "sleep", lambda seconds: None):
        result = remove_node4(
            jobs=jobs,
            instances="inst1|node1||gluster|Y|up|128|256\n",
            then=[
                Expected(INSTANCE_LIST, 0, "inst1|node1||gluster|Y|up|128|256\n"),
                Expected(["/usr/sbin/gnt-node", "remove", "node4"]),
            ],
        )
    assert not result.failed, result.result
    assert result.result["jobs_waited"] == [{"id": 31, "status": "running", "summary": "INSTANCE_FAILOVER(inst1)"}]
    assert result.result["failed_over"] == [] and result.result["removed"] == ["node4"]


def test_a_removal_refuses_when_a_job_on_the_leaving_node_does_not_end_in_time():
    clock = mock.Mock(side_effect=[0.0, 11.0])  # at each listing of the queue
    jobs = [
        Expected(UNFINISHED_JOBS, 0, "32|waiting|NODE_SET_PARAMS(node4)\n33|running|CLUSTER_VERIFY_DISKS\n"),
        Expected(INSTANCE_PLACES, 0, "inst1|node4||\n"),
        Expected(UNFINISHED_JOBS, 0, "32|waiting|NODE_SET_PARAMS(node4)\n"),
    ]
    with mock.patch.object(ganeti_cli.time, "monotonic", clock):
        result = run_module(
            ganeti_node.main,
            {"nodes": ["node4"], "state": "absent", "evacuate": True, "lock_wait": 10},
            [Expected(NODE_LIST, 0, NODES_WITH_NODE4), *jobs],
        )
    assert result.failed
    assert result.result["msg"] == (
        "Ganeti jobs that move instances or touch node4 have not ended after 10 s: job 32 NODE_SET_PARAMS(node4) "
        "(waiting); a plan made now would move again what they move. Follow them with gnt-job watch 32, then run "
        "again (or give them longer: lock_wait). Nothing was changed."
    )
    assert result.result["commands"] == []
    assert [job["id"] for job in result.result["jobs_waited"]] == [32]


def test_cluster_info_module_on_the_master_reads_file_storage_paths_and_the_key(tmp_path):
    # What the role used to read with a slurp task each: the paths every node gets, and the key gnt-node add uses.
    paths = tmp_path / "file-storage-paths"
    paths.write_text("/srv/ganeti/file-storage\n")
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "id_rsa.pub").write_text(RSA)
    root = mock.Mock(pw_dir=str(tmp_path))
    with (
        mock.patch.object(ganeti_cluster_info, "FILE_STORAGE_PATHS", str(paths)),
        mock.patch.object(ganeti_cluster_info.pwd, "getpwnam", lambda name: root),
    ):
        found = run_module(
            ganeti_cluster_info.main,
            {},
            [Expected(INFO, 0, out("cluster-info-gluster.txt")), Expected(NODE_LIST, 0, out("node-list.txt"))],
        )
        paths.unlink()
        (tmp_path / ".ssh" / "id_rsa.pub").unlink()
        missing = run_module(
            ganeti_cluster_info.main,
            {},
            [Expected(INFO, 0, out("cluster-info-gluster.txt")), Expected(NODE_LIST, 0, out("node-list.txt"))],
        )
    assert found.result["file_storage_paths"] == "/srv/ganeti/file-storage\n"
    assert found.result["ssh_public_key"] == RSA
    assert [n["name"] for n in found.result["nodes"]] == ["node1", "node2"]
    assert (missing.result["file_storage_paths"], missing.result["ssh_public_key"]) == (None, None)


def test_a_dead_host_no_node_is_named_after_is_refused_while_a_node_does_not_answer():
    # Ganeti knows node3 by a name and address the inventory does not give.
    names = ("storage3.mgmt", "192.0.2.13")
    silent = [Expected(NODE_LIST, 0, NODES_WITH_NODE3), Expected(NODE_STATES, 0, STATES_NODE3_SILENT)]
    result, _probed = remove_node3(silent, nodes=names, expected=True)
    assert result.failed and result.result["commands"] == []
    assert result.result["msg"] == (
        "no Ganeti node is named storage3.mgmt, 192.0.2.13 (by name, or an address such a name resolves to on the "
        "master), and Ganeti has nodes that do not answer: node3. If one of them is that host, give its name as "
        "Ganeti knows it (ganeti_gluster_disk_node_name), then run again. Nothing was changed."
    )
    # Every node answers: the dead host was removed before; nothing to do.
    answering = [
        Expected(NODE_LIST, 0, out("node-list.txt")),
        Expected(NODE_STATES, 0, STATES_NODE3_SILENT.replace("node3|N|N|Y|?|?\n", "")),
    ]
    result, _probed = remove_node3(answering, nodes=names, expected=True)
    assert not result.failed and not result.result["changed"], result.result
    # The silent node is another inventory host's (kept offline, another dead host): not this one.
    result, _probed = remove_node3(silent, nodes=names, expected=True, others=["node3"])
    assert not result.failed and not result.result["changed"], result.result
    # A host the inventory does not declare a Ganeti node is not looked for.
    result, _probed = remove_node3([Expected(NODE_LIST, 0, NODES_WITH_NODE3)], nodes=names)
    assert not result.failed and not result.result["changed"], result.result
