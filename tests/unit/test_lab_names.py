"""The lab's name resolution: short names, or FQDNs first with --domain (lab/lab.py)."""

from __future__ import annotations

import pytest

from lab.lab import Lab, LabError, LabState


def hosts_file(tmp_path, domain):
    lab = Lab(tmp_path)
    return lab._etc_hosts(LabState(prefix="t", subnet=lab.subnet, hosts=[lab.host(1), lab.host(2)], domain=domain))


def test_short_names_only_by_default(tmp_path):
    lines = hosts_file(tmp_path, "").splitlines()
    assert "10.77.0.11\tnode1" in lines and "10.77.0.250\tlabcluster" in lines


def test_with_a_domain_each_name_resolves_to_its_fqdn_first(tmp_path):
    lines = hosts_file(tmp_path, "lab.example").splitlines()
    assert "10.77.0.12\tnode2.lab.example node2" in lines
    assert "10.77.0.250\tlabcluster.lab.example labcluster" in lines


@pytest.mark.parametrize("domain", ["bad domain", "-lab.example", "lab_example", "a..b"])
def test_a_domain_that_is_not_one_is_refused_before_anything_is_made(tmp_path, domain):
    with pytest.raises(LabError, match="is not a DNS domain"):
        Lab(tmp_path).up(2, domain=domain)
    assert list(tmp_path.iterdir()) == []
