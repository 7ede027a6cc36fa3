package dev.mspx.samples.bench;

import dev.mspx.api.BackendSelection;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import dev.mspx.core.codec.ImageCodec;
import dev.mspx.core.data.FashionMnist;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import dev.mspx.core.data.PhotoTiles;
import dev.mspx.core.data.Splits;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx bench codec}: the model as a lossless codec on a test split, against the lossless
 * formats of {@code javax.imageio}: bytes per image of the mspx file (whole file over the images) against
 * the model's own bits/dim from the scorer, against PNG (the JDK's writer as it comes, and at its
 * strongest deflate), TIFF with deflate and, for grey images, GIF; encode and decode time per image;
 * the decoded images checked against the originals.
 */
@Command(name = "codec", description = "The model as a lossless codec on a test split: bytes per image against its bits/dim, PNG and the other javax.imageio lossless formats; encode/decode time.")
public final class CodecBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "An unconditional model's checkpoint.")
  Path checkpoint;

  @Option(names = "--data", description = "Fashion-MNIST folder or photo folder (default: the model's); its test split is coded.")
  Path data;

  @Option(names = "--limit", description = "Code the first N test images (default: all).")
  Integer limit;

  @Option(names = "--batch", defaultValue = "32", description = "Images coded together (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--raster", defaultValue = "cached", description = "cached or full (default: ${DEFAULT-VALUE}).")
  String raster;

  @Option(names = "--backend", description = "cpu, cudnn or auto.")
  String backend;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Sampler.RasterMode mode = raster.equals("full") ? Sampler.RasterMode.FULL : Sampler.RasterMode.CACHED;
    BackendModule module = BackendModule.select(backend != null ? backend : System.getProperty(BackendSelection.PROPERTY, "auto"));
    try (Model model = Model.load(checkpoint, module)) {
      ModelSpec m = model.spec();
      Path source = data != null ? data : m.channels() == 3 ? PhotoTiles.DEFAULT_DIR : FashionMnist.DEFAULT_DIR;
      try (Splits splits = ImageSets.open(source, ImageSets.defaultCacheDir(), m.channels(), m.size())) {
        ImageSet test = splits.test();
        int n = limit == null ? test.size() : Math.min(limit, test.size());
        int per = test.imageBytes();
        byte[] pixels;
        try (HostMemory host = HostMemory.create("bench-codec"); HostTensor view = test.view(0, n, host)) {
          pixels = view.toByteArray();
        }
        double modelBpd = model.evaluate(test, n, 32, null, Progress.NONE).bitsPerDim();
        ImageCodec.Images images = new ImageCodec.Images(n, m.channels(), m.size(), m.size(), pixels, List.of());
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        ImageCodec.Report report = ImageCodec.compress(model, images, new ImageCodec.Settings(batch, mode), file, Progress.NONE);
        long t0 = System.nanoTime();
        ImageCodec.Images back = ImageCodec.decompress(model, file.toByteArray(), "bench file", Progress.NONE);
        double decodeSeconds = (System.nanoTime() - t0) / 1e9;
        if (!Arrays.equals(pixels, back.pixels())) {
          throw new IllegalStateException("the decoded images differ from the originals");
        }
        long png = 0, pngBest = 0, tiff = 0, gif = 0;
        for (int i = 0; i < n; i++) {
          BufferedImage img = image(pixels, i * per, m.channels(), m.size());
          png += size(img, "png", null);
          pngBest += size(img, "png", 0f);
          tiff += size(img, "tiff", -1f);
          gif += m.channels() == 1 ? size(img, "gif", null) : 0;
        }
        double mspxPerImage = report.bytes() / (double) n;
        double modelPerImage = modelBpd * m.dimensions() / 8;
        out.printf(Locale.ROOT, "%s, %d test images %dx%dx%d from %s, backend %s, batch %d, raster %s%n", model.name(), n, m.channels(), m.size(), m.size(),
            source, model.backend().name(), batch, mode.name().toLowerCase(Locale.ROOT));
        out.printf(Locale.ROOT, "model (scorer): %.4f bits/dim = %.1f bytes per image%n", modelBpd, modelPerImage);
        out.printf(Locale.ROOT, "mspx file:      %.4f bits/dim = %.1f bytes per image (%+.2f%% against the model), %,d bytes in all%n",
            report.bitsPerDim(), mspxPerImage, 100 * (mspxPerImage / modelPerImage - 1), report.bytes());
        out.printf(Locale.ROOT, "raw:            %d bytes per image%n", per);
        out.printf(Locale.ROOT, "PNG (JDK):      %.1f bytes per image (mspx is %.2fx smaller)%n", png / (double) n, png / (double) report.bytes());
        out.printf(Locale.ROOT, "PNG (deflate 9): %.1f bytes per image (mspx is %.2fx smaller)%n", pngBest / (double) n, pngBest / (double) report.bytes());
        out.printf(Locale.ROOT, "TIFF (deflate): %.1f bytes per image (mspx is %.2fx smaller)%n", tiff / (double) n, tiff / (double) report.bytes());
        if (m.channels() == 1) {
          out.printf(Locale.ROOT, "GIF:            %.1f bytes per image (mspx is %.2fx smaller)%n", gif / (double) n, gif / (double) report.bytes());
        }
        out.printf(Locale.ROOT, "time per image: encode %.1f ms, decode %.1f ms; decoded images equal the originals%n",
            1000 * report.seconds() / n, 1000 * decodeSeconds / n);
      }
    }
    return 0;
  }

  private static BufferedImage image(byte[] pixels, int offset, int channels, int size) {
    BufferedImage img = new BufferedImage(size, size, channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
    int plane = size * size;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        for (int c = 0; c < channels; c++) {
          img.getRaster().setSample(x, y, c, pixels[offset + c * plane + y * size + x] & 0xFF);
        }
      }
    }
    return img;
  }

  /**
   * Bytes of {@code img} in {@code format}: {@code quality} null for the writer's defaults, 0 for PNG's
   * strongest deflate, -1 for TIFF with deflate.
   */
  private static long size(BufferedImage img, String format, Float quality) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (quality != null && param.canWriteCompressed()) {
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        if (quality < 0) {
          param.setCompressionType("Deflate");
        } else {
          param.setCompressionQuality(quality);
        }
      }
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return bytes.size();
  }
}
