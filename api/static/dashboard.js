// Draws the dashboard charts from the JSON the page carries (no inline script: CSP).
(function () {
  "use strict";
  var holder = document.getElementById("stats-data");
  if (!holder || typeof Chart === "undefined") { return; }
  var stats = JSON.parse(holder.textContent);
  var palette = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#9D755D"];
  var labels = stats.days.map(function (d) { return d.slice(5); });
  var names = Object.keys(stats.activity).sort();
  var activity = names.map(function (name, i) {
    return { label: name, data: stats.activity[name], backgroundColor: palette[i % palette.length] };
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
        { label: "study minutes", data: stats.study_minutes, borderColor: "#4C78A8", tension: 0.3 },
        { label: "reviews", data: stats.reviews, borderColor: "#F58518", tension: 0.3 }
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
          { label: "questions", data: stats.ai_requests, backgroundColor: "#B279A2", yAxisID: "y" },
          { label: "tokens", data: stats.ai_tokens, type: "line", borderColor: "#9D755D", yAxisID: "tokens" }
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
      datasets: [{ label: "cards due", data: stats.due_forecast, backgroundColor: "#54A24B" }]
    },
    options: Object.assign({}, common, {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    })
  });
})();
