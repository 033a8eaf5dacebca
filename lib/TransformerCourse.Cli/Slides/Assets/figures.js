/* Transformer Architecture Deep Dive: make plotly charts fit slides.
   Loaded right after plotly.js, before the figures' own scripts call Plotly.newPlot. Charts keep their
   aspect ratio but are capped in height (slides.js later shrinks any still too wide for their column),
   and show no plotly logo or mode bar; their lettering is at least FONT_PX. */
(function () {
  'use strict';
  if (!window.Plotly) return;
  var MAX_HEIGHT = 400;
  // Chart lettering in canvas px: plotly's 12 px default is too small for a room (slides.js keeps it >= 14 px on screen).
  var FONT_PX = 16;

  // Raises every font size in a layout or trace (font, tickfont, titlefont, textfont, title.font…) to FONT_PX.
  function raise(node, key) {
    if (!node || typeof node !== 'object') return;
    if (/font$/i.test(key || '') && !Array.isArray(node)) {
      if (typeof node.size !== 'number' || node.size < FONT_PX) node.size = FONT_PX;
    }
    Object.keys(node).forEach(function (k) { raise(node[k], k); });
  }

  function legible(layout, data) {
    layout.font = Object.assign({}, layout.font || {});
    raise(layout, null);
    // Text that plotly would shrink to fit inside a bar is shown at full size instead.
    layout.uniformtext = { minsize: FONT_PX, mode: 'show' };
    // A log axis labels the digits between decades at 3/4 of its tick size.
    Object.keys(layout).forEach(function (key) {
      var axis = layout[key];
      if (/^[xy]axis\d*$/.test(key) && axis && axis.type === 'log')
        axis.tickfont = Object.assign({}, axis.tickfont, { size: Math.max((axis.tickfont || {}).size || 0, Math.ceil(FONT_PX / 0.75)) });
    });
    (Array.isArray(data) ? data : []).forEach(function (trace) { raise(trace, null); });
  }
  var newPlot = Plotly.newPlot;
  Plotly.newPlot = function (target, data, layout, config) {
    var fitted = JSON.parse(JSON.stringify(layout || {}));
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
    legible(fitted, data);
    var options = Object.assign({ displaylogo: false, displayModeBar: false }, config || {});
    return newPlot.call(Plotly, target, data, fitted, options);
  };
})();
