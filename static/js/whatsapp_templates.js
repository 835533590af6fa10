/* The WhatsApp template form of the composer: only the chosen template's parameter fields are
   shown (and sent, and required), and the preview shows the text the customer will read. */
(function () {
  "use strict";
  var PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

  function wire(form) {
    var select = form.querySelector("select[name=template]");
    var preview = form.querySelector("output.template-preview");
    var sets = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-template]"));
    if (!select || !preview) return;

    function update() {
      var chosen = null;
      sets.forEach(function (set) {
        var on = set.getAttribute("data-template") === select.value;
        set.hidden = !on;
        set.disabled = !on;
        set.querySelectorAll("input").forEach(function (input) { input.required = on; });
        if (on) chosen = set;
      });
      if (!chosen) {
        preview.textContent = "";
        return;
      }
      var values = {};
      chosen.querySelectorAll("input[data-parameter]").forEach(function (input) {
        values[input.getAttribute("data-parameter")] = input.value.trim();
      });
      var body = (chosen.getAttribute("data-body") || "").replace(PLACEHOLDER, function (all, name) {
        return values[name] ? values[name] : all;
      });
      preview.textContent = [chosen.getAttribute("data-header"), body, chosen.getAttribute("data-footer")]
        .filter(function (part) { return part; })
        .join("\n\n");
    }

    select.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  function start() {
    document.querySelectorAll("form[data-template-form]").forEach(wire);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
