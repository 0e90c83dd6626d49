// The canned-reply picker of an item page: lists the tenant's canned replies and inserts the chosen one,
// rendered for this item by the server, at the cursor in the reply box. Text only: option labels are set
// with textContent and the rendered body goes into the textarea's value, so nothing is ever parsed as HTML.
// A combobox: ↓/↑ move the selection (the first ↓ opens the list), Enter or a click inserts, Escape closes
// without inserting, typing narrows the list by title or shortcut.
const article = document.querySelector("[data-item]");
const picker = article?.querySelector("[data-canned]");

if (article && picker) {
  const input = picker.querySelector("[data-canned-input]");
  const list = picker.querySelector("[data-canned-list]");
  const note = picker.querySelector("[data-canned-note]");
  const body = article.querySelector("[data-reply-body]");
  const tenant = `/api/v1/tenants/${encodeURIComponent(article.dataset.tenant)}`;
  const json = { headers: { Accept: "application/json" } };
  let replies = [];
  let shown = [];
  let active = -1;

  function say(text) {
    note.textContent = text;
    note.hidden = text.length === 0;
  }

  async function load() {
    const response = await fetch(`${tenant}/canned-replies/?limit=200`, json);
    if (!response.ok) return;
    const page = await response.json();
    replies = page.items.map(canned => ({ id: canned.id, label: canned.shortcut ? `${canned.title} (${canned.shortcut})` : canned.title }));
    picker.hidden = replies.length === 0;
  }

  function open() {
    const words = input.value.trim().toLocaleLowerCase();
    shown = replies.filter(canned => canned.label.toLocaleLowerCase().includes(words));
    active = -1;
    list.replaceChildren(...shown.map((canned, index) => {
      const option = document.createElement("li");
      option.id = `canned-option-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.index = String(index);
      option.textContent = canned.label;
      return option;
    }));
    list.hidden = shown.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
    input.removeAttribute("aria-activedescendant");
  }

  function close() {
    list.hidden = true;
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function select(index) {
    if (shown.length === 0) return;
    active = (index + shown.length) % shown.length;
    for (const option of list.children) option.setAttribute("aria-selected", String(Number(option.dataset.index) === active));
    const option = list.children[active];
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  async function insert(canned) {
    close();
    input.value = "";
    const response = await fetch(`${tenant}/work-items/${encodeURIComponent(article.dataset.itemId)}/canned-replies/${encodeURIComponent(canned.id)}/rendered`, json);
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
  }

  input.addEventListener("input", open);
  input.addEventListener("click", () => { if (list.hidden) open(); });
  input.addEventListener("blur", close);
  input.addEventListener("keydown", e => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const down = e.key === "ArrowDown";
      if (list.hidden) { open(); select(down ? 0 : shown.length - 1); } else select(active < 0 && !down ? shown.length - 1 : active + (down ? 1 : -1));
    } else if (e.key === "Enter") {
      // Never the reply form's submit: Enter here chooses a canned answer or does nothing.
      e.preventDefault();
      if (!list.hidden && active >= 0) insert(shown[active]);
    } else if (e.key === "Escape" && !list.hidden) {
      e.preventDefault();
      close();
    }
  });
  // A click chooses without taking the focus from the input first (whose blur would close the list under the click).
  list.addEventListener("mousedown", e => e.preventDefault());
  list.addEventListener("click", e => {
    const option = e.target.closest("[role=option]");
    if (option) insert(shown[Number(option.dataset.index)]);
  });

  load();
}
