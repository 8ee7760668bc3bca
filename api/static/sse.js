// Reads a POST answered with server-sent events: calls onEvent(kind, data) for each event.
// (EventSource can only GET; a form post carries the CSRF token in its body instead.)
window.teddyPostEvents = function (url, body, onEvent) {
  "use strict";
  return fetch(url, {
    method: "POST",
    body: body,
    credentials: "same-origin",
    headers: {"Accept": "text/event-stream"}
  }).then(function (response) {
    if (!response.ok || !response.body) {
      return response.text().then(function () {
        onEvent("error", {message: "The server said " + response.status + ". Reload the page and try again."});
      });
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function dispatch(block) {
      var kind = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event: ") === 0) kind = line.slice(7);
        else if (line.indexOf("data: ") === 0) data += line.slice(6);
      });
      if (data) onEvent(kind, JSON.parse(data));
    }
    function read() {
      return reader.read().then(function (step) {
        if (step.done) return;
        buffer += decoder.decode(step.value, {stream: true});
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        return read();
      });
    }
    return read();
  });
};

// The answer's text with each citation [n] as a link that opens passage n.
window.teddyCiteLinks = function (target, text, count) {
  "use strict";
  target.textContent = "";
  var parts = text.split(/(\[\d+\])/);
  parts.forEach(function (part) {
    var match = /^\[(\d+)\]$/.exec(part);
    var n = match ? parseInt(match[1], 10) : 0;
    if (n >= 1 && n <= count) {
      var link = document.createElement("a");
      link.className = "cite";
      link.href = "#source-" + n;
      link.dataset.source = String(n);
      link.textContent = part;
      target.appendChild(link);
    } else {
      target.appendChild(document.createTextNode(part));
    }
  });
};

// A click on a citation opens its passage and moves the focus there.
document.addEventListener("click", function (event) {
  "use strict";
  var link = event.target.closest && event.target.closest("a.cite");
  if (!link) return;
  var item = document.getElementById("source-" + link.dataset.source);
  if (!item) return;
  event.preventDefault();
  var details = item.querySelector("details");
  details.open = true;
  item.classList.add("shown");
  details.querySelector("summary").focus();
});
