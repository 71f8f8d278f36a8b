// Quarry query page: runs the editor's KQL through the API and shows the result.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("query-form");
  if (!form) return;
  const text = document.getElementById("query-text");
  const now = document.getElementById("query-now");
  const link = (format) => {
    const q = new URLSearchParams({ q: text.value });
    if (now.value) q.set("now", now.value);
    return `/api/query/results.${format}?${q}`;
  };
  const refresh = () => {
    document.getElementById("download-csv").href = link("csv");
    document.getElementById("download-json").href = link("json");
  };
  form.addEventListener("input", refresh);
  refresh();
  const run = () => window.QuarryResults.post("/api/query", { query: text.value, now: now.value || null });
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  text.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") { event.preventDefault(); run(); }
  });
});
