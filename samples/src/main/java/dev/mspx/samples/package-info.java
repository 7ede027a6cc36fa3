/**
 * The {@code mspx} command line ({@link dev.mspx.samples.Main}, run by {@code ./mspx}): for now
 * {@code info}, which prints the JDK, the SIMD width and every backend with why it can or cannot
 * run here.
 */
package dev.mspx.samples;
