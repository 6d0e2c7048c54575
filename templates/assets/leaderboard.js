// Leaderboard: filter and sort in the browser; the state lives in the query string
// (?machine=...&sort=speedup&dir=asc) so that a view can be linked, and is restored on load. Rows stay grouped by
// workload, each workload ranked on its own.
(function () {
  "use strict";
  var table = document.querySelector("table[data-leaderboard]");
  var form = document.getElementById("leaderboard-filters");
  if (!table || !form) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var headers = Array.prototype.slice.call(table.querySelectorAll("th[data-sort]"));
  var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
  var search = form.querySelector("input[name=q]");
  var failingLast = form.querySelector("input[name=failing]");
  var count = form.querySelector("[data-count]");
  var state = { sort: "tokens_per_s", dir: "desc" };
  // Each workload is ranked on its own, its rows together, in the order the page lists them (forward first).
  var workloadOrder = {};
  rows.forEach(function (row) {
    var workload = row.getAttribute("data-workload");
    if (!(workload in workloadOrder)) workloadOrder[workload] = Object.keys(workloadOrder).length;
  });

  function columnIndex(key) {
    for (var i = 0; i < headers.length; i++) if (headers[i].getAttribute("data-sort") === key) return i + 1;
    return -1;
  }

  // "3 of 1,204 rows", "1 of 1 row": the numbers and noun as the page wrote them (jsonout.fmt_count)
  function counted(shown, total) {
    var format = function (n) { return n.toLocaleString("en-US"); };
    return format(shown) + " of " + format(total) + (total === 1 ? " row" : " rows");
  }

  function value(row, index, numeric) {
    var raw = row.cells[index].getAttribute("data-value");
    if (numeric) return raw === "" ? null : parseFloat(raw);
    return raw;
  }

  function apply() {
    var index = columnIndex(state.sort);
    var header = headers[index - 1];
    var numeric = header && header.getAttribute("data-numeric") === "1";
    var sign = state.dir === "asc" ? 1 : -1;
    var sorted = rows.slice();
    if (index > 0) {
      sorted.sort(function (a, b) {
        var wa = workloadOrder[a.getAttribute("data-workload")], wb = workloadOrder[b.getAttribute("data-workload")];
        if (wa !== wb) return wa - wb;
        if (failingLast.checked) {
          var fa = a.getAttribute("data-quality") === "fail", fb = b.getAttribute("data-quality") === "fail";
          if (fa !== fb) return fa ? 1 : -1;
        }
        var va = value(a, index, numeric), vb = value(b, index, numeric);
        if (va === null || va === "") return vb === null || vb === "" ? 0 : 1;  // blanks last
        if (vb === null || vb === "") return -1;
        if (numeric) return (va - vb) * sign;
        return va.localeCompare(vb) * sign;
      });
    }
    var query = search.value.trim().toLowerCase();
    var shown = 0, ranks = {}, lastWorkload = null;
    sorted.forEach(function (row) {
      var visible = selects.every(function (s) { return !s.value || row.getAttribute("data-" + s.name) === s.value; });
      if (visible && query) visible = row.textContent.toLowerCase().indexOf(query) >= 0;
      row.hidden = !visible;
      if (visible) {
        shown++;
        var workload = row.getAttribute("data-workload");
        var passing = row.getAttribute("data-quality") !== "fail";
        if (passing) ranks[workload] = (ranks[workload] || 0) + 1;
        row.cells[0].textContent = passing ? String(ranks[workload]) : "—";
        row.classList.toggle("workload-start", lastWorkload !== null && workload !== lastWorkload);
        lastWorkload = workload;
      }
      body.appendChild(row);
    });
    headers.forEach(function (h) {
      if (h.getAttribute("data-sort") === state.sort) h.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending");
      else h.removeAttribute("aria-sort");
    });
    if (count) count.textContent = counted(shown, rows.length);
  }

  function save() {
    var params = new URLSearchParams();
    selects.forEach(function (s) { if (s.value) params.set(s.name, s.value); });
    if (search.value.trim()) params.set("q", search.value.trim());
    if (state.sort !== "tokens_per_s" || state.dir !== "desc") { params.set("sort", state.sort); params.set("dir", state.dir); }
    if (!failingLast.checked) params.set("failing", "mixed");
    var text = params.toString();
    history.replaceState(null, "", location.pathname + (text ? "?" + text : "") + location.hash);
  }

  function restore() {
    var params = new URLSearchParams(location.search);
    selects.forEach(function (s) {
      var v = params.get(s.name);
      if (v !== null && Array.prototype.some.call(s.options, function (o) { return o.value === v; })) s.value = v;
    });
    search.value = params.get("q") || "";
    if (params.get("sort") && columnIndex(params.get("sort")) > 0) state.sort = params.get("sort");
    if (params.get("dir") === "asc" || params.get("dir") === "desc") state.dir = params.get("dir");
    failingLast.checked = params.get("failing") !== "mixed";
  }

  headers.forEach(function (h) {
    h.tabIndex = 0;
    var toggle = function () {
      var key = h.getAttribute("data-sort");
      if (state.sort === key) state.dir = state.dir === "asc" ? "desc" : "asc";
      else {
        // first click: best first (largest tokens/s, smallest latency); names A→Z
        var numeric = h.getAttribute("data-numeric") === "1";
        state.sort = key;
        state.dir = numeric && h.getAttribute("data-higher-is-better") === "1" ? "desc" : "asc";
      }
      apply(); save();
    };
    h.addEventListener("click", toggle);
    h.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
  });
  selects.forEach(function (s) { s.addEventListener("change", function () { apply(); save(); }); });
  search.addEventListener("input", function () { apply(); save(); });
  failingLast.addEventListener("change", function () { apply(); save(); });
  restore();
  apply();
})();
