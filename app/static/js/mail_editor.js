/*
 * The mail template editor (app/templates/studio/mails_edit.html): as the analyst types, the
 * unsaved texts are posted to the preview endpoint, which renders them in the sandbox with a
 * sample request; the subject, the text and the HTML (in a sandboxed iframe) are shown, or the
 * French error with its line. The variables shown beside follow the chosen sending context.
 * Nothing is saved here: « Enregistrer le brouillon » submits the form.
 */
(function () {
  "use strict";

  var form = document.getElementById("mail-form");
  if (!form) {
    return;
  }
  var url = form.dataset.previewUrl;
  var timer = null;
  var sent = 0;

  function show(id, visible) {
    document.getElementById(id).hidden = !visible;
  }

  function display(answer) {
    var failed = Boolean(answer.error);
    show("preview-error", failed);
    document.getElementById("preview-error-text").textContent = answer.error || "";
    if (failed) {
      return; // the last good rendering stays, under the error
    }
    document.getElementById("preview-subject").textContent = answer.subject;
    document.getElementById("preview-text").textContent = answer.text;
    document.getElementById("preview-html").srcdoc = answer.html;
  }

  function refresh() {
    var number = ++sent;
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin",
                 headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (answer) {
        if (number === sent) { // an older answer arriving late is dropped
          display(answer);
        }
      })
      .catch(function () {
        display({ error: "L'aperçu n'a pas pu être calculé : vérifiez votre connexion, puis modifiez le texte pour réessayer." });
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }

  function followContext() {
    var context = document.getElementById("mail-context").value;
    var lists = document.querySelectorAll(".mail-editor__variables");
    for (var i = 0; i < lists.length; i++) {
      lists[i].hidden = lists[i].dataset.context !== context;
    }
  }

  form.addEventListener("input", later);
  form.addEventListener("change", function (event) {
    if (event.target.id === "mail-context") {
      followContext();
    }
    later();
  });
  form.dataset.ready = "true";
})();
