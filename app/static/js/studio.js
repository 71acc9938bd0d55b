/*
 * Portail SEGUR Numérique — the analysts' process studio (app/templates/processes/studio.html).
 *
 * A bpmn-js modeler (npm bpmn-js, UMD bundle: global BpmnJS) with the « spiffworkflow »
 * extension elements our engine reads, and a properties panel for them: a user task's form key
 * and step, a service task's handler and its parameters (from the handlers that exist), lane and
 * element names, timer durations, flow conditions, a gateway's default flow. The buttons post the
 * edited XML to the server, which saves it as a draft and checks, compares or deploys it; the
 * problems found are listed and highlighted on the diagram (marker « studio-problem »).
 */
(function () {
  "use strict";

  var root = document.getElementById("studio");
  if (!root || !window.BpmnJS) { return; }

  // What our engine reads in the spiffworkflow namespace (see README « Diagrams »).
  var SPIFF = {
    name: "SpiffWorkflow", prefix: "spiffworkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    xml: { tagAlias: "lowerCase" }, associations: [],
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
      { name: "ServiceTaskOperator", superClass: ["Element"],
        properties: [{ name: "id", type: "String", isAttr: true }, { name: "resultVariable", type: "String", isAttr: true },
                     { name: "parameterList", type: "Parameters" }] },
      { name: "Parameters", superClass: ["Element"],
        properties: [{ name: "parameters", type: "Parameter", isMany: true }] },
      { name: "Parameter", superClass: ["Element"],
        properties: [{ name: "id", type: "String", isAttr: true }, { name: "type", type: "String", isAttr: true },
                     { name: "value", type: "String", isAttr: true }] }
    ]
  };

  var modeler = new window.BpmnJS({ container: "#studio-canvas", moddleExtensions: { spiffworkflow: SPIFF } });
  var modeling = modeler.get("modeling");
  var moddle = modeler.get("moddle");
  var canvas = modeler.get("canvas");
  var registry = modeler.get("elementRegistry");
  var panel = document.getElementById("studio-panel");
  var results = document.getElementById("studio-results");
  var state = document.getElementById("studio-state");
  var catalogue = { forms: [], handlers: [], lanes: [], statuses: [] };
  var marked = [];

  // --- small DOM helpers ---

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  var serial = 0;

  /* A DSFR input group; onChange(value) is called when the analyst leaves the field. */
  function field(label, value, onChange, options) {
    options = options || {};
    var id = "studio-field-" + (++serial);
    var control;
    if (options.choices) {
      control = el("select", { "class": "fr-select", id: id });
      control.appendChild(el("option", { value: "", text: "Choisir une option" }));
      options.choices.forEach(function (choice) {
        var option = el("option", { value: choice.value, text: choice.label });
        if (choice.value === value) { option.selected = true; }
        control.appendChild(option);
      });
    } else if (options.multiline) {
      control = el("textarea", { "class": "fr-input", id: id, rows: "3" });
      control.value = value || "";
    } else {
      control = el("input", { "class": "fr-input", id: id });
      control.value = value || "";
    }
    if (options.name) { control.setAttribute("data-property", options.name); }
    if (options.readonly) { control.setAttribute("readonly", ""); }
    control.addEventListener("change", function () { onChange(control.value); });
    var hint = options.hint ? el("span", { "class": "fr-hint-text", text: options.hint }) : null;
    var labelNode = el("label", { "class": "fr-label", "for": id, text: label }, [hint]);
    return el("div", { "class": options.choices ? "fr-select-group" : "fr-input-group" }, [labelNode, control]);
  }

  function choices(values) {
    return values.map(function (v) { return { value: v, label: v }; });
  }

  // --- extension elements ---

  function extension(bo, type) {
    var values = (bo.extensionElements && bo.extensionElements.values) || [];
    return values.filter(function (v) { return v.$type === type; })[0];
  }

  function ensureExtension(element, type, attrs) {
    var bo = element.businessObject;
    var found = extension(bo, type);
    if (found) { return found; }
    var container = bo.extensionElements || moddle.create("bpmn:ExtensionElements", { values: [] });
    found = moddle.create(type, attrs || {});
    found.$parent = container;
    container.get("values").push(found);
    modeling.updateProperties(element, { extensionElements: container });
    return found;
  }

  function property(bo, name) {
    var props = extension(bo, "spiffworkflow:Properties");
    var found = props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
    return found ? found.value : "";
  }

  function setProperty(element, name, value) {
    var props = ensureExtension(element, "spiffworkflow:Properties", { properties: [] });
    var list = props.get("properties");
    var found = list.filter(function (p) { return p.name === name; })[0];
    if (!found) {
      found = moddle.create("spiffworkflow:Property", { name: name, value: value });
      found.$parent = props;
      list.push(found);
      modeling.updateModdleProperties(element, props, { properties: list });
    } else {
      modeling.updateModdleProperties(element, found, { value: value });
    }
  }

  /* Set a property, or remove it when the value is empty (an optional one, e.g. timelineLabel). */
  function setOptionalProperty(element, name, value) {
    if (value) { setProperty(element, name, value); return; }
    var props = extension(element.businessObject, "spiffworkflow:Properties");
    if (!props) { return; }
    var list = props.get("properties").filter(function (p) { return p.name !== name; });
    modeling.updateModdleProperties(element, props, { properties: list });
  }

  function operator(element) {
    return ensureExtension(element, "spiffworkflow:ServiceTaskOperator", {});
  }

  function setParameter(element, name, value) {
    var op = operator(element);
    var list = op.parameterList || moddle.create("spiffworkflow:Parameters", { parameters: [] });
    if (!op.parameterList) { modeling.updateModdleProperties(element, op, { parameterList: list }); }
    var params = list.get("parameters");
    var found = params.filter(function (p) { return p.id === name; })[0];
    if (!found) {
      found = moddle.create("spiffworkflow:Parameter", { id: name, type: "str", value: value });
      found.$parent = list;
      params.push(found);
      modeling.updateModdleProperties(element, list, { parameters: params });
    } else {
      modeling.updateModdleProperties(element, found, { value: value });
    }
  }

  function parameter(bo, name) {
    var op = extension(bo, "spiffworkflow:ServiceTaskOperator");
    var list = op && op.parameterList ? op.parameterList.parameters || [] : [];
    var found = list.filter(function (p) { return p.id === name; })[0];
    return found ? found.value : "";
  }

  // --- the panel ---

  function timerDefinition(bo) {
    return (bo.eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
  }

  function render(element) {
    panel.innerHTML = "";
    if (!element || element.type === "bpmn:Process" || element.type === "label") {
      panel.appendChild(el("p", { "class": "fr-text--sm", text: "Sélectionnez un élément du diagramme pour voir et modifier ses propriétés." }));
      return;
    }
    var bo = element.businessObject;
    panel.appendChild(el("h2", { "class": "fr-h6", text: element.type.replace("bpmn:", "") }));
    panel.appendChild(field("Identifiant", bo.id, function () {}, { readonly: true, name: "id" }));
    panel.appendChild(field(element.type === "bpmn:Lane" ? "Nom du couloir" : "Libellé", bo.name, function (value) {
      modeling.updateProperties(element, { name: value });
    }, element.type === "bpmn:Lane" ? { choices: choices(catalogue.lanes), name: "name" } : { name: "name" }));

    if (element.type === "bpmn:UserTask") {
      panel.appendChild(field("Formulaire", property(bo, "formKey"), function (value) { setProperty(element, "formKey", value); },
                              { choices: choices(catalogue.forms), name: "formKey" }));
      panel.appendChild(field("N° d'étape", property(bo, "stepNumber"), function (value) { setProperty(element, "stepNumber", value); },
                              { name: "stepNumber", hint: "Facultatif : l'indicateur d'étapes du fournisseur." }));
      panel.appendChild(field("Titre d'étape", property(bo, "stepTitle"), function (value) { setProperty(element, "stepTitle", value); },
                              { name: "stepTitle" }));
      var lane = registry.filter(function (e) {
        return e.type === "bpmn:Lane" && (e.businessObject.flowNodeRef || []).indexOf(bo) >= 0;
      })[0];
      panel.appendChild(el("p", { "class": "fr-text--sm", text: "Couloir : " + (lane ? lane.businessObject.name : "aucun") }));
    }
    if (element.type === "bpmn:ServiceTask") { renderService(element); }
    if (/Task$|CallActivity$|Event$/.test(element.type)) {
      panel.appendChild(field("Étape du suivi fournisseur", property(bo, "timelineLabel"), function (value) {
        setOptionalProperty(element, "timelineLabel", value);
      }, { name: "timelineLabel", hint: "Facultatif : le libellé de cette étape dans le suivi de la demande que voit le fournisseur (vide : absente du suivi)." }));
    }
    var timer = timerDefinition(bo);
    if (timer) {
      var duration = timer.timeDuration ? timer.timeDuration.body : "";
      panel.appendChild(field("Durée du délai", duration, function (value) {
        var expression = moddle.create("bpmn:FormalExpression", { body: value });
        modeling.updateModdleProperties(element, timer, { timeDuration: expression });
      }, { name: "timeDuration", hint: "Expression : une durée ISO 8601 entre guillemets, par exemple \"P15D\"." }));
      panel.appendChild(field("Échéance affichée au fournisseur", property(bo, "timelineDeadline"), function (value) {
        setOptionalProperty(element, "timelineDeadline", value);
      }, { name: "timelineDeadline", hint: "Facultatif : par exemple « Répondez avant le {date} » ; {date} devient la date du délai." }));
    }
    if (element.type === "bpmn:SequenceFlow" && /Gateway$/.test(bo.sourceRef.$type)) {
      var isDefault = bo.sourceRef.default === bo;
      panel.appendChild(field("Condition", bo.conditionExpression ? bo.conditionExpression.body : "", function (value) {
        modeling.updateProperties(element, { conditionExpression: value ? moddle.create("bpmn:FormalExpression", { body: value }) : undefined });
      }, { multiline: true, name: "condition", hint: isDefault ? "Flux par défaut : pris quand aucune condition n'est vraie." : "Expression Python sur les données de la demande." }));
    }
    if (/Gateway$/.test(element.type)) {
      var outgoing = (bo.outgoing || []).map(function (flow) { return { value: flow.id, label: (flow.name || "") + " (" + flow.id + ")" }; });
      panel.appendChild(field("Flux par défaut", bo.default ? bo.default.id : "", function (value) {
        var flow = (bo.outgoing || []).filter(function (f) { return f.id === value; })[0];
        modeling.updateProperties(element, { "default": flow || undefined });
      }, { choices: outgoing, name: "default" }));
    }
  }

  function renderService(element) {
    var bo = element.businessObject;
    var op = extension(bo, "spiffworkflow:ServiceTaskOperator");
    var current = op ? op.id : "";
    panel.appendChild(field("Service appelé", current, function (value) {
      modeling.updateModdleProperties(element, operator(element), { id: value });
      render(element);
    }, { name: "handler", choices: catalogue.handlers.map(function (h) { return { value: h.name, label: h.label + " (" + h.name + ")" }; }) }));
    panel.appendChild(field("Variable du résultat", op ? op.resultVariable : "", function (value) {
      modeling.updateModdleProperties(element, operator(element), { resultVariable: value });
    }, { name: "resultVariable" }));
    var handler = catalogue.handlers.filter(function (h) { return h.name === current; })[0];
    (handler ? handler.params : []).forEach(function (param) {
      var literal = param.choices.length ? param.choices.map(function (c) {
        return { value: "'" + c + "'", label: (param.labels && param.labels[c]) || c };
      }) : null;
      panel.appendChild(field(param.label + (param.required ? " *" : ""), parameter(bo, param.name), function (value) {
        setParameter(element, param.name, value);
      }, { name: "param-" + param.name, choices: literal,
           hint: literal ? null : "Expression Python sur les données de la demande (un texte entre guillemets)." }));
    });
  }

  modeler.on("selection.changed", function (event) { render(event.newSelection[0]); });
  modeler.on("element.changed", function (event) {
    var selected = modeler.get("selection").get()[0];
    if (selected && selected.id === event.element.id && !panel.contains(document.activeElement)) { render(selected); }
  });

  // --- server actions ---

  function post(url, fields) {
    return modeler.saveXML({ format: true }).then(function (saved) {
      var body = new FormData();
      body.append("xml", saved.xml);
      Object.keys(fields || {}).forEach(function (key) { body.append(key, fields[key]); });
      return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                          headers: { "X-CSRFToken": root.dataset.csrf, "Accept": "application/json" } });
    }).then(function (response) {
      return response.json().then(function (data) { data.status = response.status; return data; });
    });
  }

  function clearMarks() {
    marked.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "studio-problem"); } });
    marked = [];
  }

  function alert(kind, title, items) {
    results.innerHTML = "";
    var list = items && items.length ? el("ul", {}, items) : null;
    results.appendChild(el("div", { "class": "fr-alert fr-alert--" + kind, id: "studio-alert" },
                           [el("h3", { "class": "fr-alert__title", text: title }), list]));
  }

  function showProblems(problems) {
    clearMarks();
    alert("error", "Le diagramme ne peut pas être déployé (" + problems.length + " problème(s))",
          problems.map(function (p) {
            if (p.element && registry.get(p.element)) { canvas.addMarker(p.element, "studio-problem"); marked.push(p.element); }
            var where = [p.file, p.element].filter(Boolean).join(" / ");
            return el("li", { "data-element": p.element || "", text: (where ? where + " : " : "") + p.message });
          }));
  }

  function failed(data) {
    alert("error", data.error || "L'action n'a pas abouti.", []);
  }

  function saved() {
    state.textContent = "Brouillon enregistré.";
  }

  document.getElementById("studio-save").addEventListener("click", function () {
    post(root.dataset.saveUrl).then(function (data) {
      if (data.status !== 200) { return failed(data); }
      saved();
      alert("success", "Brouillon enregistré", []);
    });
  });

  document.getElementById("studio-check").addEventListener("click", function () {
    post(root.dataset.checkUrl).then(function (data) {
      if (data.status !== 200) { return failed(data); }
      saved();
      if (data.ok) { clearMarks(); alert("success", "Diagramme valide : il peut être déployé.", []); }
      else { showProblems(data.problems); }
    });
  });

  document.getElementById("studio-compare").addEventListener("click", function () {
    post(root.dataset.compareUrl).then(function (data) {
      if (data.status !== 200) { return failed(data); }
      saved();
      var items = data.changes.map(function (c) {
        return el("li", { text: c.kind + " « " + (c.name || c.element_id) + " » (" + c.element_id + ") : " + c.what });
      });
      items.push(el("li", { text: data.impact.requests + " demande(s) en cours attendent dans un élément modifié ou supprimé ; elles terminent sur leur version actuelle." }));
      alert("info", data.changes.length ? "Changements par rapport à la version déployée" : "Aucun changement par rapport à la version déployée", items);
    });
  });

  document.getElementById("studio-deploy").addEventListener("click", function () {
    post(root.dataset.deployUrl, { comment: document.getElementById("studio-comment").value }).then(function (data) {
      if (data.problems) { return showProblems(data.problems); }
      if (data.status !== 200) { return failed(data); }
      clearMarks();
      state.textContent = "Version déployée : vos prochaines modifications seront enregistrées comme brouillon.";
      alert("success", "Déployé : " + data.versions.map(function (v) { return v.process_id + " v" + v.version; }).join(", ") +
            ". Les nouvelles demandes suivent cette version ; les demandes en cours gardent la leur.", []);
    });
  });

  // --- start ---

  Promise.all([
    fetch(root.dataset.sourceUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    fetch(root.dataset.catalogueUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); })
  ]).then(function (loaded) {
    catalogue = loaded[1];
    return modeler.importXML(loaded[0].xml);
  }).then(function () {
    canvas.zoom("fit-viewport");
    root.setAttribute("data-ready", "true");
  }).catch(function (error) {
    alert("error", "Le diagramme n'a pas pu être affiché : " + error.message, []);
  });
}());
