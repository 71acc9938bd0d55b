"""The engine's process-wide settings, in one place.

- ``SERIALIZER``: the one SpiffWorkflow serializer (and its registry) of the application, for the
  specs stored once per deployed version and for instance states, which are stored without them.
- ``install()``, called once by ``create_app``: SpiffWorkflow reads the time from
  ``datetime.now`` (timer deadlines) and ``time.time`` (when a task changed state, shown as
  « depuis le … »); both are pointed at ``app.clock``, so that tests and simulations move time.
"""
import time
from datetime import datetime

from SpiffWorkflow import task as _task_module
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .. import clock


class _StateConverter(BpmnWorkflowConverter):
    """Serializes an instance without its specs: those are stored once per deployed version."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, process_spec=None):
        # The parent restores specs with registry.restore, which returns spec objects unchanged.
        dct = dict(dct, spec=process_spec.spec, subprocess_specs=process_spec.subprocess_specs)
        return super().from_dict(dct)


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, BpmnWorkflow: _StateConverter}))


class _ClockDatetime(datetime):
    """``datetime`` whose ``now`` is ``clock.now``."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


class _ClockTime:
    """The ``time`` module as SpiffWorkflow's task module uses it: ``time()`` is ``clock.now``."""

    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return clock.now().timestamp()


def install() -> None:
    _timer_module.datetime = _ClockDatetime
    _task_module.time = _ClockTime()
