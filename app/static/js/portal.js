/*
 * Portail SEGUR Numérique — progressive enhancement of the forms (no framework, no build).
 *
 * - data-show-if="name=value" (or "name=v1|v2", "name!=value"; several conditions joined
 *   with "&" must all hold): the element is shown only while the form control(s) named
 *   `name` have that value. Radios: the checked one; checkbox: its value ("y") when checked,
 *   "" otherwise; select / input / textarea: their value.
 * - data-show-if-changed="inputId": the element is shown only while the value of that input
 *   differs from its data-initial attribute (its initial value when there is none).
 * - the summary of the errors of a submitted form gets the focus.
 *
 * Hidden elements only get the `hidden` attribute: nothing is disabled, the server decides
 * which fields apply. Without JavaScript everything stays visible.
 */
(function () {
  "use strict";

  function controls(scope, name) {
    var found = scope.querySelectorAll("[name]");
    var result = [];
    for (var i = 0; i < found.length; i++) {
      if (found[i].name === name) {
        result.push(found[i]);
      }
    }
    return result;
  }

  function currentValues(scope, name) {
    var values = [];
    controls(scope, name).forEach(function (control) {
      var type = (control.type || "").toLowerCase();
      if (type === "radio" || type === "checkbox") {
        if (control.checked) {
          values.push(control.value);
        }
      } else if (control.tagName === "SELECT" && control.multiple) {
        Array.prototype.forEach.call(control.selectedOptions, function (option) {
          values.push(option.value);
        });
      } else if (type !== "file") {
        values.push(control.value);
      }
    });
    return values.length ? values : [""];
  }

  function conditionHolds(scope, condition) {
    var negated = condition.indexOf("!=") !== -1;
    var parts = condition.split(negated ? "!=" : "=");
    var name = parts[0].trim();
    var expected = parts.slice(1).join("=").split("|").map(function (v) { return v.trim(); });
    var matches = currentValues(scope, name).some(function (value) {
      return expected.indexOf(value) !== -1;
    });
    return negated ? !matches : matches;
  }

  function scopeOf(element) {
    return element.closest("form") || document;
  }

  function setVisible(element, visible) {
    if (visible) {
      element.removeAttribute("hidden");
    } else {
      element.setAttribute("hidden", "");
    }
  }

  function refresh() {
    document.querySelectorAll("[data-show-if]").forEach(function (element) {
      var scope = scopeOf(element);
      var visible = element.getAttribute("data-show-if").split("&").every(function (condition) {
        return conditionHolds(scope, condition);
      });
      setVisible(element, visible);
    });
    document.querySelectorAll("[data-show-if-changed]").forEach(function (element) {
      var input = document.getElementById(element.getAttribute("data-show-if-changed"));
      if (!input) {
        return;
      }
      var initial = input.hasAttribute("data-initial") ? input.getAttribute("data-initial") : input.defaultValue;
      setVisible(element, input.value !== initial);
    });
  }

  function focusErrorsSummary() {
    var summary = document.querySelector("[data-errors-summary]");
    if (summary) {
      summary.focus();
    }
  }

  function start() {
    refresh();
    focusErrorsSummary();
    document.addEventListener("change", refresh);
    document.addEventListener("input", refresh);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
