// transformers.js (the peer) on the same model folders and images as Iris: captions/s (greedy and beam search)
// and CLIP embeddings/s, plus whether its captions equal the transformers reference.
// Usage: node peer.mjs SHARED_DIR ROUNDS
import { pipeline, env, RawImage, AutoProcessor, AutoTokenizer, CLIPVisionModelWithProjection, CLIPTextModelWithProjection } from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const shared = process.argv[2] ?? '../../../shared';
const rounds = Number(process.argv[3] ?? 3);
env.localModelPath = path.join(shared, 'models') + '/';
env.allowRemoteModels = false;

const reference = JSON.parse(readFileSync(path.join(shared, 'testdata/flowers/reference.json'), 'utf8'));
const images = await Promise.all(reference.images.map(i => RawImage.read(path.join(shared, 'testdata/flowers', i.file))));
// PEER_THREADS=n pins ONNX Runtime's intra-op threads, as Iris's Inference:IntraOpThreads does; unset keeps its default.
const threads = Number(process.env.PEER_THREADS ?? 0);
const session_options = threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
const result = { peer: 'transformers.js', threads: threads || 'default', version: JSON.parse(readFileSync(new URL('./node_modules/@huggingface/transformers/package.json', import.meta.url), 'utf8')).version };

const captioner = await pipeline('image-to-text', 'flower-captioner-tiny', { dtype: 'fp32', device: 'cpu', session_options });
for (const [name, numBeams, key] of [['greedy', 1, 'greedy'], ['beam3', 3, 'beam3']]) {
  let best = Infinity, same = 0, error = null;
  try {
    for (let r = 0; r < rounds; r++) {
      const start = performance.now();
      same = 0;
      for (let i = 0; i < images.length; i++) {
        const out = await captioner(images[i], { max_new_tokens: 32, num_beams: numBeams });
        if (out[0].generated_text.trim() === reference.images[i][key].text) same++;
      }
      best = Math.min(best, performance.now() - start);
    }
  } catch (e) { error = String(e.message ?? e); }
  result[name] = error ? { error } : { captions_per_s: images.length / (best / 1000), equal_to_reference: same, of: images.length };
}

// dtype q8 is transformers.js's name for the *_quantized.onnx files Iris serves as flower-captioner-tiny-quantized.
const quantized = await pipeline('image-to-text', 'flower-captioner-tiny', { dtype: 'q8', device: 'cpu', session_options });
{
  let best = Infinity, same = 0;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    same = 0;
    for (let i = 0; i < images.length; i++) {
      const out = await quantized(images[i], { max_new_tokens: 32, num_beams: 1 });
      if (out[0].generated_text.trim() === reference.images[i].greedy.text) same++;
    }
    best = Math.min(best, performance.now() - start);
  }
  result.greedy_quantized = { captions_per_s: images.length / (best / 1000), equal_to_reference: same, of: images.length };
}

const processor = await AutoProcessor.from_pretrained('clip-tiny');
const tokenizer = await AutoTokenizer.from_pretrained('clip-tiny');
const vision = await CLIPVisionModelWithProjection.from_pretrained('clip-tiny', { dtype: 'fp32', device: 'cpu', session_options });
const text = await CLIPTextModelWithProjection.from_pretrained('clip-tiny', { dtype: 'fp32', device: 'cpu', session_options });
let bestImage = Infinity, bestText = Infinity;
for (let r = 0; r < rounds; r++) {
  let start = performance.now();
  for (const image of images) await vision(await processor(image));
  bestImage = Math.min(bestImage, performance.now() - start);
  start = performance.now();
  for (const q of reference.clip_queries) await text(tokenizer([q.text], { padding: true, truncation: true }));
  bestText = Math.min(bestText, performance.now() - start);
}
result.image_embeddings_per_s = images.length / (bestImage / 1000);
result.text_embeddings_per_s = reference.clip_queries.length / (bestText / 1000);
console.log(JSON.stringify(result));
