// Upload page: drop or choose files, folders or ZIPs; each file is sent with its own XHR (per-file progress),
// then the pipeline is started and the table follows each file's fate. No framework, no build step.
(function () {
  "use strict";
  var root = document.getElementById("upload");
  if (!root) { return; }
  var base = root.dataset.base, csrf = root.dataset.csrf;
  var maxBytes = parseInt(root.dataset.maxBytes, 10), maxFiles = parseInt(root.dataset.maxFiles, 10);
  var labels = JSON.parse(document.getElementById("labels").textContent);
  var form = document.getElementById("upload-form"), drop = document.getElementById("drop");
  var queue = document.getElementById("queue"), tbody = queue.querySelector("tbody");
  var errorBox = document.getElementById("form-error"), triggerBox = document.getElementById("trigger");
  var follow = document.getElementById("follow");
  var FINAL = { rejected: 1, duplicate: 1, quarantined: 1, ocr_done: 1, ocr_failed: 1 };

  function target() { return form.querySelector('input[name="target"]:checked').value; }
  function syncTarget() { document.getElementById("code-field").hidden = target() !== "dossier"; }
  form.addEventListener("change", syncTarget);
  syncTarget();

  function showError(text) { errorBox.textContent = text; errorBox.hidden = !text; }
  function mb(n) {
    if (n === null || n === undefined) { return ""; }
    return n < 1048576 ? Math.max(1, Math.round(n / 1024)) + " KB" : (n / 1048576).toFixed(1) + " MB";
  }

  function row(name, size) {
    var tr = document.createElement("tr");
    ["", "", "", ""].forEach(function () { tr.appendChild(document.createElement("td")); });
    tr.cells[0].textContent = name;
    tr.cells[1].textContent = mb(size);
    tr.cells[2].className = "fate";
    tr.cells[2].textContent = labels.uploading;
    var bar = document.createElement("div"); bar.className = "progress";
    var fill = document.createElement("span"); bar.appendChild(fill); tr.cells[2].appendChild(bar);
    tbody.appendChild(tr); queue.hidden = false;
    return { tr: tr, fill: fill, ids: [] };
  }

  function setFate(r, fate, text, reason) {
    r.tr.className = "fate-" + fate;
    r.tr.cells[2].textContent = text;
    r.tr.cells[3].textContent = reason || "";
  }

  function post(url, data) {
    var body = new URLSearchParams(data); body.set("csrf_token", csrf);
    return fetch(base + url, { method: "POST", body: body, credentials: "same-origin",
                               headers: { "Accept": "application/json", "X-CSRF-Token": csrf } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }

  function sendFile(uploadId, item, r) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", base + "/uploads/" + uploadId + "/files");
      xhr.setRequestHeader("X-File-Name", encodeURIComponent(item.name));  // not in the URL: access logs
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { r.fill.style.width = (100 * e.loaded / e.total) + "%"; } };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: xhr.statusText }; }
        var files = body.files || [];
        if (files.length === 1 && !item.isZip) {
          var f = files[0];
          if (f.id) { r.ids.push(f.id); }
          if (f.status === "stored") { setFate(r, "waiting", labels.waiting, ""); }
          else { setFate(r, "rejected", labels.rejected, f.error || body.error); }
        } else if (files.length) {
          // A ZIP: one row per member.
          files.forEach(function (f, i) {
            var target = i === 0 ? r : row(f.name, f.size);
            if (i === 0) { target.tr.cells[0].textContent = f.name; target.tr.cells[1].textContent = mb(f.size); }
            if (f.id) { target.ids.push(f.id); rows.push(target); }
            if (f.status === "stored") { setFate(target, "waiting", labels.waiting, ""); }
            else { setFate(target, "rejected", labels.rejected, f.error); }
          });
        } else {
          setFate(r, "rejected", labels.rejected, body.error || xhr.statusText);
        }
        resolve();
      };
      xhr.onerror = function () { setFate(r, "rejected", labels.rejected, item.name + ": network error"); resolve(); };
      xhr.send(item.file);
    });
  }

  var rows = [];
  function start(items) {
    showError("");
    if (!items.length) { return; }
    var data = { target: target(), ma_ho_so: document.getElementById("ma_ho_so").value.trim() };
    if (data.target === "dossier" && !data.ma_ho_so) { showError(document.getElementById("code-field").textContent.trim() + "?"); return; }
    if (items.length > maxFiles) { showError(items.length + " > " + maxFiles); return; }
    post("/uploads", data).then(function (res) {
      if (!res.ok) { showError(res.body.error || "error"); return; }
      var uploadId = res.body.id;
      var work = items.map(function (item) {
        var r = row(item.name, item.file.size);
        rows.push(r);
        return { item: item, r: r };
      });
      var next = 0;
      function worker() {
        if (next >= work.length) { return Promise.resolve(); }
        var w = work[next++];
        if (w.item.file.size > maxBytes) {  // the server refuses it too; no need to send it first
          setFate(w.r, "rejected", labels.rejected, w.item.name + ": > " + mb(maxBytes));
          return worker();
        }
        return sendFile(uploadId, w.item, w.r).then(worker);
      }
      Promise.all([worker(), worker()]).then(function () {
        return post("/uploads/" + uploadId + "/finish", {});
      }).then(function () {
        triggerBox.textContent = labels.queued;
        follow.hidden = false;
        follow.querySelector("a").href = base + "/uploads/" + uploadId;
        poll(uploadId);
      });
    });
  }

  function poll(uploadId) {
    fetch(base + "/uploads/" + uploadId + "/status", { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var byId = {}; body.files.forEach(function (f) { byId[f.id] = f; });
        var pending = false;
        rows.forEach(function (r) {
          r.ids.forEach(function (id) {
            var f = byId[id]; if (!f) { return; }
            var text = f.fate_text + (f.fate === "ocr_done" && f.confidence !== null ? " (" + Math.round(f.confidence) + "%)" : "");
            setFate(r, f.fate, text, f.reason);
            if (!FINAL[f.fate]) { pending = true; }
          });
        });
        if (body.trigger_text) { triggerBox.textContent = body.trigger_text; }
        if (pending) { setTimeout(function () { poll(uploadId); }, 2500); }
      })
      .catch(function () { setTimeout(function () { poll(uploadId); }, 10000); });
  }

  function fromList(list) {
    return Array.prototype.map.call(list, function (f) {
      var name = f.webkitRelativePath || f.name;
      return { file: f, name: name, isZip: /\.zip$/i.test(name) };
    });
  }

  function walk(entry, path, out) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (f) { out.push({ file: f, name: path + f.name, isZip: /\.zip$/i.test(f.name) }); resolve(); }, resolve);
      } else if (entry.isDirectory) {
        var reader = entry.createReader(), all = [];
        (function readMore() {
          reader.readEntries(function (entries) {
            if (!entries.length) {
              Promise.all(all.map(function (e) { return walk(e, path + entry.name + "/", out); })).then(resolve);
            } else { all = all.concat(Array.prototype.slice.call(entries)); readMore(); }
          }, resolve);
        })();
      } else { resolve(); }
    });
  }

  document.getElementById("files").addEventListener("change", function (e) { start(fromList(e.target.files)); e.target.value = ""; });
  document.getElementById("folder").addEventListener("change", function (e) { start(fromList(e.target.files)); e.target.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); }); });
  ["dragleave", "drop"].forEach(function (t) { drop.addEventListener(t, function () { drop.classList.remove("over"); }); });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    var items = e.dataTransfer.items, out = [], walks = [];
    if (items && items.length && items[0].webkitGetAsEntry) {
      Array.prototype.forEach.call(items, function (it) {
        var entry = it.webkitGetAsEntry && it.webkitGetAsEntry();
        if (entry) { walks.push(walk(entry, "", out)); }
      });
      var dropped = e.dataTransfer.files;
      Promise.all(walks).then(function () {
        // Entries are missing for some sources (synthetic drops, some browsers): fall back to the file list.
        var chosen = out.length ? out : fromList(dropped);
        start(chosen.filter(function (x) { return !/(^|\/)\./.test(x.name); }));
      });
    } else { start(fromList(e.dataTransfer.files)); }
  });
})();
