#!/usr/bin/python3
"""The slowest tasks in a file that bench/callback_plugins/task_times.py wrote: each
task's seconds summed over the runs by playbook, play and name, slowest first; with
--runs N, divided by N (the file's N runs: a per-run average).

    bench/task_times.py TIMES.jsonl [--top 25] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--runs", type=int, default=1, help="how many runs the file holds: print per-run averages")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    seconds, total = defaultdict(float), defaultdict(float)
    with open(args.path) as times:
        entries = [json.loads(line) for line in times if line.strip()]
    for entry in entries:
        seconds[(entry["playbook"], entry["play"], entry["task"])] += entry["seconds"] / args.runs
    for (playbook, _play, _task), value in seconds.items():
        total[playbook] += value
    for playbook, value in sorted(total.items()):
        print(f"{playbook}: {value:.1f} s in tasks, {'per run' if args.runs > 1 else 'all runs'}")
    for (playbook, play, task), value in sorted(seconds.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{value:8.1f} s  {playbook} | {play} | {task}")


if __name__ == "__main__":
    main()
