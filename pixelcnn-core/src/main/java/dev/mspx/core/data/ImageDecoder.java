package dev.mspx.core.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/**
 * Decodes a JPEG or PNG file with {@code javax.imageio} into 8-bit samples as stored: the raster is
 * read directly, so no colour management (an embedded ICC profile, a PNG gamma) and no EXIF
 * rotation is applied; palettes are looked up; an alpha channel is reported and dropped, never
 * composited. Images with more than 8 bits per sample are refused rather than rescaled or clipped.
 */
final class ImageDecoder {

  private static final System.Logger LOG = System.getLogger(ImageDecoder.class.getName());

  private ImageDecoder() {}

  /**
   * A decoded image: {@code channels} (1 grey, 3 RGB) samples per pixel, row after row ({@code [H,
   * W, C]}); {@code alpha} tells whether the file had an alpha channel (dropped here).
   */
  record Decoded(int width, int height, int channels, boolean alpha, String kind, byte[] pixels) {

    /** The pixels as RGB: grey replicated to three channels. */
    byte[] rgb() {
      if (channels == 3) {
        return pixels;
      }
      byte[] out = new byte[pixels.length * 3];
      for (int i = 0; i < pixels.length; i++) {
        out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = pixels[i];
      }
      return out;
    }
  }

  /**
   * Decodes {@code file}; with {@code pngOnly}, files whose content is not PNG are refused.
   *
   * @throws DatasetException naming the file (and how far the decoder read) when it cannot be
   *     decoded
   */
  static Decoded decode(Path file, boolean pngOnly) {
    long length;
    try {
      length = Files.size(file);
    } catch (NoSuchFileException e) {
      throw new DatasetException(file, file + ": no such file", e);
    } catch (IOException e) {
      throw new DatasetException(file, file + ": cannot read it (" + e + ")", e);
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        throw new DatasetException(file, file + ": cannot open it for decoding");
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new DatasetException(
            file,
            file
                + ": not a JPEG or PNG image (no decoder recognises its first bytes "
                + firstBytes(file)
                + "); replace it with a valid image or remove it from the folder");
      }
      ImageReader reader = readers.next();
      String format = reader.getFormatName().toLowerCase(Locale.ROOT);
      if (pngOnly && !format.equals("png")) {
        reader.dispose();
        throw new DatasetException(
            file,
            file
                + ": named .png but its content is "
                + format.toUpperCase(Locale.ROOT)
                + "; save it as a PNG");
      }
      List<String> warnings = new ArrayList<>();
      try {
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        reader.setInput(in, true, false);
        BufferedImage image;
        IIOMetadata meta;
        try {
          image = reader.read(0);
          meta = format.equals("png") ? reader.getImageMetadata(0) : null;
        } catch (IIOException | RuntimeException e) {
          throw new DatasetException(
              file,
              file
                  + ": cannot decode this "
                  + format.toUpperCase(Locale.ROOT)
                  + " ("
                  + describe(e)
                  + "); "
                  + position(in, length)
                  + ". The file is damaged: replace it or remove it from the folder",
              e);
        }
        for (String w : warnings) {
          String lower = w.toLowerCase(Locale.ROOT);
          // libjpeg fills a cut-off image with grey and only warns; PIL refuses such a file.
          if (lower.contains("premature end") || lower.contains("truncated")) {
            throw new DatasetException(
                file,
                file
                    + ": damaged "
                    + format.toUpperCase(Locale.ROOT)
                    + " (decoder: \""
                    + w
                    + "\"; "
                    + position(in, length)
                    + "). Replace the file or remove it from the folder");
          }
          LOG.log(Level.WARNING, "{0}: decoder warning: {1}", file, w);
        }
        return samples(file, image, pngColourType(meta), format);
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      throw new DatasetException(file, file + ": cannot read it (" + e + ")", e);
    }
  }

  private static Decoded samples(
      Path file, BufferedImage image, String pngColourType, String format) {
    ColorModel cm = image.getColorModel();
    Raster raster = image.getRaster();
    int w = image.getWidth();
    int h = image.getHeight();
    int bands = raster.getNumBands();
    for (int b = 0; b < bands; b++) {
      int bits = raster.getSampleModel().getSampleSize(b);
      if (bits > 8) {
        throw new DatasetException(
            file,
            file
                + ": "
                + bits
                + " bits per sample; only 8-bit images are read (16-bit values would have to be"
                + " rescaled or clipped): convert it to 8 bits per channel");
      }
    }
    if (cm instanceof IndexColorModel icm) {
      boolean grey = "Grayscale".equals(pngColourType);
      int channels = grey ? 1 : 3;
      int n = icm.getMapSize();
      byte[] r = new byte[n];
      byte[] g = new byte[n];
      byte[] bl = new byte[n];
      icm.getReds(r);
      icm.getGreens(g);
      icm.getBlues(bl);
      byte[] out = new byte[w * h * channels];
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        int o = y * w * channels;
        for (int x = 0; x < w; x++) {
          int i = row[x];
          if (grey) {
            out[o + x] = r[i];
          } else {
            out[o + 3 * x] = r[i];
            out[o + 3 * x + 1] = g[i];
            out[o + 3 * x + 2] = bl[i];
          }
        }
      }
      String kind = grey ? "grey" : "palette";
      return new Decoded(w, h, channels, icm.hasAlpha(), kind, out);
    }
    int colours = cm.getNumColorComponents();
    int space = cm.getColorSpace().getType();
    boolean ok =
        (colours == 3 && space == ColorSpace.TYPE_RGB)
            || (colours == 1 && space == ColorSpace.TYPE_GRAY);
    if (!ok || bands < colours) {
      throw new DatasetException(
          file,
          file
              + ": "
              + colours
              + " colour components in colour space type "
              + space
              + " (e.g. CMYK); only grey and RGB "
              + format.toUpperCase(Locale.ROOT)
              + " images are read: convert it to RGB");
    }
    for (int b = 0; b < colours; b++) {
      if (raster.getSampleModel().getSampleSize(b) != 8) {
        throw new DatasetException(
            file,
            file
                + ": "
                + raster.getSampleModel().getSampleSize(b)
                + " bits in colour channel "
                + b
                + "; only 8 bits per channel are read: convert it");
      }
    }
    byte[] out = new byte[w * h * colours];
    int[] row = new int[w * bands];
    for (int y = 0; y < h; y++) {
      raster.getPixels(0, y, w, 1, row);
      int o = y * w * colours;
      // Colour bands come first in Java's component and packed models; alpha, if any, is last.
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < colours; c++) {
          out[o + x * colours + c] = (byte) row[x * bands + c];
        }
      }
    }
    String kind = colours == 1 ? "grey" : "RGB";
    return new Decoded(w, h, colours, cm.hasAlpha(), kind + (cm.hasAlpha() ? "+alpha" : ""), out);
  }

  /** The PNG IHDR colour type ("Grayscale", "RGB", "Palette", ...), or null for other formats. */
  private static String pngColourType(IIOMetadata meta) {
    if (meta == null) {
      return null;
    }
    try {
      Node root = meta.getAsTree("javax_imageio_png_1.0");
      for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
        if (n.getNodeName().equals("IHDR")) {
          Node t = n.getAttributes().getNamedItem("colorType");
          return t == null ? null : t.getNodeValue();
        }
      }
    } catch (IllegalArgumentException e) {
      // Not the standard PNG reader: fall back to the colour model alone.
    }
    return null;
  }

  private static String describe(Throwable e) {
    StringBuilder s = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      s.append(": ").append(c.getClass().getSimpleName());
      if (c.getMessage() != null) {
        s.append(" ").append(c.getMessage());
      }
    }
    return s.toString();
  }

  /** How far the decoder got: ImageIO's stream position, the only position it reports. */
  private static String position(ImageInputStream in, long length) {
    try {
      long at = in.getStreamPosition();
      // A reader may seek past the end while skipping a chunk that the file no longer holds.
      return at >= length
          ? "the decoder ran past the end of its " + length + " bytes (the file is cut short)"
          : "the decoder stopped at byte " + at + " of " + length;
    } catch (IOException e) {
      return "the decoder's position is unknown";
    }
  }

  private static String firstBytes(Path file) {
    try (var s = Files.newInputStream(file)) {
      byte[] b = s.readNBytes(8);
      return b.length == 0 ? "(the file is empty)" : HexFormat.ofDelimiter(" ").formatHex(b);
    } catch (IOException e) {
      return "(unreadable)";
    }
  }
}
