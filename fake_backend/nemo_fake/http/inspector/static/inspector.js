// The inspector's little script: the controls call the control API itself (so its checks and
// messages are the form's), and the journal follows the fake's live feed.
"use strict";

// A form's fields as the JSON body its endpoint takes: empty fields left out, numbers as
// numbers (data-number), a checked box as true, and the button pressed when it has a name.
function bodyOf(form, submitter) {
  const body = {};
  const fields = [...form.elements].filter((field) => field.name && field.tagName !== "BUTTON");
  if (submitter && submitter.name) fields.push(submitter);
  for (const field of fields) {
    if (field.type === "checkbox") {
      if (field.checked) body[field.name] = true;
      continue;
    }
    const text = field.value.trim();
    if (text === "") continue;
    body[field.name] = field.hasAttribute("data-number") && !Number.isNaN(Number(text)) ? Number(text) : text;
  }
  return body;
}

async function callControlApi(form, submitter) {
  const status = form.querySelector("output");
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) return;
  const method = form.getAttribute("data-method");
  const init = { method, credentials: "same-origin", headers: {} };
  if (method === "POST" && form.getAttribute("data-path") !== "/_fake/reset") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(bodyOf(form, submitter));
  }
  if (status) status.textContent = "…";
  let envelope = {};
  let response;
  try {
    response = await fetch(form.getAttribute("data-path"), init);
    envelope = await response.json();
  } catch (error) {
    if (status) status.textContent = `The fake did not answer: ${error}`;
    return;
  }
  if (response.ok && envelope.code === 0) {
    window.location.reload();
    return;
  }
  // The control API's own message, as POST /_fake/faults (say) words it.
  if (status) status.textContent = envelope.message || `HTTP ${response.status}`;
  form.classList.add("refused");
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.hasAttribute("data-method")) return;
  event.preventDefault();
  callControlApi(form, event.submitter);
});

// -- the journal -----------------------------------------------------------------------------

function rowMatches(row, filters) {
  return ["operation", "status", "code"].every((name) => {
    const wanted = filters.elements[name].value.trim();
    return wanted === "" || row.dataset[name] === wanted;
  });
}

function applyFilters(rows, filters) {
  for (const row of rows.querySelectorAll("tr.entry")) row.hidden = !rowMatches(row, filters);
}

function followJournal() {
  const rows = document.getElementById("journal-rows");
  const filters = document.getElementById("journal-filters");
  if (!rows || !filters) return;
  const live = document.getElementById("journal-live");
  filters.addEventListener("input", () => applyFilters(rows, filters));
  filters.addEventListener("submit", (event) => event.preventDefault());
  const source = new EventSource(rows.dataset.stream);
  source.addEventListener("open", () => { live.textContent = "live"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; });
  source.addEventListener("entry", (event) => {
    const holder = document.createElement("tbody");
    holder.innerHTML = event.data;  // a row the fake drew with its own (escaping) template
    const row = holder.firstElementChild;
    if (rows.querySelector(`tr[data-seq="${row.dataset.seq}"]`)) return;
    row.hidden = !rowMatches(row, filters);
    rows.prepend(row);
  });
}

// Copy a curl line: the clipboard where the page may use it (loopback, https), else select it.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const code = button.parentElement.querySelector("code.curl");
  try {
    await navigator.clipboard.writeText(code.textContent);
    button.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(code);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
});

document.addEventListener("DOMContentLoaded", followJournal);
