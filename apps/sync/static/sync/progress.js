// Live progress of sync runs in the admin: poll each unfinished run's JSON until it finishes.
// The words come translated from the server (label), as the page first rendered them.
(function () {
  "use strict";
  function poll(box) {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        var bar = box.querySelector("progress");
        // null: the share read is unknown (rows read are in the label); a bar without a value
        // only moves.
        if (run.bar === null) { bar.removeAttribute("value"); } else { bar.value = run.bar; }
        box.querySelector("span").textContent = run.label;
        if (run.finished) { window.location.reload(); } else { setTimeout(function () { poll(box); }, 1000); }
      })
      .catch(function () { setTimeout(function () { poll(box); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".sync-progress[data-finished='0']").forEach(poll);
  });
})();
