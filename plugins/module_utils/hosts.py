# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names: validation, resolution, and "is this name me?"."""

from __future__ import annotations

import errno
import ipaddress
import re
import socket

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def is_valid_host(name):
    """A DNS host name or an IP address."""
    if not name or len(name) > 253:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    return all(_LABEL.match(label) for label in name.rstrip(".").split("."))


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
    if name.lower() in {"localhost", socket.gethostname().lower(), socket.getfqdn().lower()}:
        return True
    found = addresses(name)
    return bool(found) and any(_is_local_address(a) for a in found)


def same_host(name, other_names, resolve=None):
    """Whether `name` and any of `other_names` name one host: equal names or a shared address."""
    resolve = resolve or addresses
    lowered = name.lower()
    if any(lowered == other.lower() for other in other_names):
        return True
    mine = resolve(name)
    return bool(mine) and any(mine & resolve(other) for other in other_names)


def find_peer(name, peers):
    """The peer (not this host's own entry) that `name` designates, or None."""
    for peer in peers:
        if not peer.is_local and same_host(name, peer.hostnames):
            return peer
    return None


def same_name(a, b):
    """Whether two names agree up to the domain: Ganeti knows nodes by resolved
    (often fully qualified) names, where an inventory may use short ones."""
    return a == b or a.split(".")[0] == b.split(".")[0]
