import { connectAgentHub } from "./agent-hub.js";

const article = document.querySelector("[data-item]");
const tenant = article.dataset.tenant;
const itemId = article.dataset.itemId;
const presence = article.querySelector("[data-presence]");
const error = article.querySelector("[data-reply-error]");
const force = article.querySelector("[data-reply-force]");
const body = article.querySelector("[data-reply-body]");
const others = new Map();
const typingTimers = new Map();
const visitor = "00000000-0000-0000-0000-000000000000";

function showPresence() {
  presence.textContent = [...others.values()].map(p => `${p.name} is ${p.what}`).join(", ");
}

// A live chat: the visitor's messages appear in the thread as they arrive. The thread is the server's
// own rendering of this page, fetched again; the version moves with it, since the agent sees what changed.
let refreshing = null;
let refreshAgain = false;
async function refreshThread() {
  if (refreshing) { refreshAgain = true; return; }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      const response = await fetch(window.location.href, { headers: { "Accept": "text/html" } });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("[data-item]");
      if (!fresh) return;
      for (const selector of ["[data-testid='thread']", "[data-testid='item-status']"]) {
        const now = article.querySelector(selector), next = fresh.querySelector(selector);
        if (now && next) now.replaceWith(document.importNode(next, true));
      }
      article.dataset.version = fresh.dataset.version;
      // The visitor's message is in: it is no longer typing it.
      if (others.delete(visitor)) showPresence();
    } while (refreshAgain);
  })();
  try { await refreshing; } finally { refreshing = null; }
}

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
  WorkItemUpdated: e => {
    if (e.id !== itemId || e.version <= Number(article.dataset.version)) return;
    if (article.dataset.channel === "chat") refreshThread().catch(() => { article.dataset.changed = "true"; });
    else article.dataset.changed = "true";
  },
}, async hub => {
  await hub.invoke("Watch", tenant, itemId);
  // Watching: presence and live updates of this item arrive from here on.
  article.dataset.live = "true";
});

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

async function send(kind, forced) {
  error.hidden = true;
  const payload = kind === "replies"
    ? { body: body.value, version: Number(article.dataset.version), force: forced }
    : { body: body.value };
  const response = await post(kind, payload);
  if (response.status === 409) {
    const current = await response.json();
    error.textContent = `This item changed since you opened it (now ${current.status}, version ${current.version}). Reload to see what changed, or send anyway.`;
    error.hidden = false;
    force.hidden = false;
    return;
  }
  if (!response.ok) {
    error.textContent = "Your message was not sent. Check it and try again.";
    error.hidden = false;
    return;
  }
  window.location.reload();
}

article.querySelector("[data-reply]").addEventListener("submit", e => { e.preventDefault(); send("replies", false); });
force.addEventListener("click", () => send("replies", true));
article.querySelector("[data-note]").addEventListener("click", () => send("notes", false));
article.querySelector("[data-status]").addEventListener("submit", async e => {
  e.preventDefault();
  const response = await post("status", { status: new FormData(e.target).get("status") });
  if (response.ok) window.location.reload();
});
article.querySelector("[data-tags]").addEventListener("submit", async e => {
  e.preventDefault();
  const tags = new FormData(e.target).get("tags").split(",").map(t => t.trim()).filter(t => t.length > 0);
  const response = await fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}/tags`, {
    method: "PUT", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: JSON.stringify({ tags }),
  });
  if (response.ok) window.location.reload();
  else { error.textContent = "Tags are 1 to 40 lowercase letters, digits, '-' or '_'."; error.hidden = false; }
});
article.querySelector("[data-attach]").addEventListener("submit", async e => {
  e.preventDefault();
  const response = await fetch(`/api/v1/tenants/${tenant}/work-items/${itemId}/attachments`, { method: "POST", body: new FormData(e.target) });
  if (response.ok) window.location.reload();
  else { error.textContent = response.status === 413 ? "That file is too large." : "The file was not attached."; error.hidden = false; }
});
document.addEventListener("keydown", e => {
  if (e.key === "r" && !e.target.closest("input, textarea, select")) { e.preventDefault(); body.focus(); }
});
