"""Each molecule scenario, run in full (create, converge, idempotence, verify, destroy).

The assertions live in each scenario's verify.yml and check real cluster
state; molecule's idempotence step fails on any change in a second converge.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from .lab_helpers import REPO, STATE_DIR, lab

SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))
# Seconds a whole scenario may take; the rolling one waits on a roll of four nodes,
# each rebooted, twice, and on a writer sized to outlast it.
TIMEOUTS = {"rolling": 3600}


@pytest.mark.lab
@pytest.mark.molecule
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario, tmp_path):
    if lab("status").returncode == 0:
        pytest.fail(f"a lab is already up in this slot ({STATE_DIR}); run 'bin/lab down' before the tests")
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="false", PY_COLORS="0", NO_COLOR="1")
    # Molecule's state of its own: another lane may run the same scenario (scripts/core-matrix molecule).
    env["MOLECULE_EPHEMERAL_DIRECTORY"] = str(tmp_path / "molecule-state")
    log = tmp_path / f"molecule-{scenario}.log"
    with open(log, "w") as out:
        proc = subprocess.run(
            ["molecule", "test", "--scenario-name", scenario],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=TIMEOUTS.get(scenario, 1800),
        )
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-80:])
        pytest.fail(f"molecule test -s {scenario} failed (exit {proc.returncode}); last lines:\n{tail}")
    # molecule's destroy ran; nothing of the lab may remain.
    assert lab("status").returncode == 1
