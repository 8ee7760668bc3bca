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
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = box.value.trim();
    if (!text) return;
    var body = new FormData(form);
    message("user", text);
    var answer = message("assistant", "");
    var paragraph = answer.querySelector("p");
    answer.setAttribute("aria-busy", "true");
    box.value = "";
    button.disabled = true;
    var streamed = "";
    window.teddyPostEvents(form.action, body, function (kind, data) {
      if (kind === "delta") {
        streamed += data;
        paragraph.textContent = streamed;
      } else if (kind === "done") {
        paragraph.textContent = data.text;
        (data.notes || []).forEach(function (t) { note(answer, t); });
        (data.proposals || []).forEach(function (p) { offer(answer, p); });
        answer.dataset.done = "1";
        if (data.quiz === false) setTimeout(function () { window.location.reload(); }, 1500);
      } else if (kind === "error") {
        note(answer, data.message);
        box.value = text;
        answer.dataset.done = "1";
      }
    }).catch(function () {
      note(answer, "The connection dropped. Try again.");
      box.value = text;
    }).then(function () {
      answer.removeAttribute("aria-busy");
      button.disabled = false;
      box.focus();
    });
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
