// The review page's few behaviours, plain JavaScript (no build, nothing fetched elsewhere).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Filters apply as soon as they change.
  const filters = document.getElementById("filters");
  if (filters) {
    filters.querySelectorAll("select, input[type=date]").forEach((field) => {
      field.addEventListener("change", () => filters.submit());
    });
  }
  // Keyboard on the timeline: j / k move between events, Enter opens one.
  const rows = Array.from(document.querySelectorAll(".event[data-href]"));
  let current = -1;
  const focus = (i) => {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows[current].querySelector("a.when").focus();
  };
  // A crop that is not there (fewer than four) leaves no broken picture.
  document.querySelectorAll("img[data-optional]").forEach((img) => {
    img.addEventListener("error", () => img.remove());
  });
  // Deleting and naming ask first; on an event page the Delete key asks too.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
  const deleting = document.getElementById("delete");
  // On an event page: space plays or pauses the clip.
  const video = document.getElementById("clip");
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea, button") || e.ctrlKey || e.metaKey || e.altKey) return;
    // On an event page j / k go to the older / newer event; on the timeline they move.
    const older = document.getElementById("older");
    const newer = document.getElementById("newer");
    if (e.key === "j" && !rows.length && older) older.click();
    else if (e.key === "k" && !rows.length && newer) newer.click();
    else if (e.key === "j") focus(current + 1);
    else if (e.key === "k") focus(current - 1);
    else if (e.key === "Delete" && deleting) deleting.requestSubmit();
    else if (e.key === "r" && document.getElementById("review")) document.getElementById("review").requestSubmit();
    else if (e.key === " " && video && e.target !== video) {
      e.preventDefault();
      if (video.paused) video.play(); else video.pause();
    }
  });
});
