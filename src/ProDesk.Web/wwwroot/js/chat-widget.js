// ProDesk web chat widget. A client site adds one tag:
//   <script src="https://DESK/channels/chat/TENANT/widget.js" data-key="WIDGETKEY" async></script>
// It draws a chat bubble in a shadow root (the page's CSS does not reach in, ours does not leak
// out), connects to DESK/hubs/chat with the vendored SignalR client (loaded from DESK, never a CDN), and
// keeps the visitor's signed token in the page's localStorage so a reload resumes the conversation.
// Every text from the server or the visitor is set with textContent, never parsed as HTML.
(() => {
  "use strict";
  // The real currentScript, read from Document's own getter: a client page's <img name="currentScript"> (DOM
  // clobbering, from a comment or CMS field the site lets through) would otherwise stand in for it and point the
  // widget, the visitor's words and the SignalR code it loads at another origin.
  const current = Object.getOwnPropertyDescriptor(Document.prototype, "currentScript");
  const script = current && current.get ? current.get.call(document) : null;
  if (!(script instanceof HTMLScriptElement) || !script.src) return;
  const src = new URL(script.src, document.baseURI);
  const path = /^\/channels\/chat\/([^/]+)\/widget\.js$/.exec(src.pathname);
  if (!path) return;
  const desk = src.origin;
  const tenant = decodeURIComponent(path[1]);
  const key = script.dataset.key || "";
  const storageKey = `prodesk-chat:${desk}:${tenant}`;
  const instanceKey = `__prodeskChat:${storageKey}`;
  if (window[instanceKey]) return;
  window[instanceKey] = true;

  const css = `
    :host { all: initial; }
    * { box-sizing: border-box; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    .bubble { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0; border-radius: 28px;
      padding: 14px 20px; background: #1f4fd1; color: #fff; font-weight: 600; cursor: pointer;
      box-shadow: 0 4px 14px rgba(0,0,0,.25); }
    .bubble:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #ffb000; outline-offset: 2px; }
    .panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000; width: 340px; max-width: calc(100vw - 40px);
      height: 480px; max-height: calc(100vh - 110px); display: flex; flex-direction: column; background: #fff; color: #1a1a1a;
      border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); overflow: hidden; }
    .panel[hidden], [hidden] { display: none !important; }
    header { display: flex; align-items: center; justify-content: space-between; padding: 12px 14px; background: #1f4fd1; color: #fff; }
    header strong { font-weight: 600; color: inherit; }
    header button { border: 0; background: transparent; color: #fff; font-size: 20px; line-height: 1; cursor: pointer; padding: 2px 6px; }
    .status { margin: 0; padding: 8px 14px; background: #f3f5fa; color: #333; font-size: 13px; }
    form { display: flex; flex-direction: column; gap: 8px; padding: 12px 14px; margin: 0; }
    label { display: flex; flex-direction: column; gap: 4px; color: #333; font-size: 13px; }
    input, textarea { width: 100%; padding: 8px; border: 1px solid #b8bfcc; border-radius: 6px; background: #fff; color: #1a1a1a; resize: none; }
    button.primary { align-self: flex-end; border: 0; border-radius: 6px; padding: 8px 14px; background: #1f4fd1; color: #fff; font-weight: 600; cursor: pointer; }
    button.primary:disabled { opacity: .6; cursor: default; }
    .chat { display: flex; flex-direction: column; flex: 1; min-height: 0; }
    ol { list-style: none; margin: 0; padding: 12px 14px; flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: 8px; }
    li { max-width: 85%; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
    li.visitor { align-self: flex-end; background: #1f4fd1; color: #fff; }
    li.agent { align-self: flex-start; background: #eceff5; color: #1a1a1a; }
    li.failed { background: #b3261e; }
    li .who { display: block; font-size: 11px; opacity: .8; margin-bottom: 2px; }
    .typing { margin: 0; padding: 0 14px 4px; min-height: 18px; color: #555; font-size: 12px; font-style: italic; }
    .compose { flex-direction: row; align-items: flex-end; border-top: 1px solid #e2e6ee; }
    .compose label { flex: 1; }
    .error { margin: 0; padding: 0 14px 8px; color: #b3261e; font-size: 13px; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }`;

  // --- DOM (createElement + textContent only) ----------------------------------------------------
  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (value === true) node.setAttribute(name, "");
      else if (value !== false && value !== undefined) node.setAttribute(name, String(value));
    }
    for (const child of children) node.append(child);
    return node;
  }
  function field(labelText, control) { return el("label", {}, [el("span", { text: labelText }), control]); }

  const host = el("div", { "data-prodesk-chat": tenant });
  const root = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el("style", { text: css }));
  }

  const bubble = el("button", { class: "bubble", type: "button", "aria-expanded": "false", "aria-controls": "prodesk-chat-panel", text: "Chat with us" });
  const close = el("button", { type: "button", "aria-label": "Close chat", text: "×" });
  const status = el("p", { class: "status", role: "status", "aria-live": "polite", text: "Connecting…" });

  const preName = el("input", { name: "name", autocomplete: "name", maxlength: 100 });
  const preEmail = el("input", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254 });
  const preError = el("p", { class: "error", role: "alert", hidden: true });
  const prechat = el("form", { class: "prechat", hidden: true, novalidate: true }, [
    field("Your name", preName), field("Email (required)", preEmail), preError,
    el("button", { class: "primary", type: "submit", text: "Start chat" }),
  ]);

  const offName = el("input", { name: "name", autocomplete: "name", maxlength: 100 });
  const offEmail = el("input", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254 });
  const offText = el("textarea", { name: "message", rows: 4, required: true });
  const offError = el("p", { class: "error", role: "alert", hidden: true });
  const offline = el("form", { class: "offline", hidden: true, novalidate: true }, [
    field("Your name", offName), field("Email (required)", offEmail), field("Your message", offText), offError,
    el("button", { class: "primary", type: "submit", text: "Send message" }),
  ]);

  const list = el("ol", { "aria-live": "polite", "aria-label": "Messages" });
  const typing = el("p", { class: "typing", "aria-live": "polite" });
  const chatError = el("p", { class: "error", role: "alert", hidden: true });
  const input = el("textarea", { name: "message", rows: 2 });
  const sendButton = el("button", { class: "primary", type: "submit", text: "Send" });
  const compose = el("form", { class: "compose" }, [field("Type your message", input), sendButton]);
  const chat = el("div", { class: "chat", hidden: true }, [list, typing, chatError, compose]);

  const panel = el("section", { class: "panel", id: "prodesk-chat-panel", role: "dialog", "aria-label": "Chat", hidden: true }, [
    el("header", {}, [el("strong", { text: "Chat with us" }), close]), status, prechat, offline, chat,
  ]);
  root.append(bubble, panel);
  (document.body || document.documentElement).append(host);

  // --- state ---------------------------------------------------------------------------------
  let connection = null;
  let connecting = null;
  let token = load();
  let maxLength = 5000;
  const shown = new Set();
  let typingTimer = 0;
  const sessionEnded = "Your chat session has ended";
  let lastTyping = 0;
  let inConversation = false;

  function load() { try { return localStorage.getItem(storageKey); } catch { return null; } }
  function save(value) {
    token = value;
    try { if (value) localStorage.setItem(storageKey, value); else localStorage.removeItem(storageKey); } catch { /* storage off: the session lasts the page */ }
  }
  let unsent = null;
  let sending = Promise.resolve();
  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
  }
  function reason(error) {
    // HubException texts are written for visitors; anything else is a connection problem.
    const text = String((error && error.message) || "");
    const marker = "HubException: ";
    return text.includes(marker) ? text.slice(text.indexOf(marker) + marker.length) : "We could not reach the desk. Please try again.";
  }
  function show(view) {
    prechat.hidden = view !== "prechat";
    offline.hidden = view !== "offline";
    chat.hidden = view !== "chat";
  }
  function say(text) { status.textContent = text; }

  // The last agent message the visitor had in front of them (the panel open), kept with the token: a reload marks
  // only later ones as new.
  const seenKey = `${storageKey}:seen`;
  function seenId() { try { return localStorage.getItem(seenKey); } catch { return null; } }
  function markSeen() {
    if (panel.hidden || !lastAgentId) return;
    try { localStorage.setItem(seenKey, lastAgentId); } catch { /* storage off: every reload marks the replies new */ }
  }
  let lastAgentId = null;

  function addMessage(message, pending, fresh = true) {
    if (message.id && shown.has(message.id)) return null;
    if (message.id) shown.add(message.id);
    const item = el("li", { class: message.from === "agent" ? "agent" : "visitor" }, [
      el("span", { class: "who", text: message.from === "agent" ? (message.name || "Support") : "You" }),
      el("span", { class: "text", text: message.body }),
    ]);
    if (pending) item.setAttribute("aria-busy", "true");
    list.append(item);
    list.scrollTop = list.scrollHeight;
    if (message.from === "agent") {
      typing.textContent = "";
      if (message.id) lastAgentId = message.id;
      if (panel.hidden && fresh) bubble.textContent = "Chat with us · new message";
      markSeen();
    }
    return item;
  }

  function render(conversation) {
    save(conversation.token);
    maxLength = conversation.maxMessageLength || maxLength;
    input.maxLength = maxLength;
    list.replaceChildren();
    shown.clear();
    const seenAt = conversation.messages.findIndex(m => m.id === seenId());
    conversation.messages.forEach((message, i) => addMessage(message, false, i > seenAt));
    inConversation = conversation.messages.length > 0;
    show("chat");
    say(conversation.agentsOnline ? `Chatting as ${conversation.name || conversation.email}` : "No one is online right now; we will answer here as soon as we are back.");
  }

  // --- connection ------------------------------------------------------------------------------
  function signalRClient() {
    // The page's own SignalR client when it has one (loading ours would replace the page's global), but only a real one.
    if (window.signalR && typeof window.signalR.HubConnectionBuilder === "function") return Promise.resolve(window.signalR);
    return new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = `${desk}/lib/signalr/signalr.min.js`;
      tag.async = true;
      tag.onload = () => (window.signalR ? resolve(window.signalR) : reject(new Error("no SignalR")));
      tag.onerror = () => reject(new Error("SignalR did not load"));
      (document.head || document.documentElement).append(tag);
    });
  }

  async function resumeOrGreet() {
    if (token) {
      try {
        render(await connection.invoke("Resume", token));
        return;
      } catch (error) {
        // Expired or refused: forget it and start over. A lost connection keeps it for the next try.
        if (!reason(error).startsWith(sessionEnded)) throw error;
        save(null);
      }
    }
    const state = await connection.invoke("Status");
    maxLength = state.maxMessageLength;
    offText.maxLength = maxLength;
    if (state.agentsOnline) {
      show("prechat");
      say("We are online. Tell us who you are to start chatting.");
    } else {
      show("offline");
      say("No one is online right now. Leave a message and we will reply by email.");
    }
  }

  function connect() {
    if (connecting) return connecting;
    connecting = (async () => {
      const signalR = await signalRClient();
      const url = `${desk}/hubs/chat?tenant=${encodeURIComponent(tenant)}&key=${encodeURIComponent(key)}`;
      connection = new signalR.HubConnectionBuilder()
        .withUrl(url, { withCredentials: false })
        .withAutomaticReconnect()
        .configureLogging(signalR.LogLevel.None)
        .build();
      connection.on("Message", message => addMessage(message, false));
      connection.on("Typing", who => {
        typing.textContent = `${who.name || "Support"} is typing…`;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { typing.textContent = ""; }, 4000);
      });
      connection.onreconnecting(() => say("Reconnecting…"));
      connection.onreconnected(() => resumeOrGreet().catch(error => say(reason(error))));
      connection.onclose(() => { say("Chat disconnected. Reopen it to reconnect."); connecting = null; });
      await connection.start();
      await resumeOrGreet();
    })();
    connecting.catch(() => {
      say("Chat is not available right now.");
      connecting = null;
      if (connection) connection.stop().catch(() => {});
    });
    return connecting;
  }

  // --- events ----------------------------------------------------------------------------------
  function toggle(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.textContent = "Chat with us";
    if (open) markSeen();
    if (open) connect().then(() => { const first = panel.querySelector("form:not([hidden]) input, form:not([hidden]) textarea"); if (first) first.focus(); }, () => {});
  }
  bubble.addEventListener("click", () => toggle(panel.hidden));
  close.addEventListener("click", () => { toggle(false); bubble.focus(); });
  panel.addEventListener("keydown", e => { if (e.key === "Escape") { toggle(false); bubble.focus(); } });

  function validEmail(value) { return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value); }

  prechat.addEventListener("submit", async e => {
    e.preventDefault();
    preError.hidden = true;
    if (!validEmail(preEmail.value.trim())) { preError.textContent = "Enter your email address, so we can reach you."; preError.hidden = false; return; }
    try {
      render(await connection.invoke("Start", preName.value, preEmail.value.trim()));
      input.focus();
    } catch (error) {
      preError.textContent = reason(error);
      preError.hidden = false;
    }
  });

  // One id per message as filled in: a double click, or sending again after an answer that got lost, stores it once;
  // an edit makes it another message.
  let offlineDraft = null;
  offline.addEventListener("submit", async e => {
    e.preventDefault();
    const submit = offline.querySelector("button[type=submit]");
    if (submit && submit.disabled) return;
    offError.hidden = true;
    const email = offEmail.value.trim();
    if (!validEmail(email)) { offError.textContent = "Enter your email address, so we can reply."; offError.hidden = false; return; }
    if (!offText.value.trim()) { offError.textContent = "Write your message first."; offError.hidden = false; return; }
    const filled = `${offName.value}\n${email}\n${offText.value}`;
    if (!offlineDraft || offlineDraft.filled !== filled) offlineDraft = { filled, id: newId() };
    if (submit) submit.disabled = true;
    try {
      await connection.invoke("LeaveMessage", offName.value, email, offlineDraft.id, offText.value);
      offline.hidden = true;
      say(`Thank you. We will reply by email to ${email}.`);
    } catch (error) {
      offError.textContent = reason(error);
      offError.hidden = false;
    } finally {
      if (submit) submit.disabled = false;
    }
  });

  compose.addEventListener("submit", async e => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    chatError.hidden = true;
    if (text.length > maxLength) { chatError.textContent = `A message can be at most ${maxLength} characters.`; chatError.hidden = false; return; }
    // Sending a failed message again is the same message (its id makes the retry idempotent), shown once.
    const retry = unsent && unsent.text === text ? unsent : null;
    if (retry) retry.item.remove();
    const id = retry ? retry.id : newId();
    const item = addMessage({ from: "visitor", body: text }, true);
    input.value = "";
    // One after another: the first message of a chat opens the conversation and its answer's token names it. A second
    // sent before that answer would carry the pre-chat token and open another conversation.
    const turn = sending;
    let done;
    sending = new Promise(resolve => { done = resolve; });
    await turn;
    try {
      const sent = await connection.invoke("Send", token, id, text);
      unsent = null;
      save(sent.token);
      shown.add(sent.messageId);
      // A new message ends a burst of typing: the next keystroke is news again.
      inConversation = true;
      lastTyping = 0;
      item.removeAttribute("aria-busy");
    } catch (error) {
      item.classList.add("failed");
      item.removeAttribute("aria-busy");
      // The visitor's words stay in the box to send again, unless they already started typing something else.
      unsent = { text, id, item };
      if (!input.value) input.value = text;
      chatError.textContent = `Not sent: ${reason(error)}`;
      chatError.hidden = false;
      if (reason(error).startsWith(sessionEnded)) { save(null); resumeOrGreet().catch(() => {}); }
    } finally {
      done();
    }
  });
  input.addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); compose.requestSubmit(); }
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    // Only a conversation has agents to tell; before its first message there is nobody watching.
    if (inConversation && connection && connection.state === "Connected" && now - lastTyping > 2000) {
      lastTyping = now;
      connection.invoke("Typing", token).catch(() => {});
    }
  });

  // A visitor with a conversation gets its replies live without opening the panel first.
  if (token) connect().catch(() => {});
})();
