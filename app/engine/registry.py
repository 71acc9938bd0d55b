"""The service-task registry: what service tasks call, by the name the diagram gives (spiff
``serviceTaskOperator id``).

A handler is a plain function ``f(ctx, **params) -> dict``. The diagram names it and passes its
parameters as expressions on task data; the returned dict (scalars only) is stored in task data
under the operator's ``resultVariable``.
"""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    required: bool = True
    #: When set, the value must be one of these (literals checked at deploy, any value at run time).
    choices: tuple[str, ...] | None = None
    #: Values offered by the studio, read when it asks (process data, e.g. the statuses): () ->
    #: [(value, label)]. The handler checks the value itself when it runs.
    options: Callable[[], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Handler:
    name: str
    label: str
    func: Callable[..., dict]
    params: tuple[Param, ...] = ()


@dataclass
class ServiceContext:
    """What a handler may use besides its parameters."""

    request: Any            # the EnrolmentRequest the workflow belongs to (None in headless runs)
    task_name: str          # BPMN id of the service task
    now: datetime
    data: dict = field(default_factory=dict)   # read-only view of the task data


HANDLERS: dict[str, Handler] = {}


def handler(name: str, label: str, *params: Param):
    """Register ``func`` as the handler the diagrams call ``name``."""

    def register(func):
        if name in HANDLERS:
            raise ValueError(f"handler {name} registered twice")
        HANDLERS[name] = Handler(name, label, func, params)
        return func

    return register


class UnknownHandler(LookupError):
    pass


def call(name: str, ctx: ServiceContext, params: dict[str, Any]) -> dict:
    try:
        found = HANDLERS[name]
    except KeyError:
        raise UnknownHandler(f"Aucun service nommé « {name} ».") from None
    for param in found.params:
        if param.choices and params.get(param.name) not in param.choices:
            raise ValueError(f"valeur « {params.get(param.name)} » inconnue pour « {param.name} » ({name})")
    result = found.func(ctx, **params)
    return {} if result is None else result
