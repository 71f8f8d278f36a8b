// Quarry rule page: the parameters form runs the rule through the API and shows the result.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("run-panel");
  const form = document.getElementById("param-form");
  if (!panel || !form) return;
  const api = panel.dataset.api;
  const values = () => {
    const params = {};
    for (const input of form.querySelectorAll("[data-param]")) params[input.dataset.param] = input.value;
    return params;
  };
  const link = (format) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(values())) if (v) q.set(k, v);
    const s = q.toString();
    return `${api}/results.${format}${s ? "?" + s : ""}`;
  };
  const refresh = () => {
    document.getElementById("download-csv").href = link("csv");
    document.getElementById("download-json").href = link("json");
  };
  form.addEventListener("input", refresh);
  refresh();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.QuarryResults.post(`${api}/run`, { params: values() });
  });
});
