"""Drive the lab CLI and reach its hosts over SSH, as the tests' controller."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

import pytest

from lab.cli import default_state_dir

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "bin" / "lab"
STATE_DIR = default_state_dir()  # GGLAB_SLOT and GGLAB_STATE_DIR, as the lab CLI reads them


def lab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(LAB), *args], capture_output=True, text=True, timeout=timeout, check=False)


@contextlib.contextmanager
def fresh_lab(hosts: int):
    """A lab of `hosts` hosts for the `with` block (a test module's fixture), then down.
    One lab at a time: a lab already up fails the tests rather than being reused."""
    if lab("status").returncode == 0:
        pytest.fail(f"a lab is already up in this slot ({STATE_DIR}); run 'bin/lab down' before the tests")
    assert lab("up", str(hosts)).returncode == 0
    try:
        yield
    finally:
        lab("down")


def lab_state() -> dict:
    out = lab("status", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def ssh(host: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a shell command on a lab host over real SSH (exit 255: unreachable)."""
    return subprocess.run(
        [
            "ssh",
            "-F",
            str(STATE_DIR / "ssh" / "config"),
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            host,
            command,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def end_process(host: str, pidfile: str, timeout: float = 30) -> None:
    """SIGTERM the process `pidfile` names on a lab host and return once it has exited,
    so that what the test reads next cannot race its exit."""
    tenths = int(timeout * 10)
    script = (
        f'p=$(cat {pidfile}) && kill "$p" || exit 2; i=0; '
        f'while readlink /proc/"$p"/exe >/dev/null; do i=$((i+1)); [ $i -gt {tenths} ] && exit 1; sleep 0.1; done'
    )
    out = ssh(host, script, timeout=timeout + 30)
    assert out.returncode == 0, f"{host}: the process of {pidfile} did not end (exit {out.returncode}): {out.stderr}"
