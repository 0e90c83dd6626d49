import { connectAgentHub } from "./agent-hub.js";

const queue = document.getElementById("queue");
const status = document.querySelector("[data-live-status]");

// The server renders the queue; on any event (and after a reconnect) the console asks for it again.
async function refreshQueue() {
  const response = await fetch(queue.dataset.queueUrl, { headers: { "Accept": "text/html" } });
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
    const minutes = Math.round((Date.parse(due.dateTime) - now) / 60000);
    due.textContent = minutes >= 0 ? `in ${span(minutes)}` : `overdue ${span(-minutes)}`;
    due.classList.toggle("overdue", minutes < 0);
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
}, async connection => {
  await connection.invoke("SetStatus", statusPicker.value);
  await refreshQueue();
}, status);
statusPicker.addEventListener("change", () => hub.invoke("SetStatus", statusPicker.value));

async function nextItem() {
  const response = await fetch("/api/v1/work/next", { method: "POST", headers: { "Accept": "application/json" } });
  if (response.status === 200) {
    // The item claimed may be past the rows the queue shows: open it by its own address.
    const item = await response.json();
    window.location.href = `/agent/items/${encodeURIComponent(item.tenant)}/${encodeURIComponent(item.id)}`;
  } else if (status) {
    status.textContent = "nothing waiting";
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
  if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  const at = rows().indexOf(selectedRow());
  if (event.key === "n") { event.preventDefault(); nextItem(); }
  if (event.key === "j") select(at + 1);
  if (event.key === "k") select(at < 0 ? 0 : at - 1);
  if (event.key === "Enter") selectedRow()?.querySelector("a")?.click();
});
