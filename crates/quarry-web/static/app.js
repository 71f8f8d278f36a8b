// Quarry: small page helpers shared by every page. Data is only ever put in the DOM as text.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The filter form drops empty fields so links stay short and readable.
  const form = document.getElementById("filter-form");
  if (form) {
    form.addEventListener("submit", () => {
      for (const el of form.elements) {
        if (el.name && !el.value) el.disabled = true;
      }
    });
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => form.requestSubmit());
    }
  }
});
