import { announceNewChats, connectAgentHub } from "./agent-hub.js";

const article = document.querySelector("[data-item]");
const tenant = article.dataset.tenant;
const itemId = article.dataset.itemId;
const presence = article.querySelector("[data-presence]");
const error = article.querySelector("[data-reply-error]");
const force = article.querySelector("[data-reply-force]");
const body = article.querySelector("[data-reply-body]");
const others = new Map();

// The reply being typed survives the reloads that saving tags, a status or a file makes, and a tab reload: one draft
// per item in sessionStorage, restored on load, cleared once the reply or note is sent (probe round 19).
const draftKey = `prodesk:draft:${itemId}`;
if (!body.value) body.value = sessionStorage.getItem(draftKey) ?? "";
body.addEventListener("input", () => {
  if (body.value) sessionStorage.setItem(draftKey, body.value); else sessionStorage.removeItem(draftKey);
});

// A refusal in the server's words: the field's message, else the problem's detail or title.
async function problemText(response, fallback) {
  if (response.status === 401) return "You are signed out: sign in again, then retry.";
  try {
    const problem = await response.json();
    const first = problem.errors ? Object.values(problem.errors).flat()[0] : null;
    return first ?? problem.detail ?? problem.title ?? fallback;
  } catch {
    return fallback;
  }
}
function showError(text) {
  error.textContent = text;
  error.hidden = false;
}

// A colleague's change leaves the header as loaded: say so, visibly, with who it was (probe round 19).
const changedBar = article.querySelector("[data-changed-bar]");
let ownChange = false;
async function showChangedBy() {
  if (ownChange) return;
  let who = "Someone";
  try {
    const response = await fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}`, { headers: { "Accept": "application/json" } });
    if (response.ok) {
      const { changes } = await response.json();
      const last = changes?.[changes.length - 1];
      // Our own change (its reload is on the way) is not a colleague's.
      if (last?.actor && last.actor === article.dataset.me) return;
      if (last?.actor) who = last.actor;
    }
  } catch { /* the bar still says it changed */ }
  if (ownChange) return;
  changedBar.querySelector("[data-changed-text]").textContent = `${who} changed this item.`;
  changedBar.hidden = false;
}
changedBar.querySelector("[data-reload]").addEventListener("click", () => window.location.reload());
const typingTimers = new Map();
const visitor = "00000000-0000-0000-0000-000000000000";

// The header's status follows the item live (a chat's visitor writing moves it from Pending to Open): every item event
// carries the status as it is now; one older than what the header shows changes nothing.
const statusShown = article.querySelector("[data-testid=item-status]");
let statusVersion = Number(article.dataset.version);
function showStatus(e) {
  if (!e.status || e.version <= statusVersion) return;
  statusVersion = e.version;
  statusShown.textContent = e.status;
}

function showPresence() {
  presence.textContent = [...others.values()].map(p => `${p.name} is ${p.what}`).join(", ");
}

// New messages appear without a reload. The server renders them (encoded text, mail HTML only in
// its sandboxed frame); a <template> parses the fragment inertly, and only messages not shown yet
// are added, so open mail frames are not reloaded. The version the reply guard checks stays the one
// the page was loaded with.
const thread = article.querySelector("[data-thread-url]");
// A long thread opens at its end: the newest message, with the reply box under it, rather than at a first message
// many screens up. The page does not know what the agent has read, so newest it is. Not when the address names a
// place on the page; and a reload (after the agent's own reply) shows the newest too, not the old scroll position.
function showNewest() {
  const newest = thread.lastElementChild;
  if (!newest || location.hash) return;
  const reply = article.querySelector("[data-reply]");
  (reply.hidden ? newest : reply).scrollIntoView({ block: "end" });
  // A newest message taller than the window is read from its start.
  if (newest.getBoundingClientRect().top < 0) newest.scrollIntoView({ block: "start" });
}
history.scrollRestoration = "manual";
showNewest();

async function refreshThread() {
  const response = await fetch(thread.dataset.threadUrl, { headers: { "Accept": "text/html" } });
  if (!response.ok) return;
  const fragment = document.createElement("template");
  fragment.innerHTML = await response.text();
  const shown = new Set([...thread.querySelectorAll("[data-message-id]")].map(li => li.dataset.messageId));
  for (const message of fragment.content.querySelectorAll("[data-message-id]")) {
    if (!shown.has(message.dataset.messageId)) thread.append(message);
  }
}

// Named so a reconnect can replay it: a change made while the page was cut off is flagged as if its event came.
let itemUpdated;
const connection = connectAgentHub({
  PresenceChanged: p => {
    if (p.itemId !== itemId) return;
    if (p.what === "left") others.delete(p.userId); else others.set(p.userId, p);
    // "typing" fades after a few quiet seconds: an agent back to viewing, a chat visitor (no user id) off the list.
    clearTimeout(typingTimers.get(p.userId));
    if (p.what === "typing") {
      typingTimers.set(p.userId, setTimeout(() => {
        if (others.get(p.userId) !== p) return;
        if (p.userId === visitor) others.delete(p.userId); else others.set(p.userId, { ...p, what: "viewing" });
        showPresence();
      }, 5000));
    }
    showPresence();
  },
  WorkItemUpdated: itemUpdated = e => {
    if (e.id !== itemId) return;
    showStatus(e);
    if (e.version > Number(article.dataset.version)) {
      // On a live chat the agent sees each change as it arrives, so the reply guard moves with it;
      // elsewhere a change made by someone else is flagged, and a reply to the old state is refused.
      if (article.dataset.channel === "chat") {
        article.dataset.version = String(e.version);
        if (others.delete(visitor)) showPresence();
      } else {
        article.dataset.changed = "true";
        showChangedBy();
      }
    }
    refreshThread();
  },
  WorkItemAssigned: e => {
    if (e.id !== itemId) return;
    showStatus(e);
    if (e.version > Number(article.dataset.version)) showChangedBy();
  },
}, async (hub, again) => {
  // Those already on the item are told of us by the server; we are told of them by Watch's answer. After a
  // reconnect the list starts again from that answer: a "left" sent while cut off never arrived.
  const here = await hub.invoke("Watch", tenant, itemId);
  if (again) others.clear();
  for (const p of here ?? []) others.set(p.userId, p);
  showPresence();
  if (again) await catchUp(); else await refreshThread();
  // Watching: presence and live updates of this item arrive from here on.
  article.dataset.live = "true";
});

// After a reconnect: the item's version says whether it changed while the page was cut off.
async function catchUp() {
  try {
    const response = await fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}`, { headers: { "Accept": "application/json" } });
    if (response.ok) {
      const { item } = await response.json();
      if (item?.version > Number(article.dataset.version)) { itemUpdated({ id: itemId, version: item.version, status: item.status }); return; }
    }
  } catch { /* the thread below still catches up */ }
  await refreshThread();
}

announceNewChats(connection, article.dataset.userId);

let lastTyping = 0;
body.addEventListener("input", () => {
  const now = Date.now();
  if (now - lastTyping > 2000 && connection.state === "Connected") {
    lastTyping = now;
    connection.invoke("Typing", tenant, itemId).catch(() => {});
  }
});

async function post(path, payload) {
  return fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify(payload),
  });
}

// A Closed item takes nothing more (409 with reason "closed"): say so in the server's words, and offer no "send anyway".
async function showIfClosed(response) {
  if (response.status !== 409) return false;
  const problem = await response.clone().json();
  if (problem.reason !== "closed") return false;
  error.textContent = problem.detail;
  error.hidden = false;
  force.hidden = true;
  return true;
}

// A change refused because the item moved on since the page loaded (409 with the item as it is now): the same notice
// for a reply, a status and tags, so the agent looks before overwriting a colleague's change. Only a reply may be
// sent anyway; a status or tags are chosen again on what the item holds now.
async function showIfChanged(response, canForce) {
  if (response.status !== 409) return false;
  const { current } = await response.clone().json();
  if (!current) return false;
  error.textContent = `This item changed since you opened it (now ${current.status}, version ${current.version}). Reload to see what changed${canForce ? ", or send anyway" : ""}.`;
  error.hidden = false;
  force.hidden = !canForce;
  return true;
}

// Our own change reloads the page: its event is not a colleague's.
function reloadOwn() {
  ownChange = true;
  window.location.reload();
}

const sendButtons = [...article.querySelectorAll("[data-reply] button")];
let sending = false;
async function send(kind, forced) {
  // A double click posts once: replies have the version guard, notes had nothing (probe round 19).
  if (sending) return;
  sending = true;
  sendButtons.forEach(b => { b.disabled = true; });
  try {
    await sendOnce(kind, forced);
  } finally {
    sending = false;
    sendButtons.forEach(b => { b.disabled = false; });
  }
}

async function sendOnce(kind, forced) {
  error.hidden = true;
  // The item's files ticked to go with a reply by mail (probe round 20); a note carries none.
  const attachmentIds = [...article.querySelectorAll("[data-reply-file]:checked")].map(c => c.value);
  const payload = kind === "replies"
    ? { body: body.value, version: Number(article.dataset.version), force: forced, status: article.querySelector("[data-reply-then]")?.value || undefined, attachmentIds }
    : { body: body.value };
  const response = await post(kind, payload);
  if (await showIfClosed(response)) return;
  if (await showIfChanged(response, kind === "replies")) return;
  if (!response.ok) {
    // A refused file (too large together, not the item's) is said as the server words it.
    showError(response.status === 401 || (response.status === 400 && kind === "replies" && attachmentIds.length > 0)
      ? await problemText(response, "Your message was not sent. Check it and try again.")
      : "Your message was not sent. Check it and try again.");
    return;
  }
  sessionStorage.removeItem(draftKey);
  reloadOwn();
}

article.querySelector("[data-reply]").addEventListener("submit", e => { e.preventDefault(); send("replies", false); });
force.addEventListener("click", () => send("replies", true));
article.querySelector("[data-note]").addEventListener("click", () => send("notes", false));
article.querySelector("[data-status]").addEventListener("submit", async e => {
  e.preventDefault();
  error.hidden = true;
  const response = await post("status", { status: new FormData(e.target).get("status"), version: Number(article.dataset.version) });
  if (response.ok) reloadOwn();
  else if (!await showIfClosed(response) && !await showIfChanged(response, false)) showError(await problemText(response, "The status was not changed."));
});
article.querySelector("[data-move]").addEventListener("submit", async e => {
  e.preventDefault();
  error.hidden = true;
  const form = new FormData(e.target);
  const response = await post("move", { queue: form.get("queue"), priority: form.get("priority"), version: Number(article.dataset.version) });
  if (response.ok) reloadOwn();
  else if (!await showIfClosed(response) && !await showIfChanged(response, false)) showError(await problemText(response, "The item was not moved."));
});
article.querySelector("[data-tags]").addEventListener("submit", async e => {
  e.preventDefault();
  error.hidden = true;
  const tags = new FormData(e.target).get("tags").split(",").map(t => t.trim()).filter(t => t.length > 0);
  const response = await fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}/tags`, {
    method: "PUT", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: JSON.stringify({ tags, version: Number(article.dataset.version) }),
  });
  if (response.ok) reloadOwn();
  else if (!await showIfClosed(response) && !await showIfChanged(response, false)) { error.textContent = "Tags are 1 to 40 lowercase letters, digits, '-' or '_'."; error.hidden = false; }
});
article.querySelector("[data-attach]").addEventListener("submit", async e => {
  e.preventDefault();
  const response = await fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}/attachments`, { method: "POST", body: new FormData(e.target) });
  if (response.ok) reloadOwn();
  else if (!await showIfClosed(response)) { error.textContent = response.status === 413 ? "That file is too large." : "The file was not attached."; error.hidden = false; }
});
// Take the item, or (supervisors) hand it to someone serving the client.
const assign = article.querySelector("[data-assign]");
async function setAssignee(assigneeId) {
  error.hidden = true;
  const response = await fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}/assignee`, {
    method: "PUT", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: JSON.stringify({ assigneeId }),
  });
  if (response.ok) reloadOwn();
  else showError(await problemText(response, "The item was not assigned."));
}
assign?.querySelector("[data-assign-me]")?.addEventListener("click", e => setAssignee(e.currentTarget.dataset.assignMe));
assign?.querySelector("[data-unassign]")?.addEventListener("click", () => setAssignee(null));
// Taking a colleague's item over is said first, in the page: they may be in the middle of answering it.
const takeOver = assign?.querySelector("[data-take-over]");
const confirmTakeOver = assign?.querySelector("[data-take-over-confirm]");
takeOver?.addEventListener("click", () => {
  takeOver.hidden = true;
  confirmTakeOver.hidden = false;
  confirmTakeOver.querySelector("[data-assign-me]").focus();
});
confirmTakeOver?.querySelector("[data-take-over-cancel]").addEventListener("click", () => {
  confirmTakeOver.hidden = true;
  takeOver.hidden = false;
  takeOver.focus();
});
assign?.addEventListener("submit", e => {
  e.preventDefault();
  setAssignee(new FormData(e.target).get("assigneeId") || null);
});

document.addEventListener("keydown", e => {
  if (e.key === "r" && !e.target.closest("input, textarea, select")) { e.preventDefault(); body.focus(); }
});

// Every control above is wired: tests (and nothing else) wait for this before they act on a freshly loaded page.
article.dataset.ready = "true";
