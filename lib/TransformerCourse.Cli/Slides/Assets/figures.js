/* Transformer Architecture Deep Dive: make plotly charts fit slides.
   Loaded right after plotly.js, before the figures' own scripts call Plotly.newPlot. Charts keep their
   aspect ratio but are capped in height (slides.js later shrinks any still too wide for their column),
   and show no plotly logo or mode bar. */
(function () {
  'use strict';
  if (!window.Plotly) return;
  var MAX_HEIGHT = 400;
  var newPlot = Plotly.newPlot;
  Plotly.newPlot = function (target, data, layout, config) {
    var fitted = Object.assign({}, layout || {});
    if (fitted.height > MAX_HEIGHT) {
      var scale = MAX_HEIGHT / fitted.height;
      fitted.height = MAX_HEIGHT;
      if (fitted.width) fitted.width = Math.round(fitted.width * scale);
    }
    var element = typeof target === 'string' ? document.getElementById(target) : target;
    if (element && fitted.width && fitted.height) {
      element.style.width = fitted.width + 'px';
      element.style.height = fitted.height + 'px';
    }
    var options = Object.assign({ displaylogo: false, displayModeBar: false }, config || {});
    return newPlot.call(Plotly, target, data, fitted, options);
  };
})();
