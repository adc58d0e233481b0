"""rolling.yml's decisions before any node is touched: the order, and what a host down would break."""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.filter.rolling import rolling_order, rolling_refusals


def report(name, kind, sets, client="auto"):
    """A gluster_volume_health volume report: `sets` lists each set's host UUIDs."""
    bricks, entries = [], []
    for index, hosts in enumerate(sets):
        for n, uuid in enumerate(hosts):
            bricks.append({"name": f"{uuid}:/b{index}{n}", "host_uuid": uuid, "set": index})
        size = len(hosts)
        entries.append({"index": index, "quorum": 1 if size == 1 else size // 2 + 1})
    return {"name": name, "type": kind, "bricks": bricks, "sets": entries, "quorum": {"client": client}}


def test_the_master_goes_last_and_unknown_names_are_errors():
    hosts = ["node1", "node2", "node3", "node4"]
    assert rolling_order(hosts, None, "node1") == {
        "order": ["node2", "node3", "node4", "node1"],
        "errors": [],
        "done": [],
    }
    assert rolling_order(hosts, "node3, node1,node3", "node1")["order"] == ["node3", "node1"]
    # node4 was left down by an interrupted roll: finished first, even when not asked for.
    assert rolling_order(hosts, "node2,node1", "node1", ["node4"])["order"] == ["node4", "node2", "node1"]
    assert rolling_order(hosts, ["node9"], None) == {
        "order": [],
        "errors": ["node9 is not a host of gluster_pool or ganeti_nodes in this inventory"],
        "done": [],
    }


def test_a_rerun_of_a_roll_leaves_out_what_it_finished_but_not_what_it_left_unfinished():
    hosts = ["node1", "node2", "node3", "node4"]
    # Interrupted at node3 after node2: node3 first, node2 left out, the master still last.
    again = rolling_order(hosts, None, "node1", ["node3"], ["node2"])
    assert (again["order"], again["done"]) == (["node3", "node4", "node1"], ["node2"])
    # Every node finished, the master too: nothing to do.
    assert rolling_order(hosts, None, "node1", [], hosts)["order"] == []
    # A mark never outweighs an unfinished roll.
    assert rolling_order(hosts, "node2", "node1", ["node2"], ["node2"])["order"] == ["node2"]


def test_replica_3_sets_on_distinct_hosts_roll():
    volume = report("gv0", "Distributed-Replicate", [["u1", "u2", "u3"], ["u4", "u1", "u2"]])
    assert rolling_refusals([volume], {"node1": "u1", "node4": "u4"}) == []


def test_two_bricks_of_a_set_on_one_host_and_replica_2_lose_quorum():
    twice = report("gv0", "Replicate", [["u1", "u1", "u2"]])
    (line,) = rolling_refusals([twice], {"node1": "u1", "node2": "u2"})
    assert line.startswith("set 0 of volume gv0 (u1:/b00, u1:/b01, u2:/b02) keeps 1 of 3 bricks with node1 down")
    pair = report("gv1", "Replicate", [["u1", "u2"]])
    # auto quorum on 2 bricks: the first alone holds it, the second alone does not.
    assert rolling_refusals([pair], {"node2": "u2"}) == []
    assert len(rolling_refusals([pair], {"node1": "u1"})) == 1


def test_one_copy_left_without_client_quorum_is_refused_but_not_with_an_arbiter():
    # Gluster's default for replica 2: quorum-type none, so either host down leaves one copy taking writes.
    pair = report("gv1", "Replicate", [["u1", "u2"]], client="none")
    pair["sets"][0]["quorum"] = 1
    for host, uuid in (("node1", "u1"), ("node2", "u2")):
        (line,) = rolling_refusals([pair], {host: uuid})
        assert line.startswith(f"set 0 of volume gv1 (u1:/b00, u2:/b01) keeps one copy of its files with {host} down")
    # A fixed quorum of one brick is the same.
    fixed = report("gv4", "Replicate", [["u1", "u2"]], client="fixed")
    fixed["sets"][0]["quorum"] = 1
    assert len(rolling_refusals([fixed], {"node1": "u1"})) == 1
    # A fixed quorum of 1 on replica 3 leaves two copies with one host down.
    three = report("gv2", "Replicate", [["u1", "u2", "u3"]], client="none")
    assert rolling_refusals([three], {"node1": "u1"}) == []
    # Replica 3 arbiter 1 at quorum auto: one data copy and the arbiter keep quorum, as Gluster designs it.
    arbitrated = report("gv3", "Replicate", [["u1", "u2", "u3"]])
    arbitrated["bricks"][2]["arbiter"] = True
    assert rolling_refusals([arbitrated], {"node1": "u1"}) == []


def test_dispersed_and_pure_distribute_volumes_are_refused_only_where_a_host_holds_bricks():
    dispersed = report("ec", "Disperse", [["u1", "u2", "u3"]])
    plain = report("plain", "Distribute", [["u1"], ["u2"]])
    refusals = rolling_refusals([dispersed, plain], {"node1": "u1"})
    assert [line.split(" is ")[0] for line in refusals] == ["volume ec", "volume plain"]
    assert rolling_refusals([dispersed, plain], {"node5": "u5"}) == []


def test_server_quorum_that_one_peer_down_would_lose_is_refused_for_any_host_of_the_pool():
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import server_quorum_needed

    volume = report("gv0", "Replicate", [["u1", "u2", "u3"]])
    on = {"cluster.server-quorum-type": "server"}

    def with_quorum(total, options):
        return {
            **volume,
            "quorum": {
                "client": "auto",
                "server_enabled": True,
                "server_total": total,
                "server_needed": server_quorum_needed(total, options),
            },
        }

    # 3 peers need 2 (more than half): one down keeps it.
    assert rolling_refusals([with_quorum(3, on)], {"node1": "u1"}) == []
    # At a ratio of 90 %, 3 peers need 3; node4 holds no brick of gv0 and still counts.
    strict = with_quorum(3, {**on, "cluster.server-quorum-ratio": "90"})
    (line,) = rolling_refusals([strict], {"node4": "u4"})
    assert line.startswith("volume gv0 has server quorum on (cluster.server-quorum-type server), which needs 3 of")
    # 2 peers need 2: the default loses it too.
    assert len(rolling_refusals([with_quorum(2, on)], {"node2": "u2"})) == 1
    assert rolling_refusals([strict], {}) == []


def test_the_plan_says_each_turn_its_moves_and_its_sets_while_down():
    from ansible_collections.ganeti_gluster.cluster.plugins.filter.rolling import rolling_plan

    volume = report("gv0", "Distributed-Replicate", [["u1", "u2", "u3"], ["u4", "u1", "u2"]])
    for brick in volume["bricks"]:
        brick["online"] = brick["host_uuid"] != "u3"  # node3's brick is down now
    moves = {"node2": [{"instance": "inst1", "to": "node4", "how": "migrate"}]}
    uuids = {"node1": "u1", "node2": "u2", "node4": "u4"}
    lines = rolling_plan(["node2", "node4", "node1"], moves, [volume], uuids, "node1")
    assert lines == [
        "1. node2: instances inst1 to node4 (migrate); while it is down: gv0 set 0 1 of 3 up (2 needed); "
        "gv0 set 1 2 of 3 up (2 needed)",
        "2. node4: instances none; while it is down: gv0 set 1 2 of 3 up (2 needed)",
        "3. node1 (the Ganeti master: handed over to a master candidate first): instances none; while it is down: "
        "gv0 set 0 1 of 3 up (2 needed); gv0 set 1 2 of 3 up (2 needed)",
    ]
