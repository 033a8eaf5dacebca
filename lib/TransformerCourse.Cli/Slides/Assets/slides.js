/* Transformer Architecture Deep Dive: start a lesson deck.
   1. Typeset the maths the exporter left as TeX (<span class="math">\(..\)</span>, <div class="math">\[..\]</div>) with KaTeX.
   2. Shrink any slide taller than the 1280 x 720 canvas (code, printed text and a chart together can be).
   3. Start reveal.js with code highlighting and the speaker view (press S). */
(function () {
  'use strict';

  var WIDTH = 1280, HEIGHT = 720, MIN_SCALE = 0.5;
  var reveal = document.querySelector('.reveal');
  var slides = reveal.querySelector('.slides');

  function typeset() {
    if (!window.katex) { console.error('KaTeX did not load: maths stays as TeX.'); return; }
    slides.querySelectorAll('.math').forEach(function (element) {
      var tex = element.textContent.trim();
      var display = element.tagName === 'DIV' || tex.indexOf('\\[') === 0;
      tex = tex.replace(/^\\[([]/, '').replace(/\\[)\]]$/, '');
      // The speaker view copies notes into a page without KaTeX's stylesheet: give it MathML.
      var inNotes = element.closest('aside.notes') !== null;
      katex.render(tex, element, { displayMode: display, throwOnError: false, output: inNotes ? 'mathml' : 'htmlAndMathml' });
      if (element.querySelector('.katex-error')) console.warn('KaTeX could not typeset: ' + tex);
    });
  }

  // Shrink what does not fit, with CSS zoom so the layout shrinks too (reveal.js then still centres the
  // slide): first charts and printed text wider than their column, then whole slides taller or wider than the canvas.
  function shrink(element, natural, available, floor) {
    var scale = Math.min(1, available.width / Math.max(natural.width, 1), available.height / Math.max(natural.height, 1));
    if (scale >= 0.995) return 1;
    scale = Math.max(scale, floor);
    element.style.zoom = scale.toFixed(3);
    return scale;
  }

  function fit() {
    var pieces = Array.prototype.slice.call(slides.querySelectorAll('.course-figure, .split pre.output'));
    var boxes = Array.prototype.slice.call(slides.querySelectorAll('.slide-fit'));
    pieces.concat(boxes).forEach(function (element) { element.style.zoom = ''; });
    var pieceSizes = pieces.map(function (piece) {
      return { natural: { width: piece.scrollWidth, height: piece.scrollHeight },
               available: { width: piece.parentElement.clientWidth, height: piece.tagName === 'PRE' ? Infinity : HEIGHT * 0.9 } };
    });
    pieces.forEach(function (piece, i) {
      shrink(piece, pieceSizes[i].natural, pieceSizes[i].available, piece.tagName === 'PRE' ? 0.7 : 0.3);
    });
    var boxSizes = boxes.map(function (box) { return { width: box.scrollWidth, height: box.scrollHeight }; });
    boxes.forEach(function (box, i) {
      var scale = shrink(box, boxSizes[i], { width: WIDTH, height: HEIGHT * 0.97 }, MIN_SCALE);
      if (scale < 1) box.parentElement.setAttribute('data-fit-scale', scale.toFixed(3));
    });
  }

  function start() {
    return Reveal.initialize({
      width: WIDTH,
      height: HEIGHT,
      margin: 0.04,
      center: true,
      hash: true,
      slideNumber: 'c/t',
      showNotes: false,
      pdfSeparateFragments: false,
      plugins: [RevealHighlight, RevealNotes]
    });
  }

  typeset();
  // Lay every slide out once, hidden, at the canvas width, so sizes can be measured and web fonts load.
  slides.style.width = WIDTH + 'px';
  reveal.classList.add('measuring');
  void slides.offsetHeight;
  var fontsReady = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
  fontsReady.then(function () {
    fit();
    reveal.classList.remove('measuring');
    return start();
  });
})();
