// Run a TF.js layers model (model.json + shards, as written by digit_lab.export) on raw float32 images in Node.
// usage: node tfjs_predict.mjs MODEL_DIR IMAGES.f32 N LOGITS.f32 [wasm|cpu] [BATCH]
//   IMAGES.f32: N*28*28 little-endian float32 in [0,1] (NHWC with C=1); LOGITS.f32 gets N*10 float32.
// Prints one JSON line: backend, tfjs version, load and predict times.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const [modelDir, imagesPath, nStr, outPath, backend = 'wasm', batchStr = '500'] = process.argv.slice(2);
if (!outPath) { console.error('usage: node tfjs_predict.mjs MODEL_DIR IMAGES.f32 N LOGITS.f32 [wasm|cpu] [BATCH]'); process.exit(2); }
const n = parseInt(nStr), batch = parseInt(batchStr);

// tf.loadLayersModel needs an IO handler; in Node (without tfjs-node) we read model.json and its shards ourselves.
function fileHandler(dir) {
  return {load: async () => {
    const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const specs = [], parts = [];
    for (const group of mj.weightsManifest) {
      specs.push(...group.weights);
      for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, p)));
    }
    const buf = Buffer.concat(parts);
    return {modelTopology: mj.modelTopology, format: mj.format, generatedBy: mj.generatedBy, convertedBy: mj.convertedBy,
            weightSpecs: specs, weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)};
  }};
}

await tf.setBackend(backend);
await tf.ready();
let t0 = performance.now();
const model = await tf.loadLayersModel(fileHandler(modelDir));
const loadMs = performance.now() - t0;
const raw = fs.readFileSync(imagesPath);
const images = new Float32Array(raw.buffer, raw.byteOffset, n * 784);
const logits = new Float32Array(n * 10);
t0 = performance.now();
for (let i = 0; i < n; i += batch) {
  const m = Math.min(batch, n - i);
  const out = tf.tidy(() => model.predict(tf.tensor4d(images.subarray(i * 784, (i + m) * 784), [m, 28, 28, 1])));
  logits.set(out.dataSync(), i * 10);
  out.dispose();
}
const predictMs = performance.now() - t0;
fs.writeFileSync(outPath, Buffer.from(logits.buffer));
console.log(JSON.stringify({backend: tf.getBackend(), tfjs: tf.version.tfjs, n, load_ms: loadMs, predict_ms: predictMs,
                            inputs: model.inputs.map(t => t.shape), outputs: model.outputs.map(t => t.shape)}));
