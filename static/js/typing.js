/* Typing indicators on website chat conversations (issue 22), both ways.
 * The agent typing a reply: POST /api/v1/conversations/{id}/typing/ at most every 3 s, and the
 * visitor's widget shows "Alice is typing…". The visitor typing: the live feed brings a
 * {"type": "typing", "who": "visitor"} frame (app.js re-dispatches it as "feed:typing") and the
 * open conversation shows "… is typing" for 5 s. Listeners sit on the document, so they keep
 * working when htmx swaps the conversation pane. Nothing is stored either way.
 */
(function () {
  "use strict";
  var SEND_EVERY_MS = 3000;
  var SHOW_MS = 5000;
  var sentAt = 0;
  var hideTimer = null;

  function openConversation() { return document.querySelector("[data-open-conversation]"); }

  document.addEventListener("feed:typing", function (event) {
    var conv = openConversation();
    var data = event.detail || {};
    if (!conv || data.who !== "visitor") return;
    if (String(data.conversation) !== conv.getAttribute("data-open-conversation")) return;
    var box = document.getElementById("customer-typing");
    if (!box) return;
    box.hidden = false;
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { box.hidden = true; }, SHOW_MS);
  });

  document.addEventListener("input", function (event) {
    var conv = openConversation();
    if (!conv || !event.target || event.target.id !== "reply-text") return;
    if (conv.getAttribute("data-channel-kind") !== "chat") return;
    var now = Date.now();
    if (now - sentAt < SEND_EVERY_MS) return;
    sentAt = now;
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    fetch("/api/v1/conversations/" + conv.getAttribute("data-open-conversation") + "/typing/", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" }
    }).catch(function () { /* transient: the next keystroke tries again */ });
  });
})();
