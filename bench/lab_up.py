#!/usr/bin/python3
"""Time `lab up 4` and `lab down` against a floor measured in the same run.

The floor is the namespace plumbing alone, done directly for 4 hosts: create a
network namespace, start a process in new mount/UTS/PID namespaces inside it,
wait for it, delete the namespace. The lab does that plus its per-host trees,
host keys, veths, loop devices and sshd.

    bench/lab_up.py [--runs 7]     (as root, no lab running)
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

LAB = Path(__file__).resolve().parents[1] / "bin" / "lab"
HOSTS = 4


def timed(argv):
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def floor_once():
    started = time.perf_counter()
    names = [f"gglab-bench{i}" for i in range(HOSTS)]
    for name in names:
        subprocess.run(["ip", "netns", "add", name], check=True)
    procs = [
        subprocess.Popen(
            ["ip", "netns", "exec", name, "unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc", "true"]
        )
        for name in names
    ]
    for proc in procs:
        proc.wait()
    for name in names:
        subprocess.run(["ip", "netns", "delete", name], check=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    if subprocess.run([str(LAB), "status"], capture_output=True).returncode == 0:
        sys.exit("bench: a lab is up; run 'bin/lab down' first")
    up, down, floor = [], [], []
    for _ in range(runs):
        floor.append(floor_once())
        up.append(timed([str(LAB), "up", str(HOSTS)]))
        down.append(timed([str(LAB), "down"]))
    f = statistics.median(floor)
    print(f"runs: {runs}, hosts: {HOSTS}")
    print(f"floor (namespaces + init only): median {f:.3f}s")
    for name, samples in (("lab up 4", up), ("lab down", down)):
        m = statistics.median(samples)
        print(f"{name}: median {m:.3f}s (min {min(samples):.3f}s, max {max(samples):.3f}s), {m / f:.1f}x floor")


if __name__ == "__main__":
    main()
