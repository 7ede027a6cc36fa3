package dev.mspx.api.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.immutables.value.Value;

/**
 * A validated model declaration: what {@link MultiscaleModel} or {@link RasterModel} say, as a plain
 * value. The annotation processor builds one from the annotation; tests and tools build them at run
 * time with {@link #builder()} or {@link #multiscale}/{@link #raster}. Building an invalid one throws
 * {@link InvalidModelException} listing every broken rule ({@link #violations}).
 */
@Value.Immutable
@Value.Style(visibility = Value.Style.ImplementationVisibility.PUBLIC, defaults = @Value.Immutable(copy = false))
public abstract class ModelSpec {

  ModelSpec() {}

  /** The declaring type's simple name, e.g. {@code Fashion28}. */
  public abstract String name();

  public abstract ModelKind kind();

  public abstract int channels();

  @Value.Default
  public int levels() {
    return 256;
  }

  public abstract int size();

  /** The base side b; for a raster model, the full size. */
  @Value.Default
  public int base() {
    return size();
  }

  /** The base gated PixelCNN of a multiscale model, or the whole raster model. */
  public abstract GatedSpec gated();

  /** Present for a multiscale model only. */
  public abstract Optional<UpscaleSpec> upscaling();

  public abstract List<ConditioningSpec> conditioning();

  /** Sub-pixels per image, {@code C·H·W}: what "per dimension" divides by. */
  public final long dimensions() {
    return (long) channels() * size() * size();
  }

  /**
   * Bits per dimension of {@code nats} summed over {@code images} images: {@code nats / (images·C·H·W·ln 2)},
   * the paper's measure. The one place this arithmetic is written.
   */
  public final double bitsPerDim(double nats, long images) {
    return nats / ((double) images * dimensions() * Math.log(2));
  }

  /**
   * The name users and checkpoints call the model by: the declaration's name in lower case with a
   * hyphen before each capital that follows a lower-case letter or a digit ({@code Fashion28Raster}
   * is {@code fashion28-raster}, {@code MyFaces} is {@code my-faces}); a nested declaration's
   * {@code Outer_Inner} is {@code outer-inner}.
   */
  public final String catalogName() {
    return catalogName(name());
  }

  /** {@link #catalogName()} of a declaration name. */
  public static String catalogName(String declaration) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < declaration.length(); i++) {
      char ch = declaration.charAt(i);
      if (ch == '_' || ch == '$' || ch == '.') {
        b.append('-');
        continue;
      }
      if (Character.isUpperCase(ch) && i > 0) {
        char prev = declaration.charAt(i - 1);
        if (Character.isLowerCase(prev) || Character.isDigit(prev)) {
          b.append('-');
        }
      }
      b.append(Character.toLowerCase(ch));
    }
    return b.toString();
  }

  public static ImmutableModelSpec.Builder builder() {
    return ImmutableModelSpec.builder();
  }

  public static ModelSpec multiscale(
      String name, int channels, int levels, int size, int base, GatedSpec baseNet, UpscaleSpec up) {
    return builder()
        .name(name)
        .kind(ModelKind.MULTISCALE)
        .channels(channels)
        .levels(levels)
        .size(size)
        .base(base)
        .gated(baseNet)
        .upscaling(up)
        .build();
  }

  public static ModelSpec raster(String name, int channels, int levels, int size, GatedSpec net) {
    return builder()
        .name(name)
        .kind(ModelKind.RASTER)
        .channels(channels)
        .levels(levels)
        .size(size)
        .gated(net)
        .build();
  }

  @Value.Check
  protected void check() {
    List<SpecViolation> v = violations(this);
    if (!v.isEmpty()) {
      throw new InvalidModelException(name(), v);
    }
  }

  /** Number of upscalings S: size = base·2^S. */
  public int upscalings() {
    return Integer.numberOfTrailingZeros(size() / base());
  }

  /** The pyramid {@code b, 2b, …, size}. */
  public List<Integer> pyramid() {
    List<Integer> sizes = new ArrayList<>();
    for (int r = base(); r <= size(); r *= 2) {
      sizes.add(r);
    }
    return sizes;
  }

  /** The conditioning of a kind, if declared (at most one of each is wired). */
  public List<ConditioningSpec> conditioning(ConditioningKind kind) {
    return conditioning().stream().filter(c -> c.kind() == kind).toList();
  }

  /**
   * A stable fingerprint of everything that shapes the parameters: a checkpoint made for one spec is
   * refused by another.
   */
  public String fingerprint() {
    String canonical =
        kind()
            + "|c="
            + channels()
            + "|L="
            + levels()
            + "|size="
            + size()
            + "|base="
            + base()
            + "|"
            + gated()
            + "|"
            + upscaling().map(Object::toString).orElse("-")
            + "|"
            + conditioning();
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is part of every JDK", e);
    }
  }

  /** Every rule of {@link SpecError} that the spec's numbers break, with the attribute it concerns. */
  public static List<SpecViolation> violations(ModelSpec s) {
    List<SpecViolation> out = new ArrayList<>();
    boolean multiscale = s.kind() == ModelKind.MULTISCALE;
    String net = multiscale ? "baseNet" : "net";
    if (s.channels() != 1 && s.channels() != 3) {
      out.add(SpecViolation.of(SpecError.CHANNELS, "channels", s.channels()));
    }
    if (s.levels() < 2 || s.levels() > 256) {
      out.add(SpecViolation.of(SpecError.LEVELS, "levels", s.levels()));
    }
    positive(out, "size", s.size());
    positive(out, net + ".layers", s.gated().layers());
    positive(out, net + ".filters", s.gated().filters());
    positive(out, net + ".kernel", s.gated().kernel());
    // Feature maps are split among the colours in contiguous blocks: each colour needs at least one.
    enoughFilters(out, net + ".filters", s.gated().filters(), s.channels());
    s.upscaling().ifPresent(up -> enoughFilters(out, "upscaling.filters", up.filters(), s.channels()));
    if (multiscale) {
      positive(out, "base", s.base());
      if (s.base() >= 1 && s.size() >= 1) {
        int ratio = s.size() / s.base();
        if (s.size() % s.base() != 0 || ratio < 2 || Integer.bitCount(ratio) != 1) {
          out.add(
              SpecViolation.of(
                  SpecError.SIZE_NOT_HALVING, "size", s.size(), s.base(), s.base(), validSizes(s.base())));
        }
      }
      s.upscaling()
          .ifPresentOrElse(
              up -> upscalingRules(out, s, up),
              () -> out.add(SpecViolation.of(SpecError.NOT_POSITIVE, "upscaling.filters", "upscaling.filters", 0)));
    } else if (s.base() != s.size()) {
      out.add(SpecViolation.of(SpecError.SIZE_NOT_HALVING, "size", s.size(), s.base(), s.base(), "a raster model has no base"));
    }
    int k = s.gated().kernel();
    int side = multiscale ? s.base() : s.size();
    if (k >= 1 && k % 2 == 0) {
      out.add(SpecViolation.of(SpecError.KERNEL_EVEN, net + ".kernel", k));
    } else if (k >= 1 && side >= 1 && k / 2 > side) {
      out.add(SpecViolation.of(SpecError.KERNEL_TOO_LARGE, net + ".kernel", k, side, side, 2 * side + 1));
    }
    Set<String> seen = new HashSet<>();
    for (ConditioningSpec c : s.conditioning()) {
      if (!seen.add(c.type())) {
        out.add(SpecViolation.of(SpecError.CONDITIONING_DUPLICATE, "conditioning", c.type()));
      }
      if (c.width() < 1) {
        out.add(SpecViolation.of(SpecError.CONDITIONING_WIDTH, "conditioning", c.type(), c.width()));
      }
      if (c.kind() == ConditioningKind.SPATIAL) {
        out.add(SpecViolation.of(SpecError.CONDITIONING_SPATIAL, "conditioning", c.type()));
      }
    }
    return out;
  }

  private static void upscalingRules(List<SpecViolation> out, ModelSpec s, UpscaleSpec up) {
    positive(out, "upscaling.filters", up.filters());
    if (up.blocks() < 0) {
      out.add(SpecViolation.of(SpecError.NOT_POSITIVE, "upscaling.blocks", "upscaling.blocks", up.blocks()));
    }
    positive(out, "upscaling.headLayers", up.headLayers());
    if (up.type() == UpscaleType.A && up.patch() != 0) {
      out.add(SpecViolation.of(SpecError.PATCH_FOR_TYPE_A, "upscaling.patch", up.patch()));
    }
    if (up.type() == UpscaleType.B) {
      if (up.patch() < 1) {
        out.add(SpecViolation.of(SpecError.PATCH_MISSING, "upscaling.patch", s.base()));
      } else if (s.base() >= 1 && s.base() % up.patch() != 0) {
        out.add(SpecViolation.of(SpecError.PATCH_NOT_DIVIDING, "upscaling.patch", up.patch(), s.base()));
      }
    }
  }

  private static void enoughFilters(List<SpecViolation> out, String attribute, int filters, int channels) {
    if (filters >= 1 && filters < channels) {
      out.add(SpecViolation.of(SpecError.FILTERS_BELOW_CHANNELS, attribute, attribute, filters, channels, channels));
    }
  }

  private static void positive(List<SpecViolation> out, String attribute, int value) {
    if (value < 1) {
      out.add(SpecViolation.of(SpecError.NOT_POSITIVE, attribute, attribute, value));
    }
  }

  private static String validSizes(int base) {
    StringBuilder b = new StringBuilder();
    for (int k = 1; k <= 4; k++) {
      b.append(k > 1 ? ", " : "").append(base << k);
    }
    return b.append(", …").toString();
  }
}
