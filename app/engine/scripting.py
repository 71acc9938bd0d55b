"""Restricted evaluation of what diagrams contain: conditions, scripts, timer expressions and
service-task parameters.

Every expression is compiled by RestrictedPython (no names or attributes starting with ``_``, so no
``__import__`` and no ``().__class__.__subclasses__()``), runs with a small allowlist of builtins and
the guards RestrictedPython provides, and sees only task data plus the functions listed in
``FUNCTIONS``: never a module. A diagram whose expressions do not compile is refused at deploy time.
"""
import ast
import builtins
import operator
import re
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment


class ScriptRejected(Exception):
    """An expression that the restricted environment refuses to compile (message in French)."""


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "|=": operator.ior, "&=": operator.iand,
}


def _inplacevar(op, x, y):
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise ScriptRejected(f"Opérateur « {op} » non autorisé dans un script.") from None


#: Plain functions a diagram may call, besides RestrictedPython's safe builtins.
FUNCTIONS = {
    "all": all, "any": any, "dict": dict, "enumerate": enumerate, "list": list, "max": max,
    "min": min, "set": set, "sum": sum,
}

_BUILTINS = {**safe_builtins, **FUNCTIONS}
# RestrictedPython puts these helpers into safe_builtins; they are guards, not functions to expose.
for _name in ("setattr", "delattr", "_getattr_"):
    _BUILTINS.pop(_name, None)

_GUARDS = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
}


#: Python builtins a diagram may not name (they are absent at run time anyway; refusing them at
#: deploy time gives the analyst a clear message instead of a failure later).
_DENIED = frozenset(name for name in dir(builtins) if not name.startswith("_")) - set(_BUILTINS)


_TRANSLATIONS = (
    (re.compile(r'"(?P<n>[^"]+)" is an invalid variable name because it starts with "_"'),
     "le nom « {n} » est interdit (il commence par « _ »)"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid attribute name because it starts with "_"'),
     "l'attribut « {n} » est interdit (il commence par « _ »)"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid (?:variable|attribute) name because it ends with "__roles__"'),
     "le nom « {n} » est interdit"),
    (re.compile(r"(?P<n>Import|ImportFrom)? ?statements are not allowed|imports are not allowed"),
     "les imports sont interdits"),
    (re.compile(r"(?P<n>Exec|Eval) calls are not allowed"), "les appels à exec/eval sont interdits"),
    (re.compile(r"SyntaxError: (?P<n>.*?) at statement"), "erreur de syntaxe ({n})"),
)


def _in_french(message: str) -> str:
    line = re.match(r"Line (\d+): ", message)
    where = f"ligne {line.group(1)} : " if line else ""
    for pattern, french in _TRANSLATIONS:
        found = pattern.search(message)
        if found:
            return where + french.format(n=found.group("n") or "")
    return message


@lru_cache(maxsize=4096)
def compile_checked(source: str, mode: str = "eval"):
    """Compile ``source`` under the restrictions, or raise ``ScriptRejected`` saying why."""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source.strip() if mode == "eval" else source, "<diagram>")
    if result.errors or result.code is None:
        errors = [_in_french(e) for e in result.errors] or ["erreur de syntaxe"]
        raise ScriptRejected("Expression refusée : " + " ; ".join(dict.fromkeys(errors)))
    if any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(ast.parse(source.strip()))):
        raise ScriptRejected("Expression refusée : les imports sont interdits dans un diagramme.")
    denied = sorted(_DENIED.intersection(result.used_names))
    if denied:
        raise ScriptRejected("Expression refusée : " + ", ".join(f"« {n} »" for n in denied)
                             + " n'est pas une fonction autorisée dans un diagramme.")
    return result.code


def _namespace(context: dict, extra: dict | None) -> dict:
    namespace = dict(_GUARDS)
    namespace.update(extra or {})
    namespace.update(context)
    return namespace


def _is_data(name: str, value) -> bool:
    return not name.startswith("_") and not callable(value) and name not in FUNCTIONS


class RestrictedEnvironment(TaskDataEnvironment):
    """The SpiffWorkflow script environment, with every evaluation compiled restricted."""

    def __init__(self, call_service=None):
        super().__init__({})
        self._call_service = call_service

    def evaluate(self, expression, context, external_context=None):
        return eval(compile_checked(expression, "eval"), _namespace(context, external_context))

    def execute(self, script, context, external_context=None):
        namespace = _namespace(context, external_context)
        exec(compile_checked(script, "exec"), namespace)
        for name, value in namespace.items():
            if _is_data(name, value) and name not in _GUARDS and (
                    name not in (external_context or {})):
                context[name] = value
        for name in [n for n in context if n not in namespace]:
            del context[name]
        return True

    def call_service(self, context, **kwargs):
        if self._call_service is None:
            raise RuntimeError("no service caller configured")
        return self._call_service(context, **kwargs)
