/*
 * Portail SEGUR Numérique — the analysts' process studio (app/templates/processes/studio.html).
 *
 * A bpmn-js modeler (npm bpmn-js, UMD bundle: global BpmnJS) with the « spiffworkflow »
 * extension elements our engine reads, and a properties panel for everything it reads: element
 * ids (renamed with their references) and names, a user task's form key, step, decisions offered,
 * documents asked, extra fields and separation of duties, a service task's handler and its
 * parameters (from the handlers that exist), lanes, timer durations and whether a boundary timer
 * interrupts its task, flow conditions, a gateway's default flow. The buttons post the edited XML
 * to the server: « Vérifier » and « Comparer » read it without saving it, « Enregistrer le
 * brouillon » saves it, « Déployer » saves it and deploys every draft of the package; the problems
 * found are listed and highlighted on the diagram (marker « studio-problem »).
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
  var catalogue = { forms: [], handlers: [], lanes: [], statuses: [], decisions: [] };
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

  /* Show (or clear, with an empty message) a French error under a field group. */
  function fieldError(group, message) {
    var kind = group.tagName === "FIELDSET" ? "fr-fieldset--error"
      : group.classList.contains("fr-select-group") ? "fr-select-group--error" : "fr-input-group--error";
    var old = group.querySelector(".fr-error-text");
    if (old) { old.remove(); }
    group.classList.toggle(kind, !!message);
    if (message) { group.appendChild(el("p", { "class": "fr-error-text", role: "alert", text: message })); }
  }

  /* DSFR checkboxes; onChange(checked values) whenever one is ticked or unticked. */
  function checkboxes(legend, items, checked, onChange, options) {
    options = options || {};
    var boxes = items.map(function (item) {
      var id = "studio-field-" + (++serial);
      var input = el("input", { type: "checkbox", id: id, value: item.value });
      if (options.name) { input.setAttribute("data-property", options.name); }
      input.checked = checked.indexOf(item.value) >= 0;
      input.addEventListener("change", function () {
        onChange(Array.prototype.filter.call(fieldset.querySelectorAll("input"), function (i) { return i.checked; })
          .map(function (i) { return i.value; }));
      });
      return el("div", { "class": "fr-fieldset__element" }, [el("div", { "class": "fr-checkbox-group fr-checkbox-group--sm" },
        [input, el("label", { "class": "fr-label", "for": id, text: item.label })])]);
    });
    var hint = options.hint ? el("span", { "class": "fr-hint-text", text: options.hint }) : null;
    var fieldset = el("fieldset", { "class": "fr-fieldset" },
                      [el("legend", { "class": "fr-fieldset__legend fr-text--regular", text: legend }, [hint])].concat(boxes));
    return fieldset;
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
    var idGroup = field("Identifiant", bo.id, function (value) {
      var problem = renameProblem(bo, value.trim());
      fieldError(idGroup, problem);
      if (!problem && value.trim() !== bo.id) { rename(element, value.trim()); }
    }, { name: "id", hint: "Lisible : il nomme l'élément dans les vérifications, les comparaisons et les propriétés qui le citent." });
    panel.appendChild(idGroup);
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
      renderUserTask(element);
    }
    if (element.type === "bpmn:ServiceTask") { renderService(element); }
    if (element.type === "bpmn:ServiceTask" || element.type === "bpmn:ScriptTask") {
      /* The « async » property (absent: run inside the request that reaches the task). */
      panel.appendChild(checkboxes("Exécution", [{ value: "true", label: "Exécuter en arrière-plan (par le worker)" }],
        property(bo, "async") === "true" ? ["true"] : [], function (values) {
          setOptionalProperty(element, "async", values.length ? "true" : "");
        }, { name: "async", hint: "Coché : la page répond sans attendre cette tâche (un PDF à produire, un service lent) ; le worker l'exécute juste après, dans sa propre transaction, puis la suite du processus. Un échec ouvre un incident." }));
    }
    if (/Task$|CallActivity$|Event$/.test(element.type)) {
      panel.appendChild(field("Étape du suivi fournisseur", property(bo, "timelineLabel"), function (value) {
        setOptionalProperty(element, "timelineLabel", value);
      }, { name: "timelineLabel", hint: "Facultatif : le libellé de cette étape dans le suivi de la demande que voit le fournisseur (vide : absente du suivi)." }));
    }
    var timer = timerDefinition(bo);
    if (timer && element.type === "bpmn:BoundaryEvent") {
      panel.appendChild(checkboxes("Interruption", [{ value: "cancel", label: "Interrompt la tâche à laquelle il est attaché" }],
        bo.cancelActivity === false ? [] : ["cancel"], function (values) {
          modeling.updateProperties(element, { cancelActivity: values.length > 0 });
        }, { name: "cancelActivity", hint: "Coché : à l'échéance, la tâche est annulée et la demande suit le flux du délai. Décoché : la tâche reste ouverte et le flux du délai s'y ajoute (un rappel, par exemple)." }));
    }
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

  /* What an analyst may change on a user task beyond its form: the decisions a review task offers,
     the documents it asks for, extra fields, and who may not do it. */
  function renderUserTask(element) {
    var bo = element.businessObject;
    var offered = property(bo, "decisions");
    if (property(bo, "formKey") === "instruction_decision" || offered) {
      var codes = offered.split(",").map(function (c) { return c.trim(); }).filter(Boolean);
      var group = checkboxes("Décisions proposées à l'agent", catalogue.decisions.map(function (d) {
        return { value: d.code, label: d.label + " (" + d.code + ")" };
      }), codes, function (values) {
        fieldError(group, values.length ? "" : "Cochez au moins une décision.");
        if (values.length) { setProperty(element, "decisions", values.join(",")); }
      }, { name: "decisions", hint: "Dans l'ordre de la liste ; « Valider partiellement » n'est montrée que pour une demande anticipée." });
      panel.appendChild(group);
    }
    panel.appendChild(field("Pièces demandées", property(bo, "documentTypes"), function (value) {
      setOptionalProperty(element, "documentTypes", value.trim());
    }, { name: "documentTypes", hint: "Facultatif : une expression donnant la liste des codes de types de pièces, par exemple ['kbis'] ou ['kbis'] + (['attestation_dsr'] if referencing['dsr'] == 'X' else [])." }));
    var fieldsGroup = field("Champs ajoutés (JSON)", property(bo, "fields"), function (value) {
      var problem = "";
      if (value.trim()) {
        try { JSON.parse(value); } catch (error) { problem = "Ce n'est pas un JSON valide : vérifiez les guillemets, virgules et crochets."; }
      }
      fieldError(fieldsGroup, problem);
      if (!problem) { setOptionalProperty(element, "fields", value.trim()); }
    }, { multiline: true, name: "fields", hint: "Facultatif : des champs ajoutés à l'étape, par exemple [{\"name\": \"finess\", \"label\": \"Numéro FINESS\", \"type\": \"text\", \"required\": true}]. Les formulaires du paquet se modifient dans « Formulaires »." });
    panel.appendChild(fieldsGroup);
    var others = registry.filter(function (e) { return e.type === "bpmn:UserTask" && e.id !== element.id; })
      .map(function (e) { return { value: e.businessObject.id, label: (e.businessObject.name || e.businessObject.id) + " (" + e.businessObject.id + ")" }; });
    panel.appendChild(field("Fait par une autre personne que", property(bo, "notSameActorAs"), function (value) {
      setOptionalProperty(element, "notSameActorAs", value);
    }, { name: "notSameActorAs", choices: others, hint: "Facultatif : la tâche dont l'auteur ne peut pas faire celle-ci (séparation des tâches)." }));
  }

  // --- readable ids ---

  var ID = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

  /* Why an element cannot take this id (in French), or "" when it can. */
  function renameProblem(bo, value) {
    if (value === bo.id) { return ""; }
    if (!ID.test(value)) {
      return "Identifiant invalide : il commence par une lettre ou « _ », suivie de lettres sans accent, chiffres, « _ », « - » ou « . ».";
    }
    if (moddle.ids.assigned(value) || registry.get(value)) {
      return "L'identifiant « " + value + " » est déjà celui d'un autre élément du diagramme.";
    }
    return "";
  }

  /* Rename an element; flows and the default flow refer to it by object (bpmn-js writes the new id),
     the properties that name it as text (« notSameActorAs ») are updated here. */
  function rename(element, value) {
    var old = element.businessObject.id;
    modeling.updateProperties(element, { id: value });
    registry.forEach(function (other) {
      var props = extension(other.businessObject, "spiffworkflow:Properties");
      (props ? props.properties || [] : []).forEach(function (p) {
        if (p.name === "notSameActorAs" && p.value === old) { modeling.updateModdleProperties(other, p, { value: value }); }
      });
    });
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
      // An error page (session expired, too big...) is HTML: its French title tells what happened.
      if ((response.headers.get("Content-Type") || "").indexOf("application/json") < 0) {
        return response.text().then(function (html) {
          var title = new DOMParser().parseFromString(html, "text/html").querySelector("h1");
          return { status: response.status, error: title ? title.textContent.trim() + " : rechargez la page puis réessayez." : "L'action n'a pas abouti." };
        });
      }
      return response.json().then(function (data) { data.status = response.status; return data; });
    }).catch(function () {
      return { status: 0, error: "Le portail ne répond pas : vérifiez votre connexion puis réessayez." };
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
      if (data.ok && data.scenarios && data.scenarios.length) {  /* the analysts' scenarios, replayed */
        clearMarks();
        alert("warning", "Diagramme valide : il peut être déployé, mais " + data.scenarios.length +
              " scénario(s) ne se déroulent plus de la même façon", data.scenarios.map(function (s) {
                return el("li", { "class": "studio-scenario", text: "« " + s.name + " » : " + s.changes.join(" ") });
              }));
      }
      else if (data.ok) { clearMarks(); alert("success", "Diagramme valide : il peut être déployé.", []); }
      else { showProblems(data.problems); }
    });
  });

  document.getElementById("studio-compare").addEventListener("click", function () {
    post(root.dataset.compareUrl).then(function (data) {
      if (data.status !== 200) { return failed(data); }
      var items = data.changes.map(function (c) {
        return el("li", { text: c.kind + " « " + (c.name || c.element_id) + " » (" + c.element_id + ") : " + c.what });
      });
      items.push(el("li", { text: data.impact.requests + " demande(s) en cours attendent dans un élément modifié ou supprimé ; elles terminent sur leur version actuelle." }));
      alert("info", data.changes.length ? "Changements par rapport à la version déployée" : "Aucun changement par rapport à la version déployée", items);
    });
  });

  document.getElementById("studio-deploy").addEventListener("click", function () {
    post(root.dataset.deployUrl, { comment: document.getElementById("studio-comment").value }).then(function (data) {
      if (data.problems) { saved(); return showProblems(data.problems); }
      if (data.status !== 200) { return failed(data); }
      clearMarks();
      state.textContent = "Version déployée : vos prochaines modifications seront enregistrées comme brouillon.";
      if (data.package === null) { return alert("info", "Aucun changement à déployer.", []); }
      alert("success", "Paquet de processus version " + data["package"] + " déployé" +
            (data.versions.length ? " : " + data.versions.map(function (v) { return v.process_id + " v" + v.version; }).join(", ") : "") +
            ". Les nouvelles demandes suivent cette version ; les demandes en cours gardent la leur.",
            [el("li", {}, [el("a", { href: data.moving_url, id: "studio-moving-link",
                                     text: "Voir les demandes en cours sur une version antérieure et les déplacer" })])]);
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
