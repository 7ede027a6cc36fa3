"""Cuts the README's super-resolution inputs from a held-out photo (one of the last 3 by name).

    /usr/bin/python3 samples/figures/upscale-inputs.py PHOTO X0 Y0 OUT_PREFIX

takes the 1024x1024 region at (X0, Y0), box-downsamples it by 2 as the photo tiles are made (so the
512x512 result is at the scale the model's crops were: OUT_PREFIX-512.png, the reference) and
subsamples that by 8 (x[::8, ::8], as the model's pyramid does) into the 64x64 input
(OUT_PREFIX-64.png). Needs numpy and PIL.
"""
import sys

import numpy as np
from PIL import Image

photo, x0, y0, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
region = np.asarray(Image.open(photo).convert("RGB").crop((x0, y0, x0 + 1024, y0 + 1024)), dtype=np.float64)
reference = np.rint(region.reshape(512, 2, 512, 2, 3).mean(axis=(1, 3))).astype(np.uint8)
Image.fromarray(reference).save(prefix + "-512.png")
Image.fromarray(reference[::8, ::8].copy()).save(prefix + "-64.png")
