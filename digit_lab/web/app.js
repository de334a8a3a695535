/* digit-lab web page: draw (or open) a digit, prepare it like to_mnist (prep.js), run the TF.js model.
 * State for tests and the curious lives in window.digitLab (timings, the last model input and probabilities). */
(function () {
  'use strict';
  const $ = id => document.getElementById(id);
  const pad = $('pad'), ctx = pad.getContext('2d', {willReadFrequently: true});
  const preview = $('preview'), pctx = preview.getContext('2d');
  const PEN = 18, INK = '#111', PAPER = '#fff';  // to_mnist brings any pen width into MNIST's range anyway
  const THROTTLE_MS = 80;  // while drawing, at most one prediction per THROTTLE_MS (a throttle: the guess follows the pen)
  const state = {model: null, drawing: false, dirty: false, last: null, timer: null};
  const lab = window.digitLab = {
    ready: false, error: null, backend: null, info: {}, loadMs: null, readyAt: null,
    predictions: 0, lastInput: null, lastProbs: null, lastPrepMs: null, lastPredictMs: null,
  };

  // ---------- status, results ----------
  function status(text, isError = false) { const s = $('status'); s.textContent = text; s.classList.toggle('error', isError); }

  const bars = [];
  for (let d = 0; d < 10; d++) {
    const digit = document.createElement('span'), track = document.createElement('span');
    const fill = document.createElement('span'), pct = document.createElement('span');
    digit.className = 'digit'; digit.textContent = d; track.className = 'track'; fill.className = 'fill';
    pct.className = 'pct'; track.appendChild(fill);
    $('bars').append(digit, track, pct);
    bars.push({track, fill, pct});
  }

  function showResult(probs, input) {
    const best = probs ? probs.indexOf(Math.max(...probs)) : -1;
    $('prediction').textContent = probs ? String(best) : '';
    const order = probs ? [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, 3) : [];
    $('top3').replaceChildren(...order.map(d => {
      const li = document.createElement('li');
      li.textContent = `${d}: ${(100 * probs[d]).toFixed(1)}%`;
      li.dataset.digit = d; li.dataset.p = probs[d];
      return li;
    }));
    bars.forEach((b, d) => {
      const p = probs ? probs[d] : 0;
      b.fill.style.width = `${(100 * p).toFixed(1)}%`;
      b.pct.textContent = probs ? `${(100 * p).toFixed(1)}%` : '';
      b.track.classList.toggle('best', d === best);
    });
    const img = pctx.createImageData(28, 28);  // what the model sees: light ink on black
    for (let i = 0; i < 784; i++) {
      const v = input ? Math.round(255 * input[i]) : 0;
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255;
    }
    pctx.putImageData(img, 0, 0);
  }

  // ---------- the model ----------
  function modelProbs(input) {  // Float32Array(784) -> Float32Array(10)
    return tf.tidy(() => tf.softmax(state.model.predict(tf.tensor4d(input, [1, 28, 28, 1]))).dataSync());
  }

  /** RGBA pixels (a canvas, a decoded file) -> shown prediction; returns the probabilities or null. */
  function predictPixels(rgba, width, height) {
    if (!state.model) return null;
    let t = performance.now(), input;
    try { input = DigitPrep.fromRGBA(rgba, width, height); }
    catch (e) {
      lab.lastInput = lab.lastProbs = null; showResult(null, null);
      if (!(e instanceof DigitPrep.BlankError)) status(e.message, true);
      return null;
    }
    lab.lastPrepMs = performance.now() - t;
    t = performance.now();
    const probs = Array.from(modelProbs(input));
    lab.lastPredictMs = performance.now() - t;
    lab.predictions++; lab.lastInput = Array.from(input); lab.lastProbs = probs;
    showResult(probs, input);
    status(`${lab.modelText} · last prediction ${lab.lastPredictMs.toFixed(1)} ms ` +
           `(+ ${lab.lastPrepMs.toFixed(1)} ms preparing the image)`);
    return probs;
  }

  function predictNow() {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
    if (!state.dirty) { lab.lastInput = lab.lastProbs = null; showResult(null, null); return; }
    const img = ctx.getImageData(0, 0, pad.width, pad.height);
    predictPixels(img.data, img.width, img.height);
  }

  function predictSoon() {  // throttled while drawing: the first event schedules a prediction, later ones wait for it
    if (!state.timer) state.timer = setTimeout(() => { state.timer = null; predictNow(); }, THROTTLE_MS);
  }

  /** Milliseconds of `n` predictions on the last input (after warm-up), for the latency test. */
  lab.benchmark = (n = 50) => {
    const input = lab.lastInput ? Float32Array.from(lab.lastInput) : new Float32Array(784);
    for (let i = 0; i < 5; i++) modelProbs(input);
    const ms = [];
    for (let i = 0; i < n; i++) { const t = performance.now(); modelProbs(input); ms.push(performance.now() - t); }
    return ms;
  };
  lab.benchmarkPipeline = (n = 20) => {  // canvas pixels -> prep.js -> model
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const img = ctx.getImageData(0, 0, pad.width, pad.height);
      modelProbs(DigitPrep.fromRGBA(img.data, img.width, img.height));
      ms.push(performance.now() - t);
    }
    return ms;
  };

  // ---------- drawing ----------
  function clearPad() {
    ctx.fillStyle = PAPER; ctx.fillRect(0, 0, pad.width, pad.height);
    state.dirty = false; predictNow();
  }
  function pos(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  function dot([x, y]) { ctx.fillStyle = INK; ctx.beginPath(); ctx.arc(x, y, PEN / 2, 0, 2 * Math.PI); ctx.fill(); }
  function segment([x0, y0], [x1, y1]) {
    ctx.strokeStyle = INK; ctx.lineWidth = PEN; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
  }
  function start(p) { state.drawing = true; state.dirty = true; state.last = p; dot(p); predictSoon(); }
  function move(points) { for (const p of points) { segment(state.last, p); state.last = p; } predictSoon(); }
  function end() { if (state.drawing) { state.drawing = false; predictNow(); } }

  if (window.PointerEvent) {  // mouse, pen and touch alike
    pad.addEventListener('pointerdown', e => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault(); pad.setPointerCapture(e.pointerId); start(pos(e));
    });
    pad.addEventListener('pointermove', e => {
      if (!state.drawing) return;
      e.preventDefault();
      const evs = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      move((evs.length ? evs : [e]).map(pos));
    });
    pad.addEventListener('pointerup', end);
    pad.addEventListener('pointercancel', end);
  } else {  // old browsers: mouse and touch events
    pad.addEventListener('mousedown', e => start(pos(e)));
    window.addEventListener('mousemove', e => { if (state.drawing) move([pos(e)]); });
    window.addEventListener('mouseup', end);
    pad.addEventListener('touchstart', e => { e.preventDefault(); start(pos(e.touches[0])); }, {passive: false});
    pad.addEventListener('touchmove', e => { e.preventDefault(); move([...e.touches].slice(0, 1).map(pos)); }, {passive: false});
    pad.addEventListener('touchend', end);
    pad.addEventListener('touchcancel', end);
  }
  $('clear').addEventListener('click', clearPad);

  // ---------- opening an image ----------
  async function openImage(file) {
    if (!file) return;
    let bmp;
    try { bmp = await createImageBitmap(file); }
    catch (e) { status(`${file.name} is not an image this browser can read`, true); return; }
    const c = document.createElement('canvas');
    c.width = bmp.width; c.height = bmp.height;
    const cc = c.getContext('2d', {willReadFrequently: true});
    cc.drawImage(bmp, 0, 0);
    // show it on the pad (fitted); predict from the full-resolution pixels, as to_mnist(file) would
    ctx.fillStyle = PAPER; ctx.fillRect(0, 0, pad.width, pad.height);
    const s = Math.min(pad.width / bmp.width, pad.height / bmp.height);
    ctx.drawImage(bmp, (pad.width - bmp.width * s) / 2, (pad.height - bmp.height * s) / 2, bmp.width * s, bmp.height * s);
    state.dirty = true;
    let img;
    try { img = cc.getImageData(0, 0, c.width, c.height); }
    catch (e) { status(`${file.name}: ${e.message}`, true); return; }
    if (!predictPixels(img.data, img.width, img.height) && !$('status').classList.contains('error'))
      status(`${file.name}: the image looks blank`, true);
  }
  $('file').addEventListener('change', e => { openImage(e.target.files[0]); e.target.value = ''; });
  pad.addEventListener('dragover', e => e.preventDefault());
  pad.addEventListener('drop', e => { e.preventDefault(); openImage(e.dataTransfer.files[0]); });

  // ---------- start-up ----------
  async function init() {
    ctx.fillStyle = PAPER; ctx.fillRect(0, 0, pad.width, pad.height);
    showResult(null, null);
    if (location.protocol === 'file:') {
      status('Browsers do not load models from files: serve this folder, e.g. `python -m http.server -d FOLDER`, ' +
             'and open http://localhost:8000', true);
    }
    const t0 = performance.now();
    const wanted = new URLSearchParams(location.search).get('backend');  // ?backend=cpu|wasm|webgl to compare
    if (tf.wasm) tf.wasm.setWasmPaths(new URL('vendor/', location.href).href);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);  // threads need cross-origin isolation headers
    for (const b of wanted ? [wanted, 'cpu'] : ['wasm', 'cpu']) {
      try { if (await tf.setBackend(b)) break; } catch (e) { console.warn(`backend ${b} failed`, e); }
    }
    await tf.ready();
    lab.backend = tf.getBackend();
    state.model = await tf.loadLayersModel('model/model.json');
    lab.info = await fetch('model/info.json').then(r => (r.ok ? r.json() : {})).catch(() => ({}));
    tf.tidy(() => state.model.predict(tf.zeros([1, 28, 28, 1])).dataSync());  // warm-up: first call sets up kernels
    lab.loadMs = performance.now() - t0;
    lab.readyAt = performance.now();  // since navigation start
    const i = lab.info, acc = i.test_accuracy != null ? ` · ${i.test_accuracy}% on the MNIST test set` : '';
    lab.modelText = `model ${i.name || '?'}${acc} · loaded in ${lab.loadMs.toFixed(0)} ms (TF.js ${tf.version.tfjs}, ${lab.backend})`;
    status(`Ready: ${lab.modelText}`);
    lab.ready = true;
  }
  init().catch(e => {
    lab.error = String(e);
    status(`Could not load the model (model/model.json): ${e.message || e}. This folder is made by ` +
           '`digit-lab export --format web --out FOLDER`; serve that FOLDER with `python -m http.server -d FOLDER`.', true);
  });
}());
