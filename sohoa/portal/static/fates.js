// Refreshes the "what became of each file" table until every file has reached a final state.
(function () {
  "use strict";
  var table = document.getElementById("fates");
  if (!table) { return; }
  var FINAL = { rejected: 1, duplicate: 1, quarantined: 1, ocr_done: 1, ocr_failed: 1 };
  function refresh() {
    fetch(table.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var pending = false;
        body.files.forEach(function (f) {
          var row = table.querySelector('tr[data-file="' + f.id + '"]');
          if (!row) { return; }
          row.className = "fate-" + f.fate;
          var text = f.fate_text + (f.fate === "ocr_done" && f.confidence !== null ? " (" + Math.round(f.confidence) + "%)" : "");
          row.querySelector(".fate").textContent = text;
          row.cells[3].textContent = f.reason || "";
          if (!FINAL[f.fate]) { pending = true; }
        });
        var trigger = document.getElementById("trigger-status");
        if (trigger && body.trigger_text) { trigger.textContent = body.trigger_text; }
        if (pending) { setTimeout(refresh, 3000); }
      })
      .catch(function () { setTimeout(refresh, 10000); });
  }
  setTimeout(refresh, 1500);
})();
