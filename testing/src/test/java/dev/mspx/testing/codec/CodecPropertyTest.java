package dev.mspx.testing.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuVectorBackend;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import dev.mspx.core.codec.ImageCodec;
import dev.mspx.testing.gen.Gen;
import dev.mspx.testing.gen.ModelGens;
import dev.mspx.testing.gen.QuickTheoriesGens;
import dev.mspx.testing.gen.SpecBounds;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The codec round-trips every image of every model: random unconditional specs of the kit's tiny box
 * (raster and multiscale, grey and RGB, 2 to 256 levels), random weights, one to five random images
 * (a random image costs the most: nothing in it is predictable), random batch and raster mode.
 */
class CodecPropertyTest {

  /** One example: a spec, its weights' seed, the images, and how to code them. */
  record Case(ModelSpec spec, long weights, List<int[]> images, int batch, Sampler.RasterMode raster) {
    @Override
    public String toString() {
      return spec + ", weights seed " + weights + ", " + images.size() + " image(s), batch " + batch + ", raster " + raster;
    }
  }

  static Gen<Case> cases() {
    Gen<ModelSpec> specs = ModelGens.specs(SpecBounds.tiny().withConditioning());
    return specs.flatMap(spec -> source -> {
      long weights = Gen.seeds().generate(source);
      int count = source.drawInt(1, 5);
      List<int[]> images = Gen.listOf(ModelGens.seededImages(spec), count).generate(source);
      int batch = source.drawInt(1, count);
      Sampler.RasterMode raster = Gen.oneOf(Sampler.RasterMode.values()).generate(source);
      return new Case(spec, weights, images, batch, raster);
    });
  }

  @Test
  void everyImageRoundTrips() {
    qt().withFixedSeed(20261201L).withExamples(40)
        .forAll(QuickTheoriesGens.of(cases()))
        .checkAssert(c -> {
          ModelSpec spec = c.spec();
          int per = spec.channels() * spec.size() * spec.size();
          byte[] pixels = new byte[c.images().size() * per];
          for (int i = 0; i < c.images().size(); i++) {
            for (int k = 0; k < per; k++) {
              pixels[i * per + k] = (byte) c.images().get(i)[k];
            }
          }
          ImageCodec.Images images = new ImageCodec.Images(c.images().size(), spec.channels(), spec.size(), spec.size(), pixels, List.of());
          try (Model model = Model.create(PlanBuilder.build(spec), BackendModule.of("cpu-vector", () -> new CpuVectorBackend("cpu-vector", 2)), c.weights())) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageCodec.compress(model, images, new ImageCodec.Settings(c.batch(), c.raster()), out, Progress.NONE);
            ImageCodec.Images back = ImageCodec.decompress(model, out.toByteArray(), "example", Progress.NONE);
            assertEquals(images.count(), back.count());
            assertArrayEquals(pixels, back.pixels(), c::toString);
          }
        });
  }
}
