"""The collection as users get it: the built tarball installed into a collections path of
its own, its playbooks run by name from elsewhere, then from a project laid out for AWX
(collections/requirements.yml, a playbook that imports the collection's), and the node-add
hook laid by the role with every default, on hosts that cannot see the controller's
checkout, its Python or the installed copy (a tmpfs over each inside every host; /tmp is a
host's own). Then, with the
master failed over to another candidate since, a plain `gnt-node add node4` on it joins
node4 to the pool through the hook."""

from __future__ import annotations

import json
import sys

import pytest
from ansible import release as ansible_release

from .ansible_helpers import galaxy_collection, install_built_collection, pool, run_playbook_from, volume_info
from .lab_helpers import REPO, fresh_lab, lab, ssh

pytestmark = pytest.mark.lab

LAB_HOSTS = REPO / "inventory" / "lab" / "lab_hosts"
HOOK_PYTHON = "/var/lib/ganeti-gluster/venv/bin/python3"
CORE_VERSION = ansible_release.__version__
INVENTORY = """\
gluster_pool:
  hosts:
    node1:
    node2:
    node3:
    # Declared before it exists, as the hook's inventory needs: a client of the
    # volume, for VMs, with no brick of its own.
    node4:
      gluster_pool_bricks: []
  vars:
    gluster_pool_volume: gv0
    gluster_pool_replica: 3
    gluster_pool_bricks:
      - {path: /bricks/b1/brick, device: "{{ lab_block_devices[0] }}"}
ganeti_master:
  hosts:
    node1:
ganeti_nodes:
  hosts:
    node1:
    node2:
    node3:
    node4:
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The lab with Ganeti initialised on node1, and the collection built and installed
    under the controller's /tmp (pytest's; no host sees it): (collections path, work dir)."""
    work = tmp_path_factory.mktemp("installed")
    collections = install_built_collection(work)
    (work / "hosts.yml").write_text(INVENTORY)
    with fresh_lab(4):
        rc, stats = play(collections, work, str(REPO / "molecule" / "shared" / "ganeti-init.yml"))
        assert rc == 0, stats
        for host in ("node1", "node2", "node3", "node4"):
            # The checkout holds the controller's Python (.venv) too.
            out = lab("exec", host, "--", "mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(REPO))
            assert out.returncode == 0, out.stderr
            assert ssh(host, f"test -e {REPO}/galaxy.yml || test -e {sys.executable}").returncode == 1
        yield collections, work


def play(collections, work, playbook, limit=None, extravars=None):
    """ansible-playbook by name (or a path), from `work`, with only the installed copy on
    the collections path: (rc, stats), or (rc, failures)."""
    inventories = [LAB_HOSTS, work / "hosts.yml"]
    envvars = {"ANSIBLE_COLLECTIONS_PATH": str(collections)}
    return run_playbook_from(work, playbook, inventories, envvars, limit, extravars)


def awx_project(work):
    """A project as the README's AWX section lays one out, a one-line playbook that imports
    the collection's by name and collections/requirements.yml, whose collections are
    installed as AWX's project sync installs them: (project dir, collections path). The
    requirement names the built tarball where a real project names Galaxy or a git URL."""
    project = work / "awx-project"
    (project / "collections").mkdir(parents=True)
    (archive,) = (work / "build").glob("*.tar.gz")
    requirements = project / "collections" / "requirements.yml"
    requirements.write_text(f"collections:\n  - name: {archive}\n    type: file\n")
    (project / "site.yml").write_text("---\n- ansible.builtin.import_playbook: ganeti_gluster.cluster.site\n")
    galaxy_collection(work, "install", "-r", str(requirements), "-p", str(work / "synced"))
    return project, work / "synced"


def test_site_from_the_installed_collection_lays_the_hook_and_gnt_node_add_joins_through_it(installed):
    collections, work = installed
    rc, stats = play(collections, work, "ganeti_gluster.cluster.site", limit="node1,node2,node3")
    assert rc == 0, stats
    # What the hook runs is the role's own, on every node that can become master.
    candidates = ssh("node1", "gnt-node list --no-headers -o name,master_candidate").stdout.split("\n")
    assert len([line for line in candidates if line.strip().endswith("Y")]) == 3, candidates
    for host in ("node1", "node2", "node3"):
        shebang = ssh(host, "head -1 /etc/ganeti/hooks/node-add-post.d/50-ganeti-gluster-join").stdout.strip()
        assert shebang == f"#!{HOOK_PYTHON}"
        version = "import ansible_runner, ansible.release; print(ansible.release.__version__)"
        out = ssh(host, f"{HOOK_PYTHON} -c '{version}'")
        assert (out.returncode, out.stdout.strip()) == (0, CORE_VERSION), out.stderr
        copy = "/var/lib/ganeti-gluster/collections/ansible_collections/ganeti_gluster/cluster"
        assert ssh(host, f"test -f {copy}/playbooks/add-node.yml && test -f {copy}/MANIFEST.json").returncode == 0
        # The ansible.cfg of the hook's run, as the hook's Ansible reads it.
        config = "ANSIBLE_CONFIG=/var/lib/ganeti-gluster/ansible.cfg"
        dump = ssh(host, f"{config} {HOOK_PYTHON[:-7]}ansible-config dump --only-changed --format json")
        assert dump.returncode == 0, dump.stderr
        changed = {s["name"]: s["value"] for s in json.loads(dump.stdout) if "name" in s}
        assert changed.get("ANSIBLE_PIPELINING") is True and changed.get("DEFAULT_FORKS") == 20, changed
    # A second run, as AWX runs it, changes nothing, the hook's copy and virtualenv included.
    project, synced = awx_project(work)
    inventories = [LAB_HOSTS, work / "hosts.yml"]
    envvars = {"ANSIBLE_COLLECTIONS_PATH": str(synced)}
    rc, stats = run_playbook_from(project, "site.yml", inventories, envvars, limit="node1,node2,node3")
    assert rc == 0 and not any(stats["changed"].values()), stats["changed_tasks"]

    # The hook's inventory already knows node4, declared before it exists.
    listed = ssh("node1", f"{HOOK_PYTHON[:-7]}ansible-inventory -i /var/lib/ganeti-gluster/inventory.yml --list")
    assert listed.returncode == 0, listed.stderr
    rendered = ssh("node1", "cat /var/lib/ganeti-gluster/inventory.yml").stdout
    assert "node4" in json.loads(listed.stdout).get("gluster_pool", {}).get("hosts", []), (rendered, listed.stderr)
    # The master moves to node2 after site.yml rendered the hook's inventory (it names
    # node1 in ganeti_master): the hook on node2 runs the join with node2 as master.
    out = ssh("node2", "gnt-cluster master-failover", timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert ssh("node1", "gnt-cluster getmaster").stdout.strip() == "node2"
    # As an admin does it: the master's key on node4 (as Ganeti needs), then gnt-node add.
    key = ssh("node2", "cat /root/.ssh/id_rsa.pub").stdout.strip()
    assert ssh("node4", f"echo '{key}' >> /root/.ssh/authorized_keys").returncode == 0
    out = ssh("node2", "gnt-node add --no-ssh-key-check node4", timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "node4" in ssh("node2", "gnt-node list --no-headers -o name").stdout.split()
    peers = {p.hostname: p for p in pool("node1") if not p.is_local}
    joined = ssh("node2", "tail -5 /var/log/ganeti/ganeti-gluster-join.log").stdout
    assert "node4" in peers and peers["node4"].in_cluster and peers["node4"].connected, joined
    # The Ganeti side on node4 too: the master's file-storage-paths, with the gluster
    # storage dir, and the hook laid there (a new master candidate) from the master's copy.
    paths = {h: ssh(h, "cat /etc/ganeti/file-storage-paths").stdout for h in ("node2", "node4")}
    assert paths["node4"] == paths["node2"] and "/var/run/ganeti/gluster" in paths["node4"], paths
    shebang = ssh("node4", "head -1 /etc/ganeti/hooks/node-add-post.d/50-ganeti-gluster-join").stdout.strip()
    assert shebang == f"#!{HOOK_PYTHON}"
    assert ssh("node4", f"{HOOK_PYTHON} -c 'import ansible_runner'").returncode == 0
    # The hook's run, with its artifacts on the master.
    assert ssh("node2", "ls /var/lib/ganeti-gluster/runs | grep -c node4").stdout.strip() == "1"
    assert [b.name for b in volume_info("node1", "gv0").bricks] == [f"node{i}:/bricks/b1/brick" for i in (1, 2, 3)]
