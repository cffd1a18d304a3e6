// Shows the default deadline the rules would give, from /items/default-due.
(function () {
  "use strict";
  var hint = document.getElementById("default-due");
  if (!hint) { return; }
  var received = document.getElementById("received_on");
  var source = document.getElementById("source");
  var urgent = document.getElementById("urgent");
  function update() {
    if (!received.value) { hint.textContent = ""; return; }
    var q = new URLSearchParams({ received_on: received.value, source: source.value,
                                  urgent: urgent.checked ? "1" : "0" });
    fetch("/items/default-due?" + q.toString(), { headers: { "Accept": "application/json" },
                                                  credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.error) { hint.textContent = data.error; return; }
        var text = hint.dataset.template.replace("{due}", data.due_on);
        if (data.provisional) { text += " " + hint.dataset.provisional; }
        hint.textContent = text;
        hint.dataset.due = data.due_on;
      })
      .catch(function () { hint.textContent = ""; });
  }
  [received, source, urgent].forEach(function (el) { el.addEventListener("change", update); });
  update();
})();
// The items list: "select this page" ticks every row's box for a batch action.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="ids"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
