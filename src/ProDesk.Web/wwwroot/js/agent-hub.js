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

