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


def test_labs_in_different_slots_share_no_name_address_or_directory(monkeypatch):
    from lab.cli import lab_from_env

    labs = {}
    for slot in ("0", "1"):
        monkeypatch.setenv("GGLAB_SLOT", slot)
        monkeypatch.delenv("GGLAB_STATE_DIR", raising=False)
        labs[slot] = lab_from_env()
    first, second = labs["0"], labs["1"]
    assert (first.prefix, first.subnet, str(first.state_dir)) == ("gglab", "10.77.0", "/var/tmp/gglab")
    assert (second.prefix, second.subnet, str(second.state_dir)) == ("gglab1", "10.77.1", "/var/tmp/gglab1")
    assert (second.host(1).address, second.host(1).netns, second.switch_netns) == (
        "10.77.1.11",
        "gglab1-node1",
        "gglab1-sw",
    )
    assert first.lock_file != second.lock_file and first.in_use_mark != second.in_use_mark
    # Each lab finds only its own namespaces: gglab1-node1 is not one of gglab's.
    assert not second.host(1).netns.startswith(f"{first.prefix}-")


@pytest.mark.parametrize("slot", ["10", "-1", "one"])
def test_a_slot_out_of_range_is_refused(monkeypatch, slot):
    from lab.cli import lab_from_env

    monkeypatch.setenv("GGLAB_SLOT", slot)
    with pytest.raises(LabError, match="GGLAB_SLOT must be a number from 0 to 9"):
        lab_from_env()
