# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ganeti node-remove pre hook: refuse to remove a node that still holds bricks.

`gnt-node remove` does nothing about Gluster; a node that leaves Ganeti with
bricks of the volume on it is one power-off away from a degraded or lost set.
So this hook, installed by the role ganeti_gluster_disk on every node (pre
hooks of node-remove run on every node but the one removed; any one failing
aborts the removal), acts where it runs on the master: it reads the volume's
bricks and exits 1, saying to run remove-node.yml, when GANETI_NODE_NAME is
the host of one of them: by name, by a shared address (the node's primary and
secondary IPs from ssconf included), or as a peer whose UUID holds the brick.

remove-node.yml removes the node from Ganeti first and drains it right after:
its ganeti_node module leaves a marker MARKER_DIR/NODE for the duration of
its own `gnt-node remove`, and a fresh marker lets the removal through.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

# The verify hook's settings (volume, lib_dir): the role writes them on every node.
CONFIG_FILE = "/etc/ganeti/ganeti-gluster-verify.json"
MARKER_DIR = "/var/lib/ganeti-gluster/removing"
MARKER_MAX_AGE = 3600
COMMAND_TIMEOUT = 20
OK, REFUSED = 0, 1


def marked(node, now=None):
    """Whether remove-node.yml is removing this node right now."""
    path = os.path.join(MARKER_DIR, node)
    try:
        age = (now or time.time()) - os.stat(path).st_mtime
    except OSError:
        return False
    return age < MARKER_MAX_AGE


def bricks_on(node, settings):
    """The volume's bricks whose host is `node` (by name or a shared address), read on
    this host's glusterd."""
    lib_dir = settings["lib_dir"]
    if lib_dir not in sys.path:
        sys.path.insert(0, lib_dir)
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hook_support
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterCli
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import addresses, agreement, identity

    runner = hook_support.Runner(time.monotonic() + COMMAND_TIMEOUT, COMMAND_TIMEOUT)
    cli = GlusterCli(runner, sleep=runner.sleep)
    volume = cli.volume(settings["volume"])
    if volume is None:
        return []
    # Ganeti knows the node by its FQDN and its primary and secondary IPs (ssconf lists it
    # until it is removed); Gluster perhaps by a short name, or an address on its own
    # network. A peer that is the node, by any name the pool lists or any address, holds
    # its bricks by UUID, whatever the bricks' names.
    leaving = identity([node], hook_support.ssconf_node_addresses(node), resolve=addresses)
    uuids = {
        p.uuid for p in cli.pool_list() if agreement(identity(p.names - {"localhost"}, resolve=addresses), leaving)
    }
    return [
        b.name
        for b in volume.bricks
        if b.host_uuid in uuids or agreement(identity([b.host], resolve=addresses), leaving) is not None
    ]


def is_master(environ):
    """Ganeti's own test (ssconf.CheckMaster), as in hook_support, here before the
    settings (which name the lib dir) are read: other nodes have nothing to do."""
    master = environ.get("GANETI_MASTER", "").lower()
    return bool(master) and master in {socket.getfqdn().lower(), socket.gethostname().lower()}


def main(environ=None):
    environ = os.environ if environ is None else environ
    node = environ.get("GANETI_NODE_NAME", "")
    if not node or not is_master(environ) or marked(node):
        return OK
    try:
        with open(CONFIG_FILE, encoding="utf-8") as handle:
            settings = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"gluster: the hook's settings {CONFIG_FILE} cannot be read: {exc}; refusing to remove {node}")
        return REFUSED
    try:
        held = bricks_on(node, settings)
    except Exception as exc:  # a hook that cannot tell must not let a brick host go
        print(
            f"gluster: cannot tell whether {node} holds bricks ({exc}); refusing. Check glusterd here, or run "
            f"playbooks/remove-node.yml -e remove_nodes={node}."
        )
        return REFUSED
    if held:
        print(
            f"gluster: {node} holds bricks of volume {settings['volume']} ({', '.join(held)}): removing it from "
            f"Ganeti alone leaves them on a node about to go. Run playbooks/remove-node.yml -e remove_nodes={node}: "
            "it moves the data off first."
        )
        return REFUSED
    return OK


if __name__ == "__main__":
    sys.exit(main())
