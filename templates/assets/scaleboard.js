// ScaleBoard charts: every <figure class="chart"> holds its Plotly figures as JSON.
// plotly.min.js is loaded once, only on pages that have charts; charts are drawn
// when they come near the viewport, and follow the light / dark colour scheme.
(function () {
  "use strict";
  var CONFIG = {
    displaylogo: false,
    responsive: true,
    toImageButtonOptions: { format: "svg" },
    modeBarButtonsToRemove: ["select2d", "lasso2d"]
  };
  var charts = Array.prototype.slice.call(document.querySelectorAll("figure.chart"));
  if (!charts.length) return;
  var drawn = [];

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // Room for what sits below the plot at any width: tick labels and the x-axis title (category
  // labels stand upright on a phone), then a horizontal legend. Estimate how many rows the legend
  // takes at this width (a phone shows about one entry a row) and make the chart tall enough for
  // all of it, so that the plot keeps its height and nothing below it overlaps.
  var AXIS_PX = 64;  // tick labels and the x-axis title, below the plot area
  var LEGEND_ROW_PX = 21;
  var CHAR_PX = 6.8;  // one character of a 12 px label, about
  function longest(texts) {
    return Math.max.apply(null, [0].concat(texts.map(function (t) { return String(t).length; })));
  }

  function fitSize(out, data, plot) {
    var width = plot.clientWidth || 600, narrow = width < 640;
    var names = data.filter(function (t) { return t.showlegend !== false && t.type !== "heatmap"; })
      .map(function (t) { return t.name || ""; });
    var belowPx = AXIS_PX, legendPx = 0;
    if (narrow && out.xaxis && out.xaxis.type === "category" && data[0] && data[0].type !== "heatmap") {
      belowPx += Math.min(160, longest(data[0].x || []) * CHAR_PX);
    }
    if (data.some(function (t) { return t.type === "heatmap"; }) && narrow) belowPx += 56;  // the colour bar
    if (names.length > 1) {
      var perRow = Math.max(1, Math.floor((width - 80) / (longest(names) * CHAR_PX + 44)));
      legendPx = Math.ceil(names.length / perRow) * LEGEND_ROW_PX + 12;
    }
    var minHeight = parseFloat(getComputedStyle(plot).minHeight) || 420;
    var plotPx = narrow ? 220 : 260;
    out.height = Math.max(out.height || 0, minHeight, out.margin.t + plotPx + belowPx + legendPx);
    var plotAreaPx = out.height - out.margin.t - belowPx - legendPx;
    out.legend = { orientation: "h", x: 0, xanchor: "left", yanchor: "top", y: -belowPx / plotAreaPx, font: { size: 12 } };
    plot._fit = { belowPx: belowPx, plotAreaPx: plotAreaPx };
  }

  // On a phone a heat map's colour bar goes below the plot, so the cells keep the width.
  function narrowData(data, plot) {
    var fit = plot._fit;
    if (!fit || (plot.clientWidth || 600) >= 640) return data;
    return data.map(function (t) {
      if (t.type !== "heatmap") return t;
      var bar = Object.assign({}, t.colorbar || {}, {
        orientation: "h", thickness: 12, len: 1, x: 0.5, xanchor: "center",
        y: -(fit.belowPx - 40) / fit.plotAreaPx, yanchor: "top"
      });
      bar.title = Object.assign({}, bar.title || {}, { side: "top" });
      return Object.assign({}, t, { colorbar: bar });
    });
  }

  function themed(layout, data, plot) {
    var fg = cssVar("--fg"), grid = cssVar("--grid"), muted = cssVar("--muted");
    var out = JSON.parse(JSON.stringify(layout));
    // The page background, not transparent: an image saved from the mode bar stays readable.
    out.paper_bgcolor = cssVar("--bg") || "rgba(0,0,0,0)";
    out.plot_bgcolor = out.paper_bgcolor;
    out.font = { color: fg, family: cssVar("--font"), size: 13 };
    out.margin = out.margin || { l: 64, r: 16, t: 48, b: 56 };
    out.hoverlabel = { namelength: -1 };
    plot._fit = null;
    if (!out.legend) fitSize(out, data, plot);
    if (out.title) out.title.font = { size: 15, color: fg };
    ["xaxis", "yaxis"].forEach(function (axis) {
      if (!out[axis]) out[axis] = {};
      out[axis].gridcolor = grid;
      out[axis].zerolinecolor = grid;
      out[axis].linecolor = muted;
      out[axis].automargin = true;
    });
    (out.annotations || []).forEach(function (a) { a.font = a.font || { color: fg, size: 11 }; });
    return out;
  }

  function key(fig) {
    var selects = fig.querySelectorAll("select[data-selector]");
    return Array.prototype.map.call(selects, function (s) { return s.value; }).join("|");
  }

  function figures(fig) {
    if (!fig._figures) fig._figures = JSON.parse(fig.querySelector("script.chart-data").textContent);
    return fig._figures;
  }

  function draw(fig) {
    var plot = fig.querySelector(".chart-plot");
    var figure = figures(fig)[key(fig)];
    if (!figure || !figure.data.length) {
      if (plot.data) window.Plotly.purge(plot);
      plot.textContent = "No measurement for this selection.";
      plot.classList.add("chart-empty");
      return;
    }
    if (plot.classList.contains("chart-empty")) { plot.textContent = ""; plot.classList.remove("chart-empty"); }
    var layout = themed(figure.layout, figure.data, plot);
    // Touch screens show the mode bar all the time, over the title of a narrow chart: not on a phone.
    var config = plot.clientWidth < 640 ? Object.assign({}, CONFIG, { displayModeBar: false }) : CONFIG;
    window.Plotly.react(plot, narrowData(figure.data, plot), layout, config);
    if (drawn.indexOf(fig) < 0) drawn.push(fig);
  }

  function csvCell(value) {
    var text = value === null || value === undefined ? "" : String(value);
    return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function toCsv(figure) {
    var lines = [];
    figure.data.forEach(function (t) {
      if (t.type === "heatmap") {
        if (!lines.length) lines.push("row,column,value");
        t.y.forEach(function (row, i) {
          t.x.forEach(function (col, j) {
            var v = (t.customdata || t.z)[i][j];
            if (v !== null) lines.push([row, col, v].map(csvCell).join(","));
          });
        });
        return;
      }
      if (!lines.length) lines.push("series,x,y");
      t.x.forEach(function (x, i) { lines.push([t.name, x, t.y[i]].map(csvCell).join(",")); });
    });
    return lines.join("\n") + "\n";
  }

  function downloadCsv(fig) {
    var figure = figures(fig)[key(fig)];
    if (!figure) return;
    var title = (figure.layout.title && figure.layout.title.text) || "chart";
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([toCsv(figure)], { type: "text/csv" }));
    link.download = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") + ".csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  // Charts within this distance of the viewport are drawn.
  var NEAR_PX = 300;

  function near(fig) {
    var box = fig.getBoundingClientRect();
    return box.bottom > -NEAR_PX && box.top < window.innerHeight + NEAR_PX && fig.offsetParent !== null;
  }

  function start() {
    var waiting = charts.slice();
    // Draw what has come near the viewport. The observer calls this when a chart comes near; a
    // scroll or resize calls it too (once a frame), so that a chart in view is drawn even if the
    // observer's one notification for it was lost (seen in headless Chromium, rarely).
    function drawNear() {
      waiting = waiting.filter(function (fig) {
        if (!near(fig)) return true;
        if (observer) observer.unobserve(fig);
        draw(fig);
        return false;
      });
      if (!waiting.length) {
        window.removeEventListener("scroll", onScroll);
        window.removeEventListener("resize", onScroll);
        if (observer) observer.disconnect();
      }
    }
    var pending = false;
    function onScroll() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; drawNear(); });
    }
    var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) drawNear();
    }, { rootMargin: NEAR_PX + "px 0px" }) : null;
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", onScroll, { passive: true });
    charts.forEach(function (fig) {
      fig.querySelectorAll("select[data-selector]").forEach(function (s) {
        s.addEventListener("change", function () { draw(fig); });
      });
      var button = fig.querySelector(".chart-csv");
      if (button) button.addEventListener("click", function () { downloadCsv(fig); });
      if (observer) observer.observe(fig);
    });
    drawNear();
    if (window.matchMedia) {
      var scheme = window.matchMedia("(prefers-color-scheme: dark)");
      var redraw = function () { drawn.forEach(draw); };
      if (scheme.addEventListener) scheme.addEventListener("change", redraw);
    }
  }

  var me = document.currentScript || document.querySelector("script[data-plotly]");
  if (window.Plotly) { start(); return; }
  var loader = document.createElement("script");
  loader.src = me.getAttribute("data-plotly");
  loader.onload = start;
  document.head.appendChild(loader);
})();
