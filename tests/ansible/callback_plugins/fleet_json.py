# A JSON record of a playbook run for tests/ansible.rs. ansible-core no longer ships the
# `json` stdout callback (it moved to the ansible.posix collection, which comes from Galaxy,
# unreachable in CI), and the builtin `tree` callback drops the `failed` flag. This keeps
# Ansible's own verdict: which event fired (ok / failed / skipped / unreachable) per host and
# task, the result as Ansible hands it to callbacks (no_log already applied), and the stats.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_json
type: aggregate
short_description: write each host's task results and the play stats as JSON
description: Writes JSON to the file named by $FLEET_JSON_OUT at the end of the run.
requirements: [FLEET_JSON_OUT in the environment]
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleet_json"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []

    def _record(self, event, result):
        self.tasks.append({
            "task": result.task_name,
            "host": result._host.get_name(),
            "event": event,
            "result": result._result,
        })

    def v2_runner_on_ok(self, result):
        self._record("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("failed", result)

    def v2_runner_on_skipped(self, result):
        self._record("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._record("unreachable", result)

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        out = {
            "tasks": self.tasks,
            "stats": dict((h, stats.summarize(h)) for h in hosts),
        }
        with open(os.environ["FLEET_JSON_OUT"], "w") as f:
            json.dump(out, f, default=str)
