/*
 * Portail SEGUR Numérique — where a request stands in its diagrams (app/templates/request/_diagram.html).
 *
 * Fetches the request's processes from data-diagram-url ({active, processes: [{id, xml, done,
 * current}]}, app/web/diagram.py), draws one in a bpmn-js navigated viewer (npm bpmn-js, UMD bundle:
 * global BpmnJS) and marks its elements « diagram-done » and « diagram-current » (portal.css). The
 * process shown first is the innermost one still running; the select #request-diagram-process
 * switches to another.
 */
(function () {
  "use strict";

  var container = document.getElementById("request-diagram");
  if (!container || !window.BpmnJS) { return; }
  var select = document.getElementById("request-diagram-process");
  var viewer = new window.BpmnJS({ container: container });
  var processes = {};

  function mark(ids, marker) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    ids.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  function show(processId) {
    var process = processes[processId];
    return viewer.importXML(process.xml).then(function () {
      mark(process.done, "diagram-done");
      mark(process.current, "diagram-current");
      viewer.get("canvas").zoom("fit-viewport");
    });
  }

  function fail() {
    container.textContent = "Le diagramme n'a pas pu être affiché. Rechargez la page pour réessayer.";
  }

  fetch(container.getAttribute("data-diagram-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      data.processes.forEach(function (process) { processes[process.id] = process; });
      if (select) {
        select.value = data.active;
        select.addEventListener("change", function () { show(select.value).catch(fail); });
      }
      return show(data.active);
    })
    .catch(fail);
})();
