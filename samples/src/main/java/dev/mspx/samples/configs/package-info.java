/**
 * The reference configurations of DESIGN.md section 6, each a few lines of annotations that the mspx
 * processor compiles into a {@code <Name>Plan}. Benchmarks and the PyTorch peer use the same names; change
 * one only together with the peer.
 */
package dev.mspx.samples.configs;
