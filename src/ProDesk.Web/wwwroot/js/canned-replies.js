// The canned-reply picker of an item page: lists the tenant's canned replies and inserts the chosen one,
// rendered for this item by the server, at the cursor in the reply box. Text only: option labels are set
// with textContent and the rendered body goes into the textarea's value, so nothing is ever parsed as HTML.
const article = document.querySelector("[data-item]");
const picker = article?.querySelector("[data-canned]");

if (article && picker) {
  const select = picker.querySelector("[data-canned-select]");
  const note = picker.querySelector("[data-canned-note]");
  const body = article.querySelector("[data-reply-body]");
  const tenant = `/api/v1/tenants/${encodeURIComponent(article.dataset.tenant)}`;
  const json = { headers: { Accept: "application/json" } };

  function say(text) {
    note.textContent = text;
    note.hidden = text.length === 0;
  }

  async function load() {
    const response = await fetch(`${tenant}/canned-replies/?limit=200`, json);
    if (!response.ok) return;
    const page = await response.json();
    for (const canned of page.items) {
      const option = document.createElement("option");
      option.value = canned.id;
      option.textContent = canned.shortcut ? `${canned.title} (${canned.shortcut})` : canned.title;
      select.append(option);
    }
    picker.hidden = page.items.length === 0;
  }

  select.addEventListener("change", async () => {
    const cannedId = select.value;
    if (!cannedId) return;
    select.value = "";
    const response = await fetch(`${tenant}/work-items/${encodeURIComponent(article.dataset.itemId)}/canned-replies/${encodeURIComponent(cannedId)}/rendered`, json);
    if (!response.ok) {
      say("That canned answer could not be inserted. Reload the page and try again.");
      return;
    }
    const rendered = await response.json();
    body.setRangeText(rendered.body, body.selectionStart, body.selectionEnd, "end");
    // As if typed: colleagues see "typing" and the reply box keeps its usual behaviour.
    body.dispatchEvent(new Event("input", { bubbles: true }));
    body.focus();
    say([
      ...rendered.missing.map(name => `No value for {{${name}}}: fill it in.`),
      ...rendered.unknown.map(name => `{{${name}}} is not a placeholder and was left as typed.`),
    ].join(" "));
  });

  load();
}
