#!/usr/bin/env bash
# Regenerates the Panama (FFM) bindings of backend-cudnn with jextract:
#   src/main/java/dev/mspx/backend/cudnn/bindings/
#     cuda_runtime_api_h*.java   CUDA runtime API  (cuda_runtime_api.h)  <- cuda_runtime_api.symbols
#     cuda_h*.java               CUDA driver API   (cuda.h)              <- cuda.symbols
#     cudnn_h*.java, cudnnConvolution*AlgoPerfStruct.java  cuDNN 9 (cudnn.h) <- cudnn.symbols
#     package-info.java          the versions below, written by this script
#
# The committed bindings came from:
#   CUDA 13.0 headers (CUDA_VERSION 13000, /usr/local/cuda/include of the CUDA 13.0.88 toolkit)
#   cuDNN 9.6.0 headers (cudnn_version.h of a CUDA 12.6 system tree; cuDNN's headers are the same
#     for its CUDA 12 and CUDA 13 builds)
#   jextract 23, built from openjdk/jextract master f9866df3a178baa2e4a3746a7a6e458d783ace92,
#     running on JDK 25.0.3 with Debian's libclang 19.1.7 (libclang1-19 1:19.1.7-3~deb12u1)
# package-info.java records the same, as read from the headers and jextract at generation time.
#
# Only what the backend calls is generated (the *.symbols files, jextract's --include-* options):
# unfiltered generation of cudnn.h with libclang 19 yields uncompilable names for its anonymous
# unions, and the whole of cuda.h would be ~100k lines nobody reads. To bind one more function or
# constant, add its line to the .symbols file (jextract --dump-includes lists every name) and rerun.
#
# Usage:
#   backend-cudnn/bindings/regenerate.sh --jextract <command> --cuda-include <dir> --cudnn-include <dir>
#     --jextract       jextract to run: JEXTRACT_HOME/bin/jextract, or any launcher script
#                      (default: $JEXTRACT, else $JEXTRACT_HOME/bin/jextract)
#     --cuda-include   folder with cuda.h and cuda_runtime_api.h (default /usr/local/cuda/include)
#     --cudnn-include  folder with cudnn.h, cudnn_version.h, cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h,
#                      cudnn_adv.h, cudnn_backend.h (default $CUDNN_INCLUDE)
#
# jextract is on no registry: build it from source (openjdk/jextract master compiles with release 23
# and runs on JDK 25), outside this repository:
#   git clone https://github.com/openjdk/jextract /tmp/jextract-src
#   mkdir -p /tmp/jextract/classes
#   javac --release 25 --module-version 23 -d /tmp/jextract/classes $(find /tmp/jextract-src/src/main/java -name '*.java')
#   cp -r /tmp/jextract-src/src/main/resources/* /tmp/jextract/classes/
#   (cd /tmp/scratch && apt-get download libclang1-19 libllvm19 libclang-common-19-dev \
#     && for d in *.deb; do dpkg -x "$d" clang; done)
#   ln -sf libclang-19.so.1 /tmp/scratch/clang/usr/lib/llvm-19/lib/libclang.so
# and a launcher (pass it as --jextract):
#   #!/bin/sh
#   C=/tmp/scratch/clang/usr/lib/llvm-19
#   LD_LIBRARY_PATH=/tmp/scratch/clang/usr/lib/x86_64-linux-gnu:$C/lib exec java \
#     --enable-native-access=org.openjdk.jextract -Djava.library.path=$C/lib \
#     -Djextract.header.path=$C/lib/clang/19/include --module-path /tmp/jextract/classes \
#     -m org.openjdk.jextract/org.openjdk.jextract.JextractTool "$@"
# Never commit jextract, libclang or NVIDIA's headers; only the generated Java is committed.
#
# The generated classes resolve each symbol on its first call through SymbolLookup.loaderLookup():
# CudaNatives System.load()s the libraries that CudnnLibraries discovered, so loading these classes
# on a machine without CUDA does nothing native (no --library option: that would load at class init).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
module="$(dirname "$here")"
package=dev.mspx.backend.cudnn.bindings
out="$module/src/main/java/${package//.//}"

jextract="${JEXTRACT:-${JEXTRACT_HOME:+$JEXTRACT_HOME/bin/jextract}}"
cuda_include=/usr/local/cuda/include
cudnn_include="${CUDNN_INCLUDE:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --jextract) jextract="$2"; shift 2 ;;
    --cuda-include) cuda_include="$2"; shift 2 ;;
    --cudnn-include) cudnn_include="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
    *) echo "regenerate.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "regenerate.sh: $*" >&2; exit 1; }
[ -n "$jextract" ] || die "no jextract: pass --jextract <command> or set JEXTRACT_HOME (see --help for how to build it)"
command -v "$jextract" >/dev/null || [ -x "$jextract" ] || die "jextract '$jextract' is not executable"
[ -f "$cuda_include/cuda.h" ] && [ -f "$cuda_include/cuda_runtime_api.h" ] \
  || die "--cuda-include $cuda_include has no cuda.h and cuda_runtime_api.h (a CUDA toolkit's include folder)"
[ -n "$cudnn_include" ] || die "no cuDNN headers: pass --cudnn-include <dir> (or set CUDNN_INCLUDE)"
for h in cudnn.h cudnn_version.h cudnn_graph.h cudnn_ops.h cudnn_cnn.h cudnn_adv.h cudnn_backend.h; do
  [ -f "$cudnn_include/$h" ] || die "--cudnn-include $cudnn_include has no $h (cuDNN 9 headers)"
done
case "$(realpath "$cudnn_include")/" in
  "$(realpath "$module")"/*) die "keep NVIDIA's headers out of the repository ($cudnn_include)" ;;
esac

define() { sed -n "s/^#define $2 *\([0-9][0-9]*\).*/\1/p" "$1" | head -1; }
cuda_version="$(define "$cuda_include/cuda.h" CUDA_VERSION)"
cudnn_version="$(define "$cudnn_include/cudnn_version.h" CUDNN_MAJOR).$(define "$cudnn_include/cudnn_version.h" CUDNN_MINOR).$(define "$cudnn_include/cudnn_version.h" CUDNN_PATCHLEVEL)"
[ "${cudnn_version%%.*}" -ge 9 ] || die "cuDNN headers $cudnn_version are older than 9"
jextract_version="$("$jextract" --version 2>&1 | tr '\n' ';' | sed 's/;$//; s/;/; /g')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# $1 symbols file, $2 header; the rest: include folders. Filter lines are options; '#' lines are not.
generate() {
  local symbols="$1" header="$2"; shift 2
  grep -v '^[[:space:]]*#' "$here/$symbols" | grep -v '^[[:space:]]*$' > "$work/$symbols.args"
  local includes=()
  for dir in "$@"; do includes+=(-I "$dir"); done
  # jextract warns about every declaration it skips outside the filter; show only real problems.
  "$jextract" "${includes[@]}" -t "$package" --output "$work/src" "@$work/$symbols.args" "$header" \
    2> >(grep -v 'warning: Skipping' >&2)
}
generate cuda_runtime_api.symbols "$cuda_include/cuda_runtime_api.h" "$cuda_include"
generate cuda.symbols "$cuda_include/cuda.h" "$cuda_include"
generate cudnn.symbols "$cudnn_include/cudnn.h" "$cudnn_include" "$cuda_include"

generated="$work/src/${package//.//}"
[ -f "$generated/cuda_runtime_api_h.java" ] && [ -f "$generated/cuda_h.java" ] && [ -f "$generated/cudnn_h.java" ] \
  || die "jextract produced no header classes in $generated"

# The bindings call restricted FFM methods by design; the build's -Xlint:all would print one warning
# per function. Silence exactly that warning, on the generated classes only.
for f in "$generated"/*.java; do
  sed -i 's/^public class /@SuppressWarnings("restricted")\npublic class /' "$f"
done

cat > "$generated/package-info.java" <<EOF
/**
 * Panama (FFM) bindings of the CUDA runtime API, the CUDA driver API and cuDNN, generated by jextract
 * and filtered to what {@code CudnnBackend} calls. Do not edit: regenerate with {@code
 * backend-cudnn/bindings/regenerate.sh}, whose {@code *.symbols} files list what is bound.
 *
 * <p>Generated from CUDA headers {@code CUDA_VERSION ${cuda_version}} and cuDNN ${cudnn_version} headers,
 * by ${jextract_version}.
 *
 * <p>Symbols are resolved on a function's first call through {@code SymbolLookup.loaderLookup()}, so
 * loading these classes touches nothing native; the backend loads the discovered libraries first.
 */
package ${package};
EOF

mkdir -p "$out"
rm -f "$out"/*.java
cp "$generated"/*.java "$out/"
echo "regenerate.sh: wrote $(ls "$out" | wc -l) files to $out"
echo "regenerate.sh: CUDA_VERSION ${cuda_version}, cuDNN ${cudnn_version}, ${jextract_version}"
