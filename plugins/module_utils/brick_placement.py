# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Brick placement: order bricks into replica or disperse sets. Pure, no I/O.

A volume grows by whole sets appended after its existing ones; the sets it has
are never touched. Within a set every brick must sit on a different host (and
on a different failure domain whenever the new bricks allow it), or one lost
machine takes out more than one copy.

Placement is a round-robin over bricks grouped by their failure domain: with
k new sets, writing the bricks out domain by domain (largest domain first) and
dealing brick i into set i mod k puts a domain's bricks into distinct sets as
long as no domain holds more than k of them. That bound is also necessary, so
the planner finds a valid plan exactly when one exists.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# The most steps the arbiter placement's search takes: a join makes a few sets, found in
# a few steps; this bound keeps a hopeless search to a few seconds.
SEARCH_STEPS = 100_000
SEARCH_ENDED = "search ended"


class PlacementError(ValueError):
    """The bricks cannot be placed; the message says what to change."""


@dataclass(frozen=True, order=True)
class BrickRef:
    host: str
    path: str

    @classmethod
    def parse(cls, text):
        host, sep, path = text.rpartition(":")
        if not sep or not host or not path.startswith("/"):
            raise PlacementError(f"brick {text!r} is not HOST:/absolute/path")
        return cls(host, path.rstrip("/") or "/")

    def __str__(self):
        return f"{self.host}:{self.path}"


@dataclass(frozen=True)
class Layout:
    """The shape of a volume: set size and what kind of set."""

    replica: int = 1
    arbiter: int = 0
    disperse: int = 0
    redundancy: int = 0

    @property
    def set_size(self):
        return self.disperse or max(self.replica, 1)

    def describe(self):
        if self.disperse:
            return f"disperse {self.disperse} redundancy {self.redundancy}"
        if self.replica > 1:
            return f"replica {self.replica}" + (f" arbiter {self.arbiter}" if self.arbiter else "")
        return "distribute"


@dataclass
class Plan:
    sets: list = field(default_factory=list)  # list of lists of BrickRef
    warnings: list = field(default_factory=list)

    @property
    def bricks(self):
        return [brick for group in self.sets for brick in group]


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _deal(bricks, key, set_count):
    """Deal bricks into set_count sets, keeping each key's bricks in distinct sets."""
    groups = {}
    for brick in bricks:
        groups.setdefault(key(brick), []).append(brick)
    ordered = [b for _key, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])) for b in group]
    sets = [[] for _set in range(set_count)]
    for index, brick in enumerate(ordered):
        sets[index % set_count].append(brick)
    return sets


def _fill(data, arbiters, set_count, key):
    """Sets of len(data) // set_count data bricks and one arbiter each, no two bricks of a
    set with one `key` (host or failure domain); None when there is no such way, SEARCH_ENDED
    when SEARCH_STEPS did not tell. A search, most constrained key first."""
    width = len(data) // set_count
    weight = Counter(key(b) for b in [*data, *arbiters])
    todo = sorted(
        [(b, False) for b in data] + [(b, True) for b in arbiters],
        key=lambda item: (-weight[key(item[0])], str(item[0])),
    )
    sets = [[] for _set in range(set_count)]
    keys = [set() for _set in range(set_count)]
    arbiter_of = [None] * set_count
    budget = [SEARCH_STEPS]

    def place(position):
        if position == len(todo):
            return True
        budget[0] -= 1
        if budget[0] < 0:
            return False
        brick, is_arbiter = todo[position]
        tried = set()
        for target in sorted(range(set_count), key=lambda t: len(sets[t])):
            full = arbiter_of[target] is not None if is_arbiter else len(sets[target]) == width
            # Two empty sets are alike: trying the second would repeat the first.
            shape = (len(sets[target]), arbiter_of[target] is None, frozenset(keys[target]))
            if full or key(brick) in keys[target] or shape in tried:
                continue
            tried.add(shape)
            keys[target].add(key(brick))
            if is_arbiter:
                arbiter_of[target] = brick
            else:
                sets[target].append(brick)
            if place(position + 1):
                return True
            keys[target].discard(key(brick))
            if is_arbiter:
                arbiter_of[target] = None
            else:
                sets[target].pop()
        return False

    if not place(0):
        return SEARCH_ENDED if budget[0] < 0 else None
    return [[*group, arbiter_of[target]] for target, group in enumerate(sets)]


def plan_sets(new_bricks, layout, failure_domains=None, volume="the volume", host_of=None, arbiters=()):
    """Order new bricks into whole sets on distinct hosts (and failure domains when possible).

    new_bricks: BrickRefs not yet in the volume, in the caller's order.
    arbiters: those of new_bricks that are to be arbiters (an arbiter volume's last brick of
    each set holds only metadata: a small disk); none given, any brick may be one.
    failure_domains: host -> domain name; a host without one is its own domain.
    host_of: brick -> the name of its host, one per host however the bricks name it (a
    caller that knows the glusterd UUIDs maps node4 and node4.example.com to one name);
    by default the host as the brick names it. failure_domains are keyed by these names.
    Raises PlacementError when no placement puts each set on distinct hosts.
    """
    failure_domains = failure_domains or {}
    host_of = host_of or (lambda brick: brick.host)
    new_bricks = list(new_bricks)
    size = layout.set_size
    count = len(new_bricks)
    if count == 0:
        return Plan()

    duplicates = [str(b) for b, n in Counter(new_bricks).items() if n > 1]
    if duplicates:
        raise PlacementError(f"bricks listed more than once: {', '.join(sorted(duplicates))}")

    hosts = Counter(host_of(b) for b in new_bricks)
    if size > 1 and len(hosts) < size:
        short = size - len(hosts)
        # Bricks to add on other hosts: enough whole sets that no host holds two bricks of one.
        missing = max(*hosts.values(), -(-count // size)) * size - count
        fix = (
            f"add {_plural(short, 'spare brick')} on other hosts or {_plural(short, 'more node')}"
            if missing == short
            else f"add {missing} bricks on other hosts, spread over at least {short} of them"
        )
        raise PlacementError(
            f"{layout.describe()} needs bricks on {size} distinct hosts per set; "
            f"the new bricks are on {_plural(len(hosts), 'host')} ({', '.join(sorted(hosts))}); {fix}"
        )

    if count % size:
        missing = size - count % size
        raise PlacementError(
            f"{layout.describe()} volume {volume} grows in whole sets of {size} bricks; "
            f"{_plural(count, 'new brick')} {'was' if count == 1 else 'were'} given "
            f"({', '.join(map(str, new_bricks))}); add {missing} more or remove {count % size}"
        )

    set_count = count // size
    marked = set(arbiters)
    arbiters = [b for b in new_bricks if b in marked]
    if arbiters and not layout.arbiter:
        raise PlacementError(
            f"bricks {', '.join(map(str, arbiters))} are marked arbiter, but {layout.describe()} volume {volume} "
            "has no arbiters; unmark them"
        )
    if size == 1:
        return Plan(sets=[[b] for b in new_bricks])

    host, most = max(sorted(hosts.items()), key=lambda kv: kv[1])
    if most > set_count:
        raise PlacementError(
            f"{layout.describe()} needs bricks on {size} distinct hosts per set; "
            f"the {count} new bricks make {_plural(set_count, 'set')}, but {host} holds {most} of them "
            f"(at most {set_count}); add {most * size - count} bricks on other hosts, "
            f"or move {most - set_count} of {host}'s bricks to other hosts"
        )

    def domain(brick):
        return failure_domains.get(host_of(brick)) or f"host:{host_of(brick)}"

    if arbiters:
        return _plan_with_arbiters(new_bricks, arbiters, layout, set_count, domain, host_of, volume)

    domains = Counter(domain(b) for b in new_bricks)
    busiest, in_busiest = max(sorted(domains.items()), key=lambda kv: kv[1])
    plan = Plan()
    if in_busiest <= set_count:
        plan.sets = _deal(new_bricks, domain, set_count)
    else:
        plan.sets = _deal(new_bricks, host_of, set_count)
        plan.warnings.append(
            f"failure domain {busiest} holds {in_busiest} of the {count} new bricks but there "
            f"{'is' if set_count == 1 else 'are'} {_plural(set_count, 'set')}; the sets span distinct "
            "hosts but not distinct failure domains"
        )
    return plan


def _plan_with_arbiters(new_bricks, arbiters, layout, set_count, domain, host_of, volume):
    """Sets of data bricks, each with one of `arbiters` last: no two bricks of a set in one
    failure domain where the bricks allow it, else on one host."""
    if len(arbiters) != set_count:
        raise PlacementError(
            f"the {len(new_bricks)} new bricks make {_plural(set_count, 'set')} of {layout.describe()} volume "
            f"{volume}, each with one arbiter, but {len(arbiters)} {'is' if len(arbiters) == 1 else 'are'} marked "
            f"arbiter ({', '.join(map(str, arbiters))}); mark {set_count}"
        )
    marked = set(arbiters)
    data = [b for b in new_bricks if b not in marked]
    plan = Plan()
    plan.sets = _fill(data, arbiters, set_count, domain)
    if plan.sets in (None, SEARCH_ENDED):
        plan.sets = _fill(data, arbiters, set_count, host_of)
        if plan.sets is SEARCH_ENDED:
            raise PlacementError(
                f"found no placement of {set_count} new sets with their arbiters within {SEARCH_STEPS} tries; "
                "add the nodes in smaller groups (fewer new sets per run)"
            )
        if plan.sets is None:
            raise PlacementError(
                f"{layout.describe()} needs each set on distinct hosts with one arbiter, and the new bricks "
                f"allow no such sets (arbiters {', '.join(map(str, arbiters))}); put the arbiters on hosts that "
                "hold fewer data bricks"
            )
        plan.warnings.append(
            f"the {len(new_bricks)} new bricks cannot place every set across distinct failure domains; the sets "
            "span distinct hosts"
        )
    return plan
