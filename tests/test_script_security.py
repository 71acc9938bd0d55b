"""Diagrams are untrusted input: their expressions run restricted, and a diagram that tries to
escape is refused at deploy time and reaches nothing at run time."""
from pathlib import Path

import pytest

import diagrams as d
from app.engine import DeployError, EngineFailure, Run, ScriptRejected, deploy, specs
from app.engine.scripting import RestrictedEnvironment
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
