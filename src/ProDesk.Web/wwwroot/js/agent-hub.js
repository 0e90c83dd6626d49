// One connection to /hubs/agent per page. It never gives up: SignalR's default reconnect policy stopped after
// 0, 2, 10 and 30 s, so an outage of about 40 s (a deploy, a proxy reload, a Wi-Fi drop) left the console, item
// page and wallboard dead for good with only the word "offline" (probe round 20). Retries back off from 1 s to at
// most 30 s, for as long as the page is open; while not live a banner says so. `onReady` runs after the first
// connect and after every reconnect (its second argument true), so a page re-syncs from the server and misses
// nothing that happened while it was cut off.
const retryDelay = attempt => Math.min(30000, 1000 * 2 ** Math.min(attempt, 5));

export function connectAgentHub(handlers, onReady, status) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl("/hubs/agent")
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: context => retryDelay(context.previousRetryCount) })
    .build();
  for (const [event, handler] of Object.entries(handlers)) connection.on(event, handler);
  const banner = liveBanner();
  const show = (text, live) => {
    if (status) status.textContent = text;
    banner.hidden = live;
  };
  let connectedBefore = false;
  const ready = async () => {
    show("live", true);
    const again = connectedBefore;
    connectedBefore = true;
    try {
      await onReady(connection, again);
    } catch (error) {
      console.warn("Re-syncing after connecting failed", error);
    }
  };
  // Automatic reconnects cover a dropped connection; a close (the automatic retries were cut short, or the
  // server closed without allowing a reconnect) and a failed first start are retried here, on the same schedule.
  let attempt = 0;
  let timer = null;
  let leaving = false;
  const retry = () => {
    if (leaving) return;
    show("offline", false);
    clearTimeout(timer);
    timer = setTimeout(start, retryDelay(attempt++));
  };
  async function start() {
    if (connection.state !== signalR.HubConnectionState.Disconnected) return;
    try {
      await connection.start();
    } catch {
      retry();
      return;
    }
    attempt = 0;
    await ready();
  }
  connection.onreconnecting(() => show("reconnecting…", false));
  connection.onreconnected(ready);
  connection.onclose(retry);
  // Leaving the page closes the connection on purpose: no banner, no retry (a page back from the
  // back/forward cache connects again).
  window.addEventListener("pagehide", () => { leaving = true; clearTimeout(timer); });
  window.addEventListener("pageshow", e => { if (e.persisted) { leaving = false; start(); } });
  start();
  return connection;
}

// The banner every staff page shows while live updates are stopped: what is on screen may be out of date.
function liveBanner() {
  const banner = document.createElement("p");
  banner.className = "alert live-banner";
  banner.setAttribute("role", "alert");
  banner.dataset.testid = "live-banner";
  banner.hidden = true;
  banner.append("Live updates stopped: what you see may be out of date. Reconnecting… ");
  const reload = document.createElement("button");
  reload.type = "button";
  reload.className = "link";
  reload.textContent = "Reload";
  reload.addEventListener("click", () => window.location.reload());
  banner.append(reload);
  (document.getElementById("main") ?? document.body).prepend(banner);
  return banner;
}

// A chat the agent could take (unassigned, or pushed to them) arrived: an agent working an item page saw nothing,
// while the visitor had been told "We are online" (probe round 20). A notice at the top of the page links each
// waiting chat and the tab title counts them, until a colleague takes it or the agent dismisses the notice.
export function announceNewChats(connection, me) {
  const waiting = new Map();
  const title = document.title;
  const notice = document.createElement("div");
  notice.className = "alert new-chats";
  notice.setAttribute("role", "alert");
  notice.dataset.testid = "new-chats";
  notice.hidden = true;
  (document.getElementById("main") ?? document.body).prepend(notice);
  const show = () => {
    notice.replaceChildren();
    notice.hidden = waiting.size === 0;
    document.title = waiting.size === 0 ? title : `(${waiting.size}) New chat · ${title}`;
    if (waiting.size === 0) return;
    notice.append(waiting.size === 1 ? "A new chat is waiting: " : `${waiting.size} new chats are waiting: `);
    [...waiting.values()].forEach((chat, index) => {
      if (index > 0) notice.append(", ");
      const link = document.createElement("a");
      link.href = `/agent/items/${encodeURIComponent(chat.tenant)}/${encodeURIComponent(chat.id)}`;
      link.textContent = chat.subject || "(no subject)";
      notice.append(link, ` (${chat.tenant})`);
    });
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "link";
    dismiss.textContent = "Dismiss";
    dismiss.addEventListener("click", () => { waiting.clear(); show(); });
    notice.append(" ", dismiss);
  };
  const mine = chat => !chat.assigneeId || chat.assigneeId === me;
  connection.on("WorkItemCreated", chat => {
    if (chat.channel !== "chat" || !mine(chat)) return;
    waiting.set(chat.id, chat);
    show();
  });
  // Taken by a colleague: no longer the agent's to take.
  const taken = chat => {
    if (waiting.has(chat.id) && !mine(chat)) {
      waiting.delete(chat.id);
      show();
    }
  };
  connection.on("WorkItemAssigned", taken);
  connection.on("WorkItemUpdated", taken);
}
