/* The reply's attach button: the chosen files are listed (name and size) before sending, and a
   reply with files may go without text. The server checks each channel's limits. */
(function () {
  "use strict";
  // In the page's language: 1.5 MB in English, 1,5 MB in Indonesian.
  var NUMBER = new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 1 });
  function size(bytes) {
    if (bytes >= 1048576) return NUMBER.format(bytes / 1048576) + " MB";
    return NUMBER.format(Math.max(1, Math.round(bytes / 1024))) + " KB";
  }
  function setUp(input) {
    var list = document.getElementById(input.getAttribute("data-files-list"));
    var text = input.form && input.form.querySelector("textarea[name=text]");
    if (!list) return;
    input.addEventListener("change", function () {
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + size(file.size) + ")";
        list.appendChild(item);
      });
      list.hidden = input.files.length === 0;
      if (text) text.required = input.files.length === 0;
    });
  }
  function start() {
    document.querySelectorAll("input[type=file][data-files-list]").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
