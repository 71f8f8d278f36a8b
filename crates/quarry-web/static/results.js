// Quarry: shows a run result — status, errors with their KQL span marked, charts drawn as SVG
// (hits over time, and the query's `render` request), and a paged, sortable table.
// Every value from the server goes into the DOM with textContent, never as markup.
"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const PAGE = 50;
  const PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777"];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function cellText(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function showError(target, result) {
    target.replaceChildren();
    if (!result.message) return;
    const box = el("div", { class: "panel alert run-error", id: "run-error-box" });
    box.append(el("strong", {}, result.status + ": "), document.createTextNode(result.message));
    if (result.errors && result.errors.length) {
      const text = result.query;
      const pre = el("pre", { class: "kql", id: "error-query" });
      const spans = result.errors.slice().sort((a, b) => a.start - b.start);
      let at = 0;
      for (const e of spans) {
        if (e.start < at) continue;
        pre.append(document.createTextNode(text.slice(at, e.start)));
        const mark = el("mark", { class: "error", title: e.message }, text.slice(e.start, Math.max(e.end, e.start)) || " ");
        pre.append(mark);
        at = Math.max(e.end, e.start);
      }
      pre.append(document.createTextNode(text.slice(at)));
      box.append(pre);
      const list = el("ul", { class: "diagnostics" });
      for (const e of spans) {
        const li = el("li", { class: "error" }, `line ${e.line}, column ${e.column}: ${e.message}`);
        if (e.help) li.append(el("div", { class: "muted small" }, e.help));
        list.append(li);
      }
      box.append(list);
    }
    target.append(box);
  }

  function timeColumn(result) {
    const prefer = ["TimeGenerated", "Timestamp"];
    for (const name of prefer) {
      const i = result.columns.findIndex((c) => c.name === name && c.type === "datetime");
      if (i >= 0) return i;
    }
    return result.columns.findIndex((c) => c.type === "datetime");
  }
  const numeric = (c) => ["long", "int", "real", "decimal"].includes(c.type);

  function frame(title, id) {
    const box = el("div", { class: "chart", id });
    box.append(el("h3", {}, title));
    return box;
  }

  // Bars or lines over x positions 0..n-1 with labels; series: [{name, values}].
  function xyChart(labels, series, kind) {
    const W = 560, H = 220, L = 48, B = 36, T = 10, R = 10;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
    const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => (isFinite(v) ? v : 0))));
    const pw = W - L - R, ph = H - T - B, n = Math.max(1, labels.length);
    root.append(svg("line", { x1: L, y1: T + ph, x2: L + pw, y2: T + ph, stroke: "#94a3b8" }));
    for (let g = 0; g <= 4; g++) {
      const y = T + ph - (ph * g) / 4;
      root.append(svg("line", { x1: L, y1: y, x2: L + pw, y2: y, stroke: "#eef2f7" }));
      root.append(svg("text", { x: L - 4, y: y + 3, "text-anchor": "end" }, String(Math.round((max * g) / 4))));
    }
    const step = pw / n;
    series.forEach((s, si) => {
      const colour = PALETTE[si % PALETTE.length];
      if (kind === "line") {
        const pts = s.values.map((v, i) => `${L + step * (i + 0.5)},${T + ph - (ph * (v || 0)) / max}`).join(" ");
        root.append(svg("polyline", { points: pts, fill: "none", stroke: colour, "stroke-width": 2 }));
      } else {
        const bw = Math.max(1, (step * 0.8) / series.length);
        s.values.forEach((v, i) => {
          const h = (ph * (v || 0)) / max;
          const rect = svg("rect", { x: L + step * i + step * 0.1 + bw * si, y: T + ph - h, width: bw, height: h, fill: colour });
          rect.append(svg("title", {}, `${labels[i]}: ${v}`));
          root.append(rect);
        });
      }
    });
    const every = Math.ceil(n / 8);
    labels.forEach((label, i) => {
      if (i % every) return;
      root.append(svg("text", { x: L + step * (i + 0.5), y: H - B + 14, "text-anchor": "middle" }, String(label).slice(0, 16)));
    });
    if (series.length > 1) {
      series.forEach((s, si) => {
        root.append(svg("rect", { x: L + si * 110, y: H - 12, width: 10, height: 8, fill: PALETTE[si % PALETTE.length] }));
        root.append(svg("text", { x: L + si * 110 + 14, y: H - 5 }, String(s.name).slice(0, 14)));
      });
    }
    return root;
  }

  function pieChart(labels, values) {
    const root = svg("svg", { viewBox: "0 0 560 220", role: "img" });
    const total = values.reduce((a, b) => a + (b > 0 ? b : 0), 0) || 1;
    let angle = -Math.PI / 2;
    values.forEach((v, i) => {
      const share = (v > 0 ? v : 0) / total;
      const next = angle + share * 2 * Math.PI;
      const [cx, cy, r] = [110, 110, 95];
      const large = share > 0.5 ? 1 : 0;
      const d = share >= 0.9999
        ? `M ${cx - r} ${cy} a ${r} ${r} 0 1 0 ${2 * r} 0 a ${r} ${r} 0 1 0 ${-2 * r} 0`
        : `M ${cx} ${cy} L ${cx + r * Math.cos(angle)} ${cy + r * Math.sin(angle)} A ${r} ${r} 0 ${large} 1 ${cx + r * Math.cos(next)} ${cy + r * Math.sin(next)} Z`;
      const path = svg("path", { d, fill: PALETTE[i % PALETTE.length], stroke: "#fff" });
      path.append(svg("title", {}, `${labels[i]}: ${v}`));
      root.append(path);
      if (i < 10) {
        root.append(svg("rect", { x: 240, y: 14 + i * 19, width: 12, height: 12, fill: PALETTE[i % PALETTE.length] }));
        root.append(svg("text", { x: 258, y: 24 + i * 19 }, `${String(labels[i]).slice(0, 40)} (${v})`));
      }
      angle = next;
    });
    return root;
  }

  function hitsOverTime(result) {
    const t = timeColumn(result);
    if (t < 0 || !result.rows.length) return null;
    const times = result.rows.map((r) => Date.parse(r[t])).filter((x) => isFinite(x));
    if (!times.length) return null;
    const lo = Math.min(...times), hi = Math.max(...times);
    const buckets = 24, width = Math.max(1, (hi - lo) / buckets);
    const counts = new Array(buckets).fill(0);
    for (const x of times) counts[Math.min(buckets - 1, Math.floor((x - lo) / width))] += 1;
    const labels = counts.map((_, i) => new Date(lo + width * i).toISOString().slice(5, 16).replace("T", " "));
    const box = frame(`Hits over time (${result.columns[t].name})`, "chart-hits");
    box.append(xyChart(labels, [{ name: "hits", values: counts }], "bar"));
    return box;
  }

  function renderChart(result) {
    const r = result.render;
    if (!r || !result.rows.length) return null;
    const cols = result.columns;
    const nums = cols.map((c, i) => (numeric(c) ? i : -1)).filter((i) => i >= 0);
    if (!nums.length) return null;
    const kind = r.chart;
    const box = frame(`render ${kind}`, "chart-render");
    if (kind === "timechart" || kind === "linechart" || kind === "areachart") {
      let x = timeColumn(result);
      if (x < 0) x = cols.findIndex((c) => !numeric(c));
      if (x < 0) return null;
      const split = cols.findIndex((c, i) => i !== x && c.type === "string");
      const rows = result.rows.slice().sort((a, b) => (a[x] < b[x] ? -1 : a[x] > b[x] ? 1 : 0));
      const labels = [...new Set(rows.map((row) => cellText(row[x])))];
      const pos = new Map(labels.map((l, i) => [l, i]));
      const series = [];
      if (split >= 0) {
        const groups = new Map();
        for (const row of rows) {
          const key = cellText(row[split]);
          if (!groups.has(key)) groups.set(key, new Array(labels.length).fill(0));
          groups.get(key)[pos.get(cellText(row[x]))] += Number(row[nums[0]]) || 0;
        }
        for (const [name, values] of [...groups].slice(0, 8)) series.push({ name, values });
      } else {
        for (const n of nums.filter((i) => i !== x).slice(0, 6)) {
          const values = new Array(labels.length).fill(0);
          for (const row of rows) values[pos.get(cellText(row[x]))] += Number(row[n]) || 0;
          series.push({ name: cols[n].name, values });
        }
      }
      box.append(xyChart(labels.map((l) => l.replace("T", " ").slice(0, 16)), series, "line"));
    } else {
      const label = cols.findIndex((c) => !numeric(c));
      const value = nums[0];
      const rows = result.rows.slice(0, 30);
      const labels = rows.map((row) => (label >= 0 ? cellText(row[label]) : ""));
      const values = rows.map((row) => Number(row[value]) || 0);
      box.append(kind === "piechart" ? pieChart(labels, values) : xyChart(labels, [{ name: cols[value].name, values }], "bar"));
    }
    return box;
  }

  function table(target, result) {
    target.replaceChildren();
    if (result.status !== "ok") return;
    let rows = result.rows.slice();
    let page = 0, sortBy = -1, desc = false;
    const wrap = el("div", { class: "results-wrap" });
    const grid = el("table", { class: "grid", id: "results-table" });
    const thead = el("thead"), tbody = el("tbody");
    const head = el("tr");
    result.columns.forEach((c, i) => {
      const th = el("th", { class: "sortable", title: c.type }, c.name);
      th.addEventListener("click", () => {
        desc = sortBy === i ? !desc : false;
        sortBy = i;
        rows.sort((a, b) => {
          const x = a[i], y = b[i];
          const cmp = typeof x === "number" && typeof y === "number" ? x - y : cellText(x).localeCompare(cellText(y));
          return desc ? -cmp : cmp;
        });
        page = 0;
        draw();
      });
      head.append(th);
    });
    thead.append(head);
    grid.append(thead, tbody);
    wrap.append(grid);
    const pager = el("div", { class: "results-pager" });
    const prev = el("button", { class: "btn", type: "button" }, "‹ Prev");
    const next = el("button", { class: "btn", type: "button" }, "Next ›");
    const info = el("span", { id: "results-info" });
    prev.addEventListener("click", () => { if (page > 0) { page--; draw(); } });
    next.addEventListener("click", () => { if ((page + 1) * PAGE < rows.length) { page++; draw(); } });
    pager.append(prev, info, next);
    function draw() {
      tbody.replaceChildren();
      for (const row of rows.slice(page * PAGE, (page + 1) * PAGE)) {
        const tr = el("tr");
        row.forEach((v, i) => tr.append(el("td", { class: numeric(result.columns[i]) ? "num" : "" }, cellText(v))));
        tbody.append(tr);
      }
      const pages = Math.max(1, Math.ceil(rows.length / PAGE));
      info.textContent = `page ${page + 1} of ${pages} · ${rows.length} rows${result.truncated ? " (truncated)" : ""}`;
    }
    draw();
    target.append(wrap, pager);
  }

  function show(result) {
    const status = document.getElementById("run-status");
    const window_ = result.window ? ` · window ${result.window.start} … ${result.window.now}` : "";
    status.textContent = result.status === "ok"
      ? `${result.rows.length} row${result.rows.length === 1 ? "" : "s"}${result.truncated ? " (truncated)" : ""} in ${result.elapsed_ms} ms${window_}`
      : `${result.status}${window_}`;
    status.className = "run-status " + (result.status === "ok" ? "ok-text" : "error-text");
    status.dataset.status = result.status;
    for (const w of result.warnings || []) status.append(el("div", { class: "warn-text small" }, "warning: " + w));
    showError(document.getElementById("run-error"), result);
    const charts = document.getElementById("run-charts");
    charts.replaceChildren();
    if (result.status === "ok") {
      const a = renderChart(result), b = hitsOverTime(result);
      if (a) charts.append(a);
      if (b) charts.append(b);
    }
    table(document.getElementById("run-results"), result);
  }

  async function post(url, body) {
    const status = document.getElementById("run-status");
    status.textContent = "running…";
    status.dataset.status = "running";
    try {
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || response.statusText);
      show(data);
    } catch (e) {
      show({ status: "error", message: String(e.message || e), query: "", errors: [], rows: [], columns: [] });
    }
  }

  window.QuarryResults = { show, post };
})();
