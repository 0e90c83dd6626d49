// Moments the server wrote in UTC (<time utc> in Razor: datetime="...Z", text "yyyy-MM-dd HH:mm UTC") are shown in the
// reader's own time zone: an agent in Berlin or Singapore reads their local time, not London's. The UTC text stays in
// the title. Elements added later (a live thread refresh, a queue swapped in) are converted as they arrive.
const format = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});

/** A moment (a Date or an ISO string) as the reader's local date and time, with the zone's short name. */
export function localText(moment) {
  return format.format(moment instanceof Date ? moment : new Date(moment));
}

function convert(time) {
  const at = new Date(time.dateTime);
  if (Number.isNaN(at.getTime())) return;
  if (!time.title) time.title = time.textContent.trim();
  time.textContent = localText(at);
  // Converted once: its text is ours from here on.
  delete time.dataset.localTime;
}

function convertWithin(root) {
  if (root.matches?.("time[data-local-time]")) convert(root);
  for (const time of root.querySelectorAll?.("time[data-local-time]") ?? []) convert(time);
}

convertWithin(document);
new MutationObserver(changes => {
  for (const change of changes) {
    for (const node of change.addedNodes) {
      if (node.nodeType === Node.ELEMENT_NODE) convertWithin(node);
    }
  }
}).observe(document.documentElement, { childList: true, subtree: true });
