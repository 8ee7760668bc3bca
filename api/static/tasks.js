// The tasks page: says how a due field reads while it is typed (the server reads it the
// same way chat does).
(function () {
  "use strict";
  var timers = new WeakMap();
  function readDue(input) {
    var out = document.getElementById(input.getAttribute("aria-describedby"));
    if (!out) return;
    fetch("/tasks/read-due?text=" + encodeURIComponent(input.value), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        out.textContent = answer.message;
        out.classList.toggle("bad", !answer.ok);
      })
      .catch(function () {});
  }
  document.querySelectorAll("input.due-input").forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timers.get(input));
      timers.set(input, setTimeout(function () { readDue(input); }, 250));
    });
  });
})();
