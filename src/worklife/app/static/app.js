// worklife app: draws the Plotly figures and makes tables sortable and paged.
// No inline script anywhere (the Content-Security-Policy forbids it).
(function () {
  "use strict";

  function drawCharts() {
    if (typeof Plotly === "undefined") return;
    document.querySelectorAll(".plot[data-figure]").forEach(function (div) {
      var src = document.getElementById(div.getAttribute("data-figure"));
      if (!src) return;
      var fig = JSON.parse(src.textContent);
      Plotly.newPlot(div, fig.data, fig.layout, {displaylogo: false, responsive: true})
        .then(function () { div.setAttribute("data-drawn", "1"); });
    });
  }

  function sortValue(td) {
    var v = td.getAttribute("data-sort");
    var n = parseFloat(v);
    return (v !== null && v !== "" && !isNaN(n) && /^-?[0-9.eE+-]+$|^-?inf/i.test(v)) ? n : (v || "");
  }

  function setup(table) {
    var rowsPer = parseInt(table.getAttribute("data-page-rows") || "25", 10);
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var page = 0;
    var pager = null;
    var status = null;

    function render() {
      var pages = Math.max(1, Math.ceil(rows.length / rowsPer));
      if (page >= pages) page = pages - 1;
      rows.forEach(function (tr, i) {
        tr.hidden = !(i >= page * rowsPer && i < (page + 1) * rowsPer);
        tbody.appendChild(tr);
      });
      if (pager) {
        status.textContent = "Rows " + (page * rowsPer + 1) + "–" + Math.min(rows.length, (page + 1) * rowsPer) +
          " of " + rows.length + " (page " + (page + 1) + " of " + pages + ")";
        pager.querySelector(".prev").disabled = page === 0;
        pager.querySelector(".next").disabled = page >= pages - 1;
      }
    }

    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var label = th.textContent;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = label;
      button.setAttribute("aria-label", "Sort by " + label);
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = sortValue(a.cells[col]), y = sortValue(b.cells[col]);
          var r = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
          return asc ? r : -r;
        });
        page = 0;
        render();
      });
    });

    if (rows.length > rowsPer) {
      pager = document.createElement("div");
      pager.className = "pager";
      pager.innerHTML = '<button type="button" class="prev">Previous page</button> ' +
        '<span class="status" role="status" aria-live="polite"></span> ' +
        '<button type="button" class="next">Next page</button>';
      status = pager.querySelector(".status");
      pager.querySelector(".prev").addEventListener("click", function () { page -= 1; render(); });
      pager.querySelector(".next").addEventListener("click", function () { page += 1; render(); });
      table.parentNode.insertBefore(pager, table.nextSibling);
    }
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.data").forEach(setup);
    drawCharts();
  });
})();
