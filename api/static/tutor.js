// Sends a message without leaving the page and streams the tutor's answer into it; the
// changes it proposes get Confirm / Cancel forms. Without this file the form posts.
(function () {
  "use strict";
  var form = document.getElementById("say-form");
  if (!form) return;
  var list = document.getElementById("messages");
  var box = document.getElementById("say-text");
  var button = document.getElementById("say-button");
  var csrf = form.querySelector("input[name=csrf]").value;
  function message(role, text) {
    var empty = document.getElementById("no-messages");
    if (empty) empty.remove();
    var li = document.createElement("li");
    li.className = "message " + role;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You" : "Teddy";
    var p = document.createElement("p");
    p.textContent = text;
    li.appendChild(who);
    li.appendChild(p);
    list.appendChild(li);
    return li;
  }
  function note(li, text) {
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    li.appendChild(p);
  }
  function offer(li, proposal) {
    var row = document.createElement("div");
    row.className = "proposal";
    var what = document.createElement("p");
    what.textContent = "I'd like to " + proposal.summary + ". Nothing happens until you confirm.";
    row.appendChild(what);
    [["1", "Confirm"], ["0", "Cancel"]].forEach(function (choice) {
      var f = document.createElement("form");
      f.method = "post";
      f.action = "/tutor/proposals/" + proposal.id;
      f.className = "inline";
      [["csrf", csrf], ["confirm", choice[0]]].forEach(function (field) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = field[0];
        input.value = field[1];
        f.appendChild(input);
      });
      var b = document.createElement("button");
      b.type = "submit";
      b.textContent = choice[1];
      if (choice[0] === "0") b.className = "secondary";
      f.appendChild(b);
      row.appendChild(f);
    });
    li.appendChild(row);
  }
  // After a failed answer: a note and a Try again button that sends the same question
  // (or, when the server kept it, asks for that stored message to be answered) again.
  function failed(answer, message, again) {
    if (message) note(answer, message);
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary try-again";
    b.textContent = "Try again";
    b.addEventListener("click", again);
    answer.appendChild(b);
    b.focus();
  }
  function ask(body, text, answer) {
    var paragraph = answer.querySelector("p");
    answer.querySelectorAll(".note, .try-again, .proposal").forEach(function (el) { el.remove(); });
    paragraph.textContent = "";
    delete answer.dataset.done;
    answer.setAttribute("aria-busy", "true");
    button.disabled = true;
    var streamed = "";
    var resend = function () { ask(fields({text: text}), text, answer); };
    window.teddyPostEvents(form.action, body, function (kind, data) {
      if (kind === "delta") {
        streamed += data;
        paragraph.textContent = streamed;
      } else if (kind === "done") {
        paragraph.textContent = data.text;
        (data.notes || []).forEach(function (t) { note(answer, t); });
        (data.proposals || []).forEach(function (p) { offer(answer, p); });
        if (data.retry) {
          // The note above says why; the question is kept on the server.
          failed(answer, null, function () { ask(fields({retry: data.retry}), text, answer); });
        }
        answer.dataset.done = "1";
        if (data.quiz === false) setTimeout(function () { window.location.reload(); }, 1500);
      } else if (kind === "error") {
        failed(answer, data.message, resend);
        answer.dataset.done = "1";
      }
    }).catch(function () {
      failed(answer, "The connection dropped.", resend);
      answer.dataset.done = "1";
    }).then(function () {
      answer.removeAttribute("aria-busy");
      button.disabled = false;
      if (!answer.querySelector(".try-again")) box.focus();
    });
  }
  function fields(values) {
    var body = new FormData();
    body.append("csrf", csrf);
    Object.keys(values).forEach(function (k) { body.append(k, values[k]); });
    return body;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = box.value.trim();
    if (!text) return;
    var body = new FormData(form);
    message("user", text);
    var answer = message("assistant", "");
    box.value = "";
    ask(body, text, answer);
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
