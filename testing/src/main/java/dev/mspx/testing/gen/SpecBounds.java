package dev.mspx.testing.gen;

import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.UpscaleType;
import java.util.List;

/**
 * The box that {@link ModelGens#specs} draws model declarations from. {@link #tiny()} is the kit's
 * default: small enough that the scalar reference backend runs hundreds of cases in seconds, large
 * enough to hold every mask of the real configurations (several layers, kernels 3 and 5, RGB, 256
 * levels, two upscalings, conditioning).
 *
 * @param kinds raster, multiscale or both (a draw shrinks towards the first)
 * @param channels 1 and/or 3 (shrinks towards the first)
 * @param minLevels at least 2
 * @param maxLevels at most 256; levels are drawn skewed towards the small end
 * @param minSize the smallest image side
 * @param maxSize the largest image side; multiscale sizes are base·2^S with S >= 1
 * @param minBase the smallest side of the gated net's grid: the base of a multiscale model, the size
 *     of a raster one
 * @param maxLayers gated layers 1..maxLayers
 * @param maxFilters filters C..maxFilters (at least one feature map per colour: with fewer, a colour
 *     has no features and the model has a blind spot by construction)
 * @param kernels gated kernels to draw from (odd; those with k/2 larger than the side are skipped)
 * @param maxBlocks residual blocks 0..maxBlocks per group net
 * @param maxHeadLayers group-net head layers 1..maxHeadLayers
 * @param conditioning the conditionings a spec may declare (at most one is drawn; none is simplest)
 * @param upscaleTypes the upscaling types of multiscale specs (shrinks towards the first); type B
 *     draws its patch among the divisors of the base
 */
public record SpecBounds(
    List<ModelKind> kinds,
    List<Integer> channels,
    int minLevels,
    int maxLevels,
    int minSize,
    int maxSize,
    int minBase,
    int maxLayers,
    int maxFilters,
    List<Integer> kernels,
    int maxBlocks,
    int maxHeadLayers,
    List<ConditioningSpec> conditioning,
    List<UpscaleType> upscaleTypes) {

  /** A class label of 3 classes, as a downstream class-conditioning module would declare it. */
  public static final ConditioningSpec CLASS_LABEL =
      new ConditioningSpec("dev.mspx.testing.gen.GeneratedLabel", ConditioningKind.CLASS_LABEL, 3);

  /** A global vector of width 4 (a text or action encoding). */
  public static final ConditioningSpec GLOBAL_VECTOR =
      new ConditioningSpec("dev.mspx.testing.gen.GeneratedVector", ConditioningKind.GLOBAL_VECTOR, 4);

  /** The box with both upscaling types, A first (the bounds before type B was built). */
  public SpecBounds(
      List<ModelKind> kinds, List<Integer> channels, int minLevels, int maxLevels, int minSize, int maxSize, int minBase,
      int maxLayers, int maxFilters, List<Integer> kernels, int maxBlocks, int maxHeadLayers, List<ConditioningSpec> conditioning) {
    this(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers,
        conditioning, List.of(UpscaleType.A, UpscaleType.B));
  }

  public SpecBounds {
    kinds = List.copyOf(kinds);
    upscaleTypes = List.copyOf(upscaleTypes);
    if (upscaleTypes.isEmpty()) {
      throw new IllegalArgumentException("upscaleTypes needs at least one choice");
    }
    channels = List.copyOf(channels);
    kernels = List.copyOf(kernels);
    conditioning = List.copyOf(conditioning);
    if (kinds.isEmpty() || channels.isEmpty() || kernels.isEmpty()) {
      throw new IllegalArgumentException("kinds, channels and kernels need at least one choice each");
    }
    if (minLevels < 2 || maxLevels > 256 || minLevels > maxLevels) {
      throw new IllegalArgumentException("levels must satisfy 2 <= min <= max <= 256, got " + minLevels + ".." + maxLevels);
    }
    if (minSize < 1 || minSize > maxSize) {
      throw new IllegalArgumentException("sizes must satisfy 1 <= min <= max, got " + minSize + ".." + maxSize);
    }
    if (minBase < 1 || minBase > maxSize) {
      throw new IllegalArgumentException("minBase must lie in 1..maxSize, got " + minBase);
    }
    if (kinds.contains(ModelKind.MULTISCALE) && maxSize < 2) {
      throw new IllegalArgumentException("a multiscale model needs maxSize >= 2");
    }
    int maxChannels = channels.stream().mapToInt(Integer::intValue).max().orElseThrow();
    if (maxLayers < 1 || maxFilters < maxChannels || maxBlocks < 0 || maxHeadLayers < 1) {
      throw new IllegalArgumentException(
          "need maxLayers >= 1, maxFilters >= channels, maxBlocks >= 0, maxHeadLayers >= 1");
    }
  }

  /**
   * The default box: raster and multiscale, C = 1 or 3, L = 2..256, sides up to 8, up to 3 layers of up
   * to 8 filters, kernels 1, 3, 5, up to 2 residual blocks and 3 head layers, conditioning off or one
   * class label or one global vector, type-A or type-B upscaling.
   */
  public static SpecBounds tiny() {
    return new SpecBounds(
        List.of(ModelKind.RASTER, ModelKind.MULTISCALE),
        List.of(1, 3),
        2,
        256,
        1,
        8,
        1,
        3,
        8,
        List.of(1, 3, 5),
        2,
        3,
        List.of(CLASS_LABEL, GLOBAL_VECTOR),
        List.of(UpscaleType.A, UpscaleType.B));
  }

  public SpecBounds withKinds(ModelKind... k) {
    return new SpecBounds(List.of(k), channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withChannels(Integer... c) {
    return new SpecBounds(kinds, List.of(c), minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withLevels(int min, int max) {
    return new SpecBounds(kinds, channels, min, max, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withSizes(int min, int max) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, min, max, minBase, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withMinBase(int n) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, n, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withMaxLayers(int n) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, n, maxFilters, kernels, maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withMaxFilters(int n) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, n, kernels, maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withKernels(Integer... k) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, List.of(k), maxBlocks, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withMaxBlocks(int n) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, n, maxHeadLayers, conditioning, upscaleTypes);
  }

  public SpecBounds withMaxHeadLayers(int n) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, maxBlocks, n, conditioning, upscaleTypes);
  }

  /** The upscaling types of multiscale specs (the first is the simplest). */
  public SpecBounds withUpscaleTypes(UpscaleType... t) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers, conditioning, List.of(t));
  }

  /** The conditionings to draw from (none is always a choice); a conditioning module passes its own. */
  public SpecBounds withConditioning(ConditioningSpec... c) {
    return new SpecBounds(kinds, channels, minLevels, maxLevels, minSize, maxSize, minBase, maxLayers, maxFilters, kernels, maxBlocks, maxHeadLayers, List.of(c), upscaleTypes);
  }
}
