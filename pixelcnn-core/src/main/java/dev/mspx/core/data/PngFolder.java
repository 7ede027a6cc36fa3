package dev.mspx.core.data;

import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The PNG images of a folder, to be scored by a model ({@code mspx eval --images DIR}): exactly the
 * files directly in the folder whose names end in {@code .png} (any case), in code-point order of
 * their names. Each must have the model's size and channels: 1 is a grey PNG, 3 an RGB or palette
 * PNG, and a PNG with an alpha channel is refused (scoring would silently ignore part of the file).
 * Image {@code i} of the set is {@code files().get(i)}.
 */
public final class PngFolder implements ImageSet {

  private static final int MAX_LISTED = 20;

  private final List<Path> files;
  private final SegmentImageSet images;

  private PngFolder(List<Path> files, SegmentImageSet images) {
    this.files = files;
    this.images = images;
  }

  /**
   * Decodes every PNG in {@code folder}.
   *
   * @throws DatasetException when the folder has no PNG files, a file cannot be decoded, or files
   *     do not have {@code channels} channels of {@code height}×{@code width} pixels (every such
   *     file is listed with what it has)
   */
  public static PngFolder load(Path folder, int channels, int height, int width) {
    Objects.requireNonNull(folder, "folder");
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels " + channels + ": expected 1 (grey) or 3 (RGB)");
    }
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException("image size " + height + "x" + width + " is not positive");
    }
    if (!Files.isDirectory(folder)) {
      throw new DatasetException(
          folder, folder + ": no such folder; --images takes a folder of PNGs");
    }
    List<Path> files =
        PhotoTiles.photoFiles(folder).stream()
            .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"))
            .toList();
    if (files.isEmpty()) {
      throw new DatasetException(
          folder,
          folder + ": no .png files directly in it; --images scores the PNG files of a folder");
    }
    int row = channels * height * width;
    byte[] all = new byte[Math.multiplyExact(files.size(), row)];
    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      ImageDecoder.Decoded d = ImageDecoder.decode(f, true);
      String has =
          d.width()
              + "x"
              + d.height()
              + " "
              + d.kind()
              + " ("
              + (d.channels() + (d.alpha() ? 1 : 0))
              + " channels)";
      if (d.width() != width || d.height() != height || d.channels() != channels || d.alpha()) {
        wrong.add(f.getFileName() + " is " + has);
        continue;
      }
      // Decoded pixels are [H, W, C]; the set stores [C, H, W].
      byte[] px = d.pixels();
      int o = i * row;
      for (int c = 0; c < channels; c++) {
        for (int p = 0; p < height * width; p++) {
          all[o + c * height * width + p] = px[p * channels + c];
        }
      }
    }
    if (!wrong.isEmpty()) {
      String need =
          width
              + "x"
              + height
              + " "
              + (channels == 1 ? "grey (1 channel)" : "RGB (3 channels)")
              + " without alpha";
      List<String> shown = wrong.subList(0, Math.min(MAX_LISTED, wrong.size()));
      throw new DatasetException(
          folder,
          folder
              + ": "
              + wrong.size()
              + " of "
              + files.size()
              + " PNG files do not fit the model, which scores "
              + need
              + ": "
              + String.join("; ", shown)
              + (wrong.size() > shown.size() ? "; ..." : "")
              + ". Convert them or leave them out of the folder");
    }
    String where = folder.toAbsolutePath().normalize().toString();
    ImageSet set =
        ImageSets.fromBytes(
            folder.getFileName() + "/*.png",
            channels,
            height,
            width,
            all,
            null,
            0,
            where + " (" + files.size() + " PNG files)");
    return new PngFolder(files, (SegmentImageSet) set);
  }

  /** The PNG files, in the order of the images. */
  public List<Path> files() {
    return files;
  }

  @Override
  public int size() {
    return images.size();
  }

  @Override
  public int channels() {
    return images.channels();
  }

  @Override
  public int height() {
    return images.height();
  }

  @Override
  public int width() {
    return images.width();
  }

  @Override
  public boolean hasLabels() {
    return false;
  }

  @Override
  public int classes() {
    return 0;
  }

  @Override
  public void gather(int[] indices, HostTensor out) {
    images.gather(indices, out);
  }

  @Override
  public void gatherLabels(int[] indices, HostTensor out) {
    images.gatherLabels(indices, out);
  }

  @Override
  public int label(int index) {
    return images.label(index);
  }

  @Override
  public HostTensor view(int from, int n, MemoryOwner owner) {
    return images.view(from, n, owner);
  }

  @Override
  public String source() {
    return images.source();
  }

  @Override
  public String describe() {
    return images.describe();
  }

  @Override
  public void close() {
    images.close();
  }
}
