package org.balloonlab.guest.os;

/**
 * Identical content across VMs: the OS image a guest boots, and the data sets its workloads read.
 *
 * <p>Guests of the same {@code os_kind} boot the same kernel text and libraries. The guest writes its image's pages
 * at boot with content tokens that depend only on the kind and the page index ({@link Token#content}), so two VMs
 * of one kind hold byte-identical pages and two kinds hold different ones: what the hypervisor's content-based page
 * sharing (ESX's, Waldspurger OSDI 2002 section 4) finds to share. The image is pinned like the kernel's other boot
 * memory: the guest never pages or balloons it (the hypervisor may page it, or share it).
 *
 * <p>A data set is content a workload reads, named in its options ({@code data-set=NAME,data=SIZE}): page {@code i}
 * of the region holds {@code content(DATA_SET, hash(NAME), i)} until a process writes it, which makes the page
 * private. VMs that name the same set hold equal pages.
 *
 * <p>The guest knows what every such page should hold, so reads of them are checked like any other.
 */
public final class ContentImage {
  private ContentImage() {}

  /** Page {@code index} of the OS image of {@code osKind}. */
  public static long imageToken(String osKind, int index) {
    return Token.content(Token.KIND_OS_IMAGE, Token.hashName(osKind), index);
  }

  /** Page {@code index} of the data set whose name hashes to {@code nameHash}. */
  public static long dataSetToken(int nameHash, int index) {
    return Token.content(Token.KIND_DATA_SET, nameHash, index);
  }
}
