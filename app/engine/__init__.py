"""The engine layer: the only package that imports SpiffWorkflow.

- ``specs``: parse and check BPMN files, store them as versions (app/package deploys them with the
  data they name), cache parsed specs;
- ``runtime``: start/load/save an instance, complete or go back on a user task, fire timers;
- ``scripting``: the restricted environment every diagram expression runs in.
"""
from .runtime import DutySeparated, EngineFailure, Run, TaskNotReady, UserTask
from .scripting import ScriptRejected, compile_checked
from .specs import DeployError, Problem, Step, check, current_version, parse, read_folder, store

__all__ = [
    "DeployError", "DutySeparated", "EngineFailure", "Problem", "Run", "ScriptRejected", "Step", "TaskNotReady",
    "UserTask", "check", "compile_checked", "current_version", "parse", "read_folder", "store",
]
