#!/usr/bin/python
# -*- coding: utf-8 -*-
# Drives the gaterouter-setup binary on the target host and turns its versioned JSON report
# (docs/json-report.md) into an Ansible result. Planning, redaction and safe writing all stay
# in the binary: this module only chooses flags and maps the report, so the two can never
# disagree about what "changed" means.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: setup
short_description: Connect an OpenClaw root to GateRouter (or remove it)
description:
  - Runs the C(gaterouter-setup) binary on the target with C(--json) and reports its plan.
  - Supports check mode (plans, writes nothing) and diff mode (redacted per-file diffs).
  - The API key is passed on standard input, never on a command line, and never returned.
options:
  binary:
    description: Path of gaterouter-setup on the target. Default, found on PATH.
    type: path
  root:
    description:
      - The OpenClaw root (state directory). Default, OpenClaw's own default for the user the
        task runs as (C($OPENCLAW_STATE_DIR), else C(~/.openclaw)).
    type: path
  api_key:
    description: GateRouter API key. Omitted, the key already in C(<root>/.env) is kept.
    type: str
  state:
    description: C(present) sets GateRouter up; C(absent) uninstalls it.
    type: str
    choices: [present, absent]
    default: present
  primary:
    description: The default model (the binary's default is C(gaterouter/auto)).
    type: str
  fallbacks:
    description: Fallback model refs, merged with those configured unless I(replace_fallbacks).
    type: list
    elements: str
  replace_fallbacks:
    description: The fallbacks become exactly I(fallbacks).
    type: bool
    default: false
  init:
    description:
      - Create OpenClaw's files in a root that has none yet (no C(openclaw.json), no C(agents/)).
        Without it such a directory fails the task, so a wrong I(root) is not turned into one.
    type: bool
    default: false
  all_agents:
    description: Also move agents that have their own model to GateRouter.
    type: bool
    default: false
  agent:
    description: Move only this agent (declared in openclaw.json) to GateRouter; the default model stays.
    type: str
  offline:
    description: Do not contact GateRouter; use the bundled model catalog.
    type: bool
    default: false
  base_url:
    description: GateRouter's OpenAI-compatible base URL.
    type: str
  verify:
    description: Pass C(--verify) (check the result with OpenClaw after writing).
    type: bool
    default: false
  timeout:
    description: Seconds each GateRouter request may take.
    type: int
  as_invoker:
    description:
      - On a root another user owns, act with the task's own rights instead of failing. Only
        matters when the task does not run as root; run as root (C(become)), the binary always
        acts as the root's owner, see C(run_as) below.
    type: bool
    default: false
notes:
  - Run as root (C(become)) on a root another user owns, the binary switches to that owner
    (uid, groups, C(HOME)) once it has read the key, so everything done to the root (files,
    backups, links, SecretRef programs) has the owner's rights, as OpenClaw has; the result's
    C(run_as) names the account (C(null) when it did not switch).
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Connect OpenClaw to GateRouter
  gaterouter.openclaw.setup:
    api_key: "{{ vault_gaterouter_api_key }}"
  become: true
  become_user: openclaw
"""

RETURN = r"""
changed: {description: Whether any file has (or, in check mode, would have) changes., type: bool, returned: always}
files: {description: The report's files (path, kind, action, changed, modes, redacted diff)., type: list, returned: always}
probe: {description: The GateRouter check, or its skipped reason., type: dict, returned: always}
backup: {description: The backup set this run made, or null., type: str, returned: always}
warnings: {description: The tool's warnings (as Ansible warnings)., type: list, returned: when there are any}
msg: {description: What happened, or the tool's one-paragraph error., type: str, returned: always}
diff: {description: Redacted per-file diffs, one per changed file., type: list, returned: with --diff}
verify: {description: The binary's verify result when it reports one., type: raw, returned: when reported}
run_as: {description: "The account a run as root switched to, the root's owner ({uid, gid, user, home, owner_of}), or null.", type: dict, returned: always}
report: {description: The whole JSON report., type: dict, returned: always}
"""

import json
import os
import subprocess

from ansible.module_utils.basic import AnsibleModule


def build_argv(module, binary):
    p = module.params
    if p["state"] == "absent":
        argv = [binary, "uninstall", "--json", "--color", "never"]
        argv.append("--dry-run" if module.check_mode else "--yes")
        if p["as_invoker"]:
            argv.append("--as-invoker")
        if p["root"]:
            # After `--`: a root is never read as an option, whatever its name.
            argv += ["--", p["root"]]
        return argv
    # --dry-run, not --check: in check mode a pending plan is success, not exit 2. Values go
    # as --flag=value, so one that starts with "-" is a value, never another option.
    argv = [binary, "--json", "--color", "never", "--dry-run" if module.check_mode else "--yes"]
    if p["api_key"] is not None:
        argv.append("--api-key-stdin")
    if p["offline"]:
        argv.append("--offline")
    if p["primary"]:
        argv.append("--primary=" + p["primary"])
    for ref in p["fallbacks"] or []:
        argv.append("--fallback=" + ref)
    if p["replace_fallbacks"]:
        argv.append("--replace-fallbacks")
    if p["init"]:
        argv.append("--init")
    if p["all_agents"]:
        argv.append("--all-agents")
    if p["agent"]:
        argv.append("--agent=" + p["agent"])
    if p["base_url"]:
        argv.append("--base-url=" + p["base_url"])
    if p["timeout"] is not None:
        argv.append("--timeout=%d" % p["timeout"])
    if p["verify"]:
        argv.append("--verify")
    if p["as_invoker"]:
        argv.append("--as-invoker")
    if p["root"]:
        argv.append("--root=" + p["root"])
    return argv


def binary_message(text, rc):
    """The binary's error as it printed it: its `error:` lines, without clap's usage tail."""
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    keep = [l for l in lines if not l.startswith("For more information")]
    msg = " ".join(l.strip() for l in keep)
    if msg.startswith("error: "):
        msg = msg[len("error: "):]
    return msg or "gaterouter-setup failed with exit %d and printed nothing" % rc


def diff_of(report):
    # One entry per changed file, from the report's redacted `before`/`after` (Ansible renders
    # its own diff from them). A binary older than those fields gives its redacted unified
    # diff instead, which Ansible prints verbatim.
    out = []
    for f in report.get("files") or []:
        if not f.get("changed"):
            continue
        entry = {"before_header": f["path"], "after_header": f["path"]}
        if "before" in f or "after" in f:
            entry["before"] = f.get("before") or ""
            entry["after"] = f.get("after") or ""
            if f.get("action") == "chmod" or f.get("mode_before") != f.get("mode_after"):
                entry["before_header"] += " (mode %s)" % f.get("mode_before")
                entry["after_header"] += " (mode %s)" % f.get("mode_after")
        else:
            entry["prepared"] = f.get("diff") or "%s: %s\n" % (f["path"], f.get("action"))
        out.append(entry)
    return out


def run(module, argv, data, env):
    """Runs the binary with the key on stdin. Not module.run_command: when the binary stops
    before reading stdin (a refused flag), run_command's write of the key fails with EPIPE
    and the task ends with "[Errno 32] Broken pipe" instead of the binary's message;
    communicate() lets a closed stdin go and keeps what the binary said."""
    environ = dict(os.environ)
    environ.update(env or {})
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environ,
        )
        out, err = proc.communicate(None if data is None else (data + "\n").encode())
    except OSError as e:
        module.fail_json(msg="could not run %s: %s" % (argv[0], e))
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path"),
            root=dict(type="path"),
            api_key=dict(type="str", no_log=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            primary=dict(type="str"),
            fallbacks=dict(type="list", elements="str"),
            replace_fallbacks=dict(type="bool", default=False),
            init=dict(type="bool", default=False),
            all_agents=dict(type="bool", default=False),
            agent=dict(type="str"),
            offline=dict(type="bool", default=False),
            base_url=dict(type="str"),
            verify=dict(type="bool", default=False),
            timeout=dict(type="int"),
            as_invoker=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "absent" and p["api_key"] is not None:
        module.warn("api_key is ignored with state=absent")
    binary = p["binary"] or module.get_bin_path("gaterouter-setup", required=True)
    argv = build_argv(module, binary)

    # The key goes on stdin only; a GATEROUTER_API_KEY inherited by the module must not
    # silently override (or stand in for) the parameter.
    env = {"GATEROUTER_API_KEY": ""} if p["api_key"] is not None else None
    data = p["api_key"] if (p["state"] == "present" and p["api_key"] is not None) else None
    rc, out, err = run(module, argv, data, env)

    try:
        report = json.loads(out)
    except ValueError:
        # No report (a binary too old to print one for a usage error, or one that crashed):
        # its own message is the task's message, as it would be on a terminal.
        module.fail_json(msg=binary_message(err or out, rc), rc=rc, stderr=err)

    result = dict(
        changed=bool(report.get("changed")),
        files=report.get("files") or [],
        probe=report.get("probe"),
        backup=report.get("backup"),
        root=report.get("root"),
        status=report.get("status"),
        run_as=report.get("run_as"),
        rc=rc,
        report=report,
    )
    if "verify" in report:
        result["verify"] = report["verify"]
    for w in report.get("warnings") or []:
        module.warn(w if isinstance(w, str) else json.dumps(w))
    if module._diff:
        result["diff"] = diff_of(report)

    error = report.get("error")
    if rc != 0 or error or report.get("status") == "error":
        msg = (error or {}).get("message") or binary_message(err, rc)
        # Nothing was written on a failed run (the binary restores on exit 4), so not changed.
        result["changed"] = bool(report.get("applied"))
        module.fail_json(msg=msg, error_path=(error or {}).get("path"), **result)

    status = report.get("status")
    if status in ("already-configured", "not-configured"):
        # uninstall on a root setup never touched is "not configured", not "already" so.
        result["msg"] = status.replace("-", " ")
    elif module.check_mode:
        result["msg"] = "changes pending" if result["changed"] else "nothing to change"
    else:
        result["msg"] = status or "done"
    module.exit_json(**result)


if __name__ == "__main__":
    main()
