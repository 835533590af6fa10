/* Switchboard live chat widget. Embed with one tag:
 *   <script src="https://HOST/static/chat/widget.js" data-channel="PUBLIC_KEY" async></script>
 * Plain JavaScript, no dependencies, no build step. Everything the visitor or an agent wrote is
 * rendered with textContent, never innerHTML. Real time over a websocket; when websockets are
 * blocked it falls back to posting and polling over HTTP.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.getAttribute("data-channel")) return;
  var KEY = script.getAttribute("data-channel");
  var BASE = new URL(script.src, window.location.href).origin;
  var STORE = "switchboard-chat:" + KEY;
  var POLL_MS = 3000;
  var PING_MS = 25000;
  var TYPING_MS = 2000;

  // --- Words: a small built-in dictionary, since the page embedding the widget is not ours and
  // has no catalogue of ours. The script's data-lang ("id", "en") wins; else the visitor's
  // browser languages (navigator.languages), first served one; else the channel's language (its
  // session answer says it, and the words are swapped then); else English. docs/i18n.md.
  var WORDS = {
    en: {
      launcher: "Chat with us", panel: "Live chat", name: "Your name (optional)",
      email: "Email for replies (optional)", save: "Save", write: "Write a message…",
      message: "Message", send: "Send", chat: "Chat", close: "Close chat",
      online: "We are online and usually answer in a few minutes.",
      offline: "No one is online right now. Leave a message: we will answer here, or by email if you leave your address.",
      someone: "An agent", typing: "{name} is typing…", unavailable: "The chat is unavailable.",
      refused: "The chat is not available on this website.", slow: "Slow down: try again in {s} s.",
      attach: "Attach a file"
    },
    id: {
      launcher: "Chat dengan kami", panel: "Chat langsung", name: "Nama Anda (opsional)",
      email: "Email untuk balasan (opsional)", save: "Simpan", write: "Tulis pesan…",
      message: "Pesan", send: "Kirim", chat: "Chat", close: "Tutup chat",
      online: "Kami sedang online dan biasanya menjawab dalam beberapa menit.",
      offline: "Saat ini tidak ada yang online. Tinggalkan pesan: kami akan menjawab di sini, atau lewat email jika Anda meninggalkan alamat.",
      someone: "Seorang agen", typing: "{name} sedang mengetik…", unavailable: "Chat sedang tidak tersedia.",
      refused: "Chat tidak tersedia di situs web ini.", slow: "Pelan-pelan: coba lagi dalam {s} detik.",
      attach: "Lampirkan berkas"
    }
  };
  function pickLanguage() {
    var wanted = [script.getAttribute("data-lang")].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split("-")[0];
      if (code === "in") code = "id";  // the old ISO code some systems still send
      if (WORDS[code]) return code;
    }
    return "";
  }
  // The one the visitor asked for (sent with the session: their contact's language), or "".
  var ASKED = pickLanguage();
  var LANG = ASKED || "en";
  function t(key, values) {
    return (WORDS[LANG][key] || WORDS.en[key]).replace(/\{(\w+)\}/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }

  var state = {
    token: load(STORE), session: null, socketPath: null, ws: null, wsFailures: 0,
    pollTimer: null, pingTimer: null, lastId: 0, shown: {},
    typingSentAt: 0, typingTimer: null
  };

  // --- Storage (private browsing may refuse it: the session then lasts one page) ---------------
  function load(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function save(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* ignore */ } }

  // --- DOM --------------------------------------------------------------------------------------
  // A paperclip (Feather icons, MIT): drawn, not an emoji a system may lack a font for.
  function clip() {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    [["viewBox", "0 0 24 24"], ["width", "16"], ["height", "16"], ["fill", "none"], ["stroke", "currentColor"],
     ["stroke-width", "2"], ["stroke-linecap", "round"], ["stroke-linejoin", "round"], ["aria-hidden", "true"],
     ["focusable", "false"], ["class", "icon"]].forEach(function (a) { svg.setAttribute(a[0], a[1]); });
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48");
    svg.appendChild(path);
    return svg;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  // Each fixed word on the widget, [node, attribute ("" for its text), key], so that the words
  // can follow the channel's language when the visitor's browser named none of ours.
  var LABELS = [];
  function said(node, attr, key) {
    LABELS.push([node, attr, key]);
    if (attr) node.setAttribute(attr, t(key)); else node.textContent = t(key);
    return node;
  }
  function speak(lang) {
    if (ASKED || !WORDS[lang] || lang === LANG) return;
    LANG = lang;
    host.setAttribute("lang", LANG);
    LABELS.forEach(function (l) { if (l[1]) l[0].setAttribute(l[1], t(l[2])); else l[0].textContent = t(l[2]); });
  }

  var host = el("div", { "data-switchboard-chat": "", lang: LANG });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: BASE + "/static/chat/widget.css" }));
  var launcher = said(el("button", { type: "button", "class": "launcher", "aria-expanded": "false" }), "", "launcher");
  var panel = said(el("section", { "class": "panel", hidden: "" }), "aria-label", "panel");
  var status = el("p", { "class": "status", role: "status" });
  var log = el("ol", { "class": "log", "aria-live": "polite" });
  var typing = el("p", { "class": "typing", hidden: "" });
  var problem = el("p", { "class": "problem", role: "alert", hidden: "" });

  var prechat = el("form", { "class": "prechat", hidden: "" });
  var nameInput = said(el("input", { type: "text", name: "name", maxlength: "120", autocomplete: "name" }), "placeholder", "name");
  var emailInput = said(el("input", { type: "email", name: "email", maxlength: "254", autocomplete: "email" }), "placeholder", "email");
  prechat.appendChild(nameInput);
  prechat.appendChild(emailInput);
  prechat.appendChild(said(el("button", { type: "submit" }), "", "save"));

  var composer = el("form", { "class": "composer" });
  var input = said(said(el("textarea", { name: "text", rows: "2", maxlength: "5000" }), "placeholder", "write"), "aria-label", "message");
  composer.appendChild(input);
  // Files: one at a time over HTTP (POST /chat/KEY/files/); the server checks size and type.
  var ACCEPT = ".png,.jpg,.jpeg,.gif,.webp,.pdf,.txt,.csv,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp";
  var picker = el("input", { type: "file", "class": "picker", accept: ACCEPT, tabindex: "-1", "aria-hidden": "true" });
  var attach = said(said(el("button", { type: "button", "class": "attach" }), "aria-label", "attach"), "title", "attach");
  attach.appendChild(clip());
  var actions = el("div", { "class": "actions" });
  actions.appendChild(picker);
  actions.appendChild(attach);
  actions.appendChild(said(el("button", { type: "submit" }), "", "send"));
  composer.appendChild(actions);

  var header = el("div", { "class": "header" });
  header.appendChild(said(el("h2", {}), "", "chat"));
  var closer = said(said(el("button", { type: "button", "class": "close" }, "×"), "aria-label", "close"), "title", "close");
  header.appendChild(closer);

  [header, status, prechat, log, typing, problem, composer].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);
  root.appendChild(panel);

  function showProblem(text) {
    problem.textContent = text || "";
    problem.hidden = !text;
  }

  function setOnline(online) {
    state.online = online;
    status.textContent = online ? t("online") : t("offline");
  }

  function addMessage(message) {
    if (!message || !message.id || state.shown[message.id]) return;
    state.shown[message.id] = true;
    state.lastId = Math.max(state.lastId, message.id);
    var item = el("li", { "class": message.from === "agent" ? "agent" : "visitor" });
    if (message.from === "agent" && message.author) item.appendChild(el("span", { "class": "author" }, message.author));
    if (message.text) item.appendChild(linked(message.text));
    (message.files || []).forEach(function (file) { item.appendChild(fileNode(file)); });
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (message.from === "agent") typing.hidden = true;
  }

  // Web addresses in a message (the satisfaction survey's link, a help article) become links;
  // everything else stays text. Built node by node: never innerHTML.
  var URL_PATTERN = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;
  function linked(text) {
    var span = el("span", { "class": "text" });
    var at = 0;
    String(text || "").replace(URL_PATTERN, function (url, offset) {
      span.appendChild(document.createTextNode(text.slice(at, offset)));
      span.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
      at = offset + url.length;
      return url;
    });
    span.appendChild(document.createTextNode(String(text || "").slice(at)));
    return span;
  }

  // A file in a message: pictures as a small preview, anything else as a download link (the
  // server's signed, expiring links; only http(s) ones). Built node by node, never innerHTML.
  var PREVIEWED = ["image/png", "image/jpeg", "image/gif", "image/webp"];
  function fileNode(file) {
    var url = String(file.url || "");
    var name = String(file.name || "file");
    var box = el("span", { "class": "file" });
    if (!/^https?:\/\//.test(url)) {
      box.appendChild(clip());
      box.appendChild(document.createTextNode(" " + name));
      return box;
    }
    var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer", download: name });
    if (PREVIEWED.indexOf(file.content_type) !== -1) {
      link.appendChild(el("img", { src: url, alt: name, "class": "preview" }));
    } else {
      link.appendChild(clip());
      link.appendChild(document.createTextNode(" " + name + (file.size ? " (" + sizeWords(file.size) + ")" : "")));
    }
    box.appendChild(link);
    return box;
  }

  function sizeWords(size) {
    if (size >= 1048576) return (size / 1048576).toFixed(1).replace(/\.0$/, "") + " MB";
    return Math.max(1, Math.round(size / 1024)) + " KB";
  }

  function showTyping(frame) {
    typing.textContent = t("typing", { name: frame.author || t("someone") });
    typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(function () { typing.hidden = true; }, 4000);
  }

  // --- HTTP -------------------------------------------------------------------------------------
  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers["X-Chat-Token"] = state.token;
    return fetch(BASE + "/chat/" + encodeURIComponent(KEY) + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: "omit", mode: "cors"
    }).then(function (response) {
      if (response.status === 204) return {};
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || t("unavailable"));
          error.status = response.status;
          error.retryAfter = response.headers.get("Retry-After");
          throw error;
        }
        return data;
      });
    });
  }

  function adopt(snapshot) {
    state.token = snapshot.token;
    state.session = snapshot.session;
    state.socketPath = snapshot.socket;
    save(STORE, snapshot.token);
    speak(snapshot.language);
    setOnline(snapshot.online);
    (snapshot.messages || []).forEach(addMessage);
    prechat.hidden = !!(snapshot.name || snapshot.email || load(STORE + ":prechat"));
  }

  // --- Websocket, with the HTTP poll as fallback ------------------------------------------------
  function connect() {
    if (!window.WebSocket) return startPolling();
    // The token never goes in the URL (access logs keep URLs): browsers cannot set headers on a
    // websocket, so it is offered as a subprotocol; the server answers "switchboard.chat".
    var encoded = btoa(state.token).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    var ws = new WebSocket(BASE.replace(/^http/, "ws") + state.socketPath,
      ["switchboard.chat", "switchboard.token." + encoded]);
    state.ws = ws;
    ws.onopen = function () {
      state.wsFailures = 0;
      stopPolling();
      poll(); // catch up on anything said while the socket was down
      state.pingTimer = setInterval(function () { sendFrame({ type: "ping" }); }, PING_MS);
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "message") addMessage(frame);
      else if (frame.type === "ack") addMessage(frame.message);
      else if (frame.type === "typing") showTyping(frame);
      else if (frame.type === "hello") setOnline(frame.online);
      else if (frame.type === "error") showProblem(frame.detail);
    };
    ws.onclose = function (event) {
      clearInterval(state.pingTimer);
      state.ws = null;
      if (event.code === 4403) return showProblem(t("refused"));
      if (event.code === 4401) return restart();
      state.wsFailures += 1;
      startPolling();
      if (state.wsFailures < 6) setTimeout(connect, 2000 * state.wsFailures);
    };
  }

  function sendFrame(frame) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function poll() {
    api("GET", "/messages/?after=" + state.lastId).then(function (data) {
      (data.messages || []).forEach(addMessage);
      setOnline(data.online);
    }).catch(function (error) { if (error.status === 401) restart(); });
  }

  function startPolling() {
    if (!state.pollTimer) { poll(); state.pollTimer = setInterval(poll, POLL_MS); }
  }

  function stopPolling() {
    clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  function start() {
    return api("POST", "/session/", { token: state.token, language: ASKED }).then(function (snapshot) {
      adopt(snapshot);
      connect();
    }).catch(function (error) { showProblem(error.message); });
  }

  function restart() {
    state.token = null;
    stopPolling();
    start();
  }

  // --- What the visitor does --------------------------------------------------------------------
  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closer.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); launcher.focus(); }
  });

  // A name or email being saved: messages sent meanwhile wait for it, so they carry it.
  var profileSaved = Promise.resolve();

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    showProblem("");
    input.value = "";
    profileSaved.then(function () { sendMessage(text, id); });
  });

  function sendMessage(text, id) {
    if (sendFrame({ type: "message", text: text, id: id })) return;
    api("POST", "/messages/", { text: text, id: id }).then(function (data) {
      addMessage(data.message);
    }).catch(function (error) {
      if (!input.value) input.value = text;  // not sent: the text comes back to the box
      showProblem(error.status === 429 && error.retryAfter
        ? t("slow", { s: error.retryAfter }) : error.message);
    });
  }

  attach.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    if (!file) return;
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("id", Date.now().toString(36) + Math.random().toString(36).slice(2, 10));
    showProblem("");
    attach.disabled = true;
    status.textContent = "Sending " + file.name + "…";
    var headers = state.token ? { "X-Chat-Token": state.token } : {};
    fetch(BASE + "/chat/" + encodeURIComponent(KEY) + "/files/", {
      method: "POST", headers: headers, body: form, credentials: "omit", mode: "cors"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || "The file could not be sent.");
          error.status = response.status;
          error.retryAfter = response.headers.get("Retry-After");
          throw error;
        }
        addMessage(data.message);
      });
    }).catch(function (error) {
      if (error.status === 401) restart();
      showProblem(error.status === 429 && error.retryAfter
        ? "Slow down: try again in " + error.retryAfter + " s." : error.message);
    }).then(function () {
      attach.disabled = false;
      picker.value = "";
      setOnline(state.online);
    });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit"));
    }
  });

  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - state.typingSentAt < TYPING_MS) return;
    state.typingSentAt = now;
    if (!sendFrame({ type: "typing" })) api("POST", "/typing/").catch(function () { /* transient */ });
  });

  prechat.addEventListener("submit", function (event) {
    event.preventDefault();
    profileSaved = api("POST", "/session/", {
      token: state.token, name: nameInput.value, email: emailInput.value, language: ASKED
    })
      .then(function (snapshot) {
        save(STORE + ":prechat", "1");
        adopt(snapshot);
        // The open socket adopts the new name and email without reconnecting.
        sendFrame({ type: "session", token: snapshot.token });
      })
      .catch(function (error) { showProblem(error.message); });
  });

  function mount() {
    document.body.appendChild(host);
    start();
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
