"""gluster_volume passes `force` to create and add-brick only for bricks on the root filesystem.

`force` does more than allow the root filesystem: glusterd then also takes a brick
that is already part of a volume, and one whose filesystem is not mounted
(captured: add-brick-part-of-a-volume.xml without force, -force.xml with it).
"""

from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hosts
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterOpError, interpret
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_volume

from .module_harness import NO_ROLL, Expected, G, out, read, run_module

pytestmark = pytest.mark.usefixtures("on_node1")


GV0 = ["node1:/bricks/a/gv", "node2:/bricks/a/gv", "node3:/bricks/a/gv"]
# The new set, in the order the planner gives it to gluster.
NEW = ["node1:/bricks/b/gv", "node2:/bricks/b/gv", "node4:/bricks/a/gv"]
READ_GV0 = [
    NO_ROLL,
    read(["volume", "info"], "volume-info-replicate.xml"),
    read(["pool", "list"], "pool-list-four.xml"),
]
ADD_BRICK = [*G, "volume", "add-brick", "gv0", "replica", "3", *NEW]


def grow(**args):
    return {"name": "gv0", "state": "started", "replica": 3, "bricks": [*GV0, *NEW], "rebalance": "none", **args}


@pytest.mark.parametrize(
    ("root_bricks", "force"),
    [
        ([], []),
        (["node1:/bricks/b/gv"], ["force"]),
        # Bricks already in the volume are not added: their place does not matter.
        (["node1:/bricks/a/gv", "node2:/bricks/a/gv"], []),
        # The same brick under a name with a trailing slash.
        (["node2:/bricks/b/gv/"], ["force"]),
    ],
)
def test_add_brick_passes_force_only_when_a_new_brick_is_on_the_root_filesystem(root_bricks, force):
    result = run_module(
        gluster_volume.main,
        grow(root_bricks=root_bricks),
        [
            *READ_GV0,
            Expected([*ADD_BRICK, *force], 0, out("add-brick.xml")),
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["commands"] == [[*ADD_BRICK, *force]]


@pytest.mark.parametrize(("root_bricks", "force"), [([], []), (["node3:/bricks/x"], ["force"])])
def test_create_passes_force_only_for_a_brick_on_the_root_filesystem(root_bricks, force):
    bricks = ["node1:/bricks/x", "node2:/bricks/x", "node3:/bricks/x"]
    result = run_module(
        gluster_volume.main,
        {"name": "new", "replica": 3, "bricks": bricks, "root_bricks": root_bricks, "_ansible_check_mode": True},
        READ_GV0,
    )
    assert not result.failed, result.result
    assert result.result["commands"] == [[*G, "volume", "create", "new", "replica", "3", *bricks, *force]]


def test_without_force_glusterd_still_refuses_a_brick_that_is_part_of_a_volume():
    refused = out("add-brick-part-of-a-volume.xml")
    result = run_module(gluster_volume.main, grow(), [*READ_GV0, Expected(ADD_BRICK, 0, refused)])
    assert result.failed
    assert result.result["msg"].startswith("gluster volume add-brick gv0 replica 3 node1:/bricks/b/gv")
    assert result.result["op_errstr"].endswith("/bricks/e/gv is already part of a volume")


def test_with_force_glusterd_takes_a_brick_that_is_part_of_a_volume():
    # Why force is passed only where needed: glusterd answers success, its
    # objection left in opErrstr.
    argv = [*G, "volume", "add-brick", "gv0", "node1:/bricks/e/gv", "force"]
    taken = interpret(argv, 0, out("add-brick-part-of-a-volume-force.xml"), "")
    assert taken.findtext("opRet") == "0"
    assert taken.findtext("opErrstr").endswith("is already part of a volume")
    with pytest.raises(GlusterOpError):
        interpret(argv[:-1], 0, out("add-brick-part-of-a-volume.xml"), "")


def test_root_bricks_outside_bricks_are_refused_before_anything_runs():
    result = run_module(gluster_volume.main, grow(root_bricks=["node4:/bricks/z"]), READ_GV0)
    assert result.failed
    assert result.result["msg"] == (
        "root_bricks lists bricks that are not in bricks: node4:/bricks/z; "
        "it names which of the bricks may sit on the root filesystem"
    )
    assert result.result["commands"] == []


def test_root_bricks_that_are_not_host_and_path_are_refused():
    result = run_module(gluster_volume.main, grow(root_bricks=["node4"]), [])
    assert result.failed
    assert result.result["msg"] == "root_bricks: brick 'node4' is not HOST:/absolute/path"


def test_deprecated_force_still_forces_every_create_and_add_brick():
    result = run_module(gluster_volume.main, grow(force=True, _ansible_check_mode=True), READ_GV0)
    assert not result.failed, result.result
    assert result.result["commands"] == [[*ADD_BRICK, "force"]]


def test_force_and_root_bricks_together_are_refused():
    result = run_module(gluster_volume.main, grow(force=True, root_bricks=["node4:/bricks/a/gv"]), [])
    assert result.failed
    assert result.result["msg"] == "parameters are mutually exclusive: force|root_bricks"


def test_two_names_of_one_host_are_one_host_to_the_placement():
    # node2 by its name and by its address: a set of 3 on 2 hosts, refused before anything
    # runs (with force, glusterd would have taken it).
    bricks = ["node1:/bricks/x", "node2:/bricks/x", "10.0.0.12:/bricks/y"]
    node2 = {"node2": {"10.0.0.12"}, "10.0.0.12": {"10.0.0.12"}}
    with mock.patch.object(hosts, "addresses", lambda name: node2.get(name, set())):
        result = run_module(
            gluster_volume.main,
            {"name": "new", "replica": 3, "bricks": bricks, "force": True, "_ansible_check_mode": True},
            READ_GV0,
        )
    assert result.failed and "the new bricks are on 2 hosts (node1, node2)" in result.result["msg"], result.result
    assert result.result["commands"] == []
