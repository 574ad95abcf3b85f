// Rapport: a little progressive enhancement. Every page works without it.
(() => {
  "use strict";

  // Forms with data-confirm ask before submitting (revoking a token, deleting…); in a form
  // with several buttons, the button pressed may carry its own question instead.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = event.submitter?.dataset.confirm ?? form.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Buttons with data-copy="#selector" copy that input's value to the clipboard.
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    const input = document.querySelector(button.dataset.copy);
    if (!input) return;
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Press Ctrl+C";
    }
  });

  // Escape closes the user menu; a click elsewhere does too.
  const menus = () => document.querySelectorAll("details.usermenu[open]");
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") menus().forEach((d) => { d.open = false; d.querySelector("summary")?.focus(); });
  });
  document.addEventListener("click", (event) => {
    menus().forEach((d) => { if (!d.contains(event.target)) d.open = false; });
  });

  // fetch() calls from this page carry the session's CSRF token.
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  if (token) {
    window.rapportFetch = (url, options = {}) => {
      const headers = new Headers(options.headers || {});
      headers.set("X-CSRF-Token", token);
      return fetch(url, { credentials: "same-origin", ...options, headers });
    };
  }

  // Keyboard shortcuts (listed in the ? overlay): never while typing in a field.
  const typing = (el) => el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const goTo = { c: "/customers", l: "/leads", t: "/tasks/mine", o: "/contacts", d: "/" };
  let pendingG = 0;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const search = document.getElementById("global-search");
    const help = document.getElementById("help");
    if (event.key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "?" && help && help.togglePopover) {
      event.preventDefault();
      help.togglePopover();
    } else if (event.key === "g") {
      pendingG = Date.now();
    } else if (pendingG && Date.now() - pendingG < 1500 && goTo[event.key]) {
      pendingG = 0;
      window.location.assign(goTo[event.key]);
    }
  });

  // The bell's unread count stays current over Server-Sent Events (`event: unread`).
  const bell = document.querySelector("[data-bell]");
  if (bell && window.EventSource) {
    const badge = bell.querySelector("[data-unread]");
    const stream = new EventSource("/api/v1/notifications/stream");
    stream.addEventListener("unread", (event) => {
      let count = 0;
      try { count = Number(JSON.parse(event.data).count) || 0; } catch { return; }
      badge.textContent = String(count);
      badge.hidden = count === 0;
      bell.setAttribute("aria-label", count === 0 ? "Notifications, none unread" : `Notifications, ${count} unread`);
    });
    window.addEventListener("pagehide", () => stream.close());
  }

  // Suggestions as you type in the header search, from /api/v1/search. Enter without a
  // chosen suggestion still submits the form to the full results page.
  const input = document.getElementById("global-search");
  const list = document.getElementById("search-suggestions");
  if (input && list) {
    const paths = { customer: "/customers/", contact: "/contacts/", lead: "/leads/" };
    let timer = 0;
    let seq = 0;
    const hide = () => { list.hidden = true; list.replaceChildren(); input.removeAttribute("aria-activedescendant"); };
    const show = (items) => {
      list.replaceChildren(...items.map((hit, i) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        const a = document.createElement("a");
        a.href = (paths[hit.type] || "/search?q=") + encodeURIComponent(hit.id);
        a.id = `suggestion-${i}`;
        const kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = hit.type;
        const title = document.createElement("span");
        title.textContent = hit.title;
        a.append(kind, title);
        li.append(a);
        return li;
      }));
      list.hidden = items.length === 0;
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { hide(); return; }
      timer = setTimeout(async () => {
        const mine = ++seq;
        try {
          const res = await fetch(`/api/v1/search?limit=8&q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
          if (!res.ok || mine !== seq) return;
          show((await res.json()).items || []);
        } catch { /* offline: the form still works */ }
      }, 150);
    });
    input.addEventListener("keydown", (event) => {
      const links = [...list.querySelectorAll("a")];
      if (!links.length) return;
      const current = links.findIndex((a) => a.getAttribute("aria-selected") === "true");
      let next = current;
      if (event.key === "ArrowDown") next = Math.min(current + 1, links.length - 1);
      else if (event.key === "ArrowUp") next = Math.max(current - 1, -1);
      else if (event.key === "Enter" && current >= 0) { event.preventDefault(); links[current].click(); return; }
      else if (event.key === "Escape") { hide(); return; }
      else return;
      event.preventDefault();
      links.forEach((a, i) => a.setAttribute("aria-selected", String(i === next)));
      if (next >= 0) input.setAttribute("aria-activedescendant", links[next].id);
    });
    document.addEventListener("click", (event) => { if (!list.contains(event.target) && event.target !== input) hide(); });
  }

  // The stage form asks for a reason only when the chosen stage is a lost one.
  document.querySelectorAll("form[data-lost-stages]").forEach((form) => {
    const lost = form.dataset.lostStages.split(",");
    const stage = form.querySelector("select[name=stage]");
    const reason = form.querySelector("[name=lost_reason]")?.closest(".field");
    if (!stage || !reason) return;
    const sync = () => { reason.hidden = !lost.includes(stage.value) && !reason.classList.contains("invalid"); };
    stage.addEventListener("change", sync);
    sync();
  });

  // The pipeline board: drag a card onto another column to move it. The drop submits the
  // card's own stage form (the no-JavaScript way), asking for the reason on a lost stage.
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const card = event.target instanceof Element ? event.target.closest(".leadcard") : null;
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.lead);
  });
  document.addEventListener("dragend", () => {
    dragged?.classList.remove("dragging");
    document.querySelectorAll(".column.drop").forEach((c) => c.classList.remove("drop"));
    dragged = null;
  });
  document.addEventListener("dragover", (event) => {
    const column = event.target instanceof Element ? event.target.closest(".column[data-stage]") : null;
    if (!column || !dragged) return;
    event.preventDefault();
    document.querySelectorAll(".column.drop").forEach((c) => { if (c !== column) c.classList.remove("drop"); });
    column.classList.add("drop");
  });
  document.addEventListener("drop", (event) => {
    const column = event.target instanceof Element ? event.target.closest(".column[data-stage]") : null;
    if (!column || !dragged) return;
    event.preventDefault();
    const form = dragged.querySelector("form");
    if (!form || dragged.closest(".column") === column) return;
    let reason = "";
    if (column.hasAttribute("data-lost")) {
      reason = window.prompt("Why was this lead lost?") || "";
      if (!reason.trim()) return;
    }
    form.querySelector("select[name=stage]").value = column.dataset.stage;
    form.querySelector("[name=lost_reason]").value = reason;
    form.requestSubmit();
  });

  // Attachment uploads go to the API with the session's CSRF header; then the page reloads
  // to show the file. A refusal shows the API's own message under the form.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload") || !window.rapportFetch) return;
    event.preventDefault();
    const error = form.querySelector("[data-upload-error]");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Uploading…";
    // The API takes the token as a header and only its own fields.
    const body = new FormData(form);
    body.delete("csrf_token");
    body.delete("back");
    try {
      const res = await window.rapportFetch(form.dataset.upload, { method: "POST", body });
      if (res.ok) { window.location.reload(); return; }
      const problem = await res.json().catch(() => ({}));
      error.textContent = problem.detail || `Upload failed (${res.status}).`;
      error.hidden = false;
    } catch {
      error.textContent = "Upload failed: the server could not be reached.";
      error.hidden = false;
    }
    button.disabled = false;
    button.textContent = "Upload";
  });

  // Lists' select boxes: "select all", and the bulk bar says how many are chosen.
  const bulk = document.getElementById("bulk");
  if (bulk) {
    const boxes = () => [...document.querySelectorAll('input[name="ids"][form="bulk"]')];
    const label = bulk.querySelector("[data-selected]");
    const sync = () => {
      const n = boxes().filter((b) => b.checked).length;
      label.textContent = n === 0 ? "Select rows to act on them." : `${n} selected`;
      bulk.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = n === 0; });
    };
    document.addEventListener("change", (event) => {
      const target = event.target;
      if (target instanceof HTMLInputElement && target.hasAttribute("data-select-all")) {
        boxes().forEach((b) => { b.checked = target.checked; });
      }
      sync();
    });
    sync();
  }

  // A double click sends a form once: a second submit of the same POST form within two
  // seconds is dropped, so a new lead or task is not created twice. Registered last, it
  // leaves alone a submit that a handler above cancelled (a declined confirmation, an upload
  // sent by script). A form that downloads a file stays on the page; after two seconds it can
  // be sent again.
  const RESUBMIT_AFTER_MS = 2000;
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== "post" || event.defaultPrevented) return;
    const last = Number(form.dataset.sentAt || 0);
    if (Date.now() - last < RESUBMIT_AFTER_MS) {
      event.preventDefault();
      return;
    }
    form.dataset.sentAt = String(Date.now());
  });
})();
