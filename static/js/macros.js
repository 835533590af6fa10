/* Settings > Macros: each builder row's value select offers only the values of the action picked
   beside it, and the note field is there only for "Add a note". Without JavaScript every value is
   offered, grouped by action, and the server checks the pair. */
(function () {
  "use strict";
  function sync(row) {
    var kind = row.querySelector("[data-macro-kind]").value;
    var values = row.querySelector("[data-macro-value]");
    var note = row.querySelector("[data-macro-note]");
    var picked = values.selectedOptions[0];
    values.querySelectorAll("optgroup").forEach(function (group) {
      var match = group.getAttribute("data-kind") === kind;
      group.hidden = !match;
      group.disabled = !match;
    });
    if (picked && picked.parentElement.tagName === "OPTGROUP" && picked.parentElement.disabled) {
      values.value = "";
    }
    values.disabled = kind === "add_note";
    note.disabled = kind !== "add_note";
  }
  function all() {
    document.querySelectorAll("[data-macro-row]").forEach(sync);
  }
  document.addEventListener("change", function (event) {
    var row = event.target.closest("[data-macro-row]");
    if (row && event.target.matches("[data-macro-kind]")) sync(row);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
