"""managed_files: writes only the files that differ (content or mode), in check mode nothing."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.modules import managed_files

from .module_harness import patch_module_args, run_module


def files_args(tmp_path, **extra):
    return {
        "directories": [str(tmp_path / "hooks")],
        "files": [
            {"path": str(tmp_path / "hooks" / "50-hook"), "content": "#!/bin/sh\nexit 0\n", "mode": "0755"},
            {"path": str(tmp_path / "settings.json"), "content": '{"volume": "gv0"}\n'},
        ],
        **extra,
    }


def test_writes_what_is_missing_then_nothing(tmp_path):
    first = run_module(managed_files.main, files_args(tmp_path), [])
    assert not first.failed and first.result["changed"]
    assert first.result["created_directories"] == [str(tmp_path / "hooks")]
    assert (tmp_path / "hooks" / "50-hook").read_text() == "#!/bin/sh\nexit 0\n"
    assert os.stat(tmp_path / "hooks" / "50-hook").st_mode & 0o7777 == 0o755
    assert os.stat(tmp_path / "settings.json").st_mode & 0o7777 == 0o644
    again = run_module(managed_files.main, files_args(tmp_path), [])
    assert not again.result["changed"] and again.result["written"] == []


def test_a_changed_content_or_mode_is_written_and_only_that(tmp_path):
    run_module(managed_files.main, files_args(tmp_path), [])
    os.chmod(tmp_path / "hooks" / "50-hook", 0o644)
    (tmp_path / "settings.json").write_text("{}\n")
    result = run_module(managed_files.main, files_args(tmp_path, _ansible_diff=True), []).result
    assert result["written"] == [str(tmp_path / "hooks" / "50-hook"), str(tmp_path / "settings.json")]
    assert os.stat(tmp_path / "hooks" / "50-hook").st_mode & 0o7777 == 0o755
    assert (tmp_path / "settings.json").read_text() == '{"volume": "gv0"}\n'
    assert result["diff"][1] == {
        "before_header": str(tmp_path / "settings.json"),
        "after_header": str(tmp_path / "settings.json"),
        "before": "{}\n",
        "after": '{"volume": "gv0"}\n',
    }


def test_a_private_files_content_stays_out_of_the_diff(tmp_path):
    secret = {"path": str(tmp_path / "inventory.yml"), "content": "all:\n  vars: {password: hunter2}\n", "mode": "0600"}
    result = run_module(managed_files.main, {"files": [secret], "_ansible_diff": True}, []).result
    assert result["written"] == [secret["path"]]
    assert result["diff"][0]["after"] == "(a private file of 33 characters, not shown)\n"
    assert "hunter2" not in str(result)
    assert (tmp_path / "inventory.yml").read_text() == secret["content"]
    # A file made private: its earlier content stays out too.
    (tmp_path / "was-public.yml").write_text("password: hunter3\n")
    made_private = {**secret, "path": str(tmp_path / "was-public.yml")}
    result = run_module(managed_files.main, {"files": [made_private], "_ansible_diff": True}, []).result
    assert "hunter3" not in str(result) and "hunter2" not in str(result)


def test_a_private_files_content_is_masked_in_the_modules_arguments_too(tmp_path, capsys):
    secret = {"path": str(tmp_path / "inventory.yml"), "content": "all:\n  vars: {password: hunter2}\n"}
    # As Ansible runs it: the invocation (-vvv, a job's events) carries the arguments.
    with patch_module_args({"files": [], "private_files": [secret], "_ansible_diff": True}), pytest.raises(SystemExit):
        managed_files.main()
    result = json.loads(capsys.readouterr().out)
    assert result["invocation"]["module_args"]["private_files"][0]["content"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert os.stat(secret["path"]).st_mode & 0o7777 == 0o600
    assert result["diff"][0]["after"] == "(a private file of 33 characters, not shown)\n"
    assert "hunter2" not in str(result)
    assert (tmp_path / "inventory.yml").read_text() == secret["content"]


def test_check_mode_reports_and_writes_nothing(tmp_path):
    result = run_module(managed_files.main, files_args(tmp_path, _ansible_check_mode=True), []).result
    assert result["changed"] and len(result["written"]) == 2
    assert list(tmp_path.iterdir()) == []


def test_bad_modes_and_relative_paths_are_refused_before_any_write(tmp_path):
    args = {
        "files": [
            {"path": "relative/file", "content": "x"},
            {"path": str(tmp_path / "f"), "content": "x", "mode": "rwx"},
        ]
    }
    exit_ = run_module(managed_files.main, args, [])
    assert exit_.failed
    assert exit_.result["msg"] == f"relative/file: not an absolute path; {tmp_path / 'f'}: mode 'rwx' is not octal"
    assert list(tmp_path.iterdir()) == []


def tree_args(tmp_path, names, **extra):
    tree = tmp_path / "copy"
    return {
        "files": [{"path": str(tree / name), "content": f"{name}\n"} for name in names],
        "exclusive": [str(tree)],
        **extra,
    }


def test_an_exclusive_tree_gets_its_parents_and_loses_files_no_longer_given(tmp_path):
    first = run_module(managed_files.main, tree_args(tmp_path, ["a/b/one.py", "two.yml"]), []).result
    assert first["created_directories"] == [str(tmp_path / "copy"), str(tmp_path / "copy" / "a" / "b")]
    assert (tmp_path / "copy" / "a" / "b" / "one.py").read_text() == "a/b/one.py\n"
    (tmp_path / "beside").write_text("not in the tree\n")
    (tmp_path / "copy" / "a" / "__pycache__").mkdir()
    (tmp_path / "copy" / "a" / "__pycache__" / "one.cpython-311.pyc").write_bytes(b"\x00")
    checked = run_module(managed_files.main, tree_args(tmp_path, ["two.yml"], _ansible_check_mode=True), []).result
    # b goes with its one file; a keeps Python's cache, and stays.
    gone = [str(tmp_path / "copy" / "a" / "b" / "one.py"), str(tmp_path / "copy" / "a" / "b") + "/"]
    assert checked["changed"] and checked["removed"] == gone
    assert (tmp_path / "copy" / "a" / "b" / "one.py").exists()
    result = run_module(managed_files.main, tree_args(tmp_path, ["two.yml"], _ansible_diff=True), []).result
    assert result["removed"] == checked["removed"] and result["written"] == []
    assert result["diff"] == [
        {
            "before_header": checked["removed"][0],
            "after_header": checked["removed"][0],
            "before": "a/b/one.py\n",
            "after": "",
        }
    ]
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["a", "two.yml"]
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "copy" / "link").symlink_to(tmp_path / "elsewhere")
    linked = run_module(managed_files.main, tree_args(tmp_path, ["two.yml"]), []).result
    assert not linked["changed"] and (tmp_path / "copy" / "link").is_symlink()
    assert [p.name for p in (tmp_path / "copy" / "a").iterdir()] == ["__pycache__"]
    assert (tmp_path / "beside").exists()
    assert not run_module(managed_files.main, tree_args(tmp_path, ["two.yml"]), []).result["changed"]


def test_an_exclusive_tree_without_a_given_file_is_refused(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "data").write_text("x")
    args = {"files": [{"path": str(tmp_path / "f"), "content": "x"}], "exclusive": [str(tmp_path / "keep"), "/"]}
    exit_ = run_module(managed_files.main, args, [])
    assert exit_.failed
    assert exit_.result["msg"] == (
        f"exclusive {tmp_path / 'keep'}: none of the files goes there; refusing to empty it; "
        "exclusive /: not an absolute path below /"
    )
    assert (tmp_path / "keep" / "data").exists() and not (tmp_path / "f").exists()
