// Live preview of a message template: posts the draft to .../preview as the admin types.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form) { return; }
  var body = document.getElementById("template-body");
  var item = document.getElementById("preview-item");
  var out = document.getElementById("template-preview");
  var err = document.getElementById("template-error");
  var lines = document.getElementById("source-lines");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var seq = 0;
  function showLines(errorLine) {
    while (lines.firstChild) { lines.removeChild(lines.firstChild); }
    if (!errorLine) { lines.hidden = true; return; }
    body.value.split("\n").forEach(function (text, i) {
      var li = document.createElement("li");
      li.textContent = text;
      if (i + 1 === errorLine) { li.className = "line-error"; }
      lines.appendChild(li);
    });
    lines.hidden = false;
  }
  function refresh() {
    var mine = ++seq;
    var data = new URLSearchParams();
    data.set("body", body.value);
    data.set("item", item.value);
    data.set("csrf_token", token);
    fetch(form.dataset.previewUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": token, "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (mine !== seq) { return; }
      if (res.ok) {
        out.textContent = res.preview;
        err.hidden = true; err.textContent = "";
        showLines(null);
      } else {
        err.textContent = res.error;
        err.hidden = false;
        showLines(res.line);
      }
      form.dataset.previewed = String(mine);
    });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  body.addEventListener("input", later);
  item.addEventListener("change", refresh);
})();
