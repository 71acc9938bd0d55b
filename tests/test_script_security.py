"""Diagrams are untrusted input: their expressions run restricted, and a diagram that tries to
escape is refused at deploy time and reaches nothing at run time."""
from copy import deepcopy

import pytest

import diagrams as d
from app.engine import DeployError, EngineFailure, Run, ScriptRejected, specs
from app.package import deploy
from app.engine import scripting
from app.engine.scripting import RestrictedEnvironment, ScriptLimitExceeded
from app.extensions import db
from app.models import ProcessVersion
from app.services import enrolment

ESCAPES = {
    "import": "__import__('os').system('touch {marker}')",
    "subclasses": "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', '{marker}'])",
    "builtins": "open('{marker}', 'w').write('x')",
}
#: Refused only when it runs (str.format could walk attributes: RestrictedPython forbids it).
RUNTIME_ESCAPES = {**ESCAPES, "format walk": "'{{0.__class__}}'.format(1) == 'x'"}


def diagram_with_condition(condition):
    return {"escape.bpmn": d.process("escape", [
        d.user_task("ask"), d.gateway("choose", default="f_default"), d.user_task("other")], [
        d.flow("f_start", "start", "ask"), d.flow("f_ask", "ask", "choose"),
        d.flow("f_cond", "choose", "other", condition), d.flow("f_default", "choose", "end"),
        d.flow("f_other", "other", "end")])}


@pytest.mark.parametrize("name", ESCAPES)
def test_an_escaping_condition_cannot_be_deployed(app, tmp_path, name):
    marker = tmp_path / "pwned"
    with app.app_context():
        with pytest.raises(DeployError) as refused:
            deploy(diagram_with_condition(ESCAPES[name].format(marker=marker)), author="test")
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)) == 0
    problem = refused.value.problems[0]
    assert problem.element == "choose" and "Expression refusée" in problem.message
    assert not marker.exists()


@pytest.mark.parametrize("name", RUNTIME_ESCAPES)
def test_an_escaping_condition_reaches_nothing_even_if_stored(app, tmp_path, monkeypatch, name):
    """Suppose the deploy check were bypassed: the evaluation itself is restricted."""
    marker = tmp_path / "pwned"
    monkeypatch.setattr(specs, "check", lambda processes: [])
    with app.app_context():
        deploy(diagram_with_condition(RUNTIME_ESCAPES[name].format(marker=marker)), author="test")
        request = enrolment.start("escape")
        run = Run.load(request.instance, request)
        with pytest.raises(EngineFailure) as failure:
            run.complete(run.ready_task("Fournisseur").id, "Fournisseur", {})
    assert isinstance(failure.value.original, (ScriptRejected, NameError, NotImplementedError))
    assert not marker.exists()


def test_script_tasks_and_service_parameters_are_checked_too(app):
    with app.app_context():
        with pytest.raises(DeployError) as refused:
            deploy({"s.bpmn": d.process("scripted", [
                d.script_task("script", "import os"),
                d.service_task("mail", "mail.send", template="__import__('os').getcwd()"),
                d.timer("wait", "open('/etc/passwd').read()")], d.chain("script", "mail", "wait"))}, author="test")
    messages = {p.element: p.message for p in refused.value.problems}
    assert messages["script"] == "script : Expression refusée : les imports sont interdits dans un diagramme."
    assert "le nom « __import__ » est interdit" in messages["mail"]
    assert "« open » n'est pas une fonction autorisée" in messages["wait"]


def test_expressions_see_task_data_and_safe_functions_only():
    environment = RestrictedEnvironment()
    data = {"referencing": {"found": True, "profile": "Général"}, "items": [1, 2, 3]}
    assert environment.evaluate("referencing['found'] and len(items) == 3 and max(items) == 3", data)
    assert environment.evaluate("referencing.get('profile')", data) == "Général"
    for source in ("__builtins__", "items.__class__", "globals()", "getattr(items, 'append')"):
        with pytest.raises((ScriptRejected, NameError)):
            environment.evaluate(source, data)
    context = dict(data)
    environment.execute("total = sum(items)\ncount = len(items)", context)
    assert (context["total"], context["count"]) == (6, 3)
    assert not any(callable(v) or k.startswith("_") for k, v in context.items())


# --- expressions that would exhaust the server ------------------------------------------------

#: Seen without any task data: refused at deploy time, with the limit named in French.
EXHAUSTING = {
    "power tower": ("9**9**9**9", "la puissance « ** » produirait un entier de plus de 4 096 bits"),
    "string repetition": ("decision == 'a' * 10**10", "la répétition « * » produirait plus de 1 000 000"),
    "huge range": ("len(range(10**12)) > 0", "« range » produirait plus de 1 000 000"),
    "nested comprehension": ("decision in [x * y for x in range(1000) for y in range(1000)]",
                             "plus de 100 000 itérations"),
    "padding method": ("decision == 'a'.ljust(10**9)", "la méthode « ljust » produirait plus de 1 000 000"),
    "f-string width": ('f"{decision:>{10**9}}" == ""', "le format « :>1000000000 »"),
    "dead branch": ("decision and (False and 2 << 10**6)", "le décalage « << » produirait un entier"),
    "recursion": ("decision == (lambda f: f(f))(lambda f: f(f))", "trop d'appels imbriqués (récursion)"),
}


@pytest.mark.parametrize("name", EXHAUSTING)
def test_an_exhausting_condition_is_refused_at_deploy_time_in_french(app, name):
    condition, message = EXHAUSTING[name]
    with app.app_context():
        with pytest.raises(DeployError) as refused:
            deploy(diagram_with_condition(condition.replace("<", "&lt;")), author="test")
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)) == 0
    [problem] = refused.value.problems
    assert problem.element == "choose"
    assert problem.message.startswith("condition vers other : Expression refusée : ") and message in problem.message


def test_scripts_parameters_and_timers_are_bounded_at_deploy_time_too(app):
    with app.app_context():
        with pytest.raises(DeployError) as refused:
            deploy({"s.bpmn": d.process("scripted", [
                d.script_task("script", "n = 1\nwhile n:\n    padding = '-' * 10**10"),
                d.service_task("mail", "mail.send", template="'rejet' + 'x' * 10**12"),
                d.timer("wait", "'P1D' * 10**7")], d.chain("script", "mail", "wait"))}, author="test")
    messages = {p.element: p.message for p in refused.value.problems}
    assert set(messages) == {"script", "mail", "wait"}
    assert all("la répétition « * » produirait plus de 1 000 000" in m for m in messages.values()), messages


#: Grows from task data (``n``, ``text``, ``items``): only a run can tell. (expression, limit in French)
GROWING = {
    "repetition": ("'a' * n", "la répétition « * »"),
    "list repetition": ("[0] * n", "la répétition « * »"),
    "power": ("2 ** n", "la puissance « ** »"),
    "pow": ("pow(3, n)", "la puissance « ** »"),
    "multiplication": ("(2 ** 4090) * n", "la multiplication « * »"),
    "shift": ("1 << n", "le décalage « << »"),
    "concatenation": ("text * 300000 + text * 300000", "la concaténation « + »"),
    "range": ("range(n)", "« range »"),
    "zfill": ("text.zfill(n)", "la méthode « zfill »"),
    "center": ("text.center(n)", "la méthode « center »"),
    "expandtabs": ("'\\t'.expandtabs(n)", "la méthode « expandtabs »"),
    "replace": ("(text * 1000).replace('', text * 1000)", "la méthode « replace »"),
    "join": ("(text * 1000).join([text * 1000] * 1000)", "la méthode « join »"),
    "unbound method": ("str.rjust(text, n)", "la méthode « rjust »"),
    "bytes of an integer": ("len(text).to_bytes(n, 'big')", "la méthode « to_bytes »"),
    "percent width": ("('%' + str(n) + 'd') % 1", "le formatage « % »"),
    "percent star": ("'%*d' % (n, 1)", "la largeur « * » n'est pas autorisée"),
    "huge exponent": ("2 ** (n ** 40)", "la puissance « ** »"),
    "huge width digits": ("('%' + str(n) * 500 + 'd') % 1", "le formatage « % »"),
    "f-string": ("f'{text:>{n}}'", "le format « :>10000000000 »"),
    "str of a shared list": ("str([text * 100000] * 100000)", "« str » dépasse 1 000 000"),
    "result handed back": ("[text * 100000] * 100000", "le résultat de l'expression dépasse 1 000 000"),
    "comprehension": ("sum(1 for x in items for y in items)", "plus de 100 000 itérations"),
    "repeated copies": ("[list(items) for x in items]", "plus de 10 000 000 éléments ou caractères produits"),
    "sum of lists": ("sum([items] * 100, [])", "plus de 10 000 000 éléments ou caractères produits"),
    "key function": ("max([text * 100000] * 1000, key=list)", "plus de 10 000 000 éléments ou caractères produits"),
    "sort key": ("([text * 100000] * 1000).sort(key=list)", "plus de 10 000 000 éléments ou caractères produits"),
    "recursion": ("(lambda f: f(f, n))(lambda f, k: f(f, k - 1))", "trop d'appels imbriqués (récursion)"),
    "exponential calls": ("(lambda f: f(f, len(text) * 20))(lambda f, k: k and f(f, k - 1) + f(f, k - 1))",
                          "plus de 100 000 itérations ou appels de fonction"),
}
DATA = {"n": 10**10, "text": "ab", "items": list(range(20000))}


@pytest.mark.parametrize("name", GROWING)
def test_an_expression_growing_from_task_data_stops_at_a_fixed_limit(name):
    expression, message = GROWING[name]
    specs.check_limits(expression)  # nothing to see without the data
    with pytest.raises(ScriptLimitExceeded) as stopped:
        RestrictedEnvironment().evaluate(expression, deepcopy(DATA))
    assert message in stopped.value.detail, stopped.value.detail
    assert str(stopped.value).startswith("Limite dépassée dans une expression du diagramme : ")


def test_ordinary_expressions_keep_working_under_the_limits():
    environment = RestrictedEnvironment()
    data = {"n": 3, "text": "ab", "items": [3, 1, 2], "siret": "34866299000038"}
    assert environment.evaluate("'a' * n + text * 2", data) == "aaaabab"
    assert environment.evaluate("2 ** 64 + (1 << n) + pow(2, 10, 1000) + 2 ** -1", data) == 2**64 + 8 + 24 + 0.5
    assert environment.evaluate("f'{siret[:9]:>12}|{n!r}|{2.5:.2f}' + '%05d' % n", data) == "   348662990|3|2.50" + "00003"
    assert environment.evaluate("'-'.join(str(i) for i in range(n)) + text.upper().ljust(4, '.')", data) == "0-1-2AB.."
    assert environment.evaluate("sum(items) + max(items, key=lambda v: -v) + len(list(range(10)))", data) == 17
    assert environment.evaluate("isinstance(text, str) and isinstance(items, list)", data) is True
    assert environment.evaluate("[x * y for x in items for y in items if x < y] + sorted_items",
                                {**data, "sorted_items": [0]}) == [3, 2, 6, 0]
    context = dict(data)
    environment.execute("total = 0\ni = 0\nwhile i < len(items):\n    total += items[i]\n    i += 1\n"
                        "def double(v):\n    return v * 2\nlabel = str(double(total)) + text", context)
    assert (context["total"], context["label"]) == (6, "12ab")


def test_while_loops_and_functions_are_bounded_in_scripts():
    environment = RestrictedEnvironment()
    for script, message in (
            ("while True:\n    pass", "plus de 100 000 itérations"),
            ("n = 0\nwhile n >= 0:\n    n += 1", "plus de 100 000 itérations"),
            ("items = [1]\nfor item in items:\n    items.append(item)", "plus de 100 000 itérations"),
            ("items = [1]\nfor i in range(30):\n    items.extend(items)", "la méthode « extend »"),
            ("text = 'ab'\nfor i in range(30):\n    text += text", "la concaténation « + »"),
            ("items = [1]\nfor i in range(40):\n    items = [*items, *items]", "plus de 100 000 itérations"),
            ("def f(k):\n    return f(k - 1) + f(k - 1) if k else 1\ntotal = f(40)", "plus de 100 000 itérations"),
            ("big = ['a' * 1000000] * 1000000", "la variable « big » dépasse 1 000 000")):
        with pytest.raises(ScriptLimitExceeded) as stopped:
            environment.execute(script, {})
        assert message in stopped.value.detail, (script, stopped.value.detail)
    with pytest.raises(ScriptRejected, match="l'affectation d'une tranche"):
        environment.execute("items = [1]\nitems[:0] = items", {})
    with pytest.raises(ScriptRejected, match="trop longue ou trop imbriquée"):
        environment.evaluate(" + ".join(["1"] * 5000), {})


def test_memory_exhausted_and_cpu_time_are_limits_too(monkeypatch):
    environment = RestrictedEnvironment()

    def exhausted():
        raise MemoryError()

    with pytest.raises(ScriptLimitExceeded, match="mémoire épuisée"):
        environment.evaluate("allocate()", {"allocate": exhausted})
    monkeypatch.setattr(scripting, "MAX_CPU_SECONDS", 0)
    assert environment.evaluate("sum(i for i in range(999))", {}) == 498501  # the clock starts at 1 000 steps
    with pytest.raises(ScriptLimitExceeded, match="plus de 0 secondes de calcul"):
        environment.evaluate("sum(1 for i in (j for j in range(3000)))", {})


def test_a_handler_parameter_growing_from_task_data_fails_its_task_only(app):
    """At run time, a limit exceeded fails the task like any error: the engine keeps what ran before
    and the failed task, to be saved as an incident (tests/test_expression_limits.py: over HTTP)."""
    with app.app_context():
        deploy({"grow.bpmn": d.process("grow", [
            d.user_task("ask"), d.service_task("set_type", "enrolment.set_type", type="'INITIAL' * n")],
            d.chain("ask", "set_type"))}, author="test")
        request = enrolment.start("grow")
        run = Run.load(request.instance, request)
        with pytest.raises(EngineFailure) as failure:
            run.complete(run.ready_task("Fournisseur").id, "Fournisseur", {"n": 10**10})
        assert failure.value.task_name == "set_type" and isinstance(failure.value.original, ScriptLimitExceeded)
        assert "la répétition « * » produirait plus de 1 000 000" in str(failure.value.original)
        run.save()
        assert '"n": 10000000000' in request.instance.state_json and not request.instance.completed
