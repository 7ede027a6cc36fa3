#!/usr/bin/env bash
# Trains the shipped model, samples/shipped/fashion28-labelled.arrow, with the project's own command
# line, and scores it on all 10,000 Fashion-MNIST test images. Re-run it when the declaration of
# fashion28-labelled (or how class conditioning is wired) changes its fingerprint: the demo test
# (DemoCommandTest) fails until the shipped checkpoint matches the compiled model again.
#
#   samples/shipped/train-shipped.sh [RUN_FOLDER] [STEPS]      (defaults: runs/shipped, 1081)
#
# The committed checkpoint took 1,081 steps: it ran as --minutes 40 (432 steps), then --resume
# --minutes 40 (to 1,081) on a shared 2-core machine; resuming is bit-identical, so --steps 1081 in
# one run gives the same parameters.
#
# Needs Fashion-MNIST's training split (apt-get install dataset-fashion-mnist puts it in
# /usr/share/datasets/fashion-mnist); the test split it scores is the shipped copy. Seed 0, batch 32,
# Adam 1e-3 (the defaults). Ctrl-C saves the run; the same command with --resume continues it
# (train prints it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run=${1:-runs/shipped}
steps=${2:-1081}

lscpu | grep -m1 'Model name' || true
start=$(date +%s)
nice -n 5 "$root/mspx" train --config fashion28-labelled --steps "$steps" --seed 0 --eval-every 500 --eval-images 500 --out "$run"
echo "wall time: $(( $(date +%s) - start )) s"
"$root/mspx" checkpoint inference "$run/checkpoint.arrow" --out "$root/samples/shipped/fashion28-labelled.arrow"
"$root/mspx" eval --checkpoint "$root/samples/shipped/fashion28-labelled.arrow" --data "$root/samples/shipped/fashion-mnist" --record
"$root/mspx" checkpoint show "$root/samples/shipped/fashion28-labelled.arrow"
