#!/usr/bin/python
# Copyright: contributors to ganeti_gluster.cluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: managed_files
short_description: Keep a set of small text files (and their directories) as given, in one call
version_added: "0.1.0"
description:
  - Reads each file, compares its content and mode with those given, and writes only those that differ,
    each to a temporary file beside it, then renamed over it (C(atomic_move)). Creates the O(directories)
    that are missing, and sets their mode.
  - The roles install hooks, their settings and the libraries they import with it. One call does what
    a C(copy) task per file would, without a connection round trip per file (about 0.7 s each on every
    host, measured on the lab).
  - Files and the directories it creates are owned by the user the module runs as (root, with
    C(become)); a file owned by anyone else is rewritten.
  - In diff mode a private file (a mode with no access for group or others, such as an inventory that may
    hold secrets) is shown by its size only.
options:
  files:
    description: The files, each with its absolute C(path), its C(content) (text) and its C(mode).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole content, as text.
        type: str
        required: true
      mode:
        description: Octal permissions, as a string (C("0755")); an unquoted YAML number such as 0755 arrives
          as an integer and is taken as the mode it already is.
        type: raw
        default: "0644"
  private_files:
    version_added: 0.2.0
    description:
      - Files as in O(files) whose content never shows, such as an inventory that may hold decrypted vault
        values. Ansible masks their content in the module's arguments (the invocation at C(-vvv), a job's
        event data, the C(Invoked with) line in the host's syslog), and the diff shows their size only.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole content, as text.
        type: str
        required: true
      mode:
        description: Octal permissions, as in O(files[].mode).
        type: raw
        default: "0600"
  directories:
    description: Directories to create first where missing (mode 0755), even when no file goes there. The
      files' parents that are missing are created too.
    type: list
    elements: path
    default: []
  exclusive:
    version_added: 0.2.0
    description:
      - Trees that hold only the given O(files), such as a copy of a collection; any other file under them
        is removed, then the directories left empty; C(__pycache__) directories, Python's cache of what it
        imported from there, are left alone. Each must hold at least one of the O(files), which keeps a
        mistyped path from emptying a tree that is not this task's.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports in RV(written), RV(created_directories) and RV(removed) what it would change, and changes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
author:
  - ganeti_gluster.cluster developers (@ganeti-gluster)
"""

EXAMPLES = r"""
- name: Install a hook and its settings
  ganeti_gluster.cluster.managed_files:
    directories: [/etc/ganeti/hooks/cluster-verify-post.d]
    files:
      - path: /etc/ganeti/hooks/cluster-verify-post.d/50-example
        content: "#!/bin/sh\nexit 0\n"
        mode: "0755"
      - path: /etc/ganeti/example.json
        content: '{"volume": "gv0"}'
"""

RETURN = r"""
written:
  description: The files written (in check mode, that would be written).
  returned: always
  type: list
  elements: str
created_directories:
  description: The directories created (or that would be).
  returned: always
  type: list
  elements: str
removed:
  version_added: 0.2.0
  description: Files under O(exclusive) removed (or that would be), as they were not given, then the
    directories left empty (with a final C(/)).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/ganeti-gluster/collections/ansible_collections/ganeti_gluster/cluster/plugins/modules/old.py]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.files import replace_file

DIRECTORY_MODE = 0o755


def parse_mode(value):
    """The mode from its octal text, or from an int that YAML already read as one (0755)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        mode = value
    else:
        try:
            mode = int(str(value), 8)
        except ValueError:
            return None
    return mode if 0 <= mode <= 0o7777 else None


def is_private(mode):
    """No access for group or others (an inventory that may hold secrets)."""
    return not mode & 0o077


def shown(content, private):
    """What a diff shows of a file: of a private one only its size, so that --diff prints no secret."""
    if content and private:
        return f"(a private file of {len(content)} characters, not shown)\n"
    return content


def current(path):
    """(content, mode, owner) of the file, or (None, None, None) when there is none."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            content = handle.read()
    except FileNotFoundError:
        return None, None, None
    except UnicodeDecodeError:
        content = ""
    stat = os.stat(path)
    return content, stat.st_mode & 0o7777, (stat.st_uid, stat.st_gid)


def inside(path, tree):
    return os.path.normpath(path).startswith(os.path.normpath(tree) + os.sep)


def strays(tree, keep):
    """Files (and links) under `tree` that are not in `keep`, and its directories, deepest first."""
    found, directories = [], []
    for root, dirs, files in os.walk(tree):
        # Python's own cache of what it imported from the tree: not content, and rebuilt.
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        # A link to a directory is an entry of its parent, never walked into nor removed.
        directories.extend(p for p in (os.path.join(root, d) for d in dirs) if not os.path.islink(p))
        found.extend(p for p in (os.path.join(root, f) for f in files) if p not in keep)
    return sorted(found), sorted(directories, key=len, reverse=True)


def file_options(private):
    """The suboptions of a file of O(files), or of O(private_files), whose content Ansible masks."""
    return {
        "path": {"type": "path", "required": True},
        "content": {"type": "str", "required": True, "no_log": private},
        "mode": {"type": "raw", "default": "0600" if private else "0644"},
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "list", "elements": "dict", "required": True, "options": file_options(private=False)},
            "private_files": {"type": "list", "elements": "dict", "default": [], "options": file_options(private=True)},
            "directories": {"type": "list", "elements": "path", "default": []},
            "exclusive": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    private_paths = {f["path"] for f in module.params["private_files"]}
    wanted = module.params["files"] + module.params["private_files"]
    problems = [f"{f['path']}: not an absolute path" for f in wanted if not os.path.isabs(f["path"])]
    problems += [f"{f['path']}: mode {f['mode']!r} is not octal" for f in wanted if parse_mode(f["mode"]) is None]
    problems += [f"{d}: not an absolute path" for d in module.params["directories"] if not os.path.isabs(d)]
    paths = [f["path"] for f in wanted]
    problems += [f"{p}: given twice" for p in sorted({p for p in paths if paths.count(p) > 1})]
    for tree in module.params["exclusive"]:
        if not os.path.isabs(tree) or os.path.normpath(tree) == "/":
            problems.append(f"exclusive {tree}: not an absolute path below /")
        elif not any(inside(p, tree) for p in paths):
            problems.append(f"exclusive {tree}: none of the files goes there; refusing to empty it")
    if problems:
        module.fail_json(msg="; ".join(problems))

    result = {"changed": False, "written": [], "created_directories": [], "removed": []}
    diffs = []
    owner = (os.geteuid(), os.getegid())
    try:
        parents = [os.path.dirname(p) for p in paths]
        for directory in dict.fromkeys(module.params["directories"] + sorted(parents, key=len)):
            if not os.path.isdir(directory) and directory not in result["created_directories"]:
                result["created_directories"].append(directory)
                if not module.check_mode:
                    os.makedirs(directory, mode=DIRECTORY_MODE, exist_ok=True)
                    os.chmod(directory, DIRECTORY_MODE)
        for entry in wanted:
            path, content, mode = entry["path"], entry["content"], parse_mode(entry["mode"])
            before, before_mode, before_owner = current(path)
            if before == content and before_mode == mode and before_owner == owner:
                continue
            result["written"].append(path)
            # Private before or after: neither side is shown.
            private = path in private_paths or is_private(mode) or (before is not None and is_private(before_mode))
            diffs.append(
                {
                    "before_header": path,
                    "after_header": path,
                    "before": shown(before or "", private),
                    "after": shown(content, private),
                }
            )
            if not module.check_mode:
                replace_file(module, path, content, mode=mode, owner=owner)
        keep = {os.path.normpath(p) for p in paths}
        for tree in module.params["exclusive"]:
            if not os.path.isdir(tree):
                continue
            found, directories = strays(os.path.normpath(tree), keep)
            for path in found:
                before, _mode, _owner = current(path) if not os.path.islink(path) else ("", None, None)
                result["removed"].append(path)
                diffs.append(
                    {
                        "before_header": path,
                        "after_header": path,
                        "before": shown(before or "", _mode is not None and is_private(_mode)),
                        "after": "",
                    }
                )
                if not module.check_mode:
                    os.unlink(path)
            # Deepest first: a directory whose entries all go goes too (in check mode, would).
            going = set(found)
            for directory in directories:
                if all(os.path.join(directory, entry) in going for entry in os.listdir(directory)):
                    going.add(directory)
                    result["removed"].append(directory + os.sep)
                    if not module.check_mode:
                        os.rmdir(directory)
    except OSError as exc:
        module.fail_json(msg=f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}", **result)
    result["changed"] = bool(result["written"] or result["created_directories"] or result["removed"])
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
