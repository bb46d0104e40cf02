// The Now page's live updates: fetch /api/live every second and fill in the
// elements marked data-live="<key of view>". No framework, nothing external.
// Without JavaScript the page still shows the state it was rendered with.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch) { return; }
  var api = root.getAttribute("data-api");
  var busy = false;
  var failures = 0;

  function setText(el, value) {
    var text = value === null || value === undefined ? "" : String(value);
    if (el.textContent !== text) { el.textContent = text; }
  }

  function render(view) {
    root.querySelectorAll("[data-live]").forEach(function (el) {
      setText(el, view[el.getAttribute("data-live")]);
    });
    root.querySelectorAll("[data-show]").forEach(function (el) {
      el.hidden = !view[el.getAttribute("data-show")];
    });
    root.classList.toggle("is-stale", !!view.stale);
    var progress = document.getElementById("sit-progress");
    if (progress) { progress.value = view.progress || 0; }
    var dot = document.getElementById("cop-dot");
    var line = document.getElementById("cop-line");
    if (dot && line) {
      if (view.dot) {
        dot.setAttribute("cx", view.dot.cx);
        dot.setAttribute("cy", view.dot.cy);
        line.setAttribute("x2", view.dot.cx);
        line.setAttribute("y2", view.dot.cy);
      }
      dot.setAttribute("visibility", view.dot ? "visible" : "hidden");
      line.setAttribute("visibility", view.dot ? "visible" : "hidden");
    }
    document.querySelectorAll("circle.corner").forEach(function (corner) {
      var name = corner.querySelector("title");
      var channel = name ? name.textContent.replace(/.*\((\w+)\)$/, "$1") : "";
      corner.classList.toggle("bad", (view.faults || []).indexOf(channel) >= 0);
    });
    if (view.advice) {
      root.querySelectorAll("[data-live-advice=text]").forEach(function (el) { setText(el, view.advice.text); });
      root.querySelectorAll("[data-live-advice=href]").forEach(function (el) { el.setAttribute("href", view.advice.href); });
    }
  }

  function unreachable() {
    failures += 1;
    if (failures < 3) { return; }
    render({stale: true, stale_text: "Can't reach the dashboard: is the Pi on and on this network?",
            status_text: document.querySelector("[data-live=status_text]").textContent,
            sitting_text: "—", next_prompt_text: "", lean_text: "—", posture_text: "—", fidget_text: "—",
            updated: document.querySelector("[data-live=updated]").textContent, progress: 0});
  }

  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(api, {cache: "no-store", credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) { failures = 0; render(data.view); })
      .catch(unreachable)
      .then(function () { busy = false; });
  }

  setInterval(tick, 1000);
  document.addEventListener("visibilitychange", tick);
})();
