// Runs the @gutenye/ocr-node peer on images and prints one JSON document per image.
// Usage: node run-peer.mjs MODEL_DIR IMAGE... [--repeat N]
import Ocr from '@gutenye/ocr-node'
import path from 'node:path'

const args = process.argv.slice(2)
let repeat = 1
const ri = args.indexOf('--repeat')
if (ri >= 0) { repeat = Number(args[ri + 1]); args.splice(ri, 2) }
const [modelDir, ...images] = args
const ocr = await Ocr.create({
  models: {
    detectionPath: path.join(modelDir, 'ch_PP-OCRv4_det_infer.onnx'),
    recognitionPath: path.join(modelDir, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionaryPath: path.join(modelDir, 'ppocr_keys_v1.txt'),
  },
})
const results = []
for (const image of images) {
  let lines
  const times = []
  for (let i = 0; i < repeat; i++) {
    const t = performance.now()
    lines = await ocr.detect(image)
    times.push(performance.now() - t)
  }
  results.push({ image, lines: lines.map(l => ({ text: l.text, confidence: l.mean, box: l.box })), ms: times })
}
process.stdout.write(JSON.stringify(results) + '\n')
