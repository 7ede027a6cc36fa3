#!/usr/bin/env bash
# The GPU check of the cuDNN backend, as one command of at most 10 minutes on a machine with an NVIDIA
# GPU, CUDA, cuDNN (e.g. in PyTorch's Python wheels) and PyTorch, and no Java or Maven needed there.
#
#   backend-cudnn/device-check.sh bundle            on a build machine (JDK 25, ./mvnw, network once):
#                                                   builds backend-cudnn/target/device-bundle (< 64 MiB)
#   backend-cudnn/device-check.sh run <report-dir>  on the GPU machine, from that bundle
#   backend-cudnn/device-check.sh <report-dir>      the same; builds the bundle first if it is missing
#   backend-cudnn/device-check.sh run --smoke <dir> checks the bundle itself on a machine without a GPU:
#                                                   the CPU backend at toy sizes, the peer on the CPU
#
# The bundle: a jlinked JDK 25 runtime (only the modules the tests and the benchmark use,
# --compress=zip-9 --strip-debug), the backend's jars and test classes with the libraries they need,
# JUnit's console launcher, the JVM flags of the parent pom (mspx.jvm.flags), and the PyTorch peer
# (bench/peer/torch_mspx.py) with src/test/python/peer_gpu_bench.py, which times it on the GPU.
# With the project's device tool: carry backend-cudnn/target/device-bundle, run
# `backend-cudnn/device-check.sh run "$OUT"`.
#
# The run, each step with a time limit, writing into <report-dir>:
#   environment.txt       nvidia-smi, the Java runtime, Python, torch, CUDA and cuDNN versions
#   availability.txt      what the cudnn provider finds (DeviceInfo); the run stops here if unavailable
#   conformance.txt, junit/  the conformance suite (CudnnConformanceTest) and provider tests on the GPU
#   masking.txt, junit-masking/  the masking kit (CudnnMaskingTest) on the GPU
#   java-bench.json, java-bench.log   DeviceBench: fashion28 training step (batch 32) and speed512
#                         sampling at 512x512 on CudnnBackend
#   peer-bench.json, peer-bench.log   the same on PyTorch (cuDNN TF32 off and on)
#   REPORT.md             the summary: pass/fail counts, times, ratios against the issue's targets
#                         (512x512 sampling <= 50 ms on an H200; training step <= 1.2x PyTorch's)
# Exit status: 0 when every step ran and the suite passed, 1 otherwise, 2 when the backend is
# unavailable.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
if [ -z "${MSPX_DEVICE_BUNDLE:-}" ] && [ -d "$here/jre" ] && [ -d "$here/lib" ]; then
  bundle="$here" # this is the bundle's own copy of the script
else
  bundle="${MSPX_DEVICE_BUNDLE:-$here/target/device-bundle}"
fi
max_bytes=$((64 * 1024 * 1024))
# Step time limits (seconds): with timeout's 10 s grace each, they add up to under 10 minutes.
limit_info="${LIMIT_INFO:-40}"
limit_conformance="${LIMIT_CONFORMANCE:-170}"
limit_masking="${LIMIT_MASKING:-90}"
limit_java_bench="${LIMIT_JAVA_BENCH:-110}"
limit_peer_bench="${LIMIT_PEER_BENCH:-110}"
# What the GPU run needs from the JDK (jdeps over these jars; java.xml for JUnit's XML reports).
jre_modules=java.base,java.logging,java.xml,java.sql,java.management,jdk.unsupported,jdk.incubator.vector
# Jars of the test class path that the GPU run loads (the rest: data loading, Guice, generators).
# (backend-cpu: the masking kit's reference, and --smoke's benchmark backend; quicktheories: the kit.)
jar_patterns=(mspx-api- mspx-backend-cudnn- mspx-backend-cpu- mspx-pixelcnn-core- mspx-testing- quicktheories- arrow-memory-core- arrow-memory-unsafe- slf4j-api- slf4j-jdk14-)

python="${PYTHON:-python3}"
work=""

say() { echo "device-check: $*" >&2; }
die() { say "$*"; exit 1; }

# ------------------------------------------------------------------------------------------ bundle

build_bundle() {
  [ -x "$repo/mvnw" ] || die "no $repo/mvnw: build the bundle in a checkout of mspx"
  # shellcheck source=/dev/null
  . "$repo/.mvn/select-jdk.sh"
  mspx_select_jdk || die "building the bundle needs a JDK 25"
  local jdk="$JAVA_HOME"
  say "building the jars (JDK $jdk)"
  (cd "$repo" && ./mvnw -q -o -pl backend-cudnn -am install -DskipTests 2>/dev/null \
      || ./mvnw -q -pl backend-cudnn -am install -DskipTests) || die "./mvnw install failed"
  (cd "$repo" && ./mvnw -q -o -pl backend-cudnn test-compile) || die "./mvnw test-compile failed"

  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$repo" && ./mvnw -q -o -pl backend-cudnn dependency:copy-dependencies -DincludeScope=test \
      -DoutputDirectory="$work/deps") || die "copying the dependencies failed"
  local junit_version
  junit_version="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' "$repo/pom.xml")"
  [ -n "$junit_version" ] || die "no junit.version in $repo/pom.xml"
  (cd "$repo" && { ./mvnw -q -o -pl backend-cudnn dependency:copy \
      -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version" \
      -DoutputDirectory="$work/console" 2>/dev/null \
    || ./mvnw -q -pl backend-cudnn dependency:copy \
      -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version" \
      -DoutputDirectory="$work/console"; }) \
    || die "cannot get junit-platform-console-standalone $junit_version from Maven Central"

  rm -rf "$bundle"
  mkdir -p "$bundle/lib" "$bundle/peer"
  local p found
  for p in "${jar_patterns[@]}"; do
    found=false
    for jar in "$work/deps/$p"[0-9]*.jar; do
      [ -f "$jar" ] && cp "$jar" "$bundle/lib/" && found=true
    done
    $found || [ "$p" = mspx-backend-cudnn- ] || die "no $p*.jar among the test dependencies"
  done
  cp "$here"/target/mspx-backend-cudnn-*.jar "$bundle/lib/" 2>/dev/null || die "no backend-cudnn jar in $here/target"
  rm -f "$bundle"/lib/*-tests.jar "$bundle"/lib/*-sources.jar
  "$jdk/bin/jar" --create --file "$bundle/lib/mspx-backend-cudnn-test-classes.jar" -C "$here/target/test-classes" .
  cp "$work"/console/junit-platform-console-standalone-*.jar "$bundle/junit-console.jar"

  say "jlinking a runtime with $jre_modules"
  "$jdk/bin/jlink" --add-modules "$jre_modules" --compress=zip-9 --strip-debug --no-header-files \
    --no-man-pages --output "$bundle/jre" 2> >(grep -v 'Using incubator modules' >&2)

  sed -n 's:.*<mspx.jvm.flags>\(.*\)</mspx.jvm.flags>.*:\1:p' "$repo/pom.xml" > "$bundle/jvm.args"
  [ -s "$bundle/jvm.args" ] || die "no mspx.jvm.flags in $repo/pom.xml"

  local peer="$repo/bench/peer/torch_mspx.py"
  if [ -f "$peer" ]; then
    cp "$peer" "$bundle/peer/"
  else
    die "no $peer: the bundle needs the benchmark peer bench/peer/torch_mspx.py"
  fi
  cp "$here/src/test/python/peer_gpu_bench.py" "$bundle/peer/"
  cp "$0" "$bundle/device-check.sh"

  {
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
    echo "commit: $(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "jdk: $("$jdk/bin/java" -version 2>&1 | head -1)"
    echo "jre modules: $jre_modules"
    echo "jars: $(cd "$bundle/lib" && ls | tr '\n' ' ')"
  } > "$bundle/BUILD-INFO"

  local bytes
  bytes="$(du -sb "$bundle" | cut -f1)"
  if [ "$bytes" -ge "$max_bytes" ]; then
    du -sh "$bundle"/* >&2
    die "the bundle is $bytes bytes, over the 64 MiB a device run may carry"
  fi
  echo "bytes: $bytes" >> "$bundle/BUILD-INFO"
  say "bundle ready: $bundle ($((bytes / 1024 / 1024)) MiB); on the GPU machine run: backend-cudnn/device-check.sh run <report-dir>"
}

# ------------------------------------------------------------------------------------------ run

java_cmd() {
  # The bundled runtime unless it is missing and a system java is 25 or newer.
  if [ -x "$bundle/jre/bin/java" ]; then
    echo "$bundle/jre/bin/java"
    return
  fi
  local system
  system="$(command -v java || true)"
  if [ -n "$system" ] && [ "$("$system" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')" -ge 25 ] 2>/dev/null; then
    echo "$system"
    return
  fi
  die "no Java 25: the bundle's runtime $bundle/jre is missing and 'which java' gives ${system:-nothing}; rebuild the bundle"
}

find_peer() {
  for p in "$bundle/peer/torch_mspx.py" "$repo/bench/peer/torch_mspx.py"; do
    if [ -f "$p" ]; then
      echo "$p"
      return
    fi
  done
}

# Runs "$@" with a time limit, output to a log; records the status instead of stopping the run.
step() {
  local name="$1" limit="$2" log="$3"
  shift 3
  say "$name (limit ${limit}s)"
  local start status=0
  start=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1 || status=$?
  echo "$name: exit $status after $(( $(date +%s) - start ))s$([ "$status" = 124 ] && echo ", TIMED OUT at ${limit}s")" >> "$report/steps.txt"
  return "$status"
}

run_checks() {
  local smoke=false
  if [ "${1:-}" = --smoke ]; then
    smoke=true
    shift
  fi
  [ $# -eq 1 ] || die "usage: device-check.sh run [--smoke] <report-dir>"
  report="$(mkdir -p "$1" && cd "$1" && pwd)"
  [ -d "$bundle/lib" ] || die "no bundle at $bundle: run 'backend-cudnn/device-check.sh bundle' on a build machine and carry it here"
  : > "$report/steps.txt"
  local java flags cp jars failed=0
  java="$(java_cmd)"
  read -r -a flags < "$bundle/jvm.args"
  cp="$bundle/lib/*"
  # JUnit's console launcher takes no wildcards: the jars one by one.
  jars="$(printf '%s:' "$bundle"/lib/*.jar)"
  jars="${jars%:}"

  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(hostname)"
    echo "which java: $(command -v java || echo none); using: $java"
    "$java" -version 2>&1 | sed 's/^/  /'
    echo "bundle:"; sed 's/^/  /' "$bundle/BUILD-INFO"
    echo "nvidia-smi:"
    (nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1 || echo "no nvidia-smi") | sed 's/^/  /'
    echo "python: $("$python" --version 2>&1 || echo none)"
    "$python" - <<'EOF' 2>&1 | sed 's/^/  /' || true
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
      "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
EOF
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  } > "$report/environment.txt" 2>&1

  if $smoke; then
    say "smoke run: the bundle on this machine's CPU (nothing here is a GPU result)"
    echo "SMOKE RUN on the CPU at toy sizes: checks the bundle, measures nothing about the GPU" > "$report/smoke.txt"
    step "availability" "$limit_info" "$report/availability.txt" "$java" "${flags[@]}" -cp "$cp" dev.mspx.backend.cudnn.DeviceInfo || true
  elif ! step "availability" "$limit_info" "$report/availability.txt" "$java" "${flags[@]}" -cp "$cp" dev.mspx.backend.cudnn.DeviceInfo; then
    cat "$report/availability.txt" >&2
    summarize "$report" || true
    say "the cudnn backend is unavailable here (see $report/availability.txt)"
    return 2
  fi

  step "conformance" "$limit_conformance" "$report/conformance.txt" \
    "$java" "${flags[@]}" -jar "$bundle/junit-console.jar" execute --class-path "$jars" \
    --select-class dev.mspx.backend.cudnn.CudnnConformanceTest \
    --select-class dev.mspx.backend.cudnn.CudnnBackendProviderTest \
    --details=summary --details-theme=ascii --disable-banner --reports-dir "$report/junit" || failed=1

  step "masking" "$limit_masking" "$report/masking.txt" \
    "$java" "${flags[@]}" -jar "$bundle/junit-console.jar" execute --class-path "$jars" \
    --select-class dev.mspx.backend.cudnn.CudnnMaskingTest \
    --details=summary --details-theme=ascii --disable-banner --reports-dir "$report/junit-masking" || failed=1

  local bench_args=("$report")
  $smoke && bench_args+=(--backend cpu --batch 2 --warmup 0 --steps 1 --size 16 --samples 1)
  step "java-bench" "$limit_java_bench" "$report/java-bench.log" \
    "$java" "${flags[@]}" -cp "$cp" dev.mspx.backend.cudnn.DeviceBench "${bench_args[@]}" || failed=1

  local peer
  peer="$(find_peer)"
  if [ -z "$peer" ]; then
    echo "peer-bench: not run, no torch_mspx.py in the bundle or beside the repository" >> "$report/steps.txt"
    failed=1
  else
    local peer_args=(--peer "$peer" --out "$report/peer-bench.json")
    $smoke && peer_args+=(--device cpu --batch 2 --warmup 0 --steps 1 --size 16 --repeats 1)
    step "peer-bench" "$limit_peer_bench" "$report/peer-bench.log" \
      "$python" "$bundle/peer/peer_gpu_bench.py" "${peer_args[@]}" || failed=1
  fi

  summarize "$report" || failed=1
  cat "$report/REPORT.md"
  return "$failed"
}

# REPORT.md from the step logs and JSON files (python3 is on every machine this runs on).
summarize() {
  "$python" - "$1" <<'EOF'
import glob, json, os, sys
import xml.etree.ElementTree as ET

report = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(report, name)) as f:
            return json.load(f)
    except Exception:
        return None

lines = ["# mspx cudnn device check", ""]
if os.path.exists(os.path.join(report, "smoke.txt")):
    lines += ["**SMOKE RUN on the CPU at toy sizes (device-check.sh run --smoke): it checks the bundle and",
              "measures nothing about the GPU; the table's labels name the real sizes.**", ""]
with open(os.path.join(report, "steps.txt")) as f:
    lines += ["## Steps", "", "```", f.read().rstrip(), "```", ""]
try:
    with open(os.path.join(report, "availability.txt")) as f:
        lines += ["## Availability", "", "```", f.read().rstrip(), "```", ""]
except OSError:
    pass

for folder, title in (("junit", "Conformance suite and provider tests on the GPU"),
                      ("junit-masking", "Masking kit on the GPU")):
    tests = failures = errors = skipped = 0
    failed_names = []
    for x in glob.glob(os.path.join(report, folder, "*.xml")):
        for case in ET.parse(x).getroot().iter("testcase"):
            tests += 1
            if case.find("failure") is not None:
                failures += 1
                failed_names.append(case.get("classname", "") + "." + case.get("name", ""))
            elif case.find("error") is not None:
                errors += 1
                failed_names.append(case.get("classname", "") + "." + case.get("name", ""))
            elif case.find("skipped") is not None:
                skipped += 1
    lines += [f"## {title}", "",
              f"{tests} tests: {tests - failures - errors - skipped} passed, {failures} failed, {errors} errors, {skipped} skipped",
              ""]
    lines += [f"- FAILED {n}" for n in failed_names[:50]]
    if failed_names:
        lines.append("")

java, peer = load("java-bench.json"), load("peer-bench.json")
def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d
j_step, j_sample = get(java, "fashion28_step", "median_s"), get(java, "speed512_sample", "median_s")
p_off, p_on = get(peer, "runs", "tf32_off", "step", "median_s"), get(peer, "runs", "tf32_on", "step", "median_s")
ps_off, ps_on = get(peer, "runs", "tf32_off", "sample", "median_s"), get(peer, "runs", "tf32_on", "sample", "median_s")
def ms(s):
    return "n/a" if s is None else f"{1000 * s:.2f} ms"
def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"
lines += ["## Timings", "",
          f"GPU: {get(peer, 'device') or 'unknown'}; mspx: {get(java, 'details') or 'n/a'}; convolutions: TF32 {get(java, 'tf32') or 'n/a'}, algorithms {get(java, 'algorithms') or 'n/a'}",
          "",
          "| measurement | mspx cudnn | PyTorch, TF32 off | PyTorch, TF32 on (its default) | mspx / PyTorch (off, on) | target |",
          "|---|---|---|---|---|---|",
          f"| fashion28 training step, batch {get(java, 'fashion28_step', 'batch') or 32} (median) | {ms(j_step)} | {ms(p_off)} | {ms(p_on)} | {ratio(j_step, p_off)}, {ratio(j_step, p_on)} | <= 1.2x |",
          f"| speed512 sampling, one {get(java, 'speed512_sample', 'size') or 512}x{get(java, 'speed512_sample', 'size') or 512} image (median) | {ms(j_sample)} | {ms(ps_off)} | {ms(ps_on)} | {ratio(j_sample, ps_off)}, {ratio(j_sample, ps_on)} | <= 50 ms (H200) |",
          ""]
if j_step is not None and p_off is not None:
    lines.append(f"- training step within 1.2x of PyTorch (TF32 off): {'yes' if j_step <= 1.2 * p_off else 'NO'}")
if j_step is not None and p_on is not None:
    lines.append(f"- training step within 1.2x of PyTorch (its default, TF32 on): {'yes' if j_step <= 1.2 * p_on else 'NO'}")
if j_sample is not None:
    lines.append(f"- 512x512 sampling <= 50 ms: {'yes' if j_sample <= 0.050 else 'NO'} ({ms(j_sample)}, {get(java, 'speed512_sample', 'evaluations')} network evaluations)")
lines.append("")
with open(os.path.join(report, "REPORT.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
EOF
}

case "${1:-}" in
  bundle) build_bundle ;;
  run) shift; run_checks "$@" ;;
  ""|-h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//;$d' ;;
  *)
    [ -d "$bundle/lib" ] || build_bundle
    run_checks "$@"
    ;;
esac
