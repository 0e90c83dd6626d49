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

connectAgentHub({
  QueueStats: refresh,
  WorkItemCreated: refresh,
  WorkItemUpdated: refresh,
  WorkItemAssigned: refresh,
}, refresh, document.querySelector("[data-live-status]"));
