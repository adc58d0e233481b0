# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draining hosts out of a volume: what happens to each of their bricks. Pure, no I/O.

For each replica or disperse set (a plain distribute brick is a set of one)
that holds bricks of the leaving hosts:

- every brick of the set leaves: the set is removed with a data migration
  (`remove-brick ... start`, then `commit` once every node completed with no
  failure). Refused when no set would remain, or when the sets that remain
  lack the free space for its data, with a margin;
- some bricks of the set stay: each leaving brick is replaced by a spare brick
  (`replace-brick`, then self-heal fills it) on a host that is not leaving and
  not already in that set, and on a failure domain the set does not use
  whenever the spares allow it. Refused when no such spare exists, naming what
  to add.

Spares are matched to leaving bricks by a search that finds an assignment
whenever one exists (two bricks of one set need spares on two hosts).

Hosts that are lost (dead: replace-node.yml) hold data no one can move: every
brick of theirs is replaced, and a set with no brick elsewhere is refused.

Hosts are compared by a key, never by the text of brick names: the caller gives
`host_key` (the module: each brick's glusterd UUID), since an admin may have probed
a peer by its FQDN and named its bricks by its short name or address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Removing a set moves its data onto the others: they must hold it with this much to spare.
DEFAULT_SPACE_MARGIN = 0.2


class DrainError(ValueError):
    """The hosts cannot be drained safely; the message says why and what to change."""


@dataclass(frozen=True)
class SetState:
    """One set of the volume as read: its bricks in order, data used and space free.

    used: bytes of data the set holds (its largest brick's use for replicas; the
    sum of its data fragments for disperse); free: bytes more it can take.
    """

    bricks: tuple
    used: int = 0
    free: int = 0


@dataclass
class DrainPlan:
    remove_sets: list = field(default_factory=list)  # (set index, [BrickRef])
    replace: list = field(default_factory=list)  # (set index, old BrickRef, new BrickRef)
    data_to_move: int = 0  # bytes remove-brick migrates
    data_to_heal: int = 0  # bytes self-heal copies onto the new bricks
    warnings: list = field(default_factory=list)

    @property
    def empty(self):
        return not self.remove_sets and not self.replace

    def as_dict(self):
        return {
            "remove_sets": [{"set": i, "bricks": [str(b) for b in bricks]} for i, bricks in self.remove_sets],
            "replace": [{"set": i, "old": str(old), "new": str(new)} for i, old, new in self.replace],
            "data_to_move": self.data_to_move,
            "data_to_heal": self.data_to_heal,
            "warnings": list(self.warnings),
        }


def set_need(bricks, index, old):
    """The bytes set `index` holds per brick of the kind `old` is (data or arbiter): its
    fullest such brick's use, as a drain counts a set's data; None when no such brick's
    size is known (all offline). Also the names of the set's bricks. bricks: dicts with
    name, set, arbiter, size_total and size_free."""
    members = [b for b in bricks or [] if b.get("set") == index]
    arbiter = next((bool(b.get("arbiter")) for b in members if b.get("name") == old), False)
    used = [
        b["size_total"] - b["size_free"]
        for b in members
        if bool(b.get("arbiter")) == arbiter and b.get("size_total") is not None and b.get("size_free") is not None
    ]
    return (max(used) if used else None), [b["name"] for b in members]


def plan_differences(checked, plan):
    """What `plan` does that `checked` did not, then what `checked` did that `plan` does not,
    in words (both as DrainPlan.as_dict gives them); empty when both replace and remove the
    same bricks. Sizes and warnings are not compared: they move with every write."""

    def steps(planned):
        planned = planned or {}
        return {f"replace {r['old']} by {r['new']} in set {r['set']}" for r in planned.get("replace") or []} | {
            f"remove set {r['set']} ({', '.join(r['bricks'])})" for r in planned.get("remove_sets") or []
        }

    now, before = steps(plan), steps(checked)
    return [f"now {s}" for s in sorted(now - before)] + [f"no longer {s}" for s in sorted(before - now)]


def _names(hosts):
    return ", ".join(sorted(hosts))


def room_shortage(bricks, index, old, new, room, volume):
    """Why spare `new`, with `room` bytes, cannot take `old`'s place in set `index` of
    `volume` (bricks as set_need reads them), in words; None when it can, or when either
    size is unknown."""
    need, names = set_need(bricks, index, old)
    if need is None or room is None or room >= need:
        return None
    has, held = size_text(room), size_text(need)
    if has == held:  # rounded alike: say by how much
        has, held = f"{room} bytes", f"{need} bytes"
    return (
        f"{new} has room for {has}, less than the {held} a brick of set {index} of {volume} holds "
        f"({', '.join(names)}): it cannot take {old}'s place"
    )


def size_text(value):
    """Bytes for a message: 512 B, 1.5 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024.0
    return f"{value} B"


def plan_drain(
    sets,
    leaving,
    spares=(),
    failure_domains=None,
    margin=DEFAULT_SPACE_MARGIN,
    volume="the volume",
    lost=False,
    host_key=None,
    host_name=None,
    fits=None,
):
    """The plan that takes every brick of the `leaving` hosts out of the volume.

    sets: SetState in volume order; leaving: host keys; spares: BrickRef not in the
    volume, on any host; failure_domains: host key -> domain; lost: the leaving hosts
    are dead, so nothing can migrate off them. host_key: BrickRef -> the key of its
    host (default: its name as written); host_name: key -> the name messages give it.
    fits(set index, old brick, spare): whether the spare has room for that set's data
    (an assignment where each fits is preferred; without one, the plan says which not).
    Raises DrainError with every reason it cannot.
    """
    key = host_key or (lambda brick: brick.host)
    leaving = set(leaving)
    shown = {host_name(k) if host_name else k for k in leaving}
    domains = dict(failure_domains or {})
    plan = DrainPlan()
    errors = []
    wholly, partly = [], []
    for index, state in enumerate(sets):
        going = [b for b in state.bricks if key(b) in leaving]
        if not going:
            continue
        if len(going) == len(state.bricks):
            wholly.append(index)
        else:
            partly.append((index, going))

    staying = [i for i in range(len(sets)) if i not in wholly]
    if wholly and lost:
        errors += [
            f"set {i} of {volume} ({', '.join(str(b) for b in sets[i].bricks)}) has no brick outside the failed "
            f"host(s) {_names(shown)}: its files are only there. Bring the host back (its disks hold them)"
            for i in wholly
        ]
    elif wholly:
        if not staying:
            errors.append(
                f"every set of {volume} has bricks only on the leaving hosts ({_names(shown)}): "
                "no set would remain to hold the data. Add hosts first."
            )
        else:
            moving = sum(sets[i].used for i in wholly)
            room = sum(sets[i].free for i in staying)
            if moving * (1 + margin) > room:
                errors.append(
                    f"removing {len(wholly)} set(s) of {volume} moves {size_text(moving)} onto the other sets, which "
                    f"have {size_text(room)} free; with a {int(margin * 100)}% margin they need "
                    f"{size_text(moving * (1 + margin))}. Add bricks, or free space, first."
                )
            plan.data_to_move = moving
        plan.remove_sets = [(i, list(sets[i].bricks)) for i in wholly]

    usable = [s for s in spares if key(s) not in leaving]
    if len(usable) < len(spares):
        plan.warnings.append(
            "spare bricks on leaving hosts are not used: " + ", ".join(str(s) for s in spares if key(s) in leaving)
        )
    assignment = _assign(sets, partly, usable, domains, key, fits)
    if assignment is None:
        errors.append(_no_spare_message(sets, partly, usable, leaving, volume, key))
    else:
        for index, going in partly:
            for old in going:
                plan.replace.append((index, old, assignment[old]))
            plan.data_to_heal += sets[index].used * len(going)
        for index, going in partly:
            kept = [b for b in sets[index].bricks if key(b) not in leaving]
            new = [assignment[b] for b in going]
            used_domains = [domains.get(key(b)) for b in kept + new if domains.get(key(b))]
            if len(used_domains) != len(set(used_domains)):
                plan.warnings.append(
                    f"set {index} of {volume} will have two bricks in one failure domain: "
                    + ", ".join(f"{b.host} ({domains.get(key(b))})" for b in kept + new)
                )
    if errors:
        raise DrainError("; ".join(errors))
    return plan


def _assign(sets, partly, spares, domains, key, fits=None):
    """A spare for every leaving brick of the partly leaving sets, or None.

    Within a set, all hosts distinct; failure domains distinct where a choice allows
    (tried first, then relaxed); each spare with room for its set's data where a choice
    allows (then relaxed, for the caller to refuse by room). Backtracking over the brick
    with fewest choices."""
    for roomy in (fits, None) if fits else (None,):
        for strict_domains in (True, False):
            found = _search(sets, partly, spares, domains, strict_domains, key, roomy)
            if found is not None:
                return found
    return None


def _search(sets, partly, spares, domains, strict_domains, key, fits=None):
    slots = [(index, old) for index, going in partly for old in going]
    leaving_hosts = {key(old) for _index, old in slots}
    taken, chosen = set(), {}

    def candidates(index, old):
        state = sets[index]
        hosts = {key(b) for b in state.bricks if key(b) not in leaving_hosts}
        hosts |= {key(chosen[b]) for b in state.bricks if b in chosen}
        used_domains = {domains.get(h) for h in hosts if domains.get(h)}
        result = []
        for spare in spares:
            if spare in taken or key(spare) in hosts:
                continue
            if strict_domains and domains.get(key(spare)) and domains.get(key(spare)) in used_domains:
                continue
            if fits is not None and not fits(index, old, spare):
                continue
            result.append(spare)
        return result

    def solve(remaining):
        if not remaining:
            return True
        index, old = min(remaining, key=lambda slot: len(candidates(*slot)))
        rest = [s for s in remaining if s != (index, old)]
        for spare in candidates(index, old):
            taken.add(spare)
            chosen[old] = spare
            if solve(rest):
                return True
            taken.discard(spare)
            del chosen[old]
        return False

    return dict(chosen) if solve(slots) else None


def _no_spare_message(sets, partly, spares, leaving, volume, key):
    needs = []
    for index, going in partly:
        kept = sorted({b.host for b in sets[index].bricks if key(b) not in leaving})
        needs.append(
            f"set {index} ({', '.join(str(b) for b in sets[index].bricks)}) keeps {_names(kept)} and needs "
            f"{len(going)} spare brick(s) on other hosts, one per host"
        )
    have = ", ".join(str(s) for s in spares) or "none"
    return (
        f"no spare bricks to take the place of the leaving bricks in {volume}: "
        + "; ".join(needs)
        + f". Spare bricks declared (gluster_pool_bricks, not in the volume): {have}. Declare spare bricks on "
        "hosts that stay, or add hosts, first."
    )
