/* Transformer Architecture Deep Dive: start a lesson deck.
   1. Typeset the maths the exporter left as TeX (<span class="math">\(..\)</span>, <div class="math">\[..\]</div>) with KaTeX.
   2. Make every slide fit the 1280 x 720 canvas, clear of the footer, without text below LEGIBLE_PX:
      a. charts wider than their column are redrawn smaller (their lettering keeps its size; figures.js sets it);
         code beside a chart that does not fit its column goes back above the chart;
      b. a slide still taller than the canvas continues on a new vertical slide below it ("… (continued)"),
         cut between cells, between the parts the exporter cut long code into, or between paragraphs;
      c. only then is a slide shrunk (CSS zoom), and never so far that its smallest text drops below LEGIBLE_PX.
      What still does not fit is left to overflow, where the deck test (tests/…/Slides/legibility.js) reports it.
   3. Start reveal.js with code highlighting and the speaker view (press S).
   The reading edition (`course read`, <html data-view="scroll">) and any deck opened with ?view=scroll start
   in reveal.js's scroll view instead: the same slides, laid out as above, one under the other as a page to
   scroll, with every fragment shown; ?view=slides opens a reading page as a deck. */
(function () {
  'use strict';

  var WIDTH = 1280, HEIGHT = 720;
  // Slides are centred: reserving FOOTER above and below keeps text off the deck label and slide number.
  var FOOTER = 30, AVAILABLE = HEIGHT - 2 * FOOTER;
  // 14 px on a 1280 x 720 screen, where reveal.js's 4 % margin draws the canvas at 1/1.04 of its size.
  var LEGIBLE_PX = 14 * 1.04;
  // Charts are redrawn down to this fraction of their size; a row of charts narrower still wraps.
  var MIN_CHART = 0.45;
  // A grid of many small charts (lesson 28's 16 heads) may be drawn up to this much larger to fill its slide.
  var MAX_GRID = 1.5;
  // Height of the "… (continued)" heading a continuation slide starts with (h3 at 0.8em, with its margin).
  var CONTINUED_HEADING = 48;
  var reveal = document.querySelector('.reveal');
  var slides = reveal.querySelector('.slides');
  var toArray = function (list) { return Array.prototype.slice.call(list); };
  var view = new URLSearchParams(window.location.search).get('view') || document.documentElement.getAttribute('data-view');
  var reading = view === 'scroll';

  function typeset() {
    if (!window.katex) { console.error('KaTeX did not load: maths stays as TeX.'); return; }
    slides.querySelectorAll('.math').forEach(function (element) {
      var tex = element.textContent.trim();
      var display = element.tagName === 'DIV' || tex.indexOf('\\[') === 0;
      tex = tex.replace(/^\\[([]/, '').replace(/\\[)\]]$/, '');
      // The speaker view copies notes into a page without KaTeX's stylesheet: give it MathML.
      var inNotes = element.closest('aside.notes') !== null;
      element.dataset.tex = tex;
      katex.render(tex, element, { displayMode: display, throwOnError: false, output: inNotes ? 'mathml' : 'htmlAndMathml' });
      if (element.querySelector('.katex-error')) console.warn('KaTeX could not typeset: ' + tex);
    });
  }

  /* a. Charts and side-by-side cells. */
  // The smallest scale at which a chart keeps at least 40 px of plot area inside its margins (plotly throws below that).
  function plotAreaFloor(plot) {
    var margin = (plot.layout && plot.layout.margin) || {};
    var across = (margin.l || 80) + (margin.r || 80) + 40, down = (margin.t || 100) + (margin.b || 80) + 40;
    return Math.min(1, Math.max(across / Math.max(plot.offsetWidth, 1), down / Math.max(plot.offsetHeight, 1)));
  }

  function fitColumns() {
    toArray(slides.querySelectorAll('.cell.code.split')).forEach(function (cell) {
      var outputs = cell.querySelector(':scope > .outputs');
      // Side by side only while the outputs fit their column and the cell fits the slide (code wraps in its column).
      if (outputs && outputs.scrollWidth > outputs.clientWidth + 1 || cell.offsetHeight > AVAILABLE) cell.classList.remove('split');
    });
    var redraws = [];
    toArray(slides.querySelectorAll('.course-figure')).forEach(function (figure) {
      // A few px to spare: plotly's svg may reach past its box.
      var available = figure.parentElement.clientWidth - 8, natural = figure.scrollWidth;
      if (natural <= available + 9) return;
      var plots = toArray(figure.querySelectorAll('.js-plotly-plot'));
      var floor = Math.max(MIN_CHART, Math.max.apply(null, plots.map(plotAreaFloor)));
      var scale = available / natural;
      // Too many charts for one row (the row would have to shrink below MIN_CHART, or below what the charts'
      // margins allow): let the row wrap into a grid, as large as fits a slide of its own, up to MAX_GRID.
      if ((scale < MIN_CHART || scale < floor) && plots.length > 1) {
        figure.classList.add('wrap');
        var width = Math.max.apply(null, plots.map(function (p) { return p.offsetWidth; })) + 4;
        var height = Math.max.apply(null, plots.map(function (p) { return p.offsetHeight; })) + 4;
        // The slide the grid may end up alone on: a "(continued)" heading and the figure's own title above it.
        var room = AVAILABLE - CONTINUED_HEADING - (figure.scrollHeight - height);
        for (scale = MAX_GRID; scale > floor; scale -= 0.02) {
          var columns = Math.max(1, Math.floor(available / (width * scale)));
          if (width * scale <= available && Math.ceil(plots.length / columns) * height * scale <= room) break;
        }
      }
      // Never below legibility, nor so small that a chart's margins leave no room for the plot itself (plotly
      // throws then); a grid that still does not fit moves on to a continuation slide instead.
      scale = Math.max(scale, floor);
      if (Math.abs(scale - 1) < 0.005) return;
      plots.forEach(function (plot) {
        var width = Math.floor(plot.offsetWidth * scale), height = Math.floor(plot.offsetHeight * scale);
        plot.style.width = width + 'px';
        plot.style.height = height + 'px';
        if (window.Plotly) redraws.push(Promise.resolve().then(function () { return Plotly.relayout(plot, { width: width, height: height }); }));
      });
    });
    // Display maths wider than its column: a formula of parts set apart by \qquad gets one part per line,
    // then it is shrunk as far as legibility allows (what is left overflows, and the deck test says so).
    toArray(slides.querySelectorAll('.katex-display')).forEach(function (maths) {
      if (maths.scrollWidth <= maths.clientWidth + 1) return;
      var holder = maths.closest('.math');
      var tex = holder && holder.dataset.tex;
      [['\\qquad'], ['\\qquad', '\\quad']].some(function (spaces) {
        var parts = tex && window.katex ? topLevelParts(tex, spaces) : null;
        if (!parts) return false;
        katex.render('\\begin{gathered}' + parts.join('\\\\') + '\\end{gathered}', holder, { displayMode: true, throwOnError: false });
        maths = holder.querySelector('.katex-display') || maths;
        return maths.scrollWidth <= maths.clientWidth + 1;
      });
      if (maths.scrollWidth <= maths.clientWidth + 1) return;
      var scale = Math.max(maths.clientWidth / maths.scrollWidth, Math.min(1, LEGIBLE_PX / smallestText(maths)));
      if (scale < 0.995) maths.style.zoom = scale.toFixed(3);
    });
    return Promise.all(redraws);
  }

  // The parts of a TeX formula between the given spaces (\qquad, \quad) at its top level (outside braces,
  // environments and \left…\right), or null when there is only one.
  function topLevelParts(tex, spaces) {
    var parts = [], depth = 0, start = 0;
    var word = function (i, name) { return tex.startsWith(name, i) && !/[a-zA-Z]/.test(tex.charAt(i + name.length)); };
    for (var i = 0; i < tex.length; i++) {
      var c = tex.charAt(i);
      if (c === '{') depth++;
      else if (c === '}') depth--;
      else if (c === '\\') {
        if (word(i, '\\begin') || word(i, '\\left')) depth++;
        else if (word(i, '\\end') || word(i, '\\right')) depth--;
        else if (depth === 0) {
          var space = spaces.find(function (name) { return word(i, name); });
          if (space) { parts.push(tex.slice(start, i)); start = i + space.length; }
        }
        i++;
      }
    }
    parts.push(tex.slice(start));
    parts = parts.map(function (p) { return p.trim(); }).filter(function (p) { return p.length > 0; });
    return parts.length > 1 ? parts : null;
  }

  /* b. Continuation slides. */
  function blockBottom(element, top) { return element.getBoundingClientRect().bottom - top; }

  // Wrappers that may be cut between their children: fragments, code cells (parts and outputs), markdown cells.
  function cuttable(element) {
    if (element.matches('table')) return element.tBodies.length === 1 && element.tBodies[0].rows.length > 1;
    if (!element.matches('.fragment, .cell.code, .cell.markdown, .outputs, .output.html')) return false;
    return element.children.length > 1 || element.children.length === 1 && cuttable(element.children[0]);
  }

  // A table continues in a copy with the same header and the rows that did not fit.
  function cutTable(table, top) {
    var rows = toArray(table.tBodies[0].rows);
    var k = rows.findIndex(function (row) { return blockBottom(row, top) > AVAILABLE; });
    if (k < 1) return false;
    var rest = table.cloneNode(false);
    if (table.tHead) rest.appendChild(table.tHead.cloneNode(true));
    var body = table.tBodies[0].cloneNode(false);
    rows.slice(k).forEach(function (row) { body.appendChild(row); });
    rest.appendChild(body);
    table.after(rest);
    return true;
  }

  // Cuts element after its last child that fits; the rest goes into a shallow copy right after it.
  function cut(element, top) {
    if (!cuttable(element)) return false;
    if (element.matches('table')) return cutTable(element, top);
    var children = toArray(element.children);
    var k = children.findIndex(function (child) { return blockBottom(child, top) > AVAILABLE; });
    if (k < 0) return false;
    if (k === 0) {
      if (cut(children[0], top)) return cut(element, top);
      // The first child is too tall alone and cannot be cut: it stays (to be shrunk), the rest moves on.
      if (children.length < 2) return false;
      k = 1;
    }
    var rest = element.cloneNode(false);
    element.classList.remove('split');
    rest.classList.remove('split');
    children.slice(k).forEach(function (child) { rest.appendChild(child); });
    element.after(rest);
    return true;
  }

  function continuation(section) {
    var next = document.createElement('section');
    next.className = 'continued';
    var box = document.createElement('div');
    box.className = 'slide-fit';
    var first = section.dataset.heading ? null : section.querySelector('.slide-fit h1, .slide-fit h2, .slide-fit h3');
    var heading = first ? first.innerHTML : section.dataset.heading;
    if (heading) {
      next.dataset.heading = heading;
      var title = document.createElement('h3');
      title.className = 'continued-heading';
      title.innerHTML = heading + ' <span class="continued-mark">(continued)</span>';
      box.appendChild(title);
    }
    next.appendChild(box);
    if (section.parentElement === slides) {
      var stack = document.createElement('section');
      slides.insertBefore(stack, section);
      stack.appendChild(section);
    }
    section.after(next);
    return box;
  }

  function paginate(section, depth) {
    var box = section.querySelector(':scope > .slide-fit');
    if (!box || box.scrollHeight <= AVAILABLE || depth > 20) return;
    var top = box.getBoundingClientRect().top;
    var blocks = toArray(box.children);
    var k = blocks.findIndex(function (block) { return blockBottom(block, top) > AVAILABLE; });
    if (k < 0) return;
    // The first block (after a continued heading) overflows on its own: cut inside it, else it stays.
    var firstContent = blocks[0] && blocks[0].classList.contains('continued-heading') ? 1 : 0;
    if (k <= firstContent) {
      // Cut inside it if it can be cut; either way what follows it moves on.
      cut(blocks[k], top);
      blocks = toArray(box.children);
      k += 1;
      if (k >= blocks.length) return;
    }
    var next = continuation(section);
    blocks.slice(k).forEach(function (block) { next.appendChild(block); });
    paginate(next.parentElement, depth + 1);
  }

  /* c. Shrinking, floored by legibility. */
  function smallestText(box) {
    var smallest = Infinity;
    var walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest('.katex-mathml')) continue;
      // Computed sizes leave CSS zoom out; currentCSSZoom counts the zoom already applied inside (maths).
      var zoom = node.parentElement.currentCSSZoom || 1;
      smallest = Math.min(smallest, parseFloat(getComputedStyle(node.parentElement).fontSize) * zoom);
    }
    return smallest;
  }

  function shrink(box) {
    var scale = Math.min(1, AVAILABLE / Math.max(box.scrollHeight, 1), WIDTH / Math.max(box.scrollWidth, 1));
    if (scale >= 0.995) return;
    scale = Math.max(scale, Math.min(1, LEGIBLE_PX / smallestText(box)));
    if (scale >= 0.995) return;
    box.style.zoom = scale.toFixed(3);
    box.parentElement.setAttribute('data-fit-scale', scale.toFixed(3));
  }

  function leaves() {
    return toArray(slides.querySelectorAll('section')).filter(function (s) { return s.querySelector('section') === null; });
  }

  // The reading edition shows each slide whole: what would appear step by step is there from the start.
  function showFragments() {
    toArray(slides.querySelectorAll('.fragment')).forEach(function (fragment) {
      fragment.classList.remove('fragment');
      fragment.classList.add('was-fragment');
    });
  }

  function start() {
    var options = {
      width: WIDTH,
      height: HEIGHT,
      margin: 0.04,
      center: true,
      hash: true,
      slideNumber: 'c/t',
      showNotes: false,
      pdfSeparateFragments: false,
      plugins: [RevealHighlight, RevealNotes]
    };
    // A page to read: each slide at the width of the window, one under the other (reveal.js's compact layout).
    if (reading) Object.assign(options, { view: 'scroll', scrollLayout: 'compact', scrollSnap: false, scrollProgress: true });
    return Reveal.initialize(options);
  }

  typeset();
  // Lay every slide out once, hidden, at the canvas width, so sizes can be measured and web fonts load.
  slides.style.width = WIDTH + 'px';
  reveal.classList.add('measuring');
  void slides.offsetHeight;
  var fontsReady = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
  // A layout step that fails must not keep the deck from opening: say so (the deck tests fail on console errors) and go on.
  fontsReady.then(fitColumns).catch(function (e) { console.error('slide layout: ' + e.message); }).then(function () {
    leaves().forEach(function (section) { paginate(section, 0); });
    leaves().forEach(function (section) {
      var box = section.querySelector(':scope > .slide-fit');
      if (box) shrink(box);
    });
    if (reading) {
      showFragments();
      // reveal.js's scroll view moves every slide onto a page of its own and drops the vertical stacks it knows
      // as such ("stack"); at start-up it has not marked them yet, so mark them here or they stay behind, empty.
      toArray(slides.querySelectorAll(':scope > section')).forEach(function (section) {
        if (section.querySelector('section')) section.classList.add('stack');
      });
      document.documentElement.classList.add('reading-view');
    }
    reveal.classList.remove('measuring');
    return start();
  });
})();
