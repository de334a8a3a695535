// Apply digit_lab/web/prep.js (the web page's to_mnist) to raw RGBA images in Node.
// usage: node prep_run.mjs IMAGES.u8 SHAPES.json OUT.f32 [--no-stroke]
//   IMAGES.u8: the RGBA bytes of every image, one after another; SHAPES.json: [[width, height], ...]
//   OUT.f32 gets N*784 float32 (zeros where an image raised); prints JSON {"errors": {index: message}, "ms": ...}
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const prepPath = process.env.DIGIT_LAB_PREP_JS || path.join(here, '..', '..', 'digit_lab', 'web', 'prep.js');
const prep = createRequire(import.meta.url)(prepPath);
const [imagesPath, shapesPath, outPath, flag] = process.argv.slice(2);
const stroke = flag === '--no-stroke' ? null : prep.STROKE_RANGE;  // to_mnist(img, stroke=None)
if (!outPath) { console.error('usage: node prep_run.mjs IMAGES.u8 SHAPES.json OUT.f32'); process.exit(2); }
const bytes = fs.readFileSync(imagesPath), shapes = JSON.parse(fs.readFileSync(shapesPath, 'utf8'));
const out = new Float32Array(shapes.length * 784), errors = {};
let offset = 0;
const t0 = performance.now();
shapes.forEach(([w, h], i) => {
  const rgba = bytes.subarray(offset, offset + w * h * 4);
  offset += w * h * 4;
  try { out.set(prep.fromRGBA(rgba, w, h, stroke), i * 784); } catch (e) { errors[i] = e.message; }
});
fs.writeFileSync(outPath, Buffer.from(out.buffer));
console.log(JSON.stringify({errors, ms: performance.now() - t0, n: shapes.length}));
