"""ganeti_node_maintenance: draining a node for maintenance (its instances live-migrated off,
placed by memory) and undraining it (its instances migrated back), on `gnt-* list` outputs
as Ganeti 3.0 prints them with --separator and --units=m. Each case states every command
the module runs, in order (module_harness fails on any other), so a refusal or a check-mode
run that lists reads only proves that nothing was changed."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import ganeti_cli
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    Instance,
    node_drained_args,
    parse_instance_moves,
    parse_job_id,
    parse_job_status,
    parse_jobs,
    parse_tags,
    submitted,
    tag_problem,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules import ganeti_node_maintenance
from ansible_collections.ganeti_gluster.cluster.plugins.modules.ganeti_node_maintenance import migration_memory

from .module_harness import Expected, holder, run_module
from .test_ganeti import (
    BOOT1,
    BOOT2,
    BOOT3,
    INSTANCE_PLACES,
    NO_JOBS,
    NODE_LIST,
    NODE_STATES,
    UNFINISHED_JOBS,
    out,
)

GNT_NODE, GNT_INSTANCE, GNT_JOB = "/usr/sbin/gnt-node", "/usr/sbin/gnt-instance", "/usr/sbin/gnt-job"
MOVE_LIST = [
    GNT_INSTANCE,
    "list",
    "--no-headers",
    "--separator=|",
    "--units=m",
    "--output=name,pnode,snodes,disk_template,oper_state,admin_state,be/minmem,be/maxmem,oper_ram,tags,"
    "be/always_failover",
]
ROLL = "ganeti-gluster:rolling"
HOME2 = "ganeti-gluster:home:node2"

# node1 the master, node2 the node under maintenance, node3 a plain node.
NODES = out("node-list.txt") + "node3|N|N|N|10.77.0.13|10.77.0.13|Y|Y\n"
STATES = f"node1|N|N|Y|{BOOT1}|3712\nnode2|N|N|Y|{BOOT2}|3650\nnode3|N|N|Y|{BOOT3}|3000\n"
STATES_NODE2_DRAINED = STATES.replace("node2|N|N|", "node2|N|Y|")


def row(name, pnode, template="gluster", snodes="", oper="Y", admin="up", minmem=256, maxmem=1024, ram=512, **kw):
    """One line of gnt-instance list with the move fields; a stopped guest has no oper_ram ("-")."""
    tags, always = kw.get("tags", ""), kw.get("always", "N")
    ram = "-" if oper != "Y" else ram
    return f"{name}|{pnode}|{snodes}|{template}|{oper}|{admin}|{minmem}|{maxmem}|{ram}|{tags}|{always}\n"


def reads(node="node2", states=STATES, tags="", instances="", nodes=NODES, queue=True):
    """The reads every run starts with, in order (queue=False: those after a wait for jobs,
    which do not list Ganeti's queue again)."""
    return [
        Expected(NODE_LIST, 0, nodes),
        *([NO_JOBS] if queue else []),
        Expected(NODE_STATES, 0, states),
        Expected([GNT_NODE, "list-tags", node], 0, tags),
        Expected(MOVE_LIST, 0, instances),
    ]


def tag(kind, name, value):
    return [f"/usr/sbin/gnt-{kind}", "add-tags", name, value]


def untag(kind, name, value):
    return [f"/usr/sbin/gnt-{kind}", "remove-tags", name, value]


def migrate(name, target):
    live = [GNT_INSTANCE, "migrate", "--force", "--no-runtime-changes", f"--target-node={target}"]
    return [*live, "--submit", "--print-jobid", name]


def failover(name, target):
    return [GNT_INSTANCE, "failover", "--force", f"--target-node={target}", "--submit", "--print-jobid", name]


def job(job_id, *statuses, fails=""):
    """Ganeti's queue answering job `job_id`: `statuses` as gnt-job list prints them, in
    order; a job that failed is then waited for, Ganeti's error on stderr."""
    steps = [
        Expected(
            [GNT_JOB, "list", "--no-headers", "--separator=|", "--output=id,status", str(job_id)], 0, f"{job_id}|{s}\n"
        )
        for s in statuses
    ]
    if fails:
        steps.append(Expected([GNT_JOB, "wait", str(job_id)], 1, "", f"Job {job_id} failed: {fails}\n"))
    return steps


def submit(argv, job_id):
    return Expected(argv, 0, f"{job_id}\n", f"JobID: {job_id}\n")


DRAIN = [GNT_NODE, "modify", "--drained=yes", "--auto-promote", "node2"]
UNDRAIN = [GNT_NODE, "modify", "--drained=no", "node2"]


def maintain(args, commands, check_mode=False, diff=False, addresses=None, clock=None):
    """ganeti_node_maintenance on the master (node1), names compared as names unless
    `addresses` resolves them; pauses between job polls cost no time."""
    module_args = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with (
        mock.patch.object(ganeti_node_maintenance, "check_master", lambda: "node1"),
        mock.patch.object(ganeti_cli, "addresses", addresses or (lambda name: set())),
        mock.patch.object(ganeti_node_maintenance.time, "sleep", lambda seconds: None),
        mock.patch.object(ganeti_node_maintenance.time, "monotonic", clock or mock.Mock(return_value=100.0)),
    ):
        return run_module(ganeti_node_maintenance.main, args=module_args, commands=commands)


def mutating(result):
    return [argv for argv in result.result["commands"] if "list" not in argv[1]]


# inst1 runs on node2 (512 MiB), inst2 is down there, inst9 runs on node1 and stays.
ON_NODE2 = row("inst1", "node2") + row("inst2", "node2", oper="N", admin="down") + row("inst9", "node1")
AFTER_INST1 = row("inst1", "node1", tags=HOME2) + row("inst2", "node2", oper="N", admin="down") + row("inst9", "node1")
AFTER_BOTH = (
    row("inst1", "node1", tags=HOME2)
    + row("inst2", "node3", oper="N", admin="down", tags=HOME2)
    + row("inst9", "node1")
)
DRAIN_COMMANDS = [
    tag("node", "node2", ROLL),
    DRAIN,
    tag("instance", "inst1", HOME2),
    migrate("inst1", "node1"),
    tag("instance", "inst2", HOME2),
    failover("inst2", "node3"),
]


def test_a_drain_tags_the_node_drains_it_and_moves_each_instance_then_checks_it():
    result = maintain(
        {"node": "node2", "state": "drained"},
        [
            *reads(instances=ON_NODE2),
            Expected(DRAIN_COMMANDS[0]),
            Expected(DRAIN),
            Expected(DRAIN_COMMANDS[2]),
            submit(migrate("inst1", "node1"), 17),
            *job(17, "running", "success"),
            Expected(MOVE_LIST, 0, AFTER_INST1),
            Expected(DRAIN_COMMANDS[4]),
            submit(failover("inst2", "node3"), 18),
            *job(18, "success"),
            Expected(MOVE_LIST, 0, AFTER_BOTH),
        ],
        diff=True,
    )
    assert not result.failed, result.result
    r = result.result
    assert r["changed"] is True and r["node"] == "node2" and r["drained_by_admin"] is False
    # inst1 runs: live-migrated to the node with most memory; inst2 is down: failed over, to the node with fewest.
    assert (
        r["plan"]
        == r["moved"]
        == [
            {"instance": "inst1", "from": "node2", "to": "node1", "how": "migrate"},
            {"instance": "inst2", "from": "node2", "to": "node3", "how": "failover"},
        ]
    )
    assert r["commands"] == DRAIN_COMMANDS
    assert r["diff"] == {
        "before": {"drained": False, "primaries": ["inst1", "inst2"]},
        "after": {"drained": True, "primaries": []},
    }


def test_check_mode_plans_everything_and_runs_the_reads_only():
    result = maintain({"node": "node2", "state": "drained"}, reads(instances=ON_NODE2), check_mode=True)
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["commands"] == DRAIN_COMMANDS
    assert [m["to"] for m in result.result["plan"]] == ["node1", "node3"] and result.result["moved"] == []


def test_a_drain_waits_for_another_runs_lock_then_refuses_before_any_read(ganeti_lock_in_tmp):
    # The module of a run whose controller was killed may still be moving instances off the node.
    proc = holder(ganeti_lock_in_tmp)
    try:
        result = maintain({"node": "node2", "state": "drained", "lock_wait": 1}, [])
        planned = maintain({"node": "node2", "state": "drained", "lock_wait": 0}, [], check_mode=True)
    finally:
        proc.kill()
        proc.wait()
    assert result.failed  # and ran nothing: the script above is empty
    assert result.result["msg"].startswith(
        f"another run changes Ganeti's nodes: run A: add-node.yml from ctl1 (pid {proc.pid}"
    )
    # A plan in check mode waits too: made while another run's module moves instances, it would be stale.
    assert planned.failed and "another run changes Ganeti's nodes" in planned.result["msg"]


def test_a_drain_says_how_long_it_waited_for_the_lock():
    result = maintain(
        {"node": "node2", "state": "drained"},
        reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AFTER_BOTH),
    )
    assert not result.failed and 0 <= result.result["lock_waited"] < 1


def test_a_drained_tagged_node_without_primaries_changes_nothing():
    result = maintain(
        {"node": "node2", "state": "drained"},
        reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AFTER_BOTH),
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"], result.result["plan"]) == (False, [], [])


def test_a_rerun_after_an_interrupted_drain_goes_on_without_tagging_twice():
    # Drained and tagged by the roll; inst1 was tagged, then the run stopped before its migration.
    result = maintain(
        {"node": "node2", "state": "drained"},
        [
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=row("inst1", "node2", tags=HOME2)),
            submit(migrate("inst1", "node1"), 21),
            *job(21, "success"),
            Expected(MOVE_LIST, 0, row("inst1", "node1", tags=HOME2)),
        ],
    )
    assert not result.failed, result.result
    assert result.result["commands"] == [migrate("inst1", "node1")]


def test_a_drain_waits_for_a_move_an_earlier_run_left_running_then_plans_from_where_it_ended():
    # The earlier run stopped waiting for inst1's migration (its timeout); job 40 still runs.
    result = maintain(
        {"node": "node2", "state": "drained"},
        [
            Expected(NODE_LIST, 0, NODES),
            Expected(UNFINISHED_JOBS, 0, "40|running|INSTANCE_MIGRATE(inst1)\n"),
            Expected(UNFINISHED_JOBS, 0, "40|running|INSTANCE_MIGRATE(inst1)\n"),
            NO_JOBS,
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AFTER_INST1, queue=False),
            Expected(DRAIN_COMMANDS[4]),
            submit(failover("inst2", "node1"), 41),
            *job(41, "success"),
            Expected(MOVE_LIST, 0, AFTER_BOTH.replace("inst2|node3", "inst2|node1")),
        ],
    )
    assert not result.failed, result.result
    assert result.result["jobs_waited"] == [{"id": 40, "status": "running", "summary": "INSTANCE_MIGRATE(inst1)"}]
    # inst1 is not moved again: the plan is inst2's failover alone.
    assert result.result["plan"] == [{"instance": "inst2", "from": "node2", "to": "node1", "how": "failover"}]
    assert result.result["commands"] == [DRAIN_COMMANDS[4], failover("inst2", "node1")]


def test_only_jobs_that_place_instances_or_name_the_node_or_its_instances_are_waited_for():
    # inst1.example.net is on node2 (an admin's shutdown names it by its first label), inst9 on node1.
    queue = (
        "50|running|CLUSTER_VERIFY_DISKS\n51|queued|INSTANCE_STARTUP(inst9)\n52|waiting|INSTANCE_SHUTDOWN(inst1)\n"
        "53|queued|INSTANCE_REBOOT(inst10)\n"
    )
    instances = row("inst1.example.net", "node2") + row("inst9", "node1")
    result = maintain(
        {"node": "node2", "state": "drained"},
        [
            Expected(NODE_LIST, 0, NODES),
            Expected(UNFINISHED_JOBS, 0, queue),
            Expected(INSTANCE_PLACES, 0, "inst1.example.net|node2||\ninst9|node1||\ninst10|node3||\n"),
            NO_JOBS,
            *reads(instances=instances, queue=False),
        ],
        check_mode=True,
    )
    assert not result.failed, result.result
    assert [job["id"] for job in result.result["jobs_waited"]] == [52]


def test_a_drain_refuses_when_a_move_does_not_end_within_lock_wait():
    clock = mock.Mock(side_effect=[0.0, 5.0, 31.0])  # at each listing of the queue
    result = maintain(
        {"node": "node2", "state": "drained", "lock_wait": 30},
        [
            Expected(NODE_LIST, 0, NODES),
            *[Expected(UNFINISHED_JOBS, 0, "40|running|INSTANCE_MIGRATE(inst1)\n")] * 3,
        ],
        clock=clock,
    )
    assert result.failed
    assert result.result["msg"] == (
        "Ganeti jobs that move instances or touch node2 have not ended after 30 s: job 40 INSTANCE_MIGRATE(inst1) "
        "(running); a plan made now would move again what they move. Follow them with gnt-job watch 40, then run "
        "again (or give them longer: lock_wait). Nothing was changed."
    )
    assert (result.result["changed"], result.result["commands"]) == (False, [])
    assert result.result["jobs_waited"] == [{"id": 40, "status": "running", "summary": "INSTANCE_MIGRATE(inst1)"}]


def test_a_nodes_migration_is_waited_for_to_the_end_of_the_jobs_it_submits():
    # gnt-node migrate ends once it has submitted a job per instance: those are waited for too.
    result = maintain(
        {"node": "node2", "state": "drained"},
        [
            Expected(NODE_LIST, 0, NODES),
            Expected(UNFINISHED_JOBS, 0, "60|running|NODE_MIGRATE(node2)\n"),
            Expected(UNFINISHED_JOBS, 0, "61|queued|INSTANCE_MIGRATE(inst1)\n"),
            NO_JOBS,
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AFTER_BOTH, queue=False),
        ],
    )
    assert not result.failed, result.result
    assert [job["id"] for job in result.result["jobs_waited"]] == [60, 61]
    assert result.result["commands"] == []


def test_the_queue_is_parsed_op_by_op():
    jobs = parse_jobs(
        "7|running|INSTANCE_MIGRATE(inst1)\n8|queued|CLUSTER_VERIFY_DISKS,NODE_SET_PARAMS(node2)\n"
        "9|waiting|TAGS_SET(a,b)\n"
    )
    assert [(j.id, j.status, j.ops) for j in jobs] == [
        (7, "running", (("INSTANCE_MIGRATE", "inst1"),)),
        (8, "queued", (("CLUSTER_VERIFY_DISKS", ""), ("NODE_SET_PARAMS", "node2"))),
        (9, "waiting", (("TAGS_SET", "a,b"),)),
    ]
    assert jobs[1].summary == "CLUSTER_VERIFY_DISKS,NODE_SET_PARAMS(node2)"
    assert [j.places_instances() for j in jobs] == [True, False, False]
    assert jobs[1].names_any(["node2.example.net"]) and jobs[1].names_any(["NODE2"])
    assert not jobs[1].names_any(["node20", "node"])
    with pytest.raises(ValueError, match="not a job's id, status and summary"):
        parse_jobs("running|INSTANCE_MIGRATE(inst1)\n")


def test_a_node_named_by_its_address_is_found_and_a_first_label_is_not():
    resolver = {"node2.example.net": {"10.77.0.12"}, "node2.rack-b": {"10.9.0.2"}}.get
    found = maintain(
        {"node": "node2.example.net", "state": "drained"},
        reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n"),
        addresses=lambda name: resolver(name, set()),
    )
    assert (found.failed, found.result["node"], found.result["changed"]) == (False, "node2", False)
    other = maintain(
        {"node": "node2.rack-b", "state": "drained"},
        [Expected(NODE_LIST, 0, NODES)],
        addresses=lambda name: resolver(name, set()),
    )
    assert other.failed
    assert other.result["msg"] == (
        "refusing to drain node2.rack-b: node2.rack-b is not a Ganeti node (Ganeti's nodes: node1, node2, node3); "
        "give one by its name or address. Nothing was changed."
    )


NOT_BEFORE = "Nothing was changed."


@pytest.mark.parametrize(
    ("node", "commands", "said"),
    [
        (
            "node9",
            [Expected(NODE_LIST, 0, NODES)],
            "node9 is not a Ganeti node (Ganeti's nodes: node1, node2, node3); give one by its name or address",
        ),
        (
            "node1",
            [Expected(NODE_LIST, 0, NODES)],
            "node1 is the master; hand the master role over first: run gnt-cluster master-failover on a master "
            "candidate (node2), then run again",
        ),
        (
            "node3",
            [Expected(NODE_LIST, 0, NODES.replace("node3|N|N|N", "node3|N|Y|N"))],
            "node3 is offline; Ganeti sends it nothing (gnt-node modify --offline=no brings it back)",
        ),
        (
            "node2",
            reads(instances=row("db", "node2", "plain")),
            "db (plain) cannot move off node2 without stopping: its disks are on node2's local storage; move it "
            "first (gnt-instance move, or export and import)",
        ),
        (
            "node2",
            reads(instances=row("mirror", "node1", "drbd", "node2")),
            "mirror has its DRBD secondary on node2: its disks would have one copy while node2 is down; move the "
            "secondary first (gnt-instance replace-disks -n OTHER mirror)",
        ),
        (
            "node2",
            reads(instances=row("mirror", "node2", "drbd", "node3")),
            "mirror (drbd) can only migrate to its secondary, after which node2 holds its other copy and its disks "
            "have one copy while node2 is down; move it off node2 first (gnt-node evacuate, or gnt-instance "
            "migrate then gnt-instance replace-disks -n OTHER)",
        ),
        (
            "node2",
            reads(instances=row("crashed", "node2", oper="N")),
            "crashed is marked up but does not run on node2, so it cannot be live-migrated: start it (gnt-instance "
            "startup) or mark it down (gnt-instance shutdown), or run with allow_failover=true (Ganeti starts it on "
            "its new node)",
        ),
        (
            "node2",
            reads(instances=row("legacy", "node2", always="Y")),
            "legacy is set to always fail over (be/always_failover): Ganeti would stop it to move it off node2; run "
            "with allow_failover=true to accept that, or set be/always_failover=false",
        ),
        (
            "node2",
            reads(instances=row("big", "node2", ram=3500) + row("mid", "node2", ram=3200)),
            "mid needs 3200 MiB free on its new node (the memory it runs with, at least its minmem) and no node "
            "has that much left once the others are placed (node1 212 MiB, node3 3000 MiB): free memory there, or "
            "move instances elsewhere first",
        ),
        (
            "node2",
            reads(
                states=f"node1|N|Y|Y|{BOOT1}|3712\nnode2|N|N|Y|{BOOT2}|3650\nnode3|N|N|N|{BOOT3}|?\n",
                instances=row("inst1", "node2"),
            ),
            "no node can take inst1: node1 is drained; node3 is not vm_capable",
        ),
        (
            "node2",
            reads(states=STATES.replace(f"node2|N|N|Y|{BOOT2}|3650", "node2|N|N|Y|?|?"), instances=row("i", "node2")),
            "node2's ganeti-noded does not answer the master, and the instances' moves need it",
        ),
    ],
    ids=[
        "unknown",
        "master",
        "offline",
        "local-storage",
        "drbd-secondary",
        "drbd-primary",
        "up-not-running",
        "always-failover",
        "memory-short",
        "no-target",
        "node-silent",
    ],
)
def test_each_refusal_says_why_after_the_reads_only(node, commands, said):
    result = maintain({"node": node, "state": "drained"}, commands)
    assert result.failed
    assert result.result["msg"] == f"refusing to drain {node}: {said}. {NOT_BEFORE}"
    assert (result.result["changed"], result.result["commands"]) == (False, [])


def test_a_node_whose_home_tag_ganeti_would_refuse_is_refused():
    long_name = "a" * 60 + "." + "b" * 60
    nodes = NODES + f"{long_name}|N|N|N|10.77.0.14|10.77.0.14|Y|Y\n"
    result = maintain({"node": long_name, "state": "drained"}, reads(node=long_name, nodes=nodes))
    assert result.failed
    assert f"tag 'ganeti-gluster:home:{long_name}' is longer than Ganeti's 128 characters" in result.result["msg"]
    assert result.result["commands"] == []


def test_memory_is_what_the_guest_runs_with_and_at_least_its_minmem():
    # Spread: big (3500) on node1 (212 left), mid (2900) on node3 (100 left): both fit.
    instances = row("big", "node2", ram=3500) + row("mid", "node2", ram=2900)
    result = maintain({"node": "node2", "state": "drained"}, reads(instances=instances), check_mode=True)
    assert not result.failed, result.result
    assert [(m["instance"], m["to"]) for m in result.result["plan"]] == [("big", "node1"), ("mid", "node3")]


@pytest.mark.parametrize(
    ("minmem", "maxmem", "ram", "needed"),
    [
        (256, 1024, 512, 512),
        (768, 1024, 512, 768),
        (256, 1024, None, 1024),
        (None, 1024, None, 1024),
        (256, None, None, None),
    ],
    ids=["running-memory", "minmem-larger", "maxmem-when-unread", "no-minmem", "nothing-known"],
)
def test_migration_memory_follows_ganetis_checks(minmem, maxmem, ram, needed):
    instance = Instance("i", "node2", (), "gluster", True, True, minmem, maxmem, ram)
    assert migration_memory(instance) == needed


def test_a_failed_live_migration_is_failed_over_with_allow_failover():
    error = "Failure: command execution error:\nCould not migrate instance inst1: migration aborted"
    result = maintain(
        {"node": "node2", "state": "drained", "allow_failover": True},
        [
            *reads(instances=row("inst1", "node2")),
            Expected(tag("node", "node2", ROLL)),
            Expected(DRAIN),
            Expected(tag("instance", "inst1", HOME2)),
            submit(migrate("inst1", "node1"), 30),
            *job(30, "running", "error", fails=error),
            submit(failover("inst1", "node1"), 31),
            *job(31, "success"),
            Expected(MOVE_LIST, 0, row("inst1", "node1", tags=HOME2)),
        ],
    )
    assert not result.failed, result.result
    assert result.result["moved"] == [{"instance": "inst1", "from": "node2", "to": "node1", "how": "failover"}]
    assert result.result["plan"][0]["how"] == "migrate"
    assert mutating(result)[-2:] == [migrate("inst1", "node1"), failover("inst1", "node1")]


def test_a_failed_live_migration_without_allow_failover_stops_with_ganetis_error_and_the_node_drained():
    result = maintain(
        {"node": "node2", "state": "drained"},
        [
            *reads(instances=row("inst1", "node2")),
            Expected(tag("node", "node2", ROLL)),
            Expected(DRAIN),
            Expected(tag("instance", "inst1", HOME2)),
            submit(migrate("inst1", "node1"), 30),
            *job(30, "error", fails="Failure: command execution error:\nmigration aborted"),
        ],
    )
    assert result.failed
    assert result.result["msg"] == (
        "the live migration of inst1 from node2 to node1 failed: Job 30 failed: Failure: command execution error: "
        "migration aborted. node2 stays drained, so the next run goes on from here. Run again with "
        "allow_failover=true to fail it over instead (it stops and starts)."
    )
    assert result.result["changed"] is True and result.result["moved"] == []


def test_a_move_that_outlives_its_timeout_is_left_to_ganeti_and_named():
    clock = mock.Mock(side_effect=[0.0, 5.0, 901.0])  # the deadline, then two polls
    result = maintain(
        {"node": "node2", "state": "drained", "timeout": 900},
        [
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=row("inst1", "node2", tags=HOME2)),
            submit(migrate("inst1", "node1"), 40),
            *job(40, "running", "running"),
        ],
        clock=clock,
    )
    assert result.failed
    assert result.result["msg"] == (
        "a move off node2 (Ganeti job 40) has not ended after 900 s; it goes on in Ganeti: follow it with "
        "gnt-job watch 40. node2 stays drained, so the next run goes on from here."
    )


def test_an_instance_not_running_after_its_migration_stops_the_drain():
    result = maintain(
        {"node": "node2", "state": "drained"},
        [
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=row("inst1", "node2", tags=HOME2)),
            submit(migrate("inst1", "node1"), 41),
            *job(41, "success"),
            Expected(MOVE_LIST, 0, row("inst1", "node1", oper="N", tags=HOME2)),
        ],
    )
    assert result.failed
    assert result.result["msg"] == (
        "after its migrate, inst1 is on node1, stopped, not on node1, running. node2 stays drained, so the next "
        "run goes on from here."
    )


def test_a_node_its_admin_drained_keeps_the_admins_flag_through_drain_and_undrain():
    instances = row("inst1", "node2")
    drained = maintain(
        {"node": "node2", "state": "drained"},
        [
            *reads(states=STATES_NODE2_DRAINED, instances=instances),
            Expected(tag("instance", "inst1", HOME2)),
            submit(migrate("inst1", "node1"), 50),
            *job(50, "success"),
            Expected(MOVE_LIST, 0, row("inst1", "node1", tags=HOME2)),
        ],
    )
    assert not drained.failed, drained.result
    assert drained.result["drained_by_admin"] is True
    assert [argv[1] for argv in drained.result["commands"]] == ["add-tags", "migrate"]  # no drain, no node tag
    undrained = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True},
        [
            *reads(states=STATES_NODE2_DRAINED, instances=row("inst1", "node1", tags=HOME2)),
            Expected(untag("instance", "inst1", HOME2)),
        ],
        diff=True,
    )
    assert not undrained.failed, undrained.result
    r = undrained.result
    # The node stays drained; inst1 stays where it runs and loses its home tag, so no later roll moves it back.
    assert (r["left_drained_by_admin"], r["changed"]) == (True, True)
    assert [argv[1] for argv in r["commands"]] == ["remove-tags"]
    assert r["left"] == [{"instance": "inst1", "why": "its home node2 is drained by its admin; it stays on node1"}]
    assert r["diff"]["after"]["drained"] is True
    again = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True},
        reads(states=STATES_NODE2_DRAINED, instances=row("inst1", "node1")),
    )
    assert (again.result["changed"], again.result["commands"]) == (False, [])


# After the drain: node2 drained and tagged, inst1 on node1 from node2, inst3 back home by hand.
AWAY = row("inst1", "node1", tags=HOME2) + row("inst3", "node2", tags=HOME2) + row("inst9", "node1")


def test_undrain_with_migrate_back_undrains_first_then_moves_each_home_and_untags():
    result = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True},
        [
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AWAY),
            Expected(UNDRAIN),
            submit(migrate("inst1", "node2"), 60),
            *job(60, "success"),
            Expected(MOVE_LIST, 0, AWAY.replace("inst1|node1", "inst1|node2")),
            Expected(untag("instance", "inst1", HOME2)),
            Expected(untag("instance", "inst3", HOME2)),
            Expected(untag("node", "node2", ROLL)),
        ],
        diff=True,
    )
    assert not result.failed, result.result
    r = result.result
    assert r["moved"] == [{"instance": "inst1", "from": "node1", "to": "node2", "how": "migrate"}]
    assert r["left_drained_by_admin"] is False and r["changed"] is True
    assert r["diff"] == {
        "before": {"drained": True, "primaries": ["inst3"]},
        "after": {"drained": False, "primaries": ["inst3", "inst1"]},
    }


def test_an_undrain_waits_for_a_job_on_an_instance_homed_on_the_node_wherever_it_runs():
    # inst1 runs on node1, tagged home node2: an admin's shutdown of it would change its move back.
    result = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True},
        [
            Expected(NODE_LIST, 0, NODES),
            Expected(UNFINISHED_JOBS, 0, "70|running|INSTANCE_SHUTDOWN(inst1)\n71|queued|INSTANCE_REBOOT(inst9)\n"),
            Expected(INSTANCE_PLACES, 0, f"inst1|node1||{HOME2}\ninst9|node1||\n"),
            Expected(UNFINISHED_JOBS, 0, "71|running|INSTANCE_REBOOT(inst9)\n"),
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AWAY, queue=False),
            Expected(UNDRAIN),
            submit(migrate("inst1", "node2"), 72),
            *job(72, "success"),
            Expected(MOVE_LIST, 0, AWAY.replace("inst1|node1", "inst1|node2")),
            Expected(untag("instance", "inst1", HOME2)),
            Expected(untag("instance", "inst3", HOME2)),
            Expected(untag("node", "node2", ROLL)),
        ],
    )
    assert not result.failed, result.result
    assert [job["id"] for job in result.result["jobs_waited"]] == [70]


def test_undrain_without_migrate_back_leaves_instances_where_they_run_and_clears_their_home_tags():
    result = maintain(
        {"node": "node2", "state": "undrained"},
        [
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AWAY),
            Expected(UNDRAIN),
            Expected(untag("instance", "inst1", HOME2)),
            Expected(untag("instance", "inst3", HOME2)),
            Expected(untag("node", "node2", ROLL)),
        ],
    )
    assert not result.failed, result.result
    assert result.result["moved"] == [] and result.result["changed"] is True


def test_undrain_in_check_mode_lists_the_commands_and_runs_the_reads_only():
    result = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True},
        reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AWAY),
        check_mode=True,
    )
    assert not result.failed, result.result
    assert result.result["commands"] == [
        UNDRAIN,
        migrate("inst1", "node2"),
        untag("instance", "inst1", HOME2),
        untag("instance", "inst3", HOME2),
        untag("node", "node2", ROLL),
    ]


def test_undrain_of_an_undrained_untagged_node_changes_nothing():
    result = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True}, reads(instances=row("inst1", "node1"))
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"], result.result["left_drained_by_admin"]) == (
        False,
        [],
        False,
    )


def test_migrate_back_that_does_not_fit_the_nodes_memory_is_refused_before_the_undrain():
    states = STATES_NODE2_DRAINED.replace("|3650", "|400")
    result = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True},
        reads(states=states, tags=f"{ROLL}\n", instances=AWAY),
    )
    assert result.failed
    assert result.result["msg"] == (
        "refusing to undrain node2: inst1 needs 512 MiB free on its new node (the memory it runs with, at least "
        "its minmem) and no node has that much left once the others are placed (node2 400 MiB): free memory "
        "there, or move instances elsewhere first. Nothing was changed."
    )
    assert result.result["commands"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"node": "node2", "state": "drained", "migrate_back": True}, "migrate_back applies to state=undrained only"),
        ({"node": "node2", "state": "drained", "timeout": 0}, "timeout must be 1 second or more, not 0"),
        ({"node": "node 2", "state": "drained"}, "node: 'node 2' is not a host name or an address"),
    ],
)
def test_argument_errors_run_nothing(args, message):
    result = maintain(args, [])
    assert result.failed and result.result["msg"] == message


# -- the CLI layer's builders and parsers for it -------------------------------------------


def test_the_move_list_is_parsed_with_memory_tags_and_always_failover():
    text = row("inst1", "node2", tags=f"{HOME2},other") + row(
        "inst2", "node1", "drbd", "node2,node3", oper="N", admin="down", always="Y"
    )
    assert parse_instance_moves(text) == [
        Instance("inst1", "node2", (), "gluster", True, True, 256, 1024, 512, (HOME2, "other"), False),
        Instance("inst2", "node1", ("node2", "node3"), "drbd", False, False, 256, 1024, None, (), True),
    ]
    with pytest.raises(ValueError, match="not 11 fields"):
        parse_instance_moves("inst1|node2||gluster|Y|up|256\n")


def test_tags_jobs_and_their_builders():
    assert parse_tags("ganeti-gluster:rolling\n\nother\n") == ("ganeti-gluster:rolling", "other")
    assert parse_job_id("1234\n") == 1234
    with pytest.raises(ValueError, match="not the id of the job it submitted"):
        parse_job_id("JobID: 12\n")
    assert parse_job_status("7|running\n", 7) == "running"
    with pytest.raises(ValueError, match="does not list job 8"):
        parse_job_status("7|running\n", 8)
    assert submitted(["gnt-instance", "failover", "--force", "inst1"]) == [
        "gnt-instance",
        "failover",
        "--force",
        "--submit",
        "--print-jobid",
        "inst1",
    ]
    assert node_drained_args("node2", True) == ["gnt-node", "modify", "--drained=yes", "--auto-promote", "node2"]
    assert node_drained_args("node2", False) == ["gnt-node", "modify", "--drained=no", "node2"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ganeti-gluster:home:node2.example.net", None),
        ("", "a tag cannot be empty"),
        ("a b", "tag 'a b' has characters Ganeti does not allow in a tag (letters, digits and _.+*/:@- only)"),
        ("x" * 129, f"tag '{'x' * 129}' is longer than Ganeti's 128 characters"),
    ],
    ids=["ours", "empty", "space", "long"],
)
def test_tags_follow_ganetis_rule(value, problem):
    assert tag_problem(value) == problem


@pytest.mark.parametrize(
    ("running", "admin_up", "always_failover", "allow_failover", "how"),
    [
        (True, True, False, False, "migrate"),
        (True, False, False, False, "migrate"),  # runs though marked down: Ganeti migrates what runs
        (False, False, False, False, "failover"),  # down: Ganeti fails it over without starting it
        (False, True, False, False, None),  # marked up, not running: Ganeti cannot migrate it
        (False, True, False, True, "failover"),
        (True, True, True, False, None),  # Ganeti would turn the migration into a failover
        (True, True, True, True, "failover"),
    ],
)
def test_how_an_instance_on_shared_storage_leaves(running, admin_up, always_failover, allow_failover, how):
    instance = Instance("i", "node2", (), "gluster", running, admin_up, 256, 1024, 512, (), always_failover)
    found, why = ganeti_node_maintenance.how_it_leaves(instance, "node2", allow_failover)
    assert found == how and (why is None) == (how is not None)


def test_a_node_tagged_before_an_interrupted_drain_is_drained_without_a_second_tag():
    result = maintain({"node": "node2", "state": "drained"}, [*reads(tags=f"{ROLL}\n"), Expected(DRAIN)])
    assert not result.failed, result.result
    assert result.result["commands"] == [DRAIN] and result.result["changed"] is True


def test_allow_failover_fails_over_an_instance_marked_up_that_does_not_run_and_expects_it_started():
    result = maintain(
        {"node": "node2", "state": "drained", "allow_failover": True},
        [
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=row("crashed", "node2", oper="N")),
            Expected(tag("instance", "crashed", HOME2)),
            submit(failover("crashed", "node1"), 70),
            *job(70, "success"),
            Expected(MOVE_LIST, 0, row("crashed", "node1", tags=HOME2)),
        ],
    )
    assert not result.failed, result.result
    assert result.result["moved"] == [{"instance": "crashed", "from": "node2", "to": "node1", "how": "failover"}]


def test_a_failed_move_back_keeps_the_instances_home_tag_and_the_nodes_roll_tag():
    result = maintain(
        {"node": "node2", "state": "undrained", "migrate_back": True},
        [
            *reads(states=STATES_NODE2_DRAINED, tags=f"{ROLL}\n", instances=AWAY),
            Expected(UNDRAIN),
            submit(migrate("inst1", "node2"), 80),
            *job(80, "error", fails="Failure: prerequisites not met for this operation:\nnot enough memory"),
        ],
    )
    assert result.failed
    assert result.result["msg"] == (
        "the live migration of inst1 from node1 to node2 failed: Job 80 failed: Failure: prerequisites not met for "
        "this operation: not enough memory. node2 is undrained; the rest stay where they run, still tagged, so the "
        "next run moves them back. Run again with allow_failover=true to fail it over instead (it stops and starts)."
    )
    assert result.result["commands"] == [UNDRAIN, migrate("inst1", "node2")]


def test_the_masters_drain_is_planned_as_after_its_handover_in_check_mode_only():
    # inst9 runs on the master, node1: it would go to node2 (the most memory free), and nothing is run.
    result = maintain(
        {"node": "node1", "state": "drained", "after_handover": True},
        reads(node="node1", instances=ON_NODE2),
        check_mode=True,
    )
    assert not result.failed, result.result
    assert [(m["instance"], m["to"]) for m in result.result["plan"]] == [("inst9", "node2")]
    refused = maintain({"node": "node1", "state": "drained", "after_handover": True}, [])
    assert refused.failed
    assert refused.result["msg"].startswith("after_handover plans a drain in check mode only")


def test_a_failover_that_starts_its_instance_needs_its_maxmem():
    # Ganeti checks each one's minmem, then starts it with up to its maxmem, which the guest may use.
    def to_fail_over(name, minmem, maxmem):
        instance = Instance(name, "node2", (), "gluster", False, True, minmem, maxmem, None)
        return ganeti_node_maintenance.Move(instance, "node2", None, ganeti_node_maintenance.FAILOVER)

    moves = [to_fail_over("small", 128, 2048), to_fail_over("big", 256, 1024)]
    placed, shortages = ganeti_node_maintenance.place(moves, {"node1": 3072})
    assert shortages == [] and {m.instance.name: m.target for m in placed} == {"small": "node1", "big": "node1"}
    placed, shortages = ganeti_node_maintenance.place([*moves, to_fail_over("third", 128, 128)], {"node1": 3072})
    assert {m.instance.name for m in placed} == {"small", "big"}
    assert shortages == [
        "third needs 128 MiB free on its new node (its maxmem: Ganeti starts it with up to that much, and the guest "
        "may use all of it) and no node has that much left once the others are placed (node1 0 MiB): free memory "
        "there, or move instances elsewhere first"
    ]
    # Told that the guests give memory back, only the minmem Ganeti checks counts.
    placed, shortages = ganeti_node_maintenance.place(moves, {"node1": 400}, failover_memory="minmem")
    assert shortages == [] and len(placed) == 2
    placed, shortages = ganeti_node_maintenance.place(moves, {"node1": 300}, failover_memory="minmem")
    assert shortages == [
        "small needs 128 MiB free on its new node (its minmem, which Ganeti checks before it starts it there) and no "
        "node has that much left once the others are placed (node1 44 MiB): free memory there, or move instances "
        "elsewhere first"
    ]
