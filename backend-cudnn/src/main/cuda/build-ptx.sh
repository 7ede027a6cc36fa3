#!/usr/bin/env bash
# Compiles mspx_kernels.cu to the PTX that backend-cudnn loads at run time:
#   src/main/resources/dev/mspx/backend/cudnn/mspx_kernels.ptx
#
# Usage: src/main/cuda/build-ptx.sh [--check] [--nvcc <path>]
#   (no option)  rewrite the committed PTX from the .cu
#   --check      rebuild into a temporary file and fail if it differs from the committed PTX
#   --nvcc       the nvcc to use (default: $NVCC, else nvcc on PATH, else /usr/local/cuda/bin/nvcc)
#
# Choices, and why:
#   -arch=compute_75  PTX for a virtual architecture, JIT-compiled by the driver for the GPU it runs
#                     on (sm_75 Turing and every later GPU: A100 sm_80, H100/H200 sm_90, ...).
#                     compute_75 is the oldest that CUDA 13's nvcc targets; the kernels use nothing
#                     newer, so nothing is lost on newer GPUs.
#   .version 7.0      nvcc 13 stamps its PTX with ISA 9.0, which only drivers for CUDA 13 (R580+)
#                     accept. The kernels use no PTX feature newer than ISA 7.0 (CUDA 11.0), so the
#                     stamp is lowered to 7.0 and the result is assembled with ptxas for sm_75,
#                     sm_80 and sm_90: ptxas rejects any instruction the declared ISA lacks. Any
#                     driver from CUDA 11.0 on then loads the module, e.g. one that came with a
#                     CUDA 12 PyTorch.
#   no --use_fast_math  the kernels are checked against a float64 oracle with tolerances of ~1e-6.
#
# The first lines of the PTX record the SHA-256 of the .cu it came from; PtxSourceTest (part of
# ./mvnw verify, no nvcc needed) fails when the .cu has changed since, so an edited kernel without
# rebuilt PTX never ships. Run this script after every edit of mspx_kernels.cu and commit both.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
module="$(cd "$here/../../.." && pwd)"
source_file="$here/mspx_kernels.cu"
ptx_file="$module/src/main/resources/dev/mspx/backend/cudnn/mspx_kernels.ptx"
arch=compute_75
ptx_isa=7.0
check_archs="sm_75 sm_80 sm_90"

check=false
nvcc="${NVCC:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=true; shift ;;
    --nvcc) nvcc="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
    *) echo "build-ptx.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$nvcc" ]; then
  nvcc="$(command -v nvcc || true)"
  [ -n "$nvcc" ] || nvcc=/usr/local/cuda/bin/nvcc
fi
[ -x "$nvcc" ] || { echo "build-ptx.sh: no nvcc at '$nvcc': install the CUDA toolkit or pass --nvcc" >&2; exit 1; }
ptxas="$(dirname "$nvcc")/ptxas"
[ -x "$ptxas" ] || ptxas="$(command -v ptxas || true)"
[ -n "$ptxas" ] || { echo "build-ptx.sh: no ptxas beside $nvcc or on PATH" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$nvcc" -ptx -arch="$arch" -o "$work/raw.ptx" "$source_file"
stamped="$(sed -n 's/^\.version \([0-9.]*\)$/\1/p' "$work/raw.ptx")"
[ -n "$stamped" ] || { echo "build-ptx.sh: nvcc's PTX has no .version line" >&2; exit 1; }
sed "s/^\.version $stamped\$/.version $ptx_isa/" "$work/raw.ptx" > "$work/body.ptx"
for sm in $check_archs; do
  "$ptxas" -arch="$sm" -o /dev/null "$work/body.ptx" \
    || { echo "build-ptx.sh: the PTX does not assemble for $sm as ISA $ptx_isa" >&2; exit 1; }
done

sha="$(sha256sum "$source_file" | cut -d' ' -f1)"
release="$("$nvcc" --version | sed -n 's/^Cuda compilation tools, //p')"
{
  echo "// mspx: built by backend-cudnn/src/main/cuda/build-ptx.sh from mspx_kernels.cu; do not edit."
  echo "// mspx: source-sha256 $sha"
  echo "// mspx: nvcc $release, -ptx -arch=$arch; .version $stamped lowered to $ptx_isa; assembles for $check_archs"
  cat "$work/body.ptx"
} > "$work/mspx_kernels.ptx"

if $check; then
  if cmp -s "$work/mspx_kernels.ptx" "$ptx_file"; then
    echo "build-ptx.sh: $ptx_file matches mspx_kernels.cu"
  else
    diff -u "$ptx_file" "$work/mspx_kernels.ptx" | head -40 >&2 || true
    echo "build-ptx.sh: $ptx_file differs from a fresh build of mspx_kernels.cu (another nvcc release" \
      "also changes it); run src/main/cuda/build-ptx.sh and commit the PTX" >&2
    exit 1
  fi
else
  mkdir -p "$(dirname "$ptx_file")"
  cp "$work/mspx_kernels.ptx" "$ptx_file"
  echo "build-ptx.sh: wrote $ptx_file ($(wc -l < "$ptx_file") lines, source sha256 $sha)"
fi
