package dev.mspx.samples;

import dev.mspx.api.HostTensor;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Pictures the command line writes: images of a batch magnified so a person can see them, grids with
 * captions, and files of any format {@code javax.imageio} writes, chosen by the file's extension.
 * An output path is checked before any work (not a folder, a known extension, a writable place), and
 * a picture is written to a temporary file beside it and renamed, so nothing is deleted or half
 * written ({@code ImageIO.write(image, format, File)} deletes what is at the path first, a folder
 * included).
 */
final class Images {

  /**
   * The extensions written, each by the JDK's own {@code javax.imageio} writers. WBMP is left out: it
   * holds black and white only.
   */
  static final List<String> SUFFIXES = List.of("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff");

  /** Background between images in a grid. */
  static final Color GAP = new Color(0x30, 0x30, 0x30);

  private static boolean textFailed;

  private Images() {}

  /** The lower-case extension of {@code file}, refused unless {@link #SUFFIXES} has it. */
  static String format(Path file, String option) {
    String name = file.getFileName() == null ? "" : file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String suffix = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    if (!SUFFIXES.contains(suffix) || !ImageIO.getImageWritersBySuffix(suffix).hasNext()) {
      throw new UsageException(option + " " + file + ": " + (suffix.isEmpty() ? "no extension" : "." + suffix + " is not an image format mspx writes")
          + "; end the name in ." + String.join(", .", SUFFIXES));
    }
    return suffix;
  }

  /**
   * Refuses a picture file that could not be written, before any work: a folder, an unknown
   * extension, a parent that is a file, or a place this user may not write. Creates nothing.
   */
  static void checkOutput(Path file, String option) {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(option + " " + file + " is a folder: give a file name in it, e.g. " + file.resolve("samples.png"));
    }
    format(file, option);
    checkWritableFolder(file.toAbsolutePath().getParent(), option + " " + file);
  }

  /** Refuses a folder that cannot be made or written in: the nearest existing ancestor must be a writable folder. */
  static void checkWritableFolder(Path folder, String what) {
    Path p = folder;
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalArgumentException(what + ": no part of " + folder + " exists");
    }
    if (!Files.isDirectory(p)) {
      throw new IllegalArgumentException(what + ": " + p + " is a file, not a folder: choose another place");
    }
    if (!Files.isWritable(p)) {
      throw new IllegalArgumentException(what + ": " + p + " is not writable by this user: choose another place");
    }
  }

  /** A magnification that shows an image of {@code size} pixels at about 100 screen pixels or more. */
  static int defaultScale(int size) {
    return Math.max(1, (int) Math.ceil(100.0 / size));
  }

  /** Image {@code index} of {@code uint8 [N, C, H, W]} (C = 1 or 3), levels scaled to 0..255, each pixel {@code scale}² pixels. */
  static BufferedImage picture(HostTensor images, int index, int levels, int scale) {
    int c = images.shape().dim(1), h = images.shape().dim(2), w = images.shape().dim(3);
    byte[] chw = new byte[c * h * w];
    images.segment().asSlice((long) index * chw.length, chw.length).asByteBuffer().get(chw);
    return picture(chw, c, h, w, levels, scale);
  }

  /** One {@code [C, H, W]} image as a picture, as {@link #picture(HostTensor, int, int, int)}. */
  static BufferedImage picture(byte[] chw, int c, int h, int w, int levels, int scale) {
    BufferedImage out = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = 0;
        for (int k = 0; k < 3; k++) {
          int v = Byte.toUnsignedInt(chw[((c == 1 ? 0 : k) * h + y) * w + x]);
          v = levels == 256 ? v : Math.round(v * 255f / (levels - 1));
          rgb = (rgb << 8) | v;
        }
        for (int dy = 0; dy < scale; dy++) {
          for (int dx = 0; dx < scale; dx++) {
            out.setRGB(x * scale + dx, y * scale + dy, rgb);
          }
        }
      }
    }
    return out;
  }

  /**
   * Pictures of one size in a grid of {@code columns}, 4-pixel gaps; under each a caption when
   * {@code captions} is not null (one per picture).
   */
  static BufferedImage grid(List<BufferedImage> pictures, int columns, List<String> captions) {
    int w = pictures.get(0).getWidth(), h = pictures.get(0).getHeight(), gap = 4;
    int captionHeight = captions == null ? 0 : 14;
    int rows = (pictures.size() + columns - 1) / columns;
    BufferedImage out = canvas(columns * (w + gap) + gap, rows * (h + captionHeight + gap) + gap);
    Graphics2D g = out.createGraphics();
    for (int i = 0; i < pictures.size(); i++) {
      int x0 = gap + (i % columns) * (w + gap), y0 = gap + (i / columns) * (h + captionHeight + gap);
      g.drawImage(pictures.get(i), x0, y0, null);
      if (captions != null) {
        text(g, captions.get(i), x0, y0 + h + 11, 11, w);
      }
    }
    g.dispose();
    return out;
  }

  /** An RGB canvas filled with the gap colour. */
  static BufferedImage canvas(int width, int height) {
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setColor(GAP);
    g.fillRect(0, 0, width, height);
    g.dispose();
    return out;
  }

  /**
   * Draws {@code text} in light grey with its baseline at {@code y}, cut to {@code maxWidth} pixels.
   * A JDK without fonts (a bare container, no fontconfig) cannot draw text: then the picture is
   * written without its captions and standard error says so once, rather than failing the command.
   */
  static void text(Graphics2D g, String text, int x, int y, int size, int maxWidth) {
    if (textFailed || text == null || text.isEmpty()) {
      return;
    }
    try {
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, size));
      g.setColor(new Color(0xE0, 0xE0, 0xE0));
      String shown = text;
      while (shown.length() > 1 && g.getFontMetrics().stringWidth(shown) > maxWidth) {
        shown = shown.substring(0, shown.length() - 1);
      }
      g.drawString(shown, x, y);
    } catch (RuntimeException | Error e) {
      textFailed = true;
      System.err.println("mspx: captions left out: this JDK cannot draw text (" + e + "); install a font package and fontconfig to get them");
    }
  }

  /** Whether every pixel of {@code image} is grey (R = G = B). */
  static boolean isGrey(BufferedImage image) {
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int rgb = image.getRGB(x, y);
        int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
        if (r != g || g != b) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Writes {@code image} in the format of {@code file}'s extension (a grey picture as a grey image,
   * so a grey model's samples are 8-bit grey PNGs), to a temporary file beside it that is then renamed
   * over it. The folder is created if needed.
   */
  static void write(BufferedImage image, Path file) throws IOException {
    String suffix = format(file, "output");
    BufferedImage toWrite = image;
    if (image.getType() != BufferedImage.TYPE_BYTE_GRAY && isGrey(image)) {
      toWrite = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
      Graphics2D g = toWrite.createGraphics();
      g.drawImage(image, 0, 0, null);
      g.dispose();
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = temporaryFile(dir, file);
    try {
      ImageWriter writer = writer(suffix, toWrite);
      try (ImageOutputStream out = ImageIO.createImageOutputStream(tmp.toFile())) {
        writer.setOutput(out);
        ImageWriteParam param = writer.getDefaultWriteParam();
        if (suffix.startsWith("jp")) {
          param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
          param.setCompressionQuality(0.95f);
        }
        writer.write(null, new IIOImage(toWrite, null, null), param);
      } finally {
        writer.dispose();
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** {@code .NAME.<digits>.tmp} beside {@code file}, with the user's umask (not owner-only as {@code Files.createTempFile}). */
  private static Path temporaryFile(Path dir, Path file) throws IOException {
    while (true) {
      Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ".tmp");
      try {
        Files.newByteChannel(tmp, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE).close();
        return tmp;
      } catch (java.nio.file.FileAlreadyExistsException taken) {
        // drawn before: draw again
      }
    }
  }

  private static ImageWriter writer(String suffix, BufferedImage image) throws IOException {
    Iterator<ImageWriter> it = ImageIO.getImageWritersBySuffix(suffix);
    ImageTypeSpecifier type = ImageTypeSpecifier.createFromRenderedImage(image);
    while (it.hasNext()) {
      ImageWriter w = it.next();
      if (w.getOriginatingProvider().canEncodeImage(type)) {
        return w;
      }
      w.dispose();
    }
    throw new IOException("no " + suffix + " writer in this JDK encodes " + image.getWidth() + "x" + image.getHeight() + " images of type " + image.getType());
  }
}
