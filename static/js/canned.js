/* Canned responses by "/shortcut" in the reply box: the options of the composer's canned list
   (filled in by the server for this conversation) are offered while the word before the caret
   starts with "/"; Enter, Tab or a click puts the text in place of "/word". */
(function () {
  "use strict";

  function wire() {
    var list = document.getElementById("canned-list");
    var select = document.querySelector("select[data-canned]");
    if (!list || !select) return;
    var area = document.getElementById(list.getAttribute("data-canned-for"));
    if (!area) return;
    var all = Array.prototype.slice.call(select.options).filter(function (o) { return o.value; })
      .map(function (o) {
        return { title: o.textContent, shortcut: o.getAttribute("data-shortcut") || "", text: o.getAttribute("data-text") || "" };
      });
    var hits = [], active = 0;

    function word() {
      var before = area.value.slice(0, area.selectionStart);
      var m = /(?:^|\s)\/([\w-]*)$/.exec(before);
      return m ? m[1].toLowerCase() : null;
    }
    function close() { list.hidden = true; hits = []; area.removeAttribute("aria-activedescendant"); }
    function pick(item) {
      var pos = area.selectionStart;
      var before = area.value.slice(0, pos).replace(/\/([\w-]*)$/, "");
      area.value = before + item.text + area.value.slice(pos);
      var caret = before.length + item.text.length;
      area.setSelectionRange(caret, caret);
      close();
      area.focus();
      area.dispatchEvent(new Event("input", { bubbles: true }));  // the draft and counter keep it
    }
    function render() {
      list.textContent = "";
      hits.forEach(function (item, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "canned-option-" + i;
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.textContent = (item.shortcut ? "/" + item.shortcut + " · " : "") + item.title;
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(item); });
        list.appendChild(li);
      });
      list.hidden = hits.length === 0;
      if (hits.length) area.setAttribute("aria-activedescendant", "canned-option-" + active);
    }
    area.addEventListener("input", function () {
      var w = word();
      if (w === null) { close(); return; }
      hits = all.filter(function (item) {
        return item.shortcut.indexOf(w) === 0 || (w && item.title.toLowerCase().indexOf(w) === 0);
      }).slice(0, 8);
      active = 0;
      render();
    });
    area.addEventListener("keydown", function (ev) {
      if (list.hidden || !hits.length) return;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        active = (active + (ev.key === "ArrowDown" ? 1 : hits.length - 1)) % hits.length;
        render();
      } else if (ev.key === "Enter" || ev.key === "Tab") {
        ev.preventDefault();
        ev.stopPropagation();
        pick(hits[active]);
      } else if (ev.key === "Escape") {
        ev.stopPropagation();
        close();
      }
    });
    area.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  document.addEventListener("DOMContentLoaded", wire);
})();
