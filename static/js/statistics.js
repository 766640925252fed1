/*
 * Charts of the statistics page, drawn with the vendored Chart.js (static/vendor/chartjs/).
 * Progressive enhancement: the page shows every number in tables without this script. The
 * data comes from the page itself (json_script "statistics-data"); nothing is fetched.
 */
(function () {
  "use strict";

  var dataElement = document.getElementById("statistics-data");
  if (!dataElement || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var Chart = window.Chart;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var palette = ["#8a1c1c", "#1f5f99", "#2e7d32", "#b26a00", "#6a3d9a", "#00838f", "#ad1457", "#5d4037", "#607d8b"];
  var BAR_LIMIT = 15; // bars drawn in a breakdown; its table lists all

  var styles = getComputedStyle(document.body);
  Chart.defaults.color = styles.color;
  Chart.defaults.font.family = styles.fontFamily;
  if (reduceMotion) {
    Chart.defaults.animation = false;
  }
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function canvasFor(container) {
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    // The table that follows has the same numbers; the canvas only names what it shows.
    canvas.setAttribute("aria-label", container.dataset.title || "");
    container.appendChild(canvas);
    container.hidden = false;
    return canvas;
  }

  function lineChart(container, series) {
    new Chart(canvasFor(container), {
      type: "line",
      data: {
        labels: series.labels,
        datasets: [{
          label: series.label,
          data: series.values,
          borderColor: palette[0],
          backgroundColor: "rgba(138, 28, 28, 0.15)",
          fill: true,
          pointRadius: series.values.length > 60 ? 0 : 2,
          tension: 0,
        }],
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { maxTicksLimit: 12, autoSkip: true } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { display: false } },
      },
    });
  }

  function stackedChart(container, series) {
    new Chart(canvasFor(container), {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: series.datasets.map(function (dataset, index) {
          return {
            label: dataset.label,
            data: dataset.values,
            backgroundColor: palette[index % palette.length],
          };
        }),
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { maxTicksLimit: 12, autoSkip: true } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }

  function barChart(container, series) {
    var labels = series.labels.slice(0, BAR_LIMIT);
    var values = series.values.slice(0, BAR_LIMIT);
    container.style.height = (3 + labels.length * 1.8) + "rem";
    new Chart(canvasFor(container), {
      type: "bar",
      data: {
        labels: labels,
        datasets: [{ label: series.label, data: values, backgroundColor: palette[1] }],
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (context) { return number.format(context.parsed.x); },
            },
          },
        },
      },
    });
  }

  var draw = { line: lineChart, stacked: stackedChart, bars: barChart };
  document.querySelectorAll(".stats-chart[data-chart]").forEach(function (container) {
    var series = data[container.dataset.chart];
    var kind = draw[container.dataset.kind];
    if (series && kind) {
      kind(container, series);
    }
  });
})();
