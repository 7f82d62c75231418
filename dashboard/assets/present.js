/* Projector slides (/present): move between the slides the server drew, with the keyboard or the buttons.
   → PageDown Space: next · ← PageUp: back · Home End: first, last · F: full screen · Esc: leave.
   Loaded on every page (a Dash asset), it does nothing unless the page has #present-deck. */
(function () {
  "use strict";
  var index = 0;
  function deck() { return document.getElementById("present-deck"); }
  function slides() { var d = deck(); return d ? Array.prototype.slice.call(d.querySelectorAll(".slide")) : []; }
  function show(i) {
    var all = slides();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(i, all.length - 1));
    all.forEach(function (s, k) { s.hidden = k !== index; s.setAttribute("aria-hidden", k !== index ? "true" : "false"); });
    var counter = document.getElementById("present-counter");
    if (counter) { counter.textContent = "Slide " + (index + 1) + " of " + all.length; }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search + "#" + (index + 1));
    }
  }
  function full() {
    var d = deck();
    if (!d) { return; }
    if (document.fullscreenElement) { document.exitFullscreen(); }
    else if (d.requestFullscreen) { d.requestFullscreen().catch(function () {}); }
  }
  function leave() {
    var d = deck();
    if (document.fullscreenElement) { document.exitFullscreen(); return; }
    if (d && d.dataset.leave) { window.location.href = d.dataset.leave; }
  }
  document.addEventListener("keydown", function (e) {
    if (!deck() || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var t = e.target;
    if (t && t.matches && t.matches("input, select, textarea")) { return; }
    switch (e.key) {
      case "ArrowRight": case "PageDown": case " ": case "Spacebar": show(index + 1); break;
      case "ArrowLeft": case "PageUp": show(index - 1); break;
      case "Home": show(0); break;
      case "End": show(slides().length - 1); break;
      case "f": case "F": full(); break;
      case "Escape": case "Esc": leave(); break;
      default: return;
    }
    e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("#present-prev, #present-next, #present-full") : null;
    if (!a) { return; }
    e.preventDefault();
    if (a.id === "present-prev") { show(index - 1); }
    else if (a.id === "present-next") { show(index + 1); }
    else { full(); }
  });
  // Dash draws the page after the document loads: start when the deck appears (or is drawn again).
  new MutationObserver(function () {
    var d = deck();
    if (d && !d.dataset.ready) {
      d.dataset.ready = "1";
      var fromHash = parseInt((window.location.hash || "").slice(1), 10);
      show(isNaN(fromHash) ? 0 : fromHash - 1);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
