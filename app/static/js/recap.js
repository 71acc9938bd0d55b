/*
 * Portail SEGUR Numérique — « Le récapitulatif PDF est en cours de préparation… »: while the worker
 * prepares the recap PDF, asks the page again every few seconds and, once its #recap paragraph is no
 * longer the pending one (the link to the PDF, or why it is not there), puts it in place of this one.
 * Gives up after two minutes; the « Actualiser la page » link does the same by hand (and without
 * JavaScript). No framework.
 */
(function () {
  "use strict";

  var DELAY_MS = 3000;
  var ATTEMPTS = 40;

  function init() {
    var pending = document.getElementById("recap");
    if (!pending || !pending.hasAttribute("data-recap-pending") || !window.fetch || !window.DOMParser) {
      return;
    }
    var attempts = 0;

    function poll() {
      attempts += 1;
      window.fetch(window.location.pathname, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          var fresh = html && new window.DOMParser().parseFromString(html, "text/html").getElementById("recap");
          if (fresh && !fresh.hasAttribute("data-recap-pending")) {
            pending.replaceWith(document.importNode(fresh, true));
          } else if (attempts < ATTEMPTS) {
            window.setTimeout(poll, DELAY_MS);
          }
        })
        .catch(function () {
          if (attempts < ATTEMPTS) {
            window.setTimeout(poll, DELAY_MS);
          }
        });
    }

    window.setTimeout(poll, DELAY_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
