"""The pool's inventory that ganeti_gluster_disk renders for the node-add hook
(vars/main.yml), rendered by a real ansible-playbook run on this machine: what the
hook's run on the master gets, which has no vault password and runs as root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  vars_files:
    - {vars_file}
  vars:
    __ganeti_gluster_disk_cluster: {{cluster: {{name: cluster.example.net}}}}
    ganeti_gluster_disk_hook_wheelhouse: null
  tasks:
    - ansible.builtin.copy:
        content: "{{{{ __ganeti_gluster_disk_hook_inventory_content | to_nice_yaml }}}}"
        dest: {dest}
        mode: "0600"
"""


def test_vaulted_values_are_decrypted_and_hosts_outside_ganeti_are_reached_as_root(tmp_path):
    password = tmp_path / "password"
    password.write_text("correct horse\n")
    vault = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-vault")),
            "encrypt_string",
            "--vault-password-file",
            str(password),
            "s3cret",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    inventory = tmp_path / "hosts.yml"
    vaulted = "\n".join("          " + line for line in vault.strip().splitlines()[1:])
    inventory.write_text(
        "all:\n"
        "  children:\n"
        "    gluster_pool:\n"
        "      hosts:\n"
        "        node1:\n"
        "        store1:\n"
        "          ansible_become: true\n"
        "          ansible_become_method: su\n"
        "          gluster_pool_peer_name: !vault |\n"
        f"{vaulted}\n"
        "    ganeti_nodes:\n"
        "      hosts:\n"
        "        node1:\n"
        "    ganeti_master:\n"
        "      hosts:\n"
        "        node1:\n"
        "        localhost:\n"
        "          ansible_connection: local\n"
        f"          ansible_python_interpreter: {sys.executable}\n"
    )
    rendered = tmp_path / "rendered.yml"
    playbook = tmp_path / "render.yml"
    vars_file = REPO / "roles" / "ganeti_gluster_disk" / "vars" / "main.yml"
    playbook.write_text(PLAYBOOK.format(vars_file=vars_file, dest=rendered))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"), "ANSIBLE_NOCOLOR": "1"}
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            str(inventory),
            "--vault-password-file",
            str(password),
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    text = rendered.read_text()
    assert "!vault" not in text and "$ANSIBLE_VAULT" not in text
    written = yaml.safe_load(text)["all"]
    assert written["hosts"]["store1"] == {
        "ansible_become": False,
        "ansible_user": "root",
        "gluster_pool_peer_name": "s3cret",
    }
    # Ganeti's nodes: root with Ganeti's own known_hosts, set on their group.
    assert written["hosts"]["node1"] == {}
    ganeti = written["children"]["ganeti_nodes"]["vars"]
    assert (ganeti["ansible_user"], ganeti["ansible_become"]) == ("root", False)
    assert "-oHostKeyAlias=cluster.example.net" in ganeti["ansible_ssh_common_args"]
    assert json.dumps(written)  # plain data, nothing the hook's YAML loader could not read
