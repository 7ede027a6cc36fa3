#!/usr/bin/env bash
# Times one fashion28 training step at batch 32 (gradients of every network, loss read back, Adam)
# with our CPU kernels (JMH, samples/src/jmh) and with the PyTorch peer on the same number of threads,
# in one run, and prints the ratios. The machine may be shared, so each side runs REPEATS times,
# alternating, and every ratio compares neighbouring runs.
#
#   samples/bench/step-vs-torch.sh                 # vector kernels vs PyTorch, 2 rounds
#   REFERENCE=1 samples/bench/step-vs-torch.sh     # also the scalar reference kernels (minutes per step)
#   THREADS=2 REPEATS=3 BATCH=32 samples/bench/step-vs-torch.sh
#
# Needs JDK 25 (found like ./mvnw does) and python3 with torch for bench/peer/torch_mspx.py (see bench/peer/README.md)
# (PYTHON=/usr/bin/python3 by default). Our backend uses availableProcessors() threads; pin both
# sides with taskset to compare at another count (THREADS only tells torch).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
peer="${PEER:-$root/bench/peer/torch_mspx.py}"
python="${PYTHON:-/usr/bin/python3}"
threads="${THREADS:-2}"
repeats="${REPEATS:-2}"
batch="${BATCH:-32}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# shellcheck source=../../.mvn/select-jdk.sh
. "$root/.mvn/select-jdk.sh"
mspx_select_jdk || exit 1
export JAVA_HOME

echo "building samples with -Pbench ..." >&2
(cd "$root" && ./mvnw -q -Pbench -pl samples -am package -Dmaven.test.skip=true) >&2

target="$root/samples/target"
jvm_flags=$(grep -v '^#' "$target/launcher/jvm.args" | tr '\n' ' ')
cp="$target/classes:$target/lib/*"

# jmh KERNELS FILE [extra JMH options]: ms per step into FILE.
jmh() {
  local kernels=$1 file=$2
  shift 2
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" $jvm_flags -cp "$cp" org.openjdk.jmh.Main TrainingStepBenchmark \
    -p kernels="$kernels" -p batch="$batch" -jvmArgsAppend "$jvm_flags" \
    -rf json -rff "$out/jmh.json" "$@" >&2
  "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["primaryMetric"]["score"])' \
    "$out/jmh.json" >"$file"
}

# torch FILE: the peer's median ms per step into FILE.
torch() {
  "$python" "$peer" step-bench --config fashion28 --batch "$batch" --threads "$threads" --steps 5 \
    >"$out/torch.json"
  "$python" -c 'import json,sys; print(1000 * json.load(open(sys.argv[1]))["median_s"])' \
    "$out/torch.json" >"$1"
}

printf '%-6s %12s %12s %14s\n' round vector_ms torch_ms vector/torch
ratios=()
for r in $(seq 1 "$repeats"); do
  jmh vector "$out/v" -wi 3 -w 5 -i 5 -r 5
  torch "$out/t"
  v=$(cat "$out/v")
  t=$(cat "$out/t")
  ratio=$("$python" -c "print(f'{$v / $t:.2f}')")
  ratios+=("$ratio")
  printf '%-6s %12.1f %12.1f %14s\n' "$r" "$v" "$t" "$ratio"
done
echo "vector/torch per round: ${ratios[*]} (fashion28, batch $batch, torch threads $threads, JVM threads $(nproc))"

if [ -n "${REFERENCE:-}" ]; then
  # One step of the scalar oracle takes minutes: one warm-up step and two measured ones.
  jmh reference "$out/ref" -wi 1 -w 1 -i 2 -r 1
  jmh vector "$out/v" -wi 3 -w 5 -i 5 -r 5
  ref=$(cat "$out/ref")
  v=$(cat "$out/v")
  printf 'reference %.1f ms, vector %.1f ms per step: reference/vector %s\n' "$ref" "$v" \
    "$("$python" -c "print(f'{$ref / $v:.1f}')")"
fi
