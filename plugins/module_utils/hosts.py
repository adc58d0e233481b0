# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names: validation, resolution, and "is this name me?"."""

from __future__ import annotations

import errno
import ipaddress
import re
import socket

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import C_LOCALE

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def is_valid_host(name):
    """A DNS host name or an IP address."""
    if not name or len(name) > 253:
        return False
    return is_address(name) or all(_LABEL.match(label) for label in name.rstrip(".").split("."))


def addresses(name):
    """The addresses a name resolves to (empty when it does not resolve)."""
    try:
        return {info[4][0] for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return set()


def _is_local_address(address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return False
            raise
    return True


def is_this_host(name):
    """Whether `name` is the host this code runs on (by name, or by a local address)."""
    if normalized(name) in {"localhost", normalized(socket.gethostname()), normalized(socket.getfqdn())}:
        return True
    found = addresses(name)
    return bool(found) and any(_is_local_address(a) for a in found)


def same_host(name, other_names, resolve=None):
    """Whether `name` and any of `other_names` name one host: equal names or a shared address."""
    resolve = resolve or addresses
    return agreement(identity([name], resolve=resolve), identity(other_names, resolve=resolve)) is not None


def find_peer(name, peers):
    """The peer (not this host's own entry) that `name` designates, or None."""
    for peer in peers:
        if not peer.is_local and same_host(name, peer.hostnames):
            return peer
    return None


def peer_of(name, peers, resolve=True):
    """The entry of `pool list` (this host's own included) that `name` designates: its
    glusterd UUID, a name the pool lists for it, or with `resolve` an address they share,
    or this host. None
    when it is no peer. Names of one host differ from pool to pool (an admin may probe
    by FQDN and name bricks by short name), so hosts are compared by this, never as text."""
    wanted = normalized(name)
    for peer in peers:
        if wanted == normalized(peer.uuid) or (not peer.is_local and wanted in {normalized(n) for n in peer.names}):
            return peer
    found = find_peer(name, peers) if resolve else None
    if found is None and resolve and is_this_host(name):
        found = next((p for p in peers if p.is_local), None)
    return found


def is_loopback(name):
    """Whether `name` is this host for whoever asks (localhost, 127.0.0.0/8, ::1)."""
    if normalized(name) == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normalized(name):
    """A host name as compared: case and a trailing dot do not matter."""
    return str(name).strip().rstrip(".").lower()


def is_address(name):
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def identity(names=(), addresses=(), resolve=None):
    """{"names", "addresses"} of one host: the names given (normalized), every address
    among them, the addresses given, and with `resolve` what each name resolves to."""
    names = {normalized(n) for n in names if n}
    found = {a for a in addresses if a} | {n for n in names if is_address(n)}
    if resolve is not None:
        for name in names - found:
            found |= set(resolve(name) or ())
    return {"names": names, "addresses": found}


def agreement(a, b):
    """Why identities a and b are one host ("name NAME" or "address ADDR"), or None.

    Only an exact name or a shared address counts: a first label (node1 of
    node1.rack-a) is no evidence, and 10.0.0.1 is not 10.0.0.2."""
    shared = sorted(set(a["names"]) & set(b["names"]))
    if shared:
        return f"name {shared[0]}"
    shared = sorted(set(a["addresses"]) & set(b["addresses"]))
    if shared:
        return f"address {shared[0]}"
    return None


def match_identities(wanted, known, what="entry"):
    """Pair each of `wanted` (key -> identity) with the one of `known` (key -> identity) it is.

    Returns (pairs: wanted key -> known key, errors). An entry matching two of the
    other side is an error that names both sides and the evidence: no guess is
    made between them."""
    pairs, errors = {}, []
    claims = {}
    for key, ident in wanted.items():
        hits = [(other, why) for other, other_ident in known.items() if (why := agreement(ident, other_ident))]
        if len(hits) > 1:
            errors.append(
                f"{key} matches more than one {what}: "
                + ", ".join(f"{other} (by {why})" for other, why in hits)
                + "; give each host a name that only it has"
            )
        elif hits:
            pairs[key] = hits[0][0]
            claims.setdefault(hits[0][0], []).append((key, hits[0][1]))
    for other, by in claims.items():
        if len(by) > 1:
            errors.append(
                f"{what} {other} matches more than one host: "
                + ", ".join(f"{key} (by {why})" for key, why in by)
                + "; give each host a name that only it has"
            )
            for key, _why in by:
                pairs.pop(key, None)
    return pairs, errors


def parse_ip_addresses(text):
    """Global addresses from `ip -json address show` (loopback and link-local left out)."""
    import json

    found = []
    for interface in json.loads(text or "[]"):
        for info in interface.get("addr_info", []):
            address = info.get("local")
            if not address or info.get("scope") not in ("global", "site"):
                continue
            found.append(address)
    return found


def this_host(module):
    """This host as it knows itself: {"hostname", "fqdn", "addresses"}. Without `ip`,
    its addresses are what its own names resolve to."""
    hostname, fqdn = socket.gethostname(), socket.getfqdn()
    found = []
    ip = module.get_bin_path("ip")
    if ip:
        rc, out, _err = module.run_command([ip, "-json", "address", "show"], check_rc=False, environ_update=C_LOCALE)
        if rc == 0:
            try:
                found = parse_ip_addresses(out)
            except ValueError:
                found = []
    if not found:
        found = sorted(addresses(hostname) | addresses(fqdn))
        found = [a for a in found if not ipaddress.ip_address(a).is_loopback]
    return {"hostname": hostname, "fqdn": fqdn, "addresses": found}
