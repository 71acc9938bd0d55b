/*
 * Portail SEGUR Numérique — « Pilotage »: the diagram of a process version coloured by how long
 * requests wait at each task (app/templates/steering/index.html).
 *
 * Fetches {xml, heat: {element id: grade 1..4}} from data-diagram-url (app/web/steering.py), draws
 * it in a bpmn-js navigated viewer (npm bpmn-js, UMD bundle: global BpmnJS) and marks each task
 * « heat-<grade> » (portal.css); the figures are in the table next to it.
 */
(function () {
  "use strict";

  var container = document.getElementById("steering-diagram");
  if (!container || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: container });

  function fail() {
    container.textContent = "Le diagramme n'a pas pu être affiché. Rechargez la page pour réessayer.";
  }

  fetch(container.getAttribute("data-diagram-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      return viewer.importXML(data.xml).then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        Object.keys(data.heat).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, "heat-" + data.heat[id]); }
        });
        canvas.zoom("fit-viewport");
        container.setAttribute("data-ready", "true");
      });
    })
    .catch(fail);
})();
