/*
 * The mail template editor (app/templates/studio/mails_edit.html): as the analyst types, the
 * unsaved texts are posted to the preview endpoint, which renders them in the sandbox with a
 * sample request; the subject, the text and the HTML (in a sandboxed iframe) are shown, or the
 * French error with its line. The variables shown beside follow the chosen sending context.
 * « Enregistrer le brouillon » submits the form; « Vérifier » and « Déployer » save the texts typed
 * since, as a draft, before they post, so that nothing typed is lost.
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
  var typed = false;

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
    typed = true;
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

  function saveFirst(event) {
    var action = event.target;
    if (!typed) {
      return;
    }
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        typed = false;
        action.submit();
      })
      .catch(function () {
        display({ error: "Le brouillon n'a pas pu être enregistré : cliquez sur « Enregistrer le brouillon », puis réessayez." });
      });
  }

  var actions = document.querySelectorAll("form.package-action");
  for (var i = 0; i < actions.length; i++) {
    actions[i].addEventListener("submit", saveFirst);
  }
  form.dataset.ready = "true";
})();
