package org.balloonlab.hypervisor.mmu;

import java.util.Locale;

/**
 * How the hypervisor translates a VM's addresses. The guest resolves its own page tables in both modes, so what a
 * VM reads and writes never depends on the mode; the mode decides what translation costs (see {@link Mmu}).
 */
public enum TranslationMode {
  /** Hardware walks the guest's and the host's tables (EPT/NPT): no exits for page-table writes. */
  NESTED,
  /** The hypervisor keeps shadow tables VPN to MFN, built from trapped page-table writes. */
  SHADOW;

  /** The name used on command lines and in reports: {@code nested} or {@code shadow}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
