"""WCAG 2.1 contrast of a page's text, from the colours Chromium computed.

:data:`CONTRAST_JS` walks every visible element with its own text (HTML and SVG), takes its
computed ``color`` (``fill`` for SVG text) and the first opaque background among it and its
ancestors (white at the root), composites alpha, and returns each failing text with its
ratio: below 4.5:1, or 3:1 for large text (24px, or 18.66px bold) - WCAG 2.1 1.4.3 (AA).
"""

CONTRAST_JS = r"""
(() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = (rgb) => { const f = (v) => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]); };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const background = (el) => { const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let bg = [255, 255, 255];
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg; };
  const visible = (el) => { const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) { const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0)
        return false; }
    return true; };
  const out = []; let checked = 0;
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || ['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(el.tagName) || !visible(el)) continue;
    const s = getComputedStyle(el);
    const isSvg = el instanceof SVGElement;
    let fg = parse(isSvg && s.fill !== 'none' ? s.fill : s.color); if (!fg) continue;
    const bg = background(isSvg ? el.closest('svg').parentElement : el);
    const col = over([fg[0], fg[1], fg[2], fg[3] * (Number(s.fillOpacity) || 1)], bg);
    const [a, b] = [lum(col), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    checked++;
    if (ratio < need) out.push({text: el.textContent.trim().slice(0, 40), tag: el.tagName,
      cls: String(el.className && el.className.baseVal !== undefined ? el.className.baseVal
                  : el.className), ratio: Math.round(ratio * 100) / 100, need,
      color: s.color, fill: s.fill, bg: bg.map(Math.round).join(',')});
  }
  return {checked, failures: out};
})()
"""
