// Rapport: a little progressive enhancement. Every page works without it.
(() => {
  "use strict";

  // Forms with data-confirm ask before submitting (revoking a token, deleting…).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
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
})();
