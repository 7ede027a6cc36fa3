package dev.mspx.testing.gen;

import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ImmutableModelSpec;
import dev.mspx.api.model.InvalidModelException;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.model.UpscaleType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Generators of model declarations and of the data they run on. Every spec they make is valid and
 * buildable ({@code PlanBuilder.build} accepts it: type-A or type-B upscaling, conditioning of kind
 * CLASS_LABEL or GLOBAL_VECTOR). Smaller draws give smaller specs: raster before multiscale, one
 * channel before three, fewer levels, smaller sides, base 1, one layer, C filters, the first kernel,
 * no residual block, one head layer, type A before type B (and patch 1), no conditioning.
 */
public final class ModelGens {

  private ModelGens() {}

  /** Valid, buildable specs inside {@code bounds}, of its upscaling types. */
  public static Gen<ModelSpec> specs(SpecBounds bounds) {
    Gen<ModelSpec> g = source -> draw(source, bounds, null);
    return g.withShrink(ModelGens::smaller);
  }

  /** Multiscale specs with type-B upscaling (a patch that divides the base), whatever the bounds' types. */
  public static Gen<ModelSpec> typeBSpecs(SpecBounds bounds) {
    Gen<ModelSpec> g = source -> draw(source, bounds.withKinds(ModelKind.MULTISCALE), UpscaleType.B);
    return g.withShrink(s -> smaller(s).filter(x -> x.upscaling().map(u -> u.type() == UpscaleType.B).orElse(false)));
  }

  /** Images of {@code spec}: {@code [C, H, W]} flattened, each sub-pixel in 0..L-1, shrinking to 0. */
  public static Gen<int[]> images(ModelSpec spec) {
    int n = spec.channels() * spec.size() * spec.size();
    int top = spec.levels() - 1;
    return source -> {
      int[] img = new int[n];
      for (int i = 0; i < n; i++) {
        img[i] = source.drawInt(0, top);
      }
      return img;
    };
  }

  /**
   * Images of {@code spec} from a single draw, a seed: 0 gives the all-zero image, any other seed a
   * uniformly random one. For frameworks that shrink draws this is far cheaper to shrink than {@link
   * #images} (one draw instead of C·H·W) and still ends at the simplest image.
   */
  public static Gen<int[]> seededImages(ModelSpec spec) {
    return source -> image(spec, source.draw(0, Long.MAX_VALUE));
  }

  /** The image of {@link #seededImages} for {@code seed}. */
  public static int[] image(ModelSpec spec, long seed) {
    int[] img = new int[spec.channels() * spec.size() * spec.size()];
    if (seed != 0) {
      java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
      for (int i = 0; i < img.length; i++) {
        img[i] = r.nextInt(spec.levels());
      }
    }
    return img;
  }

  private static ModelSpec draw(Source source, SpecBounds b, UpscaleType type) {
    ModelKind kind = b.kinds().get(source.drawInt(0, b.kinds().size() - 1));
    int c = b.channels().get(source.drawInt(0, b.channels().size() - 1));
    // Levels skewed to the small end (a cube of a uniform draw) but reaching 256.
    double u = source.drawInt(0, 1000) / 1000.0;
    int levels = b.minLevels() + (int) Math.round((b.maxLevels() - b.minLevels()) * u * u * u);
    int size, base;
    if (kind == ModelKind.RASTER) {
      int lo = Math.max(b.minSize(), b.minBase());
      if (lo > b.maxSize()) {
        throw new IllegalArgumentException("no raster size between " + lo + " and " + b.maxSize());
      }
      size = source.drawInt(lo, b.maxSize());
      base = size;
    } else {
      List<Integer> upscalings = new ArrayList<>();
      for (int s = 1; (1 << s) <= b.maxSize(); s++) {
        if (baseRange(b, s)[0] <= baseRange(b, s)[1]) {
          upscalings.add(s);
        }
      }
      if (upscalings.isEmpty()) {
        throw new IllegalArgumentException("no multiscale size between " + b.minSize() + " and " + b.maxSize());
      }
      int s = upscalings.get(source.drawInt(0, upscalings.size() - 1));
      int[] range = baseRange(b, s);
      base = source.drawInt(range[0], range[1]);
      size = base << s;
    }
    int side = base;
    int layers = source.drawInt(1, b.maxLayers());
    int filters = source.drawInt(c, b.maxFilters());
    List<Integer> kernels = b.kernels().stream().filter(k -> k % 2 == 1 && k / 2 <= side).toList();
    if (kernels.isEmpty()) {
      throw new IllegalArgumentException("no kernel of " + b.kernels() + " fits a " + side + "x" + side + " image");
    }
    int kernel = kernels.get(source.drawInt(0, kernels.size() - 1));
    ImmutableModelSpec.Builder spec =
        ModelSpec.builder().name("Generated").kind(kind).channels(c).levels(levels).size(size).base(base)
            .gated(new GatedSpec(layers, filters, kernel));
    if (kind == ModelKind.MULTISCALE) {
      int upFilters = source.drawInt(c, b.maxFilters());
      int blocks = source.drawInt(0, b.maxBlocks());
      int head = source.drawInt(1, b.maxHeadLayers());
      int patch = 0;
      if (type == null) {
        type = b.upscaleTypes().get(source.drawInt(0, b.upscaleTypes().size() - 1));
      }
      if (type == UpscaleType.B) {
        List<Integer> divisors = new ArrayList<>();
        for (int m = 1; m <= base; m++) {
          if (base % m == 0) {
            divisors.add(m);
          }
        }
        patch = divisors.get(source.drawInt(0, divisors.size() - 1));
      }
      spec.upscaling(new UpscaleSpec(upFilters, blocks, head, type, patch));
    }
    int cond = source.drawInt(0, b.conditioning().size());
    if (cond > 0) {
      spec.addConditioning(b.conditioning().get(cond - 1));
    }
    return spec.build();
  }

  /** Bases b with minSize <= b·2^s <= maxSize. */
  private static int[] baseRange(SpecBounds b, int s) {
    int lo = Math.max(b.minBase(), (b.minSize() + (1 << s) - 1) >> s);
    return new int[] {lo, b.maxSize() >> s};
  }

  /** One-step simpler specs, simplest first: for frameworks that shrink values (see {@link Gen#shrink}). */
  public static Stream<ModelSpec> smaller(ModelSpec s) {
    List<Optional<ModelSpec>> out = new ArrayList<>();
    GatedSpec g = s.gated();
    if (!s.conditioning().isEmpty()) {
      out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), g, s.upscaling().orElse(null), List.of()));
    }
    if (s.channels() == 3) {
      out.add(rebuild(s, 1, s.levels(), s.size(), s.base(), g, s.upscaling().orElse(null), s.conditioning()));
    }
    if (s.levels() > 2) {
      out.add(rebuild(s, s.channels(), 2, s.size(), s.base(), g, s.upscaling().orElse(null), s.conditioning()));
      out.add(rebuild(s, s.channels(), (s.levels() + 2) / 2, s.size(), s.base(), g, s.upscaling().orElse(null), s.conditioning()));
    }
    if (s.kind() == ModelKind.RASTER && s.size() > 1) {
      out.add(rebuild(s, s.channels(), s.levels(), s.size() - 1, s.size() - 1, g, null, s.conditioning()));
    }
    if (s.kind() == ModelKind.MULTISCALE) {
      if (s.upscalings() > 1) {
        out.add(rebuild(s, s.channels(), s.levels(), s.size() / 2, s.base(), g, s.upscaling().get(), s.conditioning()));
      }
      if (s.base() > 1) {
        UpscaleSpec u0 = s.upscaling().get();
        UpscaleSpec fitted = u0.type() == UpscaleType.B && (s.base() - 1) % u0.patch() != 0
            ? new UpscaleSpec(u0.filters(), u0.blocks(), u0.headLayers(), UpscaleType.B, 1) : u0;
        out.add(rebuild(s, s.channels(), s.levels(), s.size() / s.base() * (s.base() - 1), s.base() - 1, g, fitted, s.conditioning()));
      }
      UpscaleSpec u = s.upscaling().get();
      if (u.type() == UpscaleType.B) {
        out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), g, new UpscaleSpec(u.filters(), u.blocks(), u.headLayers(), UpscaleType.A, 0), s.conditioning()));
        if (u.patch() > 1) {
          out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), g, new UpscaleSpec(u.filters(), u.blocks(), u.headLayers(), UpscaleType.B, 1), s.conditioning()));
        }
      }
      if (u.blocks() > 0) {
        out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), g, new UpscaleSpec(u.filters(), u.blocks() - 1, u.headLayers(), u.type(), u.patch()), s.conditioning()));
      }
      if (u.headLayers() > 1) {
        out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), g, new UpscaleSpec(u.filters(), u.blocks(), u.headLayers() - 1, u.type(), u.patch()), s.conditioning()));
      }
      if (u.filters() > s.channels()) {
        out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), g, new UpscaleSpec(s.channels(), u.blocks(), u.headLayers(), u.type(), u.patch()), s.conditioning()));
      }
    }
    if (g.layers() > 1) {
      out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), new GatedSpec(g.layers() - 1, g.filters(), g.kernel()), s.upscaling().orElse(null), s.conditioning()));
    }
    if (g.filters() > s.channels()) {
      out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), new GatedSpec(g.layers(), s.channels(), g.kernel()), s.upscaling().orElse(null), s.conditioning()));
      out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), new GatedSpec(g.layers(), g.filters() - 1, g.kernel()), s.upscaling().orElse(null), s.conditioning()));
    }
    if (g.kernel() > 1) {
      out.add(rebuild(s, s.channels(), s.levels(), s.size(), s.base(), new GatedSpec(g.layers(), g.filters(), g.kernel() - 2), s.upscaling().orElse(null), s.conditioning()));
    }
    return out.stream().flatMap(Optional::stream).filter(x -> !x.equals(s)).distinct();
  }

  private static Optional<ModelSpec> rebuild(
      ModelSpec s, int c, int levels, int size, int base, GatedSpec g, UpscaleSpec up, List<ConditioningSpec> cond) {
    try {
      ImmutableModelSpec.Builder b =
          ModelSpec.builder().name(s.name()).kind(s.kind()).channels(c).levels(levels).size(size).base(base)
              .gated(new GatedSpec(g.layers(), Math.max(g.filters(), c), g.kernel())).addAllConditioning(cond);
      if (up != null) {
        b.upscaling(new UpscaleSpec(Math.max(up.filters(), c), up.blocks(), up.headLayers(), up.type(), up.patch()));
      }
      return Optional.of(b.build());
    } catch (InvalidModelException e) {
      return Optional.empty(); // e.g. a kernel too large for the smaller side: not a candidate
    }
  }
}
