package dev.mspx.core.codec;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.core.Model;
import dev.mspx.core.PlanRuntime;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Lossless image compression with a model: an exact likelihood is a compressor. Every sub-pixel is
 * range-coded ({@link RangeEncoder}) with the model's distribution for it, quantised to integer
 * frequencies by a fixed rule ({@link Frequencies}), in generation order. Encoder and decoder both run
 * the {@link Sampler}'s schedule with a {@link CodingChooser} in place of the draws, so decoding takes
 * the sampler's O(log N) network evaluations per image (every pixel of a group decoded from one
 * evaluation), and the encoder's logits are the decoder's by construction: the same code, the same
 * inputs, the same batch. Coded size ≈ the model's {@code -log2 p(x)}, plus at most 0.0056 bits per
 * sub-pixel of quantisation and a few bytes per batch.
 *
 * <p><b>When two machines agree.</b> The decoder must compute the encoder's float32 logits bit for
 * bit: the same checkpoint (its weights' digest is in the file), the same backend kernels (their
 * arithmetic: reference vs vector kernels, SIMD width), the same batch and raster mode (both in the
 * file). The file records a digest of the frequency tables that coding a fixed probe image produces on
 * the encoding machine; the decoder recomputes it first and refuses a machine whose numerics differ,
 * naming both backends. As a last line, each batch carries a CRC-32C of its pixels, checked after
 * decoding: a wrong decode is reported, never returned.
 *
 * <p><b>File format</b> (big-endian; version 1):
 *
 * <pre>
 *   magic      8 bytes  0x8A 'M' 'S' 'P' 'X' 'Z' '\r' '\n'
 *   version    u16      1
 *   model      UTF      catalog name (Java's modified UTF-8 with a u16 length, DataOutput.writeUTF)
 *   fingerprint UTF     the model spec's fingerprint
 *   weights    16 bytes SHA-256 (first half) of every parameter, plan order, float32 little-endian
 *   backend    UTF      the encoding backend's name (for messages)
 *   numerics   16 bytes SHA-256 (first half) of the frequency tables of the probe image
 *   raster     u8       0 full, 1 cached (how the base net's raster loop ran)
 *   batch      u32      images per coded batch
 *   freq bits  u8       16 (log2 of the table total)
 *   channels   u8, height u32, width u32, levels u16, count u32
 *   names      u32 length, then that many bytes: the file names, '\n'-separated, deflated (0: none)
 *   per batch  u32 images, u32 CRC-32C of the batch's pixels, u32 length, the range coder's bytes
 *   trailer    u32      CRC-32C of every byte before it
 * </pre>
 *
 * A file is checked before any decoding: magic, then the trailer's CRC (which catches every
 * single-byte change and every truncation), then version, model, weights and numerics.
 */
public final class ImageCodec {

  static final byte[] MAGIC = {(byte) 0x8A, 'M', 'S', 'P', 'X', 'Z', '\r', '\n'};

  public static final int VERSION = 1;

  /** Bytes of the SHA-256 digests kept in the file. */
  private static final int DIGEST = 16;

  private ImageCodec() {}

  /**
   * How to code: images per batch (a runtime of that batch codes them; the decoder uses the same) and
   * how the base net's raster loop runs ({@link Sampler.RasterMode}: cached is far faster, full keeps
   * every logit on the backend).
   */
  public record Settings(int batch, Sampler.RasterMode raster) {
    public Settings {
      if (batch < 1) {
        throw new IllegalArgumentException("the coding batch must be at least 1, got " + batch);
      }
    }
  }

  /**
   * Images to code or decoded: {@code pixels} is {@code uint8 [count, channels, height, width]}, image
   * after image; {@code names} one per image (file names) or empty.
   */
  public record Images(int count, int channels, int height, int width, byte[] pixels, List<String> names) {
    public Images {
      names = List.copyOf(names);
      if ((long) count * channels * height * width != pixels.length) {
        throw new IllegalArgumentException(count + " images of " + channels + "x" + height + "x" + width + " need "
            + (long) count * channels * height * width + " bytes, got " + pixels.length);
      }
      if (!names.isEmpty() && names.size() != count) {
        throw new IllegalArgumentException(names.size() + " names for " + count + " images");
      }
    }
  }

  /**
   * What compressing took.
   *
   * @param bytes the file's size
   * @param idealBits {@code -log2 p(x)} summed over the images, from the model's float logits
   * @param codedBits what the quantised tables give the same levels (an ideal coder's size)
   */
  public record Report(int images, long dimensions, long bytes, double idealBits, double codedBits, double seconds) {
    /** The file's bits per sub-pixel. */
    public double bitsPerDim() {
      return bytes * 8.0 / dimensions;
    }

    /** The model's own bits per sub-pixel on these images. */
    public double modelBitsPerDim() {
      return idealBits / dimensions;
    }
  }

  // --------------------------------------------------------------------------------------- compress

  /** Compresses {@code images} with {@code model}; returns the file's bytes in {@code out} and a report. */
  public static Report compress(Model model, Images images, Settings settings, ByteArrayOutputStream out, Progress progress) {
    long t0 = System.nanoTime();
    ModelSpec spec = model.spec();
    check(model, images);
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(file);
    double ideal = 0, coded = 0;
    try {
      d.write(MAGIC);
      d.writeShort(VERSION);
      d.writeUTF(model.name());
      d.writeUTF(spec.fingerprint());
      d.write(weightsDigest(model));
      d.writeUTF(model.backend().name());
      d.write(numerics(model, settings.raster()));
      d.writeByte(settings.raster() == Sampler.RasterMode.CACHED ? 1 : 0);
      d.writeInt(settings.batch());
      d.writeByte(Frequencies.TOTAL_BITS);
      d.writeByte(spec.channels());
      d.writeInt(spec.size());
      d.writeInt(spec.size());
      d.writeShort(spec.levels());
      d.writeInt(images.count());
      byte[] names = deflate(images.names());
      d.writeInt(names.length);
      d.write(names);
      int per = spec.channels() * spec.size() * spec.size();
      try (HostMemory host = HostMemory.create("codec")) {
        List<PlanRuntime> runtimes = new ArrayList<>();
        try {
          for (int from = 0; from < images.count(); from += settings.batch()) {
            int n = Math.min(settings.batch(), images.count() - from);
            byte[] batch = Arrays.copyOfRange(images.pixels(), from * per, (from + n) * per);
            PlanRuntime rt = runtime(model, n, runtimes);
            RangeEncoder encoder = new RangeEncoder();
            CodingChooser chooser = CodingChooser.encoder(model.plan(), n, batch, encoder, null);
            byte[] settled = run(rt, settings.raster(), chooser, host);
            if (!Arrays.equals(settled, batch)) {
              throw new IllegalStateException("the sampler's schedule did not settle the images it was given: a codec bug");
            }
            byte[] stream = encoder.finish();
            d.writeInt(n);
            d.writeInt(crc(batch));
            d.writeInt(stream.length);
            d.write(stream);
            ideal += chooser.idealBits();
            coded += chooser.codedBits();
            progress.update(from + n, images.count());
          }
        } finally {
          runtimes.forEach(PlanRuntime::close);
        }
      }
      d.flush();
      byte[] body = file.toByteArray();
      out.write(body);
      out.write(ByteBuffer.allocate(4).putInt(crc(body)).array());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // in-memory streams: cannot happen
    }
    return new Report(images.count(), (long) images.count() * spec.dimensions(), out.size(), ideal, coded, (System.nanoTime() - t0) / 1e9);
  }

  private static void check(Model model, Images images) {
    ModelSpec spec = model.spec();
    if (!spec.conditioning().isEmpty()) {
      throw new IllegalArgumentException("model " + model.name() + " is conditional (" + spec.conditioning().get(0).simpleName()
          + "): the codec codes with unconditional models, whose probabilities need nothing but the image; use one such as fashion28");
    }
    if (images.channels() != spec.channels() || images.height() != spec.size() || images.width() != spec.size()) {
      throw new IllegalArgumentException("the images are " + images.channels() + "x" + images.height() + "x" + images.width()
          + " but model " + model.name() + " codes " + spec.channels() + "x" + spec.size() + "x" + spec.size());
    }
    if (images.count() < 1) {
      throw new IllegalArgumentException("no images to compress");
    }
    int per = spec.channels() * spec.size() * spec.size();
    for (int i = 0; i < images.pixels().length; i++) {
      int v = images.pixels()[i] & 0xFF;
      if (v >= spec.levels()) {
        int image = i / per, c = i % per / (spec.size() * spec.size()), y = i % (spec.size() * spec.size()) / spec.size(), x = i % spec.size();
        throw new IllegalArgumentException("image " + (images.names().isEmpty() ? Integer.toString(image) : images.names().get(image))
            + " has level " + v + " at (c=" + c + ", y=" + y + ", x=" + x + ") but model " + model.name() + " has " + spec.levels() + " levels (0.." + (spec.levels() - 1) + ")");
      }
    }
    for (String name : images.names()) {
      if (name.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("image name " + name.replace("\n", "\\n") + " holds a line break, which the file's name list cannot hold");
      }
    }
  }

  private static PlanRuntime runtime(Model model, int n, List<PlanRuntime> runtimes) {
    for (PlanRuntime rt : runtimes) {
      if (rt.batch() == n) {
        return rt;
      }
    }
    PlanRuntime rt = new PlanRuntime(model.parameters(), n, PlanRuntime.Mode.INFERENCE);
    runtimes.add(rt);
    return rt;
  }

  private static byte[] run(PlanRuntime rt, Sampler.RasterMode raster, CodingChooser chooser, HostMemory host) {
    try (Sampler sampler = new Sampler(rt, raster); HostTensor settled = sampler.generate(chooser, host)) {
      return settled.toByteArray();
    }
  }

  // ------------------------------------------------------------------------------------- decompress

  /** What a file says about itself, read without decoding (after its magic and checksum are checked). */
  public record Header(
      String model, String fingerprint, byte[] weights, String backend, byte[] numerics, Sampler.RasterMode raster, int batch,
      int channels, int height, int width, int levels, int count, List<String> names, int bodyStart) {

    public String describe() {
      return String.format(Locale.ROOT, "%d images %dx%dx%d (%d levels) of model %s, coded on %s in batches of %d, raster part %s",
          count, channels, height, width, levels, model, backend, batch, raster.name().toLowerCase(Locale.ROOT));
    }
  }

  /** Checks the magic, the checksum and the version, and reads the header; {@code what} names the file. */
  public static Header header(byte[] file, String what) {
    if (file.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(file, MAGIC.length), MAGIC)) {
      throw new CodecException(what + " is not an mspx-compressed file (it does not start with the MSPXZ magic bytes)");
    }
    if (file.length < MAGIC.length + 6) {
      throw new CodecException(what + " is truncated (" + file.length + " bytes): compress the images again");
    }
    int stored = ByteBuffer.wrap(file, file.length - 4, 4).getInt();
    if (stored != crc(Arrays.copyOf(file, file.length - 4))) {
      throw new CodecException(what + " is corrupt or truncated: its CRC-32C does not match its " + file.length
          + " bytes; nothing was decoded. Compress the images again, or use an intact copy");
    }
    ByteBuffer in = ByteBuffer.wrap(file, 0, file.length - 4).order(ByteOrder.BIG_ENDIAN);
    try {
      in.position(MAGIC.length);
      int version = in.getShort() & 0xFFFF;
      if (version != VERSION) {
        throw new CodecException(what + " is format version " + version + "; this mspx reads version " + VERSION);
      }
      String model = utf(in), fingerprint = utf(in);
      byte[] weights = bytes(in, DIGEST);
      String backend = utf(in);
      byte[] numerics = bytes(in, DIGEST);
      int raster = in.get();
      if (raster != 0 && raster != 1) {
        throw new CodecException(what + ": unknown raster mode " + raster);
      }
      int batch = in.getInt();
      int bits = in.get();
      if (bits != Frequencies.TOTAL_BITS) {
        throw new CodecException(what + ": frequency tables of 2^" + bits + "; this mspx codes with 2^" + Frequencies.TOTAL_BITS);
      }
      int channels = in.get(), height = in.getInt(), width = in.getInt(), levels = in.getShort() & 0xFFFF, count = in.getInt();
      int namesLength = in.getInt();
      List<String> names = inflate(bytes(in, namesLength), count, what);
      return new Header(model, fingerprint, weights, backend, numerics, raster == 1 ? Sampler.RasterMode.CACHED : Sampler.RasterMode.FULL,
          batch, channels, height, width, levels, count, names, in.position());
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      if (e instanceof CodecException c) {
        throw c;
      }
      throw new CodecException(what + ": its header is malformed (" + e + ") although its checksum matches: it was not written by this mspx");
    }
  }

  /**
   * Decodes a file made by {@link #compress} with the same model: refused, with what to do, when the
   * file is corrupt, of another model or other weights, or when this backend's numerics differ from
   * the encoder's; every decoded batch is checked against its CRC-32C.
   */
  public static Images decompress(Model model, byte[] file, String what, Progress progress) {
    Header h = header(file, what);
    ModelSpec spec = model.spec();
    if (!h.model().equals(model.name()) || !h.fingerprint().equals(spec.fingerprint())) {
      throw new CodecException(what + " was compressed with model " + h.model() + " (fingerprint " + h.fingerprint() + "), not "
          + model.name() + " (" + spec.fingerprint() + "): decompress it with the checkpoint it was compressed with");
    }
    if (!Arrays.equals(h.weights(), weightsDigest(model))) {
      throw new CodecException(what + " was compressed with other weights of model " + h.model() + " (weights digest "
          + HexFormat.of().formatHex(h.weights()) + ", this checkpoint's " + HexFormat.of().formatHex(weightsDigest(model))
          + "): decompress it with the checkpoint it was compressed with");
    }
    if (h.channels() != spec.channels() || h.height() != spec.size() || h.width() != spec.size() || h.levels() != spec.levels()) {
      throw new CodecException(what + " holds " + h.channels() + "x" + h.height() + "x" + h.width() + " images of " + h.levels()
          + " levels, which model " + model.name() + " does not code");
    }
    if (h.batch() < 1 || h.count() < 1) {
      throw new CodecException(what + ": batch " + h.batch() + ", " + h.count() + " images: the header is malformed");
    }
    if (!Arrays.equals(h.numerics(), numerics(model, h.raster()))) {
      throw new CodecException(what + " was compressed on backend " + h.backend() + ", whose float32 logits this backend ("
          + model.backend().name() + ") does not reproduce bit for bit (the probe image's frequency tables differ), so it cannot"
          + " decode it: decompress with the backend and kernel set it was compressed with (e.g. --backend cpu with the same"
          + " -Dmspx.cpu.kernels on a machine of the same SIMD width)");
    }
    int per = spec.channels() * spec.size() * spec.size();
    byte[] pixels = new byte[Math.multiplyExact(h.count(), per)];
    ByteBuffer in = ByteBuffer.wrap(file, 0, file.length - 4);
    in.position(h.bodyStart());
    try (HostMemory host = HostMemory.create("codec")) {
      List<PlanRuntime> runtimes = new ArrayList<>();
      try {
        for (int from = 0; from < h.count(); from += h.batch()) {
          int n = Math.min(h.batch(), h.count() - from);
          int stored, crc, length;
          byte[] stream;
          try {
            stored = in.getInt();
            crc = in.getInt();
            length = in.getInt();
            stream = bytes(in, length);
          } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new CodecException(what + ": batch of images " + from + ".. runs past the end of the file: it was not written by this mspx");
          }
          if (stored != n) {
            throw new CodecException(what + ": a batch of " + stored + " images where " + n + " belong: it was not written by this mspx");
          }
          String where = what + " (images " + from + ".." + (from + n - 1) + ")";
          RangeDecoder decoder = new RangeDecoder(stream, where);
          byte[] batch = run(runtime(model, n, runtimes), h.raster(), CodingChooser.decoder(model.plan(), n, decoder), host);
          if (!decoder.exhausted() || crc(batch) != crc) {
            throw new CodecException(where + " decoded to images whose CRC-32C is not the one recorded: this machine's logits"
                + " differ from the encoder's (" + h.backend() + "); nothing of this batch is returned");
          }
          System.arraycopy(batch, 0, pixels, from * per, n * per);
          progress.update(from + n, h.count());
        }
      } finally {
        runtimes.forEach(PlanRuntime::close);
      }
    }
    if (in.hasRemaining()) {
      throw new CodecException(what + ": " + in.remaining() + " bytes after the last batch: it was not written by this mspx");
    }
    return new Images(h.count(), h.channels(), h.height(), h.width(), pixels, h.names());
  }

  // ---------------------------------------------------------------------------------------- helpers

  /** SHA-256 (first 16 bytes) of every parameter's float32 values in plan order, little-endian. */
  static byte[] weightsDigest(Model model) {
    MessageDigest md = sha256();
    ExecutionPlan plan = model.plan();
    for (ParameterSpec p : plan.parameters()) {
      md.update(p.name().getBytes(StandardCharsets.UTF_8));
      float[] v = model.parameters().read(p.name());
      ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(v);
      md.update(b.array());
    }
    return Arrays.copyOf(md.digest(), DIGEST);
  }

  /**
   * The numerics probe: the digest of every frequency table that coding one fixed pseudo-random image
   * (batch 1, {@code raster} mode) produces on this model and backend. Two machines that give the same
   * digest computed the same tables for that image; ones that do not would decode wrongly.
   */
  static byte[] numerics(Model model, Sampler.RasterMode raster) {
    ModelSpec spec = model.spec();
    byte[] image = new byte[spec.channels() * spec.size() * spec.size()];
    SplittableRandom random = new SplittableRandom(0x6D737078L);
    for (int i = 0; i < image.length; i++) {
      image[i] = (byte) random.nextInt(spec.levels());
    }
    MessageDigest md = sha256();
    try (HostMemory host = HostMemory.create("codec-probe"); PlanRuntime rt = new PlanRuntime(model.parameters(), 1, PlanRuntime.Mode.INFERENCE)) {
      run(rt, raster, CodingChooser.encoder(model.plan(), 1, image, new RangeEncoder(), md), host);
    }
    return Arrays.copyOf(md.digest(), DIGEST);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is part of every JDK", e);
    }
  }

  static int crc(byte[] bytes) {
    CRC32C c = new CRC32C();
    c.update(bytes);
    return (int) c.getValue();
  }

  private static byte[] deflate(List<String> names) {
    if (names.isEmpty()) {
      return new byte[0];
    }
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
    deflater.setInput(String.join("\n", names).getBytes(StandardCharsets.UTF_8));
    deflater.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    while (!deflater.finished()) {
      out.write(buf, 0, deflater.deflate(buf));
    }
    deflater.end();
    return out.toByteArray();
  }

  private static List<String> inflate(byte[] bytes, int count, String what) {
    if (bytes.length == 0) {
      return List.of();
    }
    Inflater inflater = new Inflater();
    inflater.setInput(bytes);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      while (!inflater.finished()) {
        int k = inflater.inflate(buf);
        if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new CodecException(what + ": its name list is cut short");
        }
        out.write(buf, 0, k);
      }
    } catch (DataFormatException e) {
      throw new CodecException(what + ": its name list is not deflated data (" + e.getMessage() + ")");
    } finally {
      inflater.end();
    }
    List<String> names = List.of(out.toString(StandardCharsets.UTF_8).split("\n", -1));
    if (names.size() != count) {
      throw new CodecException(what + ": " + names.size() + " names for " + count + " images");
    }
    return names;
  }

  private static String utf(ByteBuffer in) {
    int length = in.getShort() & 0xFFFF;
    byte[] b = bytes(in, length);
    try {
      return new java.io.DataInputStream(new java.io.ByteArrayInputStream(concat(length, b))).readUTF();
    } catch (IOException e) {
      throw new CodecException("a malformed name in the header: " + e.getMessage());
    }
  }

  private static byte[] concat(int length, byte[] b) {
    byte[] out = new byte[b.length + 2];
    out[0] = (byte) (length >>> 8);
    out[1] = (byte) length;
    System.arraycopy(b, 0, out, 2, b.length);
    return out;
  }

  private static byte[] bytes(ByteBuffer in, int n) {
    if (n < 0 || n > in.remaining()) {
      throw new IllegalArgumentException("a field of " + n + " bytes where " + in.remaining() + " remain");
    }
    byte[] b = new byte[n];
    in.get(b);
    return b;
  }
}
