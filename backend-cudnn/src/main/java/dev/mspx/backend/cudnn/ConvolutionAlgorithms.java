package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.mspx.backend.cudnn.ConvolutionPlan.Choice;
import dev.mspx.backend.cudnn.ConvolutionPlan.Pass;
import dev.mspx.backend.cudnn.bindings.cudnnConvolutionBwdDataAlgoPerfStruct;
import dev.mspx.backend.cudnn.bindings.cudnnConvolutionBwdFilterAlgoPerfStruct;
import dev.mspx.backend.cudnn.bindings.cudnnConvolutionFwdAlgoPerfStruct;
import dev.mspx.backend.cudnn.bindings.cudnn_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Chooses the cuDNN algorithm of each convolution pass, once per {@link ConvolutionPlan}:
 *
 * <ul>
 *   <li>{@code heuristic} (the default, like PyTorch's {@code cudnn.benchmark = False}): cuDNN's
 *       ranking ({@code cudnnGet*Algorithm_v7}), the first that succeeds within the workspace limit;
 *   <li>{@code benchmark} (like {@code cudnn.benchmark = True}): cuDNN times the candidates on the
 *       real tensors ({@code cudnnFind*AlgorithmEx}) and the fastest within the limit wins.
 * </ul>
 *
 * Set by {@code -Dmspx.cudnn.algorithms=heuristic|benchmark}; the workspace limit by {@code
 * -Dmspx.cudnn.workspaceLimitMiB} (default 1024); {@code -Dmspx.cudnn.deterministic=true} passes
 * over algorithms cuDNN marks non-deterministic (some gradient algorithms use atomics).
 */
final class ConvolutionAlgorithms {

  static final String SEARCH_PROPERTY = "mspx.cudnn.algorithms";
  static final String WORKSPACE_PROPERTY = "mspx.cudnn.workspaceLimitMiB";
  static final String DETERMINISTIC_PROPERTY = "mspx.cudnn.deterministic";

  enum Search {
    HEURISTIC,
    BENCHMARK
  }

  /** One row of cuDNN's answer (the three perf structs share this layout). */
  record Perf(int algorithm, int status, float milliseconds, long memory, int determinism) {}

  private static final System.Logger LOG = System.getLogger(ConvolutionAlgorithms.class.getName());

  final Search search;
  final long workspaceLimit;
  final boolean deterministic;

  ConvolutionAlgorithms(Search search, long workspaceLimit, boolean deterministic) {
    this.search = search;
    this.workspaceLimit = workspaceLimit;
    this.deterministic = deterministic;
  }

  /** The settings of this process's system properties; a bad value fails with the valid ones. */
  static ConvolutionAlgorithms fromSystemProperties() {
    String s = System.getProperty(SEARCH_PROPERTY, "heuristic").trim().toUpperCase(Locale.ROOT);
    Search search;
    try {
      search = Search.valueOf(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "-D" + SEARCH_PROPERTY + "=" + System.getProperty(SEARCH_PROPERTY)
              + " is not one of heuristic, benchmark");
    }
    long limitMiB = Long.getLong(WORKSPACE_PROPERTY, 1024);
    if (limitMiB < 0) {
      throw new IllegalArgumentException("-D" + WORKSPACE_PROPERTY + " must be >= 0, got " + limitMiB);
    }
    return new ConvolutionAlgorithms(search, limitMiB << 20, Boolean.getBoolean(DETERMINISTIC_PROPERTY));
  }

  /**
   * Chooses the algorithm of {@code pass}. The addresses are of tensors shaped like x (dx for the
   * data gradient), w (dw for the filter gradient) and y (dy): a benchmark runs on them and
   * overwrites the pass's output, which the pass is about to write anyway.
   */
  Choice choose(
      Pass pass, ConvolutionPlan p, MemorySegment handle, DeviceBuffer workspace, long x, long w, long y) {
    try (Arena arena = Arena.ofConfined()) {
      List<Perf> ranked = heuristic(pass, p, handle, arena);
      List<Perf> usable = usable(ranked, workspaceLimit);
      String how = "cuDNN heuristic";
      if (search == Search.BENCHMARK && !usable.isEmpty()) {
        long bytes = usable.stream().mapToLong(Perf::memory).max().orElse(0);
        long address = workspace.ensure(bytes);
        List<Perf> timed = benchmark(pass, p, handle, arena, x, w, y, address, bytes);
        List<Perf> fastest = usable(timed, bytes);
        if (!fastest.isEmpty()) {
          usable = fastest;
          how = "cuDNN benchmark, " + fastest.getFirst().milliseconds() + " ms";
        }
      }
      if (usable.isEmpty()) {
        throw new IllegalStateException(
            "cuDNN offers no algorithm for " + pass.function + " of " + p + " within a workspace of "
                + workspaceLimit + " bytes" + (deterministic ? " that is deterministic" : "")
                + "; its candidates: " + ranked + ". Raise -D" + WORKSPACE_PROPERTY
                + (deterministic ? " or unset -D" + DETERMINISTIC_PROPERTY : ""));
      }
      int algorithm = usable.getFirst().algorithm();
      Choice c = new Choice(algorithm, workspaceSize(pass, p, handle, arena, algorithm), how);
      LOG.log(System.Logger.Level.DEBUG, "cudnn: {0} of {1}: {2}", pass.function, p, c);
      return c;
    }
  }

  private List<Perf> usable(List<Perf> perfs, long bytes) {
    List<Perf> out = new ArrayList<>();
    for (Perf r : perfs) {
      boolean okDeterminism = !deterministic || r.determinism() == cudnn_h.CUDNN_DETERMINISTIC();
      if (r.status() == cudnn_h.CUDNN_STATUS_SUCCESS() && r.memory() <= bytes && okDeterminism) {
        out.add(r);
      }
    }
    return out;
  }

  private static List<Perf> heuristic(Pass pass, ConvolutionPlan p, MemorySegment handle, Arena arena) {
    MemorySegment count = arena.allocate(JAVA_INT);
    String what = " for " + pass.function + " of " + p;
    switch (pass) {
      case FORWARD ->
          Status.cudnn(
              cudnn_h.cudnnGetConvolutionForwardAlgorithmMaxCount(handle, count),
              () -> "cudnnGetConvolutionForwardAlgorithmMaxCount" + what);
      case BACKWARD_DATA ->
          Status.cudnn(
              cudnn_h.cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, count),
              () -> "cudnnGetConvolutionBackwardDataAlgorithmMaxCount" + what);
      case BACKWARD_FILTER ->
          Status.cudnn(
              cudnn_h.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, count),
              () -> "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount" + what);
    }
    int max = Math.max(1, count.get(JAVA_INT, 0));
    MemorySegment perf = allocate(pass, max, arena);
    MemorySegment returned = arena.allocate(JAVA_INT);
    int status =
        switch (pass) {
          case FORWARD ->
              cudnn_h.cudnnGetConvolutionForwardAlgorithm_v7(
                  handle, p.x, p.w, p.convolution, p.y, max, returned, perf);
          case BACKWARD_DATA ->
              cudnn_h.cudnnGetConvolutionBackwardDataAlgorithm_v7(
                  handle, p.w, p.y, p.convolution, p.x, max, returned, perf);
          case BACKWARD_FILTER ->
              cudnn_h.cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                  handle, p.x, p.y, p.convolution, p.w, max, returned, perf);
        };
    Status.cudnn(status, () -> "cudnnGet" + passName(pass) + "Algorithm_v7" + what);
    return read(pass, perf, returned.get(JAVA_INT, 0));
  }

  private static List<Perf> benchmark(
      Pass pass,
      ConvolutionPlan p,
      MemorySegment handle,
      Arena arena,
      long x,
      long w,
      long y,
      long workspace,
      long bytes) {
    int max = 16;
    MemorySegment perf = allocate(pass, max, arena);
    MemorySegment returned = arena.allocate(JAVA_INT);
    MemorySegment ws = MemorySegment.ofAddress(workspace);
    int status =
        switch (pass) {
          case FORWARD ->
              cudnn_h.cudnnFindConvolutionForwardAlgorithmEx(
                  handle, p.x, seg(x), p.w, seg(w), p.convolution, p.y, seg(y), max, returned, perf, ws, bytes);
          case BACKWARD_DATA ->
              cudnn_h.cudnnFindConvolutionBackwardDataAlgorithmEx(
                  handle, p.w, seg(w), p.y, seg(y), p.convolution, p.x, seg(x), max, returned, perf, ws, bytes);
          case BACKWARD_FILTER ->
              cudnn_h.cudnnFindConvolutionBackwardFilterAlgorithmEx(
                  handle, p.x, seg(x), p.y, seg(y), p.convolution, p.w, seg(w), max, returned, perf, ws, bytes);
        };
    Status.cudnn(status, () -> "cudnnFind" + passName(pass) + "AlgorithmEx for " + p);
    return read(pass, perf, returned.get(JAVA_INT, 0));
  }

  private static long workspaceSize(
      Pass pass, ConvolutionPlan p, MemorySegment handle, Arena arena, int algorithm) {
    MemorySegment size = arena.allocate(JAVA_LONG);
    int status =
        switch (pass) {
          case FORWARD ->
              cudnn_h.cudnnGetConvolutionForwardWorkspaceSize(
                  handle, p.x, p.w, p.convolution, p.y, algorithm, size);
          case BACKWARD_DATA ->
              cudnn_h.cudnnGetConvolutionBackwardDataWorkspaceSize(
                  handle, p.w, p.y, p.convolution, p.x, algorithm, size);
          case BACKWARD_FILTER ->
              cudnn_h.cudnnGetConvolutionBackwardFilterWorkspaceSize(
                  handle, p.x, p.y, p.convolution, p.w, algorithm, size);
        };
    Status.cudnn(
        status, () -> "cudnnGet" + passName(pass) + "WorkspaceSize(algo " + algorithm + ") for " + p);
    return size.get(JAVA_LONG, 0);
  }

  private static String passName(Pass pass) {
    return switch (pass) {
      case FORWARD -> "ConvolutionForward";
      case BACKWARD_DATA -> "ConvolutionBackwardData";
      case BACKWARD_FILTER -> "ConvolutionBackwardFilter";
    };
  }

  private static MemorySegment allocate(Pass pass, int count, Arena arena) {
    return switch (pass) {
      case FORWARD -> cudnnConvolutionFwdAlgoPerfStruct.allocateArray(count, arena);
      case BACKWARD_DATA -> cudnnConvolutionBwdDataAlgoPerfStruct.allocateArray(count, arena);
      case BACKWARD_FILTER -> cudnnConvolutionBwdFilterAlgoPerfStruct.allocateArray(count, arena);
    };
  }

  private static List<Perf> read(Pass pass, MemorySegment array, int count) {
    List<Perf> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(
          switch (pass) {
            case FORWARD -> {
              MemorySegment s = cudnnConvolutionFwdAlgoPerfStruct.asSlice(array, i);
              yield new Perf(
                  cudnnConvolutionFwdAlgoPerfStruct.algo(s),
                  cudnnConvolutionFwdAlgoPerfStruct.status(s),
                  cudnnConvolutionFwdAlgoPerfStruct.time(s),
                  cudnnConvolutionFwdAlgoPerfStruct.memory(s),
                  cudnnConvolutionFwdAlgoPerfStruct.determinism(s));
            }
            case BACKWARD_DATA -> {
              MemorySegment s = cudnnConvolutionBwdDataAlgoPerfStruct.asSlice(array, i);
              yield new Perf(
                  cudnnConvolutionBwdDataAlgoPerfStruct.algo(s),
                  cudnnConvolutionBwdDataAlgoPerfStruct.status(s),
                  cudnnConvolutionBwdDataAlgoPerfStruct.time(s),
                  cudnnConvolutionBwdDataAlgoPerfStruct.memory(s),
                  cudnnConvolutionBwdDataAlgoPerfStruct.determinism(s));
            }
            case BACKWARD_FILTER -> {
              MemorySegment s = cudnnConvolutionBwdFilterAlgoPerfStruct.asSlice(array, i);
              yield new Perf(
                  cudnnConvolutionBwdFilterAlgoPerfStruct.algo(s),
                  cudnnConvolutionBwdFilterAlgoPerfStruct.status(s),
                  cudnnConvolutionBwdFilterAlgoPerfStruct.time(s),
                  cudnnConvolutionBwdFilterAlgoPerfStruct.memory(s),
                  cudnnConvolutionBwdFilterAlgoPerfStruct.determinism(s));
            }
          });
    }
    return out;
  }

  private static MemorySegment seg(long address) {
    return MemorySegment.ofAddress(address);
  }
}
