// Legibility check for a course deck, run in the page once reveal.js is ready (see DeckBrowser.CheckLegibilityAsync).
// Visits every leaf slide (horizontal and vertical) with all its fragments shown and returns, per problem, the
// slide and the offending element:
//  - text, pictures, code or tables that reach outside the 1280 x 720 canvas (after any clipping ancestor);
//  - text or pictures that overlap the footer (the deck label and the slide number);
//  - visible text rendered below MIN_PX: computed font size x CSS zoom (slides.js's fit) x the deck's scale.
// Speaker notes, KaTeX's hidden MathML and text scrolled out of view in its box are not looked at.
// In reveal.js's scroll view (the reading edition) each slide is a page of its own: the canvas is the slide's
// width and its page's height (the page hides what runs past it), and slides are numbered in page order.
async () => {
  const MIN_PX = 14;
  const TOLERANCE = 1;
  const slidesElement = document.querySelector('.reveal .slides');
  const footer = [...document.querySelectorAll('.reveal .deck-label, .reveal .slide-number')]
    .filter(e => e.checkVisibility({ visibilityProperty: true, opacityProperty: true }));
  // reveal.js scales the canvas with a transform, or with zoom (then currentCSSZoom already counts it).
  const deckScale = () => getComputedStyle(slidesElement).zoom !== '1' ? 1 : Reveal.getScale();
  const scrollView = Reveal.isScrollView();
  const canvasOf = slide => {
    if (!scrollView) return slidesElement.getBoundingClientRect();
    const page = slide.closest('.scroll-page-content').getBoundingClientRect(), own = slide.getBoundingClientRect();
    return { left: own.left, right: own.right, top: page.top, bottom: page.bottom };
  };
  const problems = [];
  const describe = e => {
    let d = e.tagName.toLowerCase();
    if (typeof e.className === 'string' && e.className.trim()) d += '.' + e.className.trim().split(/\s+/).slice(0, 3).join('.');
    const text = (e.textContent || '').replace(/\s+/g, ' ').trim();
    return text ? `${d} "${text.slice(0, 50)}${text.length > 50 ? '…' : ''}"` : d;
  };
  const skipped = e => e.closest('aside.notes, .katex-mathml, script, style, noscript, title') !== null;
  // The part of a rect that clipping ancestors (overflow other than visible) leave in view, or null.
  // from: the innermost element whose overflow can clip the rect (a text's own element; a picture's parent).
  const clip = (rect, from, slide) => {
    let { left, top, right, bottom } = rect;
    for (let a = from; a && a !== slide; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const r = a.getBoundingClientRect();
      if (style.overflowX !== 'visible') { left = Math.max(left, r.left); right = Math.min(right, r.right); }
      if (style.overflowY !== 'visible') { top = Math.max(top, r.top); bottom = Math.min(bottom, r.bottom); }
    }
    return right - left > 0.5 && bottom - top > 0.5 ? { left, top, right, bottom } : null;
  };
  const overlaps = (a, b) => a.left < b.right - TOLERANCE && a.right > b.left + TOLERANCE && a.top < b.bottom - TOLERANCE && a.bottom > b.top + TOLERANCE;

  for (const e of footer) {
    const px = parseFloat(getComputedStyle(e).fontSize) * e.currentCSSZoom;
    if (e.textContent.trim() && px < MIN_PX - 0.05) problems.push({ slide: 0, where: 'footer', kind: 'small text', detail: `${px.toFixed(1)} px: ${describe(e)}` });
  }

  const leaves = [...slidesElement.querySelectorAll('section')].filter(s => s.querySelector('section') === null);
  for (const slide of leaves) {
    const indices = Reveal.getIndices(slide);
    Reveal.slide(indices.h, indices.v || 0, 9999);
    await new Promise(r => setTimeout(r, 0));
    const number = scrollView ? leaves.indexOf(slide) + 1 : Reveal.getSlidePastCount(slide) + 1;
    const where = `slide ${number} (h ${indices.h}, v ${indices.v || 0})`;
    const canvas = canvasOf(slide);
    const scale = deckScale();
    const footerRects = footer.map(f => ({ element: f, rect: f.getBoundingClientRect() }));
    const outside = new Map(), intoFooter = new Map(), small = new Map();
    // Offences are reported on the block a reader would point at (a formula, a paragraph, a code block).
    const unit = e => e.closest('.katex-display, .katex, pre, table, li, p, h1, h2, h3, h4, h5, h6, .js-plotly-plot, .output, .cell') || e;
    const check = (element, rect, from) => {
      const visible = clip(rect, from, slide);
      element = unit(element);
      if (!visible) return;
      const beyond = Math.max(canvas.left - visible.left, canvas.top - visible.top, visible.right - canvas.right, visible.bottom - canvas.bottom);
      if (beyond > TOLERANCE) outside.set(element, Math.max(outside.get(element) || 0, beyond / scale));
      for (const f of footerRects) if (overlaps(visible, f.rect)) intoFooter.set(element, f.element);
    };
    const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!node.textContent.trim() || skipped(element)) continue;
      if (!element.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
      if (rects.length === 0) continue;
      let anyVisible = false;
      for (const r of rects) { if (clip(r, element, slide)) anyVisible = true; check(element, r, element); }
      if (!anyVisible) continue;
      const px = parseFloat(getComputedStyle(element).fontSize) * element.currentCSSZoom * scale;
      if (px < MIN_PX - 0.05 && !(small.has(element))) small.set(element, px);
    }
    for (const picture of slide.querySelectorAll('img, svg.main-svg, canvas, video, iframe, .katex-display')) {
      if (skipped(picture) || !picture.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      check(picture, picture.getBoundingClientRect(), picture.parentElement);
    }
    // Report the outermost offenders only (a pre, not each of its spans).
    const outermost = map => [...map.keys()].filter(e => ![...map.keys()].some(o => o !== e && o.contains(e)));
    for (const e of outermost(outside))
      problems.push({ slide: number, where, kind: 'overflows the canvas', detail: `${Math.round(outside.get(e))} px beyond the edge: ${describe(e)}` });
    for (const e of outermost(intoFooter))
      problems.push({ slide: number, where, kind: 'runs into the footer', detail: `${describe(e)} overlaps ${describe(intoFooter.get(e))}` });
    const smallest = [...small.entries()].sort((a, b) => a[1] - b[1]);
    for (const [e, px] of smallest.slice(0, 3))
      problems.push({ slide: number, where, kind: 'text below ' + MIN_PX + ' px', detail: `${px.toFixed(1)} px: ${describe(e)}` + (smallest.length > 3 && e === smallest[2][0] ? ` (and ${smallest.length - 3} more)` : '') });
  }
  Reveal.slide(0, 0, -1);
  return { slides: leaves.length, problems };
}
