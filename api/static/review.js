// Anki's keys on the review page: Space (or Enter on the link) shows the answer without a
// round trip, 1-4 press Again/Hard/Good/Easy. Without this file the same links and forms work.
(function () {
  "use strict";
  var show = document.getElementById("show-answer");
  var back = document.getElementById("card-back");
  var sent = false;
  function reveal(event) {
    if (event) event.preventDefault();
    back.hidden = false;
    if (show) show.parentElement.remove();
    show = null;
    var good = document.querySelector("button[data-key='3']");
    if (good) good.focus();
  }
  if (show) {
    show.addEventListener("click", reveal);
    show.focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if ((event.key === " " || event.code === "Space") && show) {
      reveal(event);
      return;
    }
    if (back.hidden) return;
    var button = document.querySelector("button[data-key='" + event.key + "']");
    if (button && !sent) {
      event.preventDefault();
      sent = true;  // a second key press must not post twice
      button.form.requestSubmit(button);
    }
  });
})();
