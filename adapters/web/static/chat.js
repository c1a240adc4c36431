// Wegwijzer web chat: turns the plain HTML form into a live chat.
// The conversation token lives only in this page's memory: no cookies, no storage.
"use strict";
(() => {
  const log = document.getElementById("log");
  const ask = document.getElementById("ask");
  const question = document.getElementById("question");
  if (!log || !ask || !question) return;
  let token = ask.querySelector('input[name="token"]').value;
  let lang = document.documentElement.lang || "nl";
  let busy = false;

  // The server renders this same markup for the no-JavaScript page; the text is escaped there.
  const append = (html) => {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    log.append(tpl.content);
    const last = log.lastElementChild;
    if (last) last.scrollIntoView({ block: "start" });
  };

  const addPerson = (text) => {
    const div = document.createElement("div");
    div.className = "turn person";
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = (document.body.dataset.you || "") + ":";
    const p = document.createElement("p");
    p.textContent = text;
    div.append(who, " ", p);
    log.append(div);
  };

  const setLang = (next, ui) => {
    lang = next;
    document.documentElement.lang = next;
    if (ui) {
      for (const el of document.querySelectorAll("[data-text]")) {
        const value = ui[el.dataset.text];
        if (value) el.textContent = value;
      }
      if (ui.web_you) document.body.dataset.you = ui.web_you;
      if (ui.web_log_label) log.setAttribute("aria-label", ui.web_log_label);
    }
    const other = next === "nl" ? "en" : "nl";
    for (const b of document.querySelectorAll(".lang-switch button")) {
      b.value = "lang:" + other;
      b.lang = other;
    }
    for (const input of document.querySelectorAll('input[name="lang"]')) input.value = next;
  };

  const send = async (payload) => {
    busy = true;
    ask.setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/api/turn", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
      const data = await response.json();
      if (data.html) append(data.html);
      if (data.lang && data.lang !== lang) setLang(data.lang, data.ui);
    } catch (err) {
      const p = document.createElement("p");
      p.className = "turn bot info";
      p.textContent = document.body.dataset.error || "Error";
      log.append(p);
    } finally {
      busy = false;
      ask.removeAttribute("aria-busy");
    }
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("turn-form")) return;
    event.preventDefault();
    if (busy) return;
    const submitter = event.submitter;
    const payload = { token, lang };
    if (submitter && submitter.name === "action") {
      payload.action = submitter.value;
    } else {
      const text = question.value;
      if (!text.trim()) {
        question.focus();
        return;
      }
      payload.text = text;
      addPerson(text);
      question.value = "";
      question.focus();
    }
    send(payload);
  });

  // Enter sends, Shift+Enter makes a new line, as in other chat tools.
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ask.requestSubmit();
    }
  });

  // Quick exit: wipe the page, tell the server to forget, leave without a way back.
  const exit = document.getElementById("quick-exit");
  if (exit) {
    exit.addEventListener("click", (event) => {
      event.preventDefault();
      log.replaceChildren();
      question.value = "";
      if (token) navigator.sendBeacon("/api/forget", JSON.stringify({ token }));
      token = "";
      window.location.replace(document.body.dataset.exit || exit.href);
    });
  }
})();
