"""Restricted evaluation of what diagrams contain: conditions, scripts, timer expressions and
service-task parameters.

Every expression is compiled by RestrictedPython (no names or attributes starting with ``_``, so no
``__import__`` and no ``().__class__.__subclasses__()``), runs with a small allowlist of builtins and
the guards RestrictedPython provides, and sees only task data plus the functions listed in
``FUNCTIONS``: never a module. A diagram whose expressions do not compile is refused at deploy time.

Expressions are also bounded, so that a diagram cannot exhaust the server (``9**9**9**9``,
``'a' * 10**10``): ``_LimitingTransformer`` rewrites the operators that can grow a value, every
call, f-string field and ``while``/function body into calls of the guards below, which refuse a
result past ``MAX_SIZE`` items or characters or ``MAX_INT_BITS`` bits before computing it, and
count what one evaluation iterates and produces (``MAX_STEPS``, ``MAX_PRODUCED``, ``MAX_CPU_SECONDS``).
Going past a limit raises ``ScriptLimitExceeded`` (a task in error, hence an incident, at run
time); ``check_limits`` evaluates, with the same guards, the parts of an expression that depend on
no task data, so that what can be seen statically is refused at deploy time.
"""
import ast
import builtins
import math
import operator
import re
import time
from contextvars import ContextVar
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment


class ScriptRejected(Exception):
    """An expression that the restricted environment refuses to compile (message in French)."""


class ScriptLimitExceeded(Exception):
    """An expression went past one of the fixed limits below; ``detail`` says which, in French."""

    def __init__(self, detail: str):
        super().__init__(f"Limite dépassée dans une expression du diagramme : {detail}")
        self.detail = detail


# --- the limits ---------------------------------------------------------------------------------

#: Items of a list, set or dict, or characters of a string, in one value.
MAX_SIZE = 1_000_000
#: Bits of an integer computed by ``**``, ``*``, ``<<`` or ``pow``.
MAX_INT_BITS = 4096
#: Loop iterations and function calls in one evaluation.
MAX_STEPS = 100_000
#: Items and characters produced by the guarded operations in one evaluation.
MAX_PRODUCED = 10_000_000
#: Nesting depth of a value handed back to task data or to a handler.
MAX_DEPTH = 100
#: CPU time of one evaluation, counted from its ``_CLOCK_EVERY``-th step (reading the clock costs
#: more than a whole ordinary evaluation) and checked every ``_CLOCK_EVERY`` steps.
MAX_CPU_SECONDS = 2.0
_CLOCK_EVERY = 1000


def _n(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def _too_big(what: str) -> ScriptLimitExceeded:
    return ScriptLimitExceeded(f"{what} produirait plus de {_n(MAX_SIZE)} éléments ou caractères.")


def _too_many_bits(what: str) -> ScriptLimitExceeded:
    return ScriptLimitExceeded(f"{what} produirait un entier de plus de {_n(MAX_INT_BITS)} bits.")


class _Budget:
    """What one evaluation spends (``with _Budget():`` around it). Memory or recursion exhausted
    inside is a limit exceeded too."""

    __slots__ = ("steps", "produced", "clock_at", "deadline", "token")

    def __enter__(self):
        self.steps = self.produced = 0
        self.clock_at, self.deadline = _CLOCK_EVERY, None  # the CPU clock is read once it matters
        self.token = _budget.set(self)
        return self

    def __exit__(self, kind, error, traceback):
        _budget.reset(self.token)
        if isinstance(error, MemoryError):
            raise ScriptLimitExceeded("mémoire épuisée.") from None
        if isinstance(error, RecursionError):
            raise ScriptLimitExceeded("trop d'appels imbriqués (récursion).") from None


_budget: ContextVar[_Budget] = ContextVar("diagram_expression_budget")


def _spend(steps: int = 0, produced: int = 0) -> None:
    budget = _budget.get()
    budget.steps += steps
    budget.produced += produced
    if budget.steps > MAX_STEPS:
        raise ScriptLimitExceeded(f"plus de {_n(MAX_STEPS)} itérations ou appels de fonction.")
    if budget.produced > MAX_PRODUCED:
        raise ScriptLimitExceeded(f"plus de {_n(MAX_PRODUCED)} éléments ou caractères produits.")
    if budget.steps >= budget.clock_at:
        budget.clock_at = budget.steps + _CLOCK_EVERY
        if budget.deadline is None:
            budget.deadline = time.thread_time() + MAX_CPU_SECONDS
        elif time.thread_time() > budget.deadline:
            seconds = f"{MAX_CPU_SECONDS:g}".replace(".", ",")
            raise ScriptLimitExceeded(f"plus de {seconds} secondes de calcul.")


def _produce(size: int, what: str) -> None:
    if size > MAX_SIZE:
        raise _too_big(what)
    _spend(produced=size)


_CONTAINERS = (str, bytes, bytearray, list, tuple, dict, set, frozenset)


def _size(value) -> int:
    return len(value) if isinstance(value, _CONTAINERS) else 0


def _measure(value, what: str = "la valeur") -> int:
    """About how many characters ``str(value)`` (or its JSON) takes, without building it; raises
    past ``MAX_SIZE`` or ``MAX_DEPTH`` (a list holding the same long string a million times)."""
    if not isinstance(value, _CONTAINERS):
        return 8
    total = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScriptLimitExceeded(f"{what} imbrique plus de {MAX_DEPTH} niveaux de listes ou de dictionnaires.")
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= MAX_SIZE:
                stack.extend((x, depth + 1) for pair in item.items() for x in pair)
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total <= MAX_SIZE:
                stack.extend((x, depth + 1) for x in item)
        elif isinstance(item, int):
            total += 1 + item.bit_length() // 3
        else:
            total += 8
        if total > MAX_SIZE:
            raise ScriptLimitExceeded(f"{what} dépasse {_n(MAX_SIZE)} éléments ou caractères.")
    return total


# --- operators --------------------------------------------------------------------------------

def _is_int(value) -> bool:
    return isinstance(value, int)


_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _check_pow(base, exponent) -> int:
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1 \
            and (exponent > MAX_INT_BITS or exponent * math.log2(abs(base)) > MAX_INT_BITS):
        raise _too_many_bits("la puissance « ** »")
    return 0


def _check_mul(a, b) -> int:
    if _is_int(a) and _is_int(b):
        if a and b and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
            raise _too_many_bits("la multiplication « * »")
        return 0
    sequence, times = (a, b) if _is_int(b) else (b, a)
    if isinstance(sequence, _SEQUENCES) and _is_int(times):
        size = len(sequence) * max(times, 0)
        if size > MAX_SIZE:
            raise _too_big("la répétition « * »")
        return size
    return 0


def _check_add(a, b) -> int:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        size = len(a) + len(b)
        if size > MAX_SIZE:
            raise _too_big("la concaténation « + »")
        return size
    return 0


def _check_lshift(a, b) -> int:
    if _is_int(a) and _is_int(b) and a and b > 0 and a.bit_length() + b > MAX_INT_BITS:
        raise _too_many_bits("le décalage « << »")
    return 0


def _check_or(a, b) -> int:
    if isinstance(a, (dict, set, frozenset)) and isinstance(b, (dict, set, frozenset)):
        if len(a) + len(b) > MAX_SIZE:
            raise _too_big("l'union « | »")
        return len(a) + len(b)
    return 0


#: A %-format conversion: flags, width, precision (``*`` reads them from the arguments).
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?.")


def _check_mod(template, values) -> int:
    if not isinstance(template, (str, bytes)):
        return 0
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    size = len(text) + _measure(values, "le formatage « % »")
    for width, precision in _PERCENT.findall(text):
        if "*" in (width, precision):
            raise ScriptLimitExceeded("la largeur « * » n'est pas autorisée dans un formatage « % ».")
        size += _width(width) + _width(precision)
    if size > MAX_SIZE:
        raise _too_big("le formatage « % »")
    return size


#: Operator symbol → (check returning the size produced, operation).
_OPERATORS = {
    "+": (_check_add, operator.add), "*": (_check_mul, operator.mul), "**": (_check_pow, operator.pow),
    "<<": (_check_lshift, operator.lshift), "%": (_check_mod, operator.mod), "|": (_check_or, operator.or_),
}
_AST_OPERATORS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%", ast.BitOr: "|"}
_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "|=": operator.ior, "&=": operator.iand,
    "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift, "^=": operator.ixor,
}


def _binop(symbol, a, b):
    check, operation = _OPERATORS[symbol]
    _spend(produced=check(a, b))
    return operation(a, b)


def _inplacevar(op, x, y):
    if op not in _INPLACE:
        raise ScriptRejected(f"Opérateur « {op} » non autorisé dans un script.")
    if op[:-1] in _OPERATORS:
        _spend(produced=_OPERATORS[op[:-1]][0](x, y))
    return _INPLACE[op](x, y)


# --- f-strings, iteration, items, attributes ------------------------------------------------------

_CONVERSIONS = {-1: None, 115: str, 114: repr, 97: ascii}


def _width(digits: str) -> int:
    """A width or precision written in a format (past the limit without reading a huge number)."""
    return MAX_SIZE + 1 if len(digits) > len(str(MAX_SIZE)) else int(digits or 0)


def _format(value, conversion, spec):
    """An f-string field ``{value!conversion:spec}``."""
    if any(_width(width) > MAX_SIZE for width in re.findall(r"\d+", spec)):
        raise _too_big("le format « :" + spec[:20] + " »")
    _measure(value, "le champ d'une f-chaîne")
    if _CONVERSIONS[conversion] is not None:
        value = _CONVERSIONS[conversion](value)
    result = format(value, spec)
    _produce(len(result), "le champ d'une f-chaîne")
    return result


def _counted(iterable):
    for item in iterable:
        _spend(steps=1)
        yield item


def _getiter(iterable):
    """``for`` loops and comprehensions: an immutable sized iterable is paid for at once, anything
    else (a list may grow while it is walked, a generator has no length) item by item."""
    if isinstance(iterable, (str, bytes, tuple, range, dict, set, frozenset)):
        _spend(steps=len(iterable))
        return iterable
    return _counted(iterable)


def _tick(value=None):
    """Injected at the top of every ``while`` and function body, and around every lambda body."""
    _spend(steps=1)
    return value


def _getitem(container, key):
    value = container[key]
    if type(key) is slice:
        _spend(produced=_size(value))
    return value


def _grown_size(text, name, args, kwargs) -> int | None:
    """The length a method that can grow its input (or allocate what it is told) would produce
    (None: any other method)."""
    if name == "to_bytes":  # (1).to_bytes(10**9, 'big')
        length = args[0] if args else kwargs.get("length", 1)
        return length if _is_int(length) else None
    if not isinstance(text, _TEXTS):
        return None
    if name in ("ljust", "rjust", "center", "zfill"):
        return max(len(text), args[0] if args and _is_int(args[0]) else 0)
    if name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        return len(text) + text.count("\t" if isinstance(text, str) else b"\t") * max(tab, 0)
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        count = len(text) + 1 if not old else text.count(old)
        if len(args) > 2 and args[2] >= 0:
            count = min(count, args[2])
        return len(text) + count * max(len(new) - len(old), 0)
    if name == "join" and args:
        return sum(_size(item) for item in args[0]) + len(text) * max(len(args[0]) - 1, 0)
    if name == "translate" and args and isinstance(args[0], dict):
        longest = max((_size(v) for v in args[0].values()), default=1)
        return len(text) * max(longest, 1)
    return None


#: Methods of lists, dicts and sets that copy or grow them, or call a ``key`` function (the others
#: are returned unguarded).
_CONTAINER_GUARDED = frozenset({"extend", "update", "copy", "union", "intersection", "difference",
                                "symmetric_difference", "symmetric_difference_update", "fromkeys", "sort"})
_TEXTS = (str, bytes, bytearray)


def _guarded_method(owner, name, method):
    def call(*args, **kwargs):
        if name == "join" and args:
            args = (list(args[0]),) + args[1:]
        if kwargs.get("key") is not None:
            kwargs["key"] = _callee(kwargs["key"])
        grown = _grown_size(owner, name, args, kwargs)
        if grown is not None and grown > MAX_SIZE:
            raise _too_big(f"la méthode « {name} »")
        before = _size(owner)
        result = method(*args, **kwargs)
        produced = (_size(result) if result is not owner else 0) + max(_size(owner) - before, 0)
        if _size(result) > MAX_SIZE or _size(owner) > MAX_SIZE:
            raise _too_big(f"la méthode « {name} »")
        _spend(produced=produced)
        return result
    return call


def _unbound(name):
    """``str.ljust(text, n)``: the same guard as ``text.ljust(n)``."""
    def call(owner, *args, **kwargs):
        return _getattr(owner, name)(*args, **kwargs)
    return call


def _getattr(owner, name, default=None):
    """Attributes: a method comes guarded (what it produces is counted, and refused beforehand when
    it would grow past the limits), except the methods of lists, dicts and sets that only read."""
    value = safer_getattr(owner, name, default)
    if not callable(value) or (isinstance(owner, (list, dict, set)) and name not in _CONTAINER_GUARDED):
        return value
    if owner in (*_TEXTS, list, dict, set):  # the type itself: str.ljust(text, n), dict.fromkeys(…)
        return _guarded_method(owner, name, value) if name in ("fromkeys", "maketrans") else _unbound(name)
    return _guarded_method(owner, name, value)


# --- functions ----------------------------------------------------------------------------------

def _range(*args):
    result = range(*args)
    try:
        length = len(result)
    except OverflowError:
        length = MAX_SIZE + 1
    if length > MAX_SIZE:
        raise _too_big("« range »")
    return result


def _pow(base, exponent, modulus=None):
    if modulus is None:
        return _binop("**", base, exponent)
    if any(_is_int(x) and x.bit_length() > MAX_INT_BITS for x in (base, exponent, modulus)):
        raise _too_many_bits("« pow »")
    return pow(base, exponent, modulus)


def _sum(iterable, start=0):
    if isinstance(start, (int, float, complex)):
        return sum(iterable, start)
    total = start
    for item in _getiter(iterable):
        total = _binop("+", total, item)
    return total


def _rendering(function):
    def call(*args, **kwargs):
        if len(args) == 1 and not kwargs:
            _measure(args[0], f"« {function.__name__} »")
        result = function(*args, **kwargs)
        _produce(len(result), f"« {function.__name__} »")
        return result
    return call


def _collecting(function):
    def call(*args, **kwargs):
        result = function(*args, **kwargs)
        _produce(len(result), f"« {function.__name__} »")
        return result
    return call


def _with_guarded_key(function):
    def call(*args, key=None, **kwargs):
        if key is not None:
            kwargs["key"] = _callee(key)
        return function(*args, **kwargs)
    return call


#: Builtins whose call is guarded (they stay themselves elsewhere, e.g. in ``isinstance(x, str)``).
_GUARDED_CALLS = {
    range: _range, pow: _pow, sum: _sum, str: _rendering(str), repr: _rendering(repr),
    list: _collecting(list), set: _collecting(set), dict: _collecting(dict),
    max: _with_guarded_key(max), min: _with_guarded_key(min),
}


def _callee(function):
    """Every call goes through this: a builtin that can grow a value is replaced by its guard."""
    try:
        return _GUARDED_CALLS.get(function, function)
    except TypeError:  # unhashable callable
        return function


# --- the compiler -------------------------------------------------------------------------------

def _call(name: str, *args: ast.expr, like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])
    copy_locations(node, like)
    return node


class _LimitingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus the rewriting that puts the limits' guards in place."""

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        symbol = _AST_OPERATORS.get(type(node.op))
        if symbol is None:
            return node
        return _call("_binop_", ast.Constant(symbol), node.left, node.right, like=node)

    def visit_Call(self, node):
        node = super().visit_Call(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_apply_":
            node.args[0] = _call("_callee_", node.args[0], like=node)
        else:
            node.func = _call("_callee_", node.func, like=node)
        return node

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_format_", node.value, ast.Constant(node.conversion), spec, like=node)
        return ast.copy_location(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)

    def visit_Starred(self, node):
        """``[*items, *items]``: unpacking walks its value like a loop does."""
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_getiter_", node.value, like=node)
        return node

    def visit_Attribute(self, node):
        if node.attr in ("format", "format_map"):
            self.error(node, f'"{node.attr}" is a forbidden method.')
        return super().visit_Attribute(node)

    def visit_Subscript(self, node):
        if isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice):
            self.error(node, "Slice assignment is not allowed.")
        return super().visit_Subscript(node)

    @staticmethod
    def _tick_first(node):
        tick = ast.Expr(_call("_tick_", like=node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_While(self, node):
        return self._tick_first(self.node_contents_visit(node))

    def visit_FunctionDef(self, node):
        return self._tick_first(super().visit_FunctionDef(node))

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = _call("_tick_", node.body, like=node.body)
        return node


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
    "_getattr_": _getattr,
    "_getitem_": _getitem,
    "_getiter_": _getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_binop_": _binop,
    "_callee_": _callee,
    "_format_": _format,
    "_tick_": _tick,
}


#: Python builtins a diagram may not name (they are absent at run time anyway; refusing them at
#: deploy time gives the analyst a clear message instead of a failure later).
_DENIED = frozenset(name for name in dir(builtins) if not name.startswith("_")) - set(_BUILTINS)


#: RestrictedPython's messages (and ours above, written in its style), in French.
_TRANSLATIONS = (
    (re.compile(r'"(?P<n>[^"]+)" is an invalid variable name because it starts with "_"'),
     "le nom « {n} » est interdit (il commence par « _ »)"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid attribute name because it starts with "_"'),
     "l'attribut « {n} » est interdit (il commence par « _ »)"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid (?:variable|attribute) name because it ends with "__roles__"'),
     "le nom « {n} » est interdit"),
    (re.compile(r'"(?P<n>[^"]+)" is a restricted name, that is forbidden to access'),
     "l'attribut « {n} » est interdit (il donne accès aux rouages de l'interpréteur)"),
    (re.compile(r'"(?P<n>[^"]+)" is a reserved name'), "le nom « {n} » est réservé"),
    (re.compile(r'"(?P<n>format|format_map)" is a forbidden method'),
     "la méthode « {n} » est interdite (utilisez une f-chaîne, par exemple f\"{{valeur}}\")"),
    (re.compile(r"(?:Lazy import|Import|ImportFrom) statements are not allowed|imports are not allowed"),
     "les imports sont interdits"),
    (re.compile(r"(?P<n>Exec|Eval) calls are not allowed"), "les appels à exec/eval sont interdits"),
    (re.compile(r"Unpacking in comprehensions is not allowed"),
     "le dépaquetage (« * ») dans une compréhension est interdit"),
    (re.compile(r"Augmented assignment of attributes is not allowed"),
     "l'affectation augmentée d'un attribut est interdite"),
    (re.compile(r"Augmented assignment of object items and slices is not allowed"),
     "l'affectation augmentée d'un élément ou d'une tranche est interdite"),
    (re.compile(r"Slice assignment is not allowed"), "l'affectation d'une tranche (x[a:b] = …) est interdite"),
    (re.compile(r'The keyword argument "metaclass" is not allowed'), "l'argument « metaclass » est interdit"),
    (re.compile(r"Assignment expressions are only allowed for simple targets"),
     "l'expression d'affectation « := » n'accepte qu'un nom simple"),
    (re.compile(r"(?P<n>\w+) statements are not allowed"), "l'instruction « {n} » est interdite"),
    (re.compile(r"SyntaxError: (?P<n>.*?) at statement"), "erreur de syntaxe ({n})"),
)


def _in_french(message: str) -> str:
    line = re.match(r"Line (\d+): ", message)
    where = f"ligne {line.group(1)} : " if line else ""
    for pattern, french in _TRANSLATIONS:
        found = pattern.search(message)
        if found:
            return where + french.format(n=found.groupdict().get("n") or "")
    return where + "construction interdite"


@lru_cache(maxsize=4096)
def compile_checked(source: str, mode: str = "eval"):
    """Compile ``source`` under the restrictions, or raise ``ScriptRejected`` saying why."""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source.strip() if mode == "eval" else source, "<diagram>", policy=_LimitingTransformer)
    except (RecursionError, MemoryError):
        raise ScriptRejected("Expression refusée : elle est trop longue ou trop imbriquée.") from None
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


# --- deploy-time: the parts that depend on no task data -------------------------------------------

#: Nodes not worth evaluating alone (or that are no expression on their own).
_NOT_ALONE = (ast.Constant, ast.Name, ast.Slice, ast.Starred, ast.FormattedValue, ast.Lambda)


def _closed_parts(tree):
    """The sub-expressions of ``tree`` that name no task data (only builtins and names they bind
    themselves: comprehension variables, lambda arguments), outermost first."""
    free: dict[ast.AST, set] = {}

    def names(node) -> tuple[set, set]:
        """(names read, names bound) in ``node``; records what it reads from outside."""
        loads, binds = set(), set()
        for child in ast.iter_child_nodes(node):
            child_loads, child_binds = names(child)
            loads |= child_loads
            binds |= child_binds
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else binds).add(node.id)
        elif isinstance(node, ast.arg):
            binds.add(node.arg)
        free[node] = loads - binds - _BUILTINS.keys()
        return loads, binds

    names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None and not free[node.format_spec]:
            yield ast.JoinedStr([ast.FormattedValue(ast.Constant(0), -1, node.format_spec)])  # its spec
        elif isinstance(node, ast.expr) and not isinstance(node, _NOT_ALONE) \
                and isinstance(getattr(node, "ctx", ast.Load()), ast.Load) and not free[node]:
            yield node


def check_limits(source: str, mode: str = "eval") -> None:
    """Evaluate, with the run-time guards, every part of ``source`` that depends on no task data
    (``9**9**9**9``, ``'a' * 10**10``, ``range(10**12)``); raise ``ScriptLimitExceeded`` for the
    first that goes past a limit. Other errors are left to run time."""
    tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    for node in _closed_parts(tree):
        try:
            code = compile_checked(ast.unparse(node), "eval")
            with _Budget():
                eval(code, _namespace({}, None))
        except ScriptLimitExceeded:
            raise
        except Exception:
            continue


class RestrictedEnvironment(TaskDataEnvironment):
    """The SpiffWorkflow script environment, with every evaluation compiled restricted and bounded."""

    def __init__(self, call_service=None):
        super().__init__({})
        self._call_service = call_service

    def evaluate(self, expression, context, external_context=None):
        code = compile_checked(expression, "eval")
        with _Budget():
            result = eval(code, _namespace(context, external_context))
            _measure(result, "le résultat de l'expression")
        return result

    def execute(self, script, context, external_context=None):
        code = compile_checked(script, "exec")
        namespace = _namespace(context, external_context)
        with _Budget():
            exec(code, namespace)
            for name, value in namespace.items():
                if _is_data(name, value) and name not in _GUARDS and (
                        name not in (external_context or {})):
                    _measure(value, f"la variable « {name} »")
                    context[name] = value
        for name in [n for n in context if n not in namespace]:
            del context[name]
        return True

    def call_service(self, context, **kwargs):
        if self._call_service is None:
            raise RuntimeError("no service caller configured")
        return self._call_service(context, **kwargs)
