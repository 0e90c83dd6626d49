// The client portal's day-by-day SLA chart (uPlot, vendored in lib/uplot): each day's first-response and resolution
// compliance as lines, the day's items as bars, from the report the page embeds as a JSON data block.
const host = document.getElementById("sla-chart");
const source = document.getElementById("sla-daily-data");
const data = source ? JSON.parse(source.textContent) : null;

if (host && data && window.uPlot) {
  const days = data.days;
  const dayAt = i => days[Math.round(i)] ?? "";
  const percent = (u, v) => (v == null ? "–" : `${v} %`);
  const height = 260;
  const width = () => Math.max(host.clientWidth, 320);
  const chart = new uPlot({
    width: width(),
    height,
    scales: {
      // Days are an index, labelled by date: uPlot's time scale would draw the client's days in the browser's zone.
      x: { time: false, range: [-0.5, Math.max(days.length - 0.5, 0.5)] },
      "%": { range: [0, 100] },
      items: { range: (u, min, max) => [0, Math.max(1, max ?? 1)] },
    },
    axes: [
      { incrs: [1, 2, 5, 7, 14, 28], values: (u, splits) => splits.map(i => dayAt(i).slice(5)) },
      { scale: "%", values: (u, splits) => splits.map(v => `${v} %`) },
      { scale: "items", side: 1, grid: { show: false } },
    ],
    series: [
      { label: "Day", value: (u, i) => (i == null ? "–" : dayAt(i)) },
      { label: "Items", scale: "items", stroke: "#9ca3af", fill: "rgba(156, 163, 175, 0.35)", points: { show: false },
        paths: uPlot.paths.bars({ size: [0.6, 40] }) },
      { label: "First response", scale: "%", stroke: "#2563eb", width: 2, value: percent },
      { label: "Resolution", scale: "%", stroke: "#16a34a", width: 2, value: percent },
    ],
  }, [days.map((_, i) => i), data.items, data.firstResponse, data.resolution], host);

  new ResizeObserver(() => chart.setSize({ width: width(), height })).observe(host);
  host.dataset.ready = "true";
}
