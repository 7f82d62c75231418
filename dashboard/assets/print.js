/* Printing: redraw each chart at the printed page's width before the page is printed (Plotly sizes its
   charts to the screen), and back afterwards. */
(function () {
  "use strict";
  function resize() {
    if (!window.Plotly || !window.Plotly.Plots) { return; }
    document.querySelectorAll(".js-plotly-plot").forEach(function (g) { window.Plotly.Plots.resize(g); });
  }
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
})();
