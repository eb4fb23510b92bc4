// Runs the @gutenye/ocr-node peer on images, with the model files of MODEL_DIR (the mirror's ppocr-v4).
//   node run-peer.mjs MODEL_DIR IMAGE... [--repeat N]  one JSON array: per image, its lines and the ms of each reading
//   node run-peer.mjs MODEL_DIR --serve                 reads image paths from stdin, answers one JSON line each
import Ocr from '@gutenye/ocr-node'
import path from 'node:path'
import readline from 'node:readline'

const args = process.argv.slice(2)
let repeat = 1
const ri = args.indexOf('--repeat')
if (ri >= 0) { repeat = Number(args[ri + 1]); args.splice(ri, 2) }
const serve = args.includes('--serve')
const [modelDir, ...images] = args.filter(a => a !== '--serve')
const ocr = await Ocr.create({
  models: {
    detectionPath: path.join(modelDir, 'ch_PP-OCRv4_det_infer.onnx'),
    recognitionPath: path.join(modelDir, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionaryPath: path.join(modelDir, 'ppocr_keys_v1.txt'),
  },
})

async function read(image) {
  const start = performance.now()
  const lines = await ocr.detect(image)
  const ms = performance.now() - start
  return { lines: lines.map(l => ({ text: l.text, confidence: l.mean, box: l.box })), ms }
}

if (serve) {
  process.stdout.write(JSON.stringify({ ready: true }) + '\n')
  for await (const image of readline.createInterface({ input: process.stdin })) {
    if (!image) continue
    const { lines, ms } = await read(image)
    process.stdout.write(JSON.stringify({ image, lines, ms }) + '\n')
  }
} else {
  const results = []
  for (const image of images) {
    let lines
    const ms = []
    for (let i = 0; i < repeat; i++) {
      const r = await read(image)
      lines = r.lines
      ms.push(r.ms)
    }
    results.push({ image, lines, ms })
  }
  process.stdout.write(JSON.stringify(results) + '\n')
}
