/**
 * Image data sets as the trainer, the evaluator and the command line see them (DESIGN.md sections 3
 * and 6).
 *
 * <p>An {@link dev.mspx.core.data.ImageSet} is a fixed set of {@code uint8 [C, H, W]} images, stored
 * contiguously, optionally with class labels; {@link dev.mspx.core.data.ImageSet#gather} copies a
 * batch into a host tensor and {@link dev.mspx.core.data.ImageSet#view} hands out a run of images
 * without copying. Prepared data lives in Arrow IPC files ({@link
 * dev.mspx.core.data.ArrowImageFile}): written once, atomically, and memory-mapped on every run.
 *
 * <p>Sources: Fashion-MNIST's IDX files ({@link dev.mspx.core.data.FashionMnist}, {@link
 * dev.mspx.core.data.IdxFile}), colour photos cut into tiles by the rule of DESIGN.md ({@link
 * dev.mspx.core.data.PhotoTiles}), and a folder of PNGs to score ({@link
 * dev.mspx.core.data.PngFolder}). {@link dev.mspx.core.data.ImageSets#open} is what {@code --data}
 * accepts; prepared files go to {@link dev.mspx.core.data.ImageSets#defaultCacheDir} ({@code
 * $XDG_CACHE_HOME/mspx} or {@code ~/.cache/mspx}, overridden by {@code -Dmspx.cache=DIR}) unless the
 * caller names another folder. Every failure is a {@link dev.mspx.core.data.DatasetException} naming
 * the input, what was expected, and what to do.
 */
package dev.mspx.core.data;
