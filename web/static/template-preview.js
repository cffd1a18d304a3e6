// The template editor: live preview of the whole message as the admin types, the side
// panel's variables and macros inserted at the cursor, the error's line marked in the
// gutter and the source, and the channel's length counter.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form) { return; }
  var body = document.getElementById("template-body");
  var item = document.getElementById("preview-item");
  var out = document.getElementById("template-preview");
  var err = document.getElementById("template-error");
  var lines = document.getElementById("source-lines");
  var gutter = document.getElementById("gutter");
  var used = document.getElementById("length-used");
  var limit = document.getElementById("length-limit");
  var counter = document.getElementById("length-counter");
  var token = form.querySelector("input[name=csrf_token]").value;
  var lineNote = out.dataset.errorLineText || "{line}";
  var timer = null;
  var seq = 0;
  var errorLine = null;

  function drawGutter() {
    var count = body.value.split("\n").length;
    while (gutter.children.length > count) { gutter.removeChild(gutter.lastChild); }
    while (gutter.children.length < count) { gutter.appendChild(document.createElement("li")); }
    Array.prototype.forEach.call(gutter.children, function (li, i) {
      li.className = (i + 1 === errorLine) ? "line-error" : "";
    });
    gutter.scrollTop = body.scrollTop;
  }
  function showLines() {
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
  function showError(text, line) {
    errorLine = line || null;
    while (err.firstChild) { err.removeChild(err.firstChild); }
    if (errorLine) {
      var note = document.createElement("b");
      note.id = "error-line-note";
      note.textContent = lineNote.replace("{line}", String(errorLine));
      err.appendChild(note);
      err.appendChild(document.createTextNode(" "));
    }
    var span = document.createElement("span");
    span.id = "error-text";
    span.textContent = text;
    err.appendChild(span);
    err.hidden = !text;
    showLines();
    drawGutter();
  }
  function showLength(length) {
    if (!length) { used.textContent = "—"; counter.classList.remove("over"); return; }
    used.textContent = String(length.used);
    limit.textContent = String(length.limit);
    counter.classList.toggle("over", !!length.over);
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
      showLength(res.length);
      if (res.ok) {
        // The server renders the preview from its own escaped page template.
        out.innerHTML = res.html;
        out.classList.remove("stale");
        showError("", null);
      } else {
        out.classList.add("stale");
        showError(res.error, res.line);
      }
      form.dataset.previewed = String(mine);
    });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  function insert(text) {
    var start = body.selectionStart, end = body.selectionEnd;
    body.setRangeText(text, start, end, "end");
    body.focus();
    drawGutter();
    later();
  }
  document.querySelectorAll("#template-panel button.insert").forEach(function (button) {
    button.addEventListener("click", function () { insert(button.dataset.insert); });
  });
  body.addEventListener("input", function () { drawGutter(); later(); });
  body.addEventListener("scroll", function () { gutter.scrollTop = body.scrollTop; });
  item.addEventListener("change", refresh);
  var marked = gutter.querySelector("li.line-error");
  if (marked) { errorLine = Array.prototype.indexOf.call(gutter.children, marked) + 1; }
})();
