// Live progress of sync runs in the admin: poll each unfinished run's JSON until it finishes.
(function () {
  "use strict";
  function poll(box) {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        box.querySelector("progress").value = run.progress;
        box.querySelector("span").textContent =
          Math.round(run.progress * 100) + "% " + run.phase + " · " + run.rows_read + " / " + run.rows_rejected;
        if (run.finished) { window.location.reload(); } else { setTimeout(function () { poll(box); }, 1000); }
      })
      .catch(function () { setTimeout(function () { poll(box); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".sync-progress[data-finished='0']").forEach(poll);
  });
})();
