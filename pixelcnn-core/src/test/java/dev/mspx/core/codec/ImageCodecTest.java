package dev.mspx.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Backend;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The codec is lossless on whole data sets, deterministic across runs and threads, tied to the
 * numerics of the backend that coded (refusing another), and refuses every corrupt or truncated file.
 * (The property test over random specs and images is {@code testing}'s {@code CodecPropertyTest}.)
 */
class ImageCodecTest {

  static final Supplier<Backend> REFERENCE = CpuReferenceBackend::new;
  static final Supplier<Backend> VECTOR = () -> new CpuVectorBackend("cpu-vector", 2);

  static ModelSpec greyMultiscale() {
    return ModelSpec.multiscale("CodecGrey", 1, 256, 8, 2, new GatedSpec(2, 8, 3), UpscaleSpec.typeA(8, 1));
  }

  static ModelSpec rgbMultiscale() {
    return ModelSpec.multiscale("CodecRgb", 3, 16, 8, 2, new GatedSpec(2, 6, 3), UpscaleSpec.typeA(6, 1));
  }

  static ModelSpec greyRaster() {
    return ModelSpec.raster("CodecRaster", 1, 256, 6, new GatedSpec(2, 8, 3));
  }

  /** A model of {@code spec} with weights of twice the initialiser's gain, so its distributions are far from uniform. */
  static Model model(ModelSpec spec, Supplier<Backend> kernels, String name, long seed) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    Model m = Model.create(plan, BackendModule.of(name, kernels), seed);
    SplittableRandom r = new SplittableRandom(seed + 100);
    for (ParameterSpec p : plan.parameters()) {
      float[] v = m.parameters().read(p.name());
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (v[i] * 2 + (r.nextDouble() - 0.5) * 0.01);
      }
      m.parameters().write(p.name(), v);
    }
    return m;
  }

  /**
   * A small "test split": {@code count} images with structure a model can exploit and noise it cannot
   * (smooth ramps, flat areas, random sub-pixels), every level of the model's range present.
   */
  static ImageCodec.Images split(ModelSpec spec, int count, long seed) {
    int c = spec.channels(), h = spec.size(), per = c * h * h, top = spec.levels() - 1;
    byte[] pixels = new byte[count * per];
    SplittableRandom r = new SplittableRandom(seed);
    List<String> names = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      int kind = b % 4;
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < h; x++) {
            int v = switch (kind) {
              case 0 -> r.nextInt(spec.levels());
              case 1 -> (x + y) * top / (2 * h - 2);
              case 2 -> (x < h / 2) ? 0 : top;
              default -> Math.min(top, Math.max(0, top / 2 + r.nextInt(5) - 2));
            };
            pixels[b * per + (ch * h + y) * h + x] = (byte) v;
          }
        }
      }
      names.add(String.format("image-%03d.png", b));
    }
    pixels[0] = (byte) top; // the top level is in every split
    return new ImageCodec.Images(count, c, h, h, pixels, names);
  }

  static byte[] compress(Model model, ImageCodec.Images images, int batch, Sampler.RasterMode raster) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageCodec.compress(model, images, new ImageCodec.Settings(batch, raster), out, Progress.NONE);
    return out.toByteArray();
  }

  static Stream<Arguments> roundTrips() {
    return Stream.of(
        Arguments.of(greyMultiscale(), "reference", REFERENCE, Sampler.RasterMode.FULL),
        Arguments.of(greyMultiscale(), "vector", VECTOR, Sampler.RasterMode.CACHED),
        Arguments.of(rgbMultiscale(), "vector", VECTOR, Sampler.RasterMode.FULL),
        Arguments.of(rgbMultiscale(), "reference", REFERENCE, Sampler.RasterMode.CACHED),
        Arguments.of(greyRaster(), "vector", VECTOR, Sampler.RasterMode.CACHED));
  }

  /**
   * Every image of a 30-image split comes back exactly, in batches of 8 (so the last batch is partial),
   * with its name; and the file's size is the model's {@code -log2 p} within the stated overheads.
   */
  @ParameterizedTest(name = "{0} on the {1} kernels, raster part {3}")
  @MethodSource("roundTrips")
  void aWholeSplitRoundTripsExactly(ModelSpec spec, String kernels, Supplier<Backend> backend, Sampler.RasterMode raster) {
    ImageCodec.Images split = split(spec, 30, 7);
    try (Model model = model(spec, backend, kernels, 3)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageCodec.Report report = ImageCodec.compress(model, split, new ImageCodec.Settings(8, raster), out, Progress.NONE);
      ImageCodec.Images back = ImageCodec.decompress(model, out.toByteArray(), "test file", Progress.NONE);
      assertArrayEquals(split.pixels(), back.pixels());
      assertEquals(split.names(), back.names());
      assertEquals(out.size(), report.bytes());
      // The coded stream costs what the quantised tables say, the tables at most 0.0056 bits per
      // sub-pixel more than the model; the rest is the header (names, digests) and 4 batches' framing.
      double slack = split.count() * spec.dimensions() * -Math.log(1 - (double) spec.levels() / Frequencies.TOTAL) / Math.log(2);
      // (Below the model's is possible: the most probable level gets the rounding's remainder.)
      assertTrue(report.codedBits() <= report.idealBits() + slack + 1e-6,
          "coded " + report.codedBits() + " bits, model " + report.idealBits() + ", slack " + slack);
      assertTrue(report.bytes() * 8 <= report.codedBits() + 8 * (400 + 4 * 17), report.bytes() + " bytes for " + report.codedBits() + " bits");
    }
  }

  /** The model's own bits from the codec equal the scorer's, which {@code LikelihoodTest} ties to the sampler. */
  @Test
  void theCodecsModelBitsAreTheScorersNats() {
    ModelSpec spec = greyMultiscale();
    ImageCodec.Images split = split(spec, 6, 2);
    try (Model model = model(spec, REFERENCE, "reference", 5);
        dev.mspx.core.data.ImageSet set = dev.mspx.core.data.ImageSets.fromBytes(1, 8, 8, split.pixels(), null, 0, "test")) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageCodec.Report report = ImageCodec.compress(model, split, new ImageCodec.Settings(6, Sampler.RasterMode.FULL), out, Progress.NONE);
      double scored = model.evaluate(set).nats() / Math.log(2);
      assertEquals(scored, report.idealBits(), 1e-3 * scored, "bits from the codec's logits against the scorer's");
    }
  }

  @Test
  void codingIsDeterministicAcrossRunsAndThreads() {
    ModelSpec spec = rgbMultiscale();
    ImageCodec.Images split = split(spec, 9, 4);
    byte[] first, again, oneThread;
    try (Model model = model(spec, VECTOR, "cpu-vector", 8)) {
      first = compress(model, split, 4, Sampler.RasterMode.CACHED);
      again = compress(model, split, 4, Sampler.RasterMode.CACHED);
    }
    try (Model model = model(spec, () -> new CpuVectorBackend("cpu-vector", 1), "cpu-vector", 8)) {
      oneThread = compress(model, split, 4, Sampler.RasterMode.CACHED);
      assertArrayEquals(split.pixels(), ImageCodec.decompress(model, first, "two-thread file", Progress.NONE).pixels());
    }
    assertArrayEquals(first, again, "two runs");
    assertArrayEquals(first, oneThread, "two threads and one");
  }

  /**
   * The two CPU kernel sets compute different float32 logits (float32 FMA chains against double
   * accumulation). Quantised to tables most sub-pixels still agree, but on a model of some depth and
   * width not all: each kernel set decodes its own files, and a file of one is refused by the other
   * before any decoding, naming both backends. (On the tiny models above the probe's tables happen to
   * agree; such a decode is attempted and its result checked against the batch CRCs.)
   */
  @Test
  void aFileOfOneKernelSetIsRefusedByTheOther() {
    ModelSpec spec = ModelSpec.multiscale("CodecDeep", 1, 256, 16, 4, new GatedSpec(4, 32, 5), UpscaleSpec.typeA(32, 2));
    ImageCodec.Images split = split(spec, 4, 9);
    try (Model vector = model(spec, VECTOR, "cpu-vector", 1); Model reference = model(spec, REFERENCE, "cpu-reference", 1)) {
      byte[] fromVector = compress(vector, split, 4, Sampler.RasterMode.FULL);
      byte[] fromReference = compress(reference, split, 4, Sampler.RasterMode.FULL);
      assertArrayEquals(split.pixels(), ImageCodec.decompress(vector, fromVector, "v", Progress.NONE).pixels());
      assertArrayEquals(split.pixels(), ImageCodec.decompress(reference, fromReference, "r", Progress.NONE).pixels());
      CodecException e = assertThrows(CodecException.class, () -> ImageCodec.decompress(reference, fromVector, "v.mspxz", Progress.NONE));
      assertTrue(e.getMessage().startsWith("v.mspxz was compressed on backend cpu-vector, whose float32 logits this backend (cpu-reference)"
          + " does not reproduce bit for bit"), e.getMessage());
    }
  }

  @Test
  void anotherModelOrOtherWeightsAreRefused() {
    ImageCodec.Images split = split(greyMultiscale(), 2, 1);
    try (Model model = model(greyMultiscale(), VECTOR, "cpu-vector", 1);
        Model retrained = model(greyMultiscale(), VECTOR, "cpu-vector", 2);
        Model other = model(ModelSpec.multiscale("OtherGrey", 1, 256, 8, 2, new GatedSpec(2, 8, 3), UpscaleSpec.typeA(8, 1)), VECTOR, "cpu-vector", 1)) {
      byte[] file = compress(model, split, 2, Sampler.RasterMode.FULL);
      CodecException weights = assertThrows(CodecException.class, () -> ImageCodec.decompress(retrained, file, "f", Progress.NONE));
      assertTrue(weights.getMessage().startsWith("f was compressed with other weights of model codec-grey"), weights.getMessage());
      CodecException name = assertThrows(CodecException.class, () -> ImageCodec.decompress(other, file, "f", Progress.NONE));
      assertTrue(name.getMessage().startsWith("f was compressed with model codec-grey"), name.getMessage());
    }
  }

  /**
   * Every single-byte change of a small file (every position, every other value) and every truncation
   * is refused before decoding; and a change that also fixes the file's checksum (as if it had
   * collided) is still never decoded into images: the range decoder leaves its range, or the batch's
   * pixel checksum fails.
   */
  @Test
  void everyCorruptionIsRefused() {
    ModelSpec spec = ModelSpec.multiscale("CodecSmall", 1, 16, 4, 2, new GatedSpec(2, 4, 3), UpscaleSpec.typeA(4, 1));
    ImageCodec.Images images = split(spec, 2, 3);
    try (Model model = model(spec, VECTOR, "cpu-vector", 6)) {
      byte[] file = compress(model, images, 2, Sampler.RasterMode.FULL);
      assertArrayEquals(images.pixels(), ImageCodec.decompress(model, file, "ok", Progress.NONE).pixels());
      int refused = 0;
      for (int at = 0; at < file.length; at++) {
        for (int v = 0; v < 256; v++) {
          if (v == (file[at] & 0xFF)) {
            continue;
          }
          byte[] bad = file.clone();
          bad[at] = (byte) v;
          CodecException e = assertThrows(CodecException.class, () -> ImageCodec.decompress(model, bad, "bad", Progress.NONE),
              "byte " + at + " set to " + v);
          assertTrue(at < ImageCodec.MAGIC.length ? e.getMessage().contains("not an mspx-compressed file") : e.getMessage().contains("corrupt or truncated"), e.getMessage());
          refused++;
        }
      }
      for (int length = 0; length < file.length; length++) {
        byte[] cut = java.util.Arrays.copyOf(file, length);
        assertThrows(CodecException.class, () -> ImageCodec.decompress(model, cut, "cut", Progress.NONE), "cut to " + length);
      }
      // Past the checksum: the coded streams changed and the CRC recomputed. Each batch stream is the
      // last field before the next batch (or the trailer), so change the bytes just before the trailer.
      ImageCodec.Header h = ImageCodec.header(file, "ok");
      int detected = 0, trials = 0;
      for (int at = h.bodyStart() + 12; at < file.length - 4; at++) {
        for (int v : new int[] {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
          if (v == (file[at] & 0xFF)) {
            continue;
          }
          byte[] bad = file.clone();
          bad[at] = (byte) v;
          byte[] crc = java.nio.ByteBuffer.allocate(4).putInt(ImageCodec.crc(java.util.Arrays.copyOf(bad, bad.length - 4))).array();
          System.arraycopy(crc, 0, bad, bad.length - 4, 4);
          trials++;
          try {
            ImageCodec.Images decoded = ImageCodec.decompress(model, bad, "collided", Progress.NONE);
            // A change the decoder never reads (the flushed tail) may decode to the same images: then it is not wrong.
            assertArrayEquals(images.pixels(), decoded.pixels(), "byte " + at + " = " + v + " decoded to other images");
          } catch (CodecException e) {
            detected++;
          }
        }
      }
      System.out.printf("every corruption refused: %d single-byte changes of a %d-byte file, %d truncations; past the checksum %d of %d changes detected, the rest decoded to the original%n",
          refused, file.length, file.length, detected, trials);
      assertTrue(detected > trials / 2, detected + " of " + trials);
    }
  }

  @Test
  void levelsAboveTheModelsAreRefusedByName() {
    ModelSpec spec = rgbMultiscale(); // 16 levels
    ImageCodec.Images images = split(spec, 2, 1);
    byte[] pixels = images.pixels().clone();
    pixels[3 * 64 + 5] = (byte) 200;
    ImageCodec.Images bad = new ImageCodec.Images(2, 3, 8, 8, pixels, images.names());
    try (Model model = model(spec, VECTOR, "cpu-vector", 1)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> compress(model, bad, 2, Sampler.RasterMode.FULL));
      assertEquals("image image-001.png has level 200 at (c=0, y=0, x=5) but model codec-rgb has 16 levels (0..15)", e.getMessage());
    }
  }
}
