"""The detection peer: the stack the older services used, FastAPI + uvicorn + OpenCV's DNN module, serving the same
YOLOX-Nano ONNX file as Iris with the same pre- and post-processing (shared/models/README.md, "YOLOX-Nano"):
letterbox to 416x416 at the top-left on a 114 canvas (bilinear, sizes rounded down), BGR float 0-255 NCHW, grid
decode, score = objectness x class score, class-aware NMS at IoU 0.45, boxes back in original pixels and clipped.

POST /v1/detect takes the image as the raw body (any image/* type) or as a multipart field `image`/`file`, like
Iris, and answers {"model", "width", "height", "objects": [{"label", "confidence", "box": {x_min, y_min, x_max,
y_max}}]} with min_confidence 0.4 and at most 100 objects (Iris's defaults).

Run: python3 bench/peers/yolox_fastapi.py --model DIR/yolox_nano.onnx --labels DIR/coco-labels.txt --port 8090
     python3 bench/peers/yolox_fastapi.py --model ... --labels ... --image shared/testdata/real/dog.jpg  (print detections)
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

SIZE = 416
STRIDES = (8, 16, 32)
NMS_IOU = 0.45


def letterbox(image):
    h, w = image.shape[:2]
    r = min(SIZE / h, SIZE / w)
    nw, nh = int(w * r), int(h * r)
    canvas = np.full((SIZE, SIZE, 3), 114, dtype=np.uint8)
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    blob = canvas.transpose(2, 0, 1)[np.newaxis].astype(np.float32)  # BGR as decoded, 0..255, NCHW
    return np.ascontiguousarray(blob), r


def grids():
    cells, strides = [], []
    for s in STRIDES:
        n = SIZE // s
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack((xs, ys), axis=2).reshape(-1, 2))
        strides.append(np.full((n * n, 1), s))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


GRID, STRIDE = grids()


def decode(output, r, width, height, labels, min_confidence=0.4, max_detections=100):
    out = output.reshape(-1, 85)
    centres = (out[:, :2] + GRID) * STRIDE
    sizes = np.exp(out[:, 2:4]) * STRIDE
    scores = out[:, 4:5] * out[:, 5:]
    classes = scores.argmax(axis=1)
    best = scores[np.arange(len(scores)), classes]
    keep = best >= min_confidence
    if not keep.any():
        return []
    centres, sizes, classes, best = centres[keep], sizes[keep], classes[keep], best[keep]
    x1y1 = (centres - sizes / 2) / r
    x2y2 = (centres + sizes / 2) / r
    boxes = np.concatenate((x1y1, x2y2), axis=1)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    xywh = np.concatenate((boxes[:, :2], boxes[:, 2:] - boxes[:, :2]), axis=1)
    # Class-aware NMS, one class at a time (OpenCV 4.6 in Debian 12 has no NMSBoxesBatched).
    kept = []
    for c in np.unique(classes):
        members = np.flatnonzero(classes == c)
        chosen = cv2.dnn.NMSBoxes(xywh[members].tolist(), best[members].tolist(), min_confidence, NMS_IOU)
        kept.extend(members[np.array(chosen, dtype=int).reshape(-1)].tolist())
    kept = sorted(kept, key=lambda i: -best[i])[:max_detections]
    return [{
        "label": labels[int(classes[i])],
        "confidence": round(float(best[i]), 4),
        "box": {k: round(float(v), 1) for k, v in zip(("x_min", "y_min", "x_max", "y_max"), boxes[i])},
    } for i in kept]


class Detector:
    def __init__(self, model, labels):
        self.net = cv2.dnn.readNetFromONNX(model)
        self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        with open(labels, encoding="utf-8") as f:
            self.labels = [line.strip() for line in f if line.strip()]

    def detect(self, data):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return None
        blob, r = letterbox(image)
        self.net.setInput(blob)
        output = self.net.forward()
        h, w = image.shape[:2]
        return {"model": "yolox-nano", "width": w, "height": h, "objects": decode(output, r, w, h, self.labels)}


def app(detector):
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    api = FastAPI()

    @api.post("/v1/detect")
    async def detect(request: Request):
        # As the older services did: the work runs inline, one request at a time per worker process, and OpenCV
        # spreads each forward pass over its own thread pool.
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("image") or form.get("file")
            data = await upload.read() if upload is not None else b""
        else:
            data = await request.body()
        result = detector.detect(data)
        if result is None:
            return JSONResponse({"detail": "Not an image."}, status_code=400)
        return result

    @api.get("/health")
    async def health():
        return {"status": "ok"}

    return api


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--threads", type=int, default=-1, help="cv2.setNumThreads; -1 leaves OpenCV's default (one per core)")
    parser.add_argument("--image", help="print the detections of this file and exit")
    args = parser.parse_args()
    if args.threads >= 0:
        cv2.setNumThreads(args.threads)
    detector = Detector(args.model, args.labels)
    if args.image:
        with open(args.image, "rb") as f:
            print(json.dumps(detector.detect(f.read()), indent=2))
        return
    import uvicorn
    uvicorn.run(app(detector), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
