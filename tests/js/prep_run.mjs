// Apply digit_lab/web/prep.js (the web page's to_mnist) to raw RGBA images in Node.
// usage: node prep_run.mjs IMAGES.u8 SHAPES.json OUT.f32 [--stroke LO,HI | --no-stroke]
//   IMAGES.u8: the RGBA bytes of every image, one after another; SHAPES.json: [[width, height], ...]
//   --stroke LO,HI: to_mnist(img, stroke=(LO, HI)), either may be "none" (default: prep.js's STROKE_RANGE);
//   --no-stroke: to_mnist(img, stroke=None)
//   OUT.f32 gets N*784 float32 (zeros where an image raised); prints JSON
//   {"errors": {index: message}, "traces": [the branches each image took (prep.js's trace)], "ms": ..., "n": N}
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const prepPath = process.env.DIGIT_LAB_PREP_JS || path.join(here, '..', '..', 'digit_lab', 'web', 'prep.js');
const prep = createRequire(import.meta.url)(prepPath);
const [imagesPath, shapesPath, outPath, flag, value] = process.argv.slice(2);
if (!outPath) { console.error('usage: node prep_run.mjs IMAGES.u8 SHAPES.json OUT.f32 [--stroke LO,HI | --no-stroke]'); process.exit(2); }
let stroke = prep.STROKE_RANGE;
if (flag === '--no-stroke') stroke = null;
else if (flag === '--stroke') stroke = value.split(',').map(v => (v === 'none' ? null : Number(v)));
else if (flag !== undefined) { console.error(`unknown option ${flag}`); process.exit(2); }
const bytes = fs.readFileSync(imagesPath), shapes = JSON.parse(fs.readFileSync(shapesPath, 'utf8'));
const out = new Float32Array(shapes.length * 784), errors = {}, traces = [];
let offset = 0;
const t0 = performance.now();
shapes.forEach(([w, h], i) => {
  const rgba = bytes.subarray(offset, offset + w * h * 4);
  offset += w * h * 4;
  const trace = {};
  try { out.set(prep.fromRGBA(rgba, w, h, stroke, trace), i * 784); } catch (e) { errors[i] = e.message; }
  traces.push(trace);
});
fs.writeFileSync(outPath, Buffer.from(out.buffer));
console.log(JSON.stringify({errors, traces, ms: performance.now() - t0, n: shapes.length}));
