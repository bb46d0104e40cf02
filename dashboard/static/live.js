// The Now page's live updates: fetch /api/live every second and fill in the
// elements marked data-live="<key of view>". No framework, nothing external.
// Without JavaScript the page still shows the state it was rendered with.
// Desktop notifications (the browser's Notification API) are offered where the
// browser allows them: a secure context, i.e. the page opened on the machine
// itself (127.0.0.1) or over HTTPS. Once allowed, a break coming due, a break
// overdue and a move nudge each show one; the page then keeps polling (every
// 5 s) while its tab is in the background.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch) { return; }
  var api = root.getAttribute("data-api");
  var busy = false;
  var lastTick = 0;
  var failures = 0;
  var lastView = null;
  var canNotify = !!(window.isSecureContext && "Notification" in window);
  var notified = {breakState: null, moveDue: null};
  var UNREACHABLE = "Can't reach the dashboard: is the Pi on and on this network? " +
                    "The figures below are the last ones received.";

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
    var timer = document.getElementById("sitting-timer");
    if (timer) { timer.setAttribute("data-seconds", view.sitting_s === null || view.sitting_s === undefined ? "" : view.sitting_s); }
    var state = view.break_state || "none";
    var banner = document.getElementById("break-banner");
    if (banner) { banner.className = "banner " + state; }
    var progress = document.getElementById("sit-progress");
    if (progress) {
      progress.value = view.progress || 0;
      progress.className = state;
      if (view.progress_label) { progress.setAttribute("aria-label", view.progress_label); }
    }
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
      var channel = corner.getAttribute("data-channel");
      corner.classList.toggle("bad", (view.faults || []).indexOf(channel) >= 0);
    });
    var companion = document.getElementById("companion");
    if (companion) {
      companion.hidden = !view.companion;
      if (view.companion) {
        companion.querySelectorAll("[data-companion]").forEach(function (el) {
          var key = el.getAttribute("data-companion");
          if (key === "href") { el.setAttribute("href", view.companion.href); } else { setText(el, view.companion[key]); }
        });
        var breakProgress = document.getElementById("break-progress");
        if (breakProgress) { breakProgress.value = view.companion.fraction || 0; }
        companion.classList.toggle("counts", !!view.companion.counts);
      }
    }
    var silence = document.getElementById("silence-text");
    if (silence && view.silence) { silence.className = "silence " + view.silence; }
    notify(view);
    if (view.advice) {
      root.querySelectorAll("[data-live-advice=text]").forEach(function (el) { setText(el, view.advice.text); });
      root.querySelectorAll("[data-live-advice=href]").forEach(function (el) { el.setAttribute("href", view.advice.href); });
    }
  }

  function notificationsOn() {
    return canNotify && Notification.permission === "granted";
  }

  function notify(view) {
    if (view.stale) { return; }
    var state = view.break_state || "none";
    var moveDue = (view.move_text || "").indexOf("Move nudge due") === 0;
    var first = notified.breakState === null;
    var body = null;
    if (!first && state !== notified.breakState && (state === "due" || state === "overdue")) {
      body = view.banner_text;
    } else if (!first && moveDue && !notified.moveDue) {
      body = "You've kept still a while: shift your weight, roll your shoulders.";
    }
    notified.breakState = state;
    notified.moveDue = moveDue;
    if (body && notificationsOn()) {
      try { new Notification("Cushion", {body: body, tag: "cushion-reminder"}); } catch (e) { /* not allowed here */ }
    }
  }

  function showNotifyChoice() {
    var box = document.getElementById("notify");
    var button = document.getElementById("notify-on");
    var state = document.getElementById("notify-state");
    if (!box || !button || !state || !canNotify) { return; }
    box.hidden = false;
    var permission = Notification.permission;
    button.hidden = permission !== "default";
    setText(state, permission === "granted" ? "Desktop notifications are on in this browser for break and move reminders."
      : permission === "denied" ? "Desktop notifications are blocked in this browser's site settings." : "");
  }

  var notifyButton = document.getElementById("notify-on");
  if (notifyButton && canNotify) {
    notifyButton.addEventListener("click", function () {
      var asked = Notification.requestPermission(showNotifyChoice);
      if (asked && asked.then) { asked.then(showNotifyChoice); }
    });
  }
  showNotifyChoice();

  function unreachable() {
    failures += 1;
    if (failures < 3) { return; }
    // Keep every last known figure, greyed out, under the notice.
    var view = {};
    var key;
    if (lastView) { for (key in lastView) { view[key] = lastView[key]; } }
    else {
      root.querySelectorAll("[data-live]").forEach(function (el) { view[el.getAttribute("data-live")] = el.textContent; });
    }
    view.stale = true;
    view.stale_text = UNREACHABLE;
    render(view);
    root.classList.add("is-unreachable");
  }

  function tick() {
    if (busy) { return; }
    if (document.hidden) {
      // In the background only to notify, and then gently.
      if (!notificationsOn() || Date.now() - lastTick < 5000) { return; }
    }
    lastTick = Date.now();
    busy = true;
    // A request that hangs (the Pi gone from the network) counts as a failure after 4 s.
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller ? setTimeout(function () { controller.abort(); }, 4000) : null;
    fetch(api, {cache: "no-store", credentials: "same-origin", headers: {"Accept": "application/json"},
                signal: controller ? controller.signal : undefined})
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        lastView = data.view;
        root.classList.remove("is-unreachable");
        render(data.view);
      })
      .catch(unreachable)
      .then(function () { busy = false; if (timeout) { clearTimeout(timeout); } });
  }

  setInterval(tick, 1000);
  document.addEventListener("visibilitychange", tick);
})();
