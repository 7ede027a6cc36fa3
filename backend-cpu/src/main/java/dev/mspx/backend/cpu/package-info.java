/**
 * The CPU backends. {@link dev.mspx.backend.cpu.CpuReferenceBackend} implements every op of the SPI as
 * plain, obviously correct loops with double accumulation: it is the oracle that every other backend is
 * checked against (DESIGN.md section 4), and it is not meant to be fast. {@link
 * dev.mspx.backend.cpu.CpuBackendModule} binds it with Guice.
 */
package dev.mspx.backend.cpu;
