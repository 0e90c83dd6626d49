import { connectAgentHub } from "./agent-hub.js";

const board = document.getElementById("board");

// Any event for the supervisor's tenants (and every reconnect) redraws the board from the server;
// bursts collapse into one refresh.
let pending = null;
function refresh() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    const response = await fetch(board.dataset.boardUrl, { headers: { "Accept": "text/html" } });
    if (response.ok) board.innerHTML = await response.text();
  }, 150);
}

// Escalated SLA events (the policy says notify supervisors) stay on screen as alerts, newest first.
const alerts = document.querySelector("[data-testid=sla-alerts]");
function alert(kind) {
  return sla => {
    refresh();
    if (!sla.notifySupervisors) return;
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/agent/items/${encodeURIComponent(sla.tenant)}/${encodeURIComponent(sla.itemId)}`;
    link.textContent = sla.subject ?? sla.itemId;
    item.append(`${kind === "breach" ? "SLA breached" : `SLA ${sla.percent}% used`}: ${sla.tenant}, ${sla.target}: `, link);
    item.className = kind;
    alerts.prepend(item);
    while (alerts.children.length > 20) alerts.lastElementChild.remove();
  };
}

connectAgentHub({
  SlaWarning: alert("warning"),
  SlaBreached: alert("breach"),
  QueueStats: refresh,
  WorkItemCreated: refresh,
  WorkItemUpdated: refresh,
  WorkItemAssigned: refresh,
}, refresh, document.querySelector("[data-live-status]"));
