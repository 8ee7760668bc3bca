// Live upload progress: while a document is queued or being read, ask the server for its
// status every two seconds; when it is ready (or failed), reload to show its summary.
(function () {
  "use strict";
  var busy = function () {
    return document.querySelectorAll("li.document[data-status='queued'], li.document[data-status='processing']");
  };
  if (!busy().length) return;
  var rounds = 0;
  function poll() {
    if (++rounds > 300) return;
    fetch("/documents/status", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        var finished = false;
        answer.documents.forEach(function (doc) {
          var item = document.getElementById("document-" + doc.id);
          if (!item || item.dataset.status === doc.status) return;
          var was = item.dataset.status;
          item.dataset.status = doc.status;
          var label = document.getElementById("status-" + doc.id);
          label.textContent = doc.status + (doc.pages ? ", " + doc.pages + " pages" : "");
          if ((was === "queued" || was === "processing") && (doc.status === "ready" || doc.status === "failed")) {
            finished = true;
          }
        });
        if (finished) { window.location.reload(); return; }
        if (busy().length) setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
