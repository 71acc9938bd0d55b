/*
 * Portail SEGUR Numérique — « Pilotage »: the diagram of a process version coloured by how long
 * requests wait at each task (app/templates/steering/index.html).
 *
 * Fetches {xml, heat: {element id: grade 1..4}} from data-diagram-url (app/web/steering.py), draws
 * it in a bpmn-js navigated viewer (npm bpmn-js, UMD bundle: global BpmnJS) and marks each task
 * « heat-<grade> » (portal.css); the figures are in the table next to it. Loaded after
 * js/diagram.js (window.PortalDiagram.load: the fetch and its failure message).
 */
(function () {
  "use strict";

  var container = document.getElementById("steering-diagram");
  if (!container || !window.BpmnJS || !window.PortalDiagram) { return; }
  var viewer = new window.BpmnJS({ container: container });

  window.PortalDiagram.load(container, function (data) {
    return viewer.importXML(data.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      Object.keys(data.heat).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, "heat-" + data.heat[id]); }
      });
      canvas.zoom("fit-viewport");
      container.setAttribute("data-ready", "true");
    });
  });
})();
