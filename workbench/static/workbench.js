// The workbench page: follows the knowledge folder (server-sent events), renders the
// Teams card with Microsoft's Adaptive Cards renderer when it is installed, copy buttons.
// Everything works without this file except the live update and the rendered card.
(function () {
  "use strict";

  function follow() {
    if (!window.EventSource) return;
    var mine = document.body.getAttribute("data-version");
    var source = new EventSource("/events");
    source.onmessage = function (event) {
      if (event.data === mine) return;
      var form = document.getElementById("try-form");
      var q = document.getElementById("q");
      if (form && !document.getElementById("result")) {
        // Nothing shown yet depends on the files, and a reload would lose what is typed.
        mine = event.data;
        return;
      }
      source.close();
      if (form && q && q.value.trim()) {
        // A tried question is sent again (a POST is not reloaded: the browser would ask).
        form.requestSubmit();
      } else {
        window.location.reload();
      }
    };
  }

  function copyButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("button.copy");
      if (!button || !navigator.clipboard) return;
      var label = button.textContent;
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.textContent = "✓ " + label;
        window.setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // The little Markdown Teams cards use: [label](https://...) links and **bold**; all
  // else stays text. Escaped first, so nothing from the card becomes markup by accident.
  function markdown(text, result) {
    var html = escapeHtml(text)
      .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+|mailto:[^\s)]+|tel:[^\s)]+)\)/g,
        function (_, label, url) { return '<a href="' + url + '" rel="noreferrer noopener" target="_blank">' + label + "</a>"; })
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
      .replace(/\n/g, "<br>");
    result.outputHtml = "<p>" + html + "</p>";
    result.didProcess = true;
  }

  function renderCards() {
    var hosts = document.querySelectorAll(".ac-host");
    if (!hosts.length) return;
    var script = document.createElement("script");
    script.src = "/vendor/adaptivecards.js";
    script.onload = function () {
      var AC = window.AdaptiveCards;
      AC.AdaptiveCard.onProcessMarkdown = markdown;
      hosts.forEach(function (host) {
        var data = document.getElementById(host.getAttribute("data-card-for"));
        var card = new AC.AdaptiveCard();
        card.hostConfig = new AC.HostConfig({
          fontFamily: "'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
          // Inside the panel's h3: the card's title is a level-4 heading.
          textBlock: { headingLevel: 4 },
          containerStyles: {
            default: { backgroundColor: "#FFFFFF", foregroundColors: {
              default: { default: "#1A1A1A", subtle: "#535353" },
              accent: { default: "#154273", subtle: "#154273" },
              attention: { default: "#A90061", subtle: "#A90061" } } },
            emphasis: { backgroundColor: "#F3F3F3", foregroundColors: {
              default: { default: "#1A1A1A", subtle: "#535353" } } },
            attention: { backgroundColor: "#FBEAF2", foregroundColors: {
              default: { default: "#1A1A1A", subtle: "#535353" },
              attention: { default: "#A90061", subtle: "#A90061" } } }
          }
        });
        // Buttons in the preview do nothing: there is no chat behind it.
        card.onExecuteAction = function () {};
        card.parse(JSON.parse(data.textContent));
        var element = card.render();
        if (element) {
          host.appendChild(element);
          host.setAttribute("data-rendered", "yes");
        }
      });
    };
    document.head.appendChild(script);
  }

  follow();
  copyButtons();
  renderCards();
})();
