// One connection to /hubs/agent per page, with automatic reconnects. `onReady` runs after the first
// connect and after every reconnect, so a page re-syncs from the server and misses nothing.
export function connectAgentHub(handlers, onReady, status) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl("/hubs/agent")
    .withAutomaticReconnect()
    .build();
  for (const [event, handler] of Object.entries(handlers)) connection.on(event, handler);
  const show = text => { if (status) status.textContent = text; };
  connection.onreconnecting(() => show("reconnecting…"));
  connection.onreconnected(async () => { show("live"); await onReady(connection); });
  connection.onclose(() => show("offline"));
  connection.start().then(async () => { show("live"); await onReady(connection); }).catch(() => show("offline"));
  return connection;
}
