/*
 * Portail SEGUR Numérique — « Coordonnées bancaires »: fills « Domiciliation » from the IBAN/BIC.
 *
 * When the IBAN or the BIC changes (or is pasted), asks GET /api/banque?iban=…&bic=… (the URL
 * can be given by a data-lookup-url attribute on the <script> tag) and, when the bank is known,
 * writes its name into #bank_domiciliation — only if that field is empty or was filled by this
 * script before: what the user typed is never overwritten. No framework.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var lookupUrl = (script && script.getAttribute("data-lookup-url")) || "/api/banque";

  function init() {
    var iban = document.getElementById("iban");
    var bic = document.getElementById("bic");
    var domiciliation = document.getElementById("bank_domiciliation");
    if (!iban || !bic || !domiciliation || !window.fetch) {
      return;
    }
    var autoFilled = false;  // the current value of the field was written by this script
    var lastQuery = null;
    var pending = null;

    domiciliation.addEventListener("input", function () {
      autoFilled = false;  // typed by the user from now on
    });

    function mayWrite() {
      return autoFilled || domiciliation.value.trim() === "";
    }

    function update() {
      var query = "iban=" + encodeURIComponent(iban.value.trim()) +
                  "&bic=" + encodeURIComponent(bic.value.trim());
      if (query === lastQuery || !iban.value.trim()) {
        return;
      }
      lastQuery = query;
      if (pending && pending.abort) {
        pending.abort();
      }
      pending = window.AbortController ? new AbortController() : null;
      fetch(lookupUrl + (lookupUrl.indexOf("?") === -1 ? "?" : "&") + query, {
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (!data || !mayWrite()) {
          return;
        }
        if (data.known && data.domiciliation) {
          domiciliation.value = data.domiciliation;
          autoFilled = true;
        } else if (autoFilled) {
          domiciliation.value = "";  // the name written before belongs to another bank
        }
      }).catch(function () {
        // network error or aborted request: the user fills the field in, the server checks it
      });
    }

    function updateSoon() {
      window.setTimeout(update, 0);  // after a paste, the value is there once the event is done
    }

    [iban, bic].forEach(function (input) {
      input.addEventListener("change", update);
      input.addEventListener("paste", updateSoon);
    });
    update();  // values kept by the browser or re-displayed after an error
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
