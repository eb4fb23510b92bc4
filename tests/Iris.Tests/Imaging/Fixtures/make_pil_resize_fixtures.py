"""Regenerates pil_resize.json: Pillow's Image.resize of two small random RGB images with every filter.

Run with Debian's python3-pil (Pillow 9.4): /usr/bin/python3 make_pil_resize_fixtures.py > pil_resize.json
"""
import json
import sys

import numpy as np
from PIL import Image

rng = np.random.default_rng(7)
cases = []
sources = []
for (w, h) in [(7, 5), (40, 30)]:
    src = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    sources.append({"width": w, "height": h, "rgb": src.flatten().tolist()})
    image = Image.fromarray(src, "RGB")
    for name, f in [("Nearest", 0), ("Lanczos", 1), ("Bilinear", 2), ("Bicubic", 3), ("Box", 4), ("Hamming", 5)]:
        for size in [(3, 4), (11, 9), (7, 3), (13, 7), (17, 21)]:
            out = np.asarray(image.resize(size, f))
            cases.append({"source": len(sources) - 1, "filter": name,
                          "out_width": size[0], "out_height": size[1], "expected": out.flatten().tolist()})
json.dump({"pillow": Image.__version__, "sources": sources, "cases": cases}, sys.stdout)
