// Streams the answer to /ask as it is written, then lists the sources; without this file
// the form posts and the whole answer comes back as a page.
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  var card = document.getElementById("answer-card");
  var answer = document.getElementById("answer");
  var notes = document.getElementById("answer-notes");
  var sources = document.getElementById("sources");
  var button = document.getElementById("ask-button");
  function note(text) {
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    notes.appendChild(p);
  }
  function listSources(items) {
    sources.textContent = "";
    items.forEach(function (source) {
      var li = document.createElement("li");
      li.id = "source-" + source.n;
      if (source.cited) li.className = "cited";
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = "[" + source.n + "] " + source.handle;
      var passage = document.createElement("p");
      passage.className = "passage";
      passage.textContent = source.text;
      details.appendChild(summary);
      details.appendChild(passage);
      li.appendChild(details);
      sources.appendChild(li);
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = "";
    card.hidden = false;
    answer.textContent = "";
    answer.setAttribute("aria-busy", "true");
    notes.textContent = "";
    sources.textContent = "";
    button.disabled = true;
    window.teddyPostEvents(form.action, new FormData(form), function (kind, data) {
      if (kind === "delta") {
        text += data;
        answer.textContent = text;
      } else if (kind === "done") {
        listSources(data.sources);
        window.teddyCiteLinks(answer, data.text, data.sources.length);
        data.notes.forEach(note);
        answer.dataset.done = "1";
      } else if (kind === "error") {
        note(data.message);
        answer.dataset.done = "1";
      }
    }).catch(function () {
      note("The connection dropped. Try again.");
    }).then(function () {
      answer.removeAttribute("aria-busy");
      button.disabled = false;
    });
  });
})();
