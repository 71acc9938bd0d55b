/*
 * Portail SEGUR Numérique — where a request stands in its diagrams (app/templates/request/_diagram.html).
 *
 * Fetches the request's processes from data-diagram-url ({active, processes: [{id, xml, done,
 * current}]}, app/web/diagram.py), draws one in a bpmn-js navigated viewer (npm bpmn-js, UMD bundle:
 * global BpmnJS) and marks its elements « diagram-done » and « diagram-current » (portal.css). The
 * process shown first is the innermost one still running; the select #request-diagram-process
 * switches to another.
 *
 * window.PortalDiagram.load(container, draw) is shared with js/steering.js: it fetches the JSON of
 * the container's data-diagram-url, hands it to draw (which returns a promise) and says in the
 * container when either fails.
 */
(function () {
  "use strict";

  function fail(container) {
    container.textContent = "Le diagramme n'a pas pu être affiché. Rechargez la page pour réessayer.";
  }

  function load(container, draw) {
    fetch(container.getAttribute("data-diagram-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(draw)
      .catch(function () { fail(container); });
  }

  window.PortalDiagram = { load: load, fail: fail };

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

  load(container, function (data) {
    data.processes.forEach(function (process) { processes[process.id] = process; });
    if (select) {
      select.value = data.active;
      select.addEventListener("change", function () {
        show(select.value).catch(function () { fail(container); });
      });
    }
    return show(data.active);
  });
})();
