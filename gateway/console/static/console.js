// The console's small script layer: SLA countdowns, keyboard shortcuts, the live
// conversation (server-sent events) and canned replies into the reply box. Everything
// it inserts is either text (textContent, .value) or HTML the server rendered with
// escaping; nothing here builds markup from data.
(function () {
  "use strict";

  function fmt(seconds) {
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), r = s % 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    return m + "m " + (r < 10 ? "0" : "") + r + "s";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      if (!el.title) el.title = el.textContent;
      el.textContent = left >= 0 ? fmt(left) : el.dataset.overdue + " " + fmt(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 900);
    });
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }

  function select(delta) {
    var all = rows();
    if (!all.length) return;
    var i = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + delta));
    all.forEach(function (r) { r.classList.remove("selected"); });
    all[next].classList.add("selected");
    var link = all[next].querySelector("a");
    if (link) link.focus();
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  var pendingG = false;
  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    var key = ev.key;
    if (pendingG) {
      pendingG = false;
      if (key === "q") { window.location.href = "/console/queues"; ev.preventDefault(); }
      return;
    }
    var focus = function (id) { var el = document.getElementById(id); if (el) { el.focus(); ev.preventDefault(); } };
    if (key === "j") { select(1); ev.preventDefault(); }
    else if (key === "k") { select(-1); ev.preventDefault(); }
    else if (key === "c") { var b = document.getElementById("claim-next"); if (b) { b.click(); ev.preventDefault(); } }
    else if (key === "r") focus("reply-text");
    else if (key === "n") focus("note-text");
    else if (key === "g") pendingG = true;
    else if (key === "?") { var d = document.getElementById("shortcuts"); if (d && d.showModal) { d.showModal(); ev.preventDefault(); } }
  }

  function live() {
    var list = document.getElementById("messages");
    if (!list || !list.dataset.stream || !window.EventSource) return;
    var source = new EventSource(list.dataset.stream + "?after=" + encodeURIComponent(list.dataset.after || "0"));
    // Marks the list while the stream is connected (tests and styles can wait on it).
    source.onopen = function () { list.dataset.live = "open"; };
    source.onerror = function () { list.dataset.live = "reconnecting"; };
    source.onmessage = function (ev) {
      var data = JSON.parse(ev.data);
      if (document.getElementById("m" + data.id)) return;
      list.insertAdjacentHTML("beforeend", data.html);
      list.dataset.after = String(data.id);
    };
    source.addEventListener("gone", function () { source.close(); });
  }

  function canned() {
    document.querySelectorAll("[data-canned]").forEach(function (button) {
      button.addEventListener("click", function () {
        var box = document.getElementById("reply-text");
        var source = document.getElementById(button.dataset.canned);
        if (!box || !source) return;
        box.value = source.textContent;
        box.focus();
      });
    });
  }

  function forms() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    document.querySelectorAll("form[data-claim]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var w = form.querySelector(".waiting");
        if (w) w.hidden = false;
        var b = form.querySelector("button");
        if (b) b.disabled = true;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    document.addEventListener("keydown", onKey);
    live();
    canned();
    forms();
  });
})();
