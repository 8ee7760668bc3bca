// Draws the dashboard charts from the JSON the page carries (no inline script: CSP).
(function () {
  "use strict";
  var holder = document.getElementById("stats-data");
  if (!holder || typeof Chart === "undefined") { return; }
  var stats = JSON.parse(holder.textContent);
  // Okabe–Ito (colour-blind safe); each series' colour comes with the data (core's vocabulary).
  var colours = stats.colours || {};
  var okabeIto = { blue: "#0072B2", orange: "#E69F00", green: "#009E73", purple: "#CC79A7", black: "#000000" };
  var labels = stats.days.map(function (d) { return d.slice(5); });
  var names = Object.keys(stats.activity);
  var activity = names.map(function (name) {
    return { label: name, data: stats.activity[name], backgroundColor: colours[name] };
  });
  var common = { responsive: true, maintainAspectRatio: false, animation: false };
  new Chart(document.getElementById("activity-chart"), {
    type: "bar",
    data: { labels: labels, datasets: activity },
    options: Object.assign({}, common, {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    })
  });
  new Chart(document.getElementById("study-chart"), {
    type: "line",
    data: {
      labels: labels,
      datasets: [
        { label: "study minutes", data: stats.study_minutes, borderColor: colours["study minutes"] || okabeIto.black, tension: 0.3 },
        { label: "cards reviewed", data: stats.reviews, borderColor: colours["cards reviewed"] || okabeIto.blue, tension: 0.3 }
      ]
    },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
  });
  var aiCanvas = document.getElementById("ai-chart");
  if (aiCanvas) {
    new Chart(aiCanvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { label: "questions to the tutor", data: stats.ai_requests, backgroundColor: okabeIto.purple, yAxisID: "y" },
          { label: "tokens", data: stats.ai_tokens, type: "line", borderColor: okabeIto.black, yAxisID: "tokens" }
        ]
      },
      options: Object.assign({}, common, {
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          tokens: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } }
        }
      })
    });
  }
  new Chart(document.getElementById("due-chart"), {
    type: "bar",
    data: {
      labels: stats.due_days.map(function (d) { return d.slice(5); }),
      datasets: [{ label: "cards due", data: stats.due_forecast, backgroundColor: okabeIto.green }]
    },
    options: Object.assign({}, common, {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    })
  });
})();
