// Draws every <div class="chart" data-src="..."> with the figure the server sends
// (Plotly JSON built by orchestration/lib/dashboard/charts.py); clicking a point whose
// customdata is a group id opens that group's page.
document.querySelectorAll("div.chart[data-src]").forEach(function (el) {
  fetch(el.dataset.src, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status + " " + el.dataset.src); }
      return response.json();
    })
    .then(function (figure) {
      return Plotly.newPlot(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
    })
    .then(function () {
      el.dataset.drawn = "true";
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && typeof point.customdata === "string") {
          window.location.href = "/groups/" + encodeURIComponent(point.customdata);
        }
      });
    })
    .catch(function (error) {
      el.classList.add("error-banner");
      el.textContent = String(error);
    });
});
