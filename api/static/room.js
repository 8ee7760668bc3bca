// Keeps the room's panel live: the server sends it again over a WebSocket whenever the
// room's focus session changes (and reconnects after a drop); the countdown ticks here.
(function () {
  "use strict";
  var holder = document.getElementById("room-live");
  var status = document.getElementById("live-state");
  if (!holder || !window.WebSocket) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
    "/rooms/" + holder.dataset.room + "/live";
  var delay = 1000;
  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { delay = 1000; status.textContent = "Live."; };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      replace(data.html);
      holder.dataset.event = data.type;
      tick();
    };
    socket.onclose = function (event) {
      if (event.code === 4403) { status.textContent = "Not live: you are not a member of this room."; return; }
      status.textContent = "Reconnecting…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  // A fresh panel keeps what was typed in the start form and where the focus was (the
  // panel comes again after every room event and every 30 s).
  function replace(html) {
    var form = document.getElementById("focus-start");
    var active = document.activeElement;
    var focused = active && holder.contains(active) ? active.id : "";
    var typed = {};
    if (form) {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.name !== "csrf") typed[el.name] = el.value;
      });
    }
    holder.innerHTML = html;
    var fresh = document.getElementById("focus-start");
    if (fresh) {
      Object.keys(typed).forEach(function (name) {
        if (fresh.elements[name]) fresh.elements[name].value = typed[name];
      });
    }
    var again = focused && document.getElementById(focused);
    if (again) again.focus();
  }
  function tick() {
    var phase = document.getElementById("focus-phase");
    var left = document.getElementById("focus-left");
    if (!phase || !left || !phase.dataset.ends) return;
    var ms = Date.parse(phase.dataset.ends) - Date.now();
    left.textContent = Math.max(0, Math.ceil(ms / 60000)) + " min";
  }
  setInterval(tick, 15000);
  connect();
})();
