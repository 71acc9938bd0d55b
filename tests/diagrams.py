"""Small BPMN documents for engine tests (no diagram layout: the engine does not need it)."""
from xml.sax.saxutils import quoteattr

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">\n')


def user_task(id, form="vat_regime", name=None):
    return (f'<bpmn:userTask id="{id}" name={quoteattr(name or id)}><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formKey" value="{form}"/></spiffworkflow:properties>'
            f'</bpmn:extensionElements></bpmn:userTask>')


def service_task(id, handler, result="result", **params):
    rows = "".join(f'<spiffworkflow:parameter id="{k}" type="str" value={quoteattr(v)}/>' for k, v in params.items())
    return (f'<bpmn:serviceTask id="{id}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{handler}" resultVariable="{result}">'
            f'<spiffworkflow:parameters>{rows}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
            f'</bpmn:extensionElements></bpmn:serviceTask>')


def script_task(id, script):
    return f'<bpmn:scriptTask id="{id}"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'


def call_activity(id, called):
    return f'<bpmn:callActivity id="{id}" calledElement="{called}"/>'


def timer(id, duration):
    return (f'<bpmn:intermediateCatchEvent id="{id}"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>'
            f'</bpmn:intermediateCatchEvent>')


def gateway(id, default):
    return f'<bpmn:exclusiveGateway id="{id}" default="{default}"/>'


def flow(id, source, target, condition=None):
    if condition is None:
        return f'<bpmn:sequenceFlow id="{id}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'<bpmn:sequenceFlow id="{id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            f'</bpmn:sequenceFlow>')


def chain(*ids):
    """Flows start → ids… → end, in order."""
    names = ["start", *ids, "end"]
    return [flow(f"f_{a}_{b}", a, b) for a, b in zip(names, names[1:])]


def process(process_id, elements, flows, lanes=None):
    """A whole document. ``lanes``: {lane name: [element ids]}; by default all in « Fournisseur »."""
    ids = ["start", "end", *[e.split('id="')[1].split('"')[0] for e in elements]]
    lanes = lanes or {"Fournisseur": ids}
    lane_xml = "".join(
        f'<bpmn:lane id="lane_{i}" name={quoteattr(name)}>'
        + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
        + "</bpmn:lane>" for i, (name, refs) in enumerate(lanes.items()))
    body = "\n".join(['<bpmn:startEvent id="start"/>', *elements, '<bpmn:endEvent id="end"/>', *flows])
    return (HEAD + f'<bpmn:collaboration id="c_{process_id}"><bpmn:participant id="p_{process_id}" '
            f'processRef="{process_id}"/></bpmn:collaboration>\n'
            f'<bpmn:process id="{process_id}" isExecutable="true"><bpmn:laneSet id="ls_{process_id}">{lane_xml}'
            f'</bpmn:laneSet>\n{body}\n</bpmn:process>\n</bpmn:definitions>\n')
