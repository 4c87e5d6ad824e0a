/* Draws the progress charts with Chart.js from data the page embeds with json_script.
   <canvas data-chart="pain|adherence" data-source="ID of the json_script element"> */
(function () {
  "use strict";

  var COLOURS = { rest: "#0b4f8a", activity: "#a4161a", adherence: "#1e7a45" };

  function readData(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function painChart(canvas, data) {
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Pain at rest", data: data.pain_at_rest, borderColor: COLOURS.rest,
            backgroundColor: COLOURS.rest, spanGaps: true, tension: 0.2, pointStyle: "circle" },
          { label: "Pain during activity", data: data.pain_during_activity, borderColor: COLOURS.activity,
            backgroundColor: COLOURS.activity, borderDash: [6, 4], spanGaps: true, tension: 0.2,
            pointStyle: "rectRot" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: 10, title: { display: true, text: "Pain (0–10)" } } },
        plugins: { legend: { labels: { usePointStyle: true } } }
      }
    });
  }

  function adherenceChart(canvas, data) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Exercise sessions done (% of prescribed)", data: data.adherence_percent,
            backgroundColor: COLOURS.adherence }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } }
      }
    });
  }

  var DRAW = { pain: painChart, adherence: adherenceChart };

  function drawAll(root) {
    if (!window.Chart) { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var data = readData(canvas.dataset.source);
      var draw = DRAW[canvas.dataset.chart];
      if (data && draw) {
        draw(canvas, data);
        canvas.dataset.drawn = "true";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
})();
