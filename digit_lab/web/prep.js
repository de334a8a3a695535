/* digit-lab: any picture of one digit -> the 28x28 input an MNIST model expects.
 *
 * A line-by-line port of digit_lab.inference.to_mnist and digit_lab.styles.frame_like_mnist (see nbs/05_inference,
 * nbs/03b_styles and nbs/07_export): grey from RGBA with the same alpha rules, polarity from the border, contrast
 * stretch and noise floor, crop to the ink, fit in 20x20 keeping the aspect ratio (Pillow's BOX / BILINEAR
 * resampling, reimplemented exactly, pass order included), stroke width brought into range, centre of mass to pixel
 * (14, 14). float32 rounding is mirrored (Math.fround) where numpy works in float32, and Python's rounding where
 * Python rounds. tests/test_web_prep.py checks the result against to_mnist (max difference per pixel <= 1e-4; in
 * practice 0 or one float32 step) on images that take every branch: when to_mnist or frame_like_mnist change, change
 * this file the same way.
 *
 * Works as a classic <script> (window.DigitPrep) and as a CommonJS module in Node (require).
 */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.DigitPrep = factory();
}(typeof self !== 'undefined' ? self : this, function () {
  'use strict';
  const MNIST_SIZE = 28, MNIST_BOX = 20, WORK_SIZE = 60, STROKE_RANGE = [2.0, null];  // digit_lab.styles (null: no limit)
  const MIN_SIDE = 8, MAX_PIXELS = 50000000, WORK_MAX = 1024;                        // digit_lab.inference
  const MIN_CONTRAST = 0.15, MIN_INK = 0.0005, NOISE_FLOOR = 0.1, CROP_THRESH = 0.1;
  const f32 = Math.fround;

  /** digit_lab.styles.round_half_up (what to_mnist uses for sizes and positions; Math.round for finite numbers). */
  function roundHalfUp(x) { return Math.floor(x + 0.5); }

  /** Python's round(): halves go to the even neighbour (to_mnist's ink count uses it). */
  function pyRound(x) {
    const f = Math.floor(x), d = x - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  }

  /** A grey image: {data: Float32Array(h*w), width, height}. */
  function image(data, width, height) { return {data, width, height}; }

  // ---- Pillow's resampling (Resample.c: precompute_coeffs + the float32 passes), exactly ----
  const FILTERS = {
    box: {support: 0.5, f: x => (x > -0.5 && x <= 0.5) ? 1.0 : 0.0},
    bilinear: {support: 1.0, f: x => { if (x < 0) x = -x; return x < 1.0 ? 1.0 - x : 0.0; }},
  };

  function coeffs(inSize, outSize, filter) {
    const scale = inSize / outSize, filterscale = Math.max(scale, 1.0);
    const support = filter.support * filterscale, ksize = Math.ceil(support) * 2 + 1;
    const bounds = new Int32Array(outSize * 2), kk = new Float64Array(outSize * ksize);
    const ss = 1.0 / filterscale;
    for (let xx = 0; xx < outSize; xx++) {
      const center = (xx + 0.5) * scale;
      let xmin = Math.trunc(center - support + 0.5); if (xmin < 0) xmin = 0;
      let xmax = Math.trunc(center + support + 0.5); if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      let ww = 0.0;
      for (let x = 0; x < xmax; x++) { const w = filter.f((x + xmin - center + 0.5) * ss); kk[xx * ksize + x] = w; ww += w; }
      if (ww !== 0.0) for (let x = 0; x < xmax; x++) kk[xx * ksize + x] /= ww;
      bounds[2 * xx] = xmin; bounds[2 * xx + 1] = xmax;
    }
    return {bounds, kk, ksize};
  }

  /** One horizontal pass: rows [y0, y0 + rows) of `data` (width w) -> Float32Array(outW * rows). */
  function horizontalPass(data, w, y0, rows, c, outW) {
    const out = new Float32Array(outW * rows);
    for (let y = 0; y < rows; y++) {
      const src = (y + y0) * w;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = c.bounds[2 * xx], xmax = c.bounds[2 * xx + 1], k = xx * c.ksize;
        let s = 0.0;  // a double accumulator, stored as float32: Pillow's ImagingResampleHorizontal_32bpc
        for (let x = 0; x < xmax; x++) s += data[src + x + xmin] * c.kk[k + x];
        out[y * outW + xx] = s;
      }
    }
    return out;
  }

  /** One vertical pass: columns [x0, x0 + cols) of `data` (width w) -> Float32Array(cols * outH). */
  function verticalPass(data, w, x0, cols, c, outH) {
    const out = new Float32Array(cols * outH);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = c.bounds[2 * yy], ymax = c.bounds[2 * yy + 1], k = yy * c.ksize;
      for (let xx = 0; xx < cols; xx++) {
        let s = 0.0;
        for (let y = 0; y < ymax; y++) s += data[(y + ymin) * w + xx + x0] * c.kk[k + y];
        out[yy * cols + xx] = s;
      }
    }
    return out;
  }

  /** Image.fromarray(a, mode="F").resize((outW, outH), BOX|BILINEAR), in the same two passes as Pillow 13.
   * Pillow resamples horizontally, then vertically (only the source rows the vertical pass reads), except when the
   * height shrinks, by more than twice as many pixels as the width does: then vertically first (only the columns the
   * horizontal pass reads). The two orders round differently (by one float32 step), so the order is mirrored too;
   * Pillow before 13 always went horizontally first (found by comparing the two on random sizes). */
  function resize(img, outW, outH, filterName) {
    const filter = FILTERS[filterName];
    const {data, width: w, height: h} = img;
    if (outW === w && outH === h) return image(Float32Array.from(data), w, h);
    const needH = outW !== w, needV = outH !== h;
    const ch = coeffs(w, outW, filter), cv = coeffs(h, outH, filter);
    if (!needV) return image(horizontalPass(data, w, 0, h, ch, outW), outW, h);
    if (!needH) return image(verticalPass(data, w, 0, w, cv, outH), w, outH);
    if (outH < h && h - outH > 2 * (w - outW)) {  // vertical first
      const first = ch.bounds[0], cols = ch.bounds[2 * outW - 2] + ch.bounds[2 * outW - 1] - first;
      const tmp = verticalPass(data, w, first, cols, cv, outH);
      for (let i = 0; i < outW; i++) ch.bounds[2 * i] -= first;
      return image(horizontalPass(tmp, cols, 0, outH, ch, outW), outW, outH);
    }
    const first = cv.bounds[0], rows = cv.bounds[2 * outH - 2] + cv.bounds[2 * outH - 1] - first;
    const tmp = horizontalPass(data, w, first, rows, ch, outW);
    for (let i = 0; i < outH; i++) cv.bounds[2 * i] -= first;
    return image(verticalPass(tmp, outW, 0, outW, cv, outH), outW, outH);
  }

  // ---- digit_lab.inference.load_gray for RGBA pixels (canvas ImageData, decoded files) ----
  function checkSize(w, h) {
    if (Math.min(w, h) < MIN_SIDE)
      throw new Error(`image is ${w}x${h} pixels; a digit needs at least ${MIN_SIDE}x${MIN_SIDE}`);
    if (w * h > MAX_PIXELS)
      throw new Error(`image is ${w}x${h} pixels; the limit is ${MAX_PIXELS / 1e6} MP: downscale it first`);
  }

  /** RGBA uint8 pixels -> grey float32 in [0,1], polarity as given; alpha resolved like load_gray. */
  function grayFromRGBA(rgba, width, height, trace = {}) {
    checkSize(width, height);
    const n = width * height, gray = new Float32Array(n), alpha = new Float32Array(n);
    let amin = Infinity, gmin = Infinity, gmax = -Infinity;
    const w0 = f32(0.299), w1 = f32(0.587), w2 = f32(0.114);
    for (let i = 0; i < n; i++) {
      const r = f32(rgba[4 * i] / 255), g = f32(rgba[4 * i + 1] / 255), b = f32(rgba[4 * i + 2] / 255);
      const v = f32(f32(f32(r * w0) + f32(g * w1)) + f32(b * w2));
      const a = f32(rgba[4 * i + 3] / 255);
      gray[i] = v; alpha[i] = a;
      if (a < amin) amin = a;
      if (v < gmin) gmin = v;
      if (v > gmax) gmax = v;
    }
    trace.alpha = amin >= 0.99 ? 'opaque' : gmax - gmin < 0.02 ? 'ink in alpha' : 'composited';
    if (amin >= 0.99) return image(gray, width, height);
    if (gmax - gmin < 0.02) return image(alpha, width, height);  // one colour everywhere: the ink is the alpha
    let ga = 0, as = 0;
    for (let i = 0; i < n; i++) { ga += gray[i] * alpha[i]; as += alpha[i]; }
    const back = ga / Math.max(as, 1e-6) > 0.5 ? 0.0 : 1.0;  // composite onto a background contrasting with the ink
    for (let i = 0; i < n; i++) gray[i] = f32(f32(gray[i] * alpha[i]) + f32(back * f32(1 - alpha[i])));
    return image(gray, width, height);
  }

  // ---- digit_lab.styles.frame_like_mnist ----
  function strokeWidth(img) {  // 2 x area / perimeter of the ink (work > 0.5)
    const {data, width: w, height: h} = img;
    const on = (y, x) => y >= 0 && y < h && x >= 0 && x < w && data[y * w + x] > 0.5;
    let area = 0, inner = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      if (!on(y, x)) continue;
      area++;
      if (on(y - 1, x) && on(y + 1, x) && on(y, x - 1) && on(y, x + 1)) inner++;
    }
    return 2 * area / Math.max(area - inner, 1);
  }

  function rankFilter(img, k, dilate) {  // square (2k+1) max / min filter; outside the image is 0
    const {width: w, height: h} = img;
    const red = dilate ? Math.max : Math.min;
    let a = img.data;
    for (const axis of [0, 1]) {
      const out = new Float32Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        let m = dilate ? -Infinity : Infinity;
        for (let d = -k; d <= k; d++) {
          const yy = axis === 0 ? y + d : y, xx = axis === 1 ? x + d : x;
          const v = (yy < 0 || yy >= h || xx < 0 || xx >= w) ? 0 : a[yy * w + xx];
          m = red(m, v);
        }
        out[y * w + x] = m;
      }
      a = out;
    }
    return image(a, w, h);
  }

  function maxOf(a) { let m = -Infinity; for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i]; return m; }

  function bbox(img, t) {  // [r0, r1, c0, c1) of the pixels > t
    const {data, width: w, height: h} = img;
    let r0 = h, r1 = -1, c0 = w, c1 = -1;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (data[y * w + x] > t) {
      if (y < r0) r0 = y; if (y > r1) r1 = y; if (x < c0) c0 = x; if (x > c1) c1 = x;
    }
    return [r0, r1 + 1, c0, c1 + 1];
  }

  /** digit_lab.styles.frame_like_mnist; `trace` (an object) gets the branches taken, for tests and the curious. */
  function frameLikeMnist(img, stroke = STROKE_RANGE, trace = {}) {
    const {data, width: W, height: H} = img;
    let mx = -Infinity;
    for (let i = 0; i < data.length; i++) if (data[i] > mx) mx = data[i];
    if (!(mx > 0)) throw new Error('frame_like_mnist: the image has no ink (all pixels are 0)');
    const mxf = f32(mx), [r0, r1, c0, c1] = bbox(img, f32(CROP_THRESH * mx));
    const h = r1 - r0, w = c1 - c0, crop = new Float32Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) crop[y * w + x] = f32(data[(y + r0) * W + x + c0] / mxf);
    const scale = WORK_SIZE / Math.max(h, w);
    const hw = Math.max(1, roundHalfUp(h * scale)), ww = Math.max(1, roundHalfUp(w * scale));
    trace.crop = [w, h]; trace.upscaled = scale >= 1;
    let work = resize(image(crop, w, h), ww, hw, scale < 1 ? 'box' : 'bilinear');
    trace.k = 0; trace.erosions = 0; trace.applied = 0;
    if (stroke) {
      const sw = strokeWidth(work) * MNIST_BOX / WORK_SIZE;  // at the 20-px scale
      let k = 0;  // pixels to add (dilate) or remove (erode) on each side of the stroke, at the working scale
      if (stroke[1] != null && sw > stroke[1]) k = -roundHalfUp((sw - stroke[1]) * WORK_SIZE / MNIST_BOX / 2);
      else if (stroke[0] != null && sw < stroke[0]) k = roundHalfUp((stroke[0] - sw) * WORK_SIZE / MNIST_BOX / 2);
      trace.strokeWidth = sw; trace.k = k;
      if (k > 0) { work = rankFilter(work, k, true); trace.applied = k; }
      while (k < 0) {  // erode, but never so far that a part of the digit (the stem of a blobby 9) disappears:
        const eroded = rankFilter(work, -k, false);  // then the ink's box shrinks by more than the erosion
        trace.erosions++;
        if (maxOf(eroded.data) > 0.5) {
          const b0 = bbox(work, 0.5), b1 = bbox(eroded, 0.5);
          if (b0.every((v, i) => Math.abs(b1[i] - v) <= -k + 2)) { work = eroded; trace.applied = k; break; }
        }
        k += 1;
      }
    }
    const s = MNIST_BOX / WORK_SIZE;
    const small = resize(work, Math.max(1, roundHalfUp(ww * s)), Math.max(1, roundHalfUp(hw * s)), 'box');
    const {data: sd, width: ws, height: hs} = small;
    let m = -Infinity;
    for (let i = 0; i < sd.length; i++) if (sd[i] > m) m = sd[i];
    if (!(m > 0)) throw new Error('frame_like_mnist: the ink vanished when shrinking the image');
    const mf = f32(m);
    let cy = 0, cx = 0, tot = 0;
    for (let y = 0; y < hs; y++) for (let x = 0; x < ws; x++) {
      const v = Math.min(Math.max(f32(sd[y * ws + x] / mf), 0), 1);
      sd[y * ws + x] = v; tot += v; cy += v * y; cx += v * x;
    }
    cy /= tot; cx /= tot;
    const clip = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
    const top0 = roundHalfUp(MNIST_SIZE / 2 - cy), left0 = roundHalfUp(MNIST_SIZE / 2 - cx);
    const top = clip(top0, 0, MNIST_SIZE - hs);     // centre of mass to pixel (14, 14),
    const left = clip(left0, 0, MNIST_SIZE - ws);   // never pushing ink out of the frame
    trace.small = [ws, hs]; trace.clipped = [left !== left0, top !== top0];
    const out = new Float32Array(MNIST_SIZE * MNIST_SIZE);
    for (let y = 0; y < hs; y++) for (let x = 0; x < ws; x++) out[(top + y) * MNIST_SIZE + left + x] = sd[y * ws + x];
    return out;
  }

  // ---- digit_lab.inference.to_mnist ----
  class BlankError extends Error {}

  function median(values) {  // np.median of float32 values
    const a = Float32Array.from(values).sort(), n = a.length, mid = n >> 1;
    return n % 2 ? a[mid] : f32(f32(a[mid - 1] + a[mid]) / 2);
  }

  /** Grey image (light or dark ink) -> Float32Array(784), row-major 28x28 in [0,1], light ink on dark.
   * `trace` (an object) gets the branches taken: shrunk first, inverted, crop size, stroke width and the pixels
   * added (k > 0) or removed (k < 0), erosion attempts, placement clipped at the frame. */
  function toMnist(img, stroke = STROKE_RANGE, trace = {}) {
    let g = image(Float32Array.from(img.data), img.width, img.height);
    checkSize(g.width, g.height);
    trace.shrunk = Math.max(g.width, g.height) > WORK_MAX;
    if (trace.shrunk) {  // same result, bounded time
      const s = WORK_MAX / Math.max(g.width, g.height);
      g = resize(g, Math.max(1, roundHalfUp(g.width * s)), Math.max(1, roundHalfUp(g.height * s)), 'box');
    }
    const {data: d, width: w, height: h} = g;
    const r = Math.max(1, Math.floor(Math.min(h, w) / 50));  // border ring
    const ring = [];
    for (let y = 0; y < r; y++) for (let x = 0; x < w; x++) ring.push(d[y * w + x]);
    for (let y = h - r; y < h; y++) for (let x = 0; x < w; x++) ring.push(d[y * w + x]);
    for (let y = 0; y < h; y++) for (let x = 0; x < r; x++) ring.push(d[y * w + x]);
    for (let y = 0; y < h; y++) for (let x = w - r; x < w; x++) ring.push(d[y * w + x]);
    let bg = median(ring);
    trace.inverted = bg > 0.5;
    if (bg > 0.5) {  // dark ink on light paper
      for (let i = 0; i < d.length; i++) d[i] = f32(1 - d[i]);
      bg = 1 - bg;
    }
    let mx = -Infinity;
    for (let i = 0; i < d.length; i++) if (d[i] > mx) mx = d[i];
    const contrast = mx - bg;
    if (contrast < MIN_CONTRAST)
      throw new BlankError(`the image looks blank: nothing stands out from the background (contrast ${contrast.toFixed(2)})`);
    const bgf = f32(bg), cf = f32(contrast), nf = f32(NOISE_FLOOR), span = f32(1 - NOISE_FLOOR);
    let nInk = 0;
    for (let i = 0; i < d.length; i++) {
      let v = Math.min(Math.max(f32(f32(d[i] - bgf) / cf), 0), 1);
      v = Math.min(Math.max(f32(f32(v - nf) / span), 0), 1);
      d[i] = v;
      if (v >= 0.5) nInk++;
    }
    const need = Math.max(4, pyRound(MIN_INK * d.length));
    if (nInk < need) throw new BlankError(`the image looks blank: only ${nInk} pixels of ink (need ${need})`);
    return frameLikeMnist(g, stroke, trace);
  }

  /** Canvas / decoded image pixels (RGBA) -> the 28x28 model input. */
  function fromRGBA(rgba, width, height, stroke = STROKE_RANGE, trace = {}) {
    return toMnist(grayFromRGBA(rgba, width, height, trace), stroke, trace);
  }

  return {pyRound, roundHalfUp, resize, grayFromRGBA, frameLikeMnist, toMnist, fromRGBA, BlankError,
          MNIST_SIZE, MNIST_BOX, WORK_SIZE, STROKE_RANGE, MIN_SIDE, MAX_PIXELS, WORK_MAX, MIN_CONTRAST, MIN_INK,
          NOISE_FLOOR, CROP_THRESH};
}));
