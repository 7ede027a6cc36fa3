#!/usr/bin/env bash
# The README's super-resolution and 512×512 figures, from a speed512 model trained on 64×64 crops:
#
#   ./mspx train --config speed512 --crop 64 --batch 4 --minutes 45 --eval-every 200 --eval-images 64 --out runs/s512b
#   samples/figures/upscale-figures.sh runs/s512b/checkpoint.arrow
#
# Inputs come from held-out photos (the last 3 by name in /usr/share/backgrounds are the test split):
# a 1024×1024 region box-downsampled by 2 (the crops' scale; the reference) and subsampled by 8 (the
# 64×64 input), by upscale-inputs.py (numpy, PIL: /usr/bin/python3 here).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
checkpoint=${1:?give the crop-trained checkpoint}
work=$(mktemp -d)
figures="$root/samples/figures"
/usr/bin/python3 "$figures/upscale-inputs.py" /usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg 1040 480 "$work/seeding"
/usr/bin/python3 "$figures/upscale-inputs.py" /usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg 2800 1700 "$work/sunset"
for name in seeding sunset; do
  "$root/mspx" upscale --checkpoint "$checkpoint" --in "$work/$name-64.png" --to 512 --out "$work/$name-up.png" \
    --compare "$figures/upscale-$name.png" --reference "$work/$name-512.png"
done
"$root/mspx" sample --checkpoint "$checkpoint" --size 512 --count 2 --scale 1 --out "$figures/speed512-crops-sample-512.png"
rm -rf "$work"
