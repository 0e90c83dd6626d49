import { connectAgentHub } from "./agent-hub.js";

const queue = document.getElementById("queue");
const status = document.querySelector("[data-live-status]");

// The server renders the queue; on any event (and after a reconnect) the console asks for it again. A burst of
// events makes one request (as wallboard.js does), and an answer older than the latest request is dropped, so a
// slow response cannot put an older list back on screen (probe round 19).
let refreshTimer = null;
let latestRequest = 0;
function refreshQueue() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadQueue, 150);
}
async function loadQueue() {
  const request = ++latestRequest;
  let response;
  try {
    response = await fetch(queue.dataset.queueUrl, { headers: { "Accept": "text/html" } });
  } catch {
    // A network blip: the next event, or the re-sync after a reconnect, asks again.
    return;
  }
  if (request !== latestRequest) return;
  if (response.ok) {
    const hadFocus = queue.contains(document.activeElement);
    queue.innerHTML = await response.text();
    keepSelection(hadFocus);
  }
  showDueTimes();
}

// Due times arrive in UTC; the agent reads them as "in 25 min" / "overdue 3 min", kept current.
function span(minutes) {
  return minutes < 60 ? `${minutes} min` : minutes < 2880 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${Math.floor(minutes / 1440)} d`;
}
function showDueTimes() {
  const now = Date.now();
  for (const due of queue.querySelectorAll("time[data-due]")) {
    // Past due is overdue from its first millisecond: a rounded "in 0 min" read as time left (probe round 19).
    // Time left rounds up (40 s left is "in 1 min", never "in 0 min"); time overdue rounds down.
    const left = Date.parse(due.dateTime) - now;
    const minutes = left > 0 ? Math.ceil(left / 60000) : Math.floor(-left / 60000);
    due.textContent = left > 0 ? `in ${span(minutes)}` : minutes === 0 ? "overdue" : `overdue ${span(minutes)}`;
    due.classList.toggle("overdue", left <= 0);
    due.title = new Date(due.dateTime).toLocaleString();
  }
}
showDueTimes();
setInterval(showDueTimes, 30000);

const statusPicker = document.querySelector("[data-agent-status]");
const hub = connectAgentHub({
  WorkItemCreated: refreshQueue,
  WorkItemUpdated: refreshQueue,
  WorkItemAssigned: refreshQueue,
  SlaWarning: refreshQueue,
  SlaBreached: refreshQueue,
}, async () => {
  // The picker shows the status the agent chose, which presence keeps across pages and reconnects (probe round 20);
  // after a reconnect the queue is read again, so an item that arrived while the page was cut off appears.
  await loadQueue();
}, status);
statusPicker.addEventListener("change", () => hub.invoke("SetStatus", statusPicker.value));

// What "Next item" got, in its own line: the live status next to it stays the hub's (probe round 19).
const nextProblem = document.querySelector("[data-next-problem]");
function tell(text, signIn) {
  nextProblem.textContent = text;
  if (signIn) {
    const link = document.createElement("a");
    link.href = `/login?ReturnUrl=${encodeURIComponent(location.pathname)}`;
    link.textContent = "Sign in again";
    nextProblem.append(" ", link);
  }
  nextProblem.hidden = false;
}
async function nextItem() {
  nextProblem.hidden = true;
  let response;
  try {
    response = await fetch("/api/v1/work/next", { method: "POST", headers: { "Accept": "application/json" } });
  } catch {
    tell("The server could not be reached; try again.");
    return;
  }
  if (response.status === 200) {
    // The item claimed may be past the rows the queue shows: open it by its own address.
    const item = await response.json();
    window.location.href = `/agent/items/${encodeURIComponent(item.tenant)}/${encodeURIComponent(item.id)}`;
  } else if (response.status === 204) {
    tell("Nothing waiting.");
  } else if (response.status === 401) {
    tell("You are signed out.", true);
  } else {
    let detail = null;
    try { const problem = await response.json(); detail = problem.detail ?? problem.title; } catch { /* not a problem body */ }
    tell(detail ?? `The next item could not be taken (${response.status}); try again.`);
  }
}

document.querySelector("[data-next-item]")?.addEventListener("click", nextItem);

// The selection is an item, not a row number: a live refresh reorders the rows under the agent's keys, and Enter
// must open the item the agent chose, never the one that moved into its place.
let selectedId = null;
function rows() { return [...queue.querySelectorAll("tr[data-item-id]")]; }
function selectedRow() { return selectedId === null ? null : rows().find(row => row.dataset.itemId === selectedId) ?? null; }
function select(index) {
  const all = rows();
  if (all.length === 0) return;
  const row = all[Math.max(0, Math.min(index, all.length - 1))];
  selectedId = row.dataset.itemId;
  all.forEach(r => r.classList.toggle("selected", r === row));
  row.focus();
}
function keepSelection(refocus) {
  const row = selectedRow();
  if (row === null) { selectedId = null; return; }
  row.classList.add("selected");
  if (refocus) row.focus();
}

document.addEventListener("keydown", event => {
  if (event.target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
  const at = rows().indexOf(selectedRow());
  if (event.key === "n") { event.preventDefault(); nextItem(); }
  if (event.key === "j") select(at + 1);
  if (event.key === "k") select(at < 0 ? 0 : at - 1);
  // A focused button or link acts on Enter itself: it must not also open the selected row (probe round 19).
  if (event.key === "Enter" && !event.target.closest("button, a")) selectedRow()?.querySelector("a")?.click();
});
