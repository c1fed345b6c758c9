package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sharing scanner's work charged in simulated time: each page scanned costs {@code share-scan}, paid by the
 * next batch of the VM whose page it is.
 */
class SharingScanCostTest {
  /** A cost model whose only hypervisor charges a batch of reads of mapped pages can pay are the scanner's. */
  private static CostModel costs(long shareScanNs) {
    return new CostModel(1, 10, 1_000, 100, 7, 7, 20_000, 300_000, 0, 0, 0, 3_000, shareScanNs);
  }

  /** 100 pages of each VM a simulated second, 1000 machine-wide. */
  private static final SharingSettings RATES = new SharingSettings(true, 100, 1_000, true);

  @TempDir
  Path dir;

  private Machine machine;

  private Machine newMachine(SharingSettings sharing, CostModel costs) {
    machine = SharingMachines.machine(512, 512, dir.resolve("host.swap"), costs, sharing);
    return machine;
  }

  @AfterEach
  void close() {
    if (machine != null) {
      machine.close();
    }
  }

  private long batch(Vm vm, MachineTest.Batch b) {
    machine.validateBatch(vm, b.count(), b.ops(), b.pfns(), b.writeCount());
    BatchResult result = new BatchResult();
    machine.applyBatch(vm, b.count(), b.ops(), b.pfns(), b.writes(), new long[b.count()], result);
    machine.checkInvariants();
    return result.hypervisorNs();
  }

  /** Every page of {@code vm} written, with content that repeats every 16 pages. */
  private void fill(Vm vm) {
    MachineTest.Batch b = MachineTest.batch();
    for (int pfn = 0; pfn < vm.memoryPages(); pfn++) {
      b.write(pfn, 0x1000_0000_0000L + pfn % 16);
    }
    batch(vm, b);
  }

  /** A read of one mapped page: no fault, no charge of its own under {@link #costs}. */
  private long readOne(Vm vm) {
    return batch(vm, MachineTest.batch().read(3));
  }

  @Test
  void aScannedVmPaysPagesTimesTheCostInItsNextBatch() {
    newMachine(RATES, costs(700));
    Vm a = machine.powerOn("a", "linux", 128);
    Vm b = machine.powerOn("b", "linux", 128);
    fill(a);
    fill(b);
    assertEquals(0, readOne(a), "nothing scanned yet: a read of a mapped page costs the hypervisor nothing");
    assertEquals(20, machine.scanForSharing(100_000_000L), "10 pages of each VM in 100 ms");
    assertEquals(10, machine.vm(a.id()).sharing().scannedPages());
    assertEquals(0, machine.vm(a.id()).sharing().shareScanNs(), "not paid before its next batch");
    assertEquals(10 * 700, readOne(a), "the next batch pays the 10 pages scanned");
    assertEquals(0, readOne(a), "and it pays them once");
    assertEquals(10 * 700, machine.vm(a.id()).sharing().shareScanNs());
    assertEquals(10 * 700, machine.snapshot().sharing().shareScanNs(), "b has not paid yet");

    machine.scanForSharing(300_000_000L);
    assertEquals(40, machine.vm(b.id()).sharing().scannedPages());
    assertEquals(40 * 700, readOne(b), "b pays both ticks' pages in its first batch since");
    assertEquals(40 * 700, machine.vm(b.id()).sharing().shareScanNs());
    assertEquals(30 * 700, readOne(a));
    assertEquals(80 * 700, machine.snapshot().sharing().shareScanNs());
  }

  @Test
  void whatWasPaidIsInTheMetrics() throws java.io.IOException {
    newMachine(RATES, costs(500_000));
    Vm a = machine.powerOn("a", "linux", 128);
    fill(a);
    machine.scanForSharing(1_000_000_000L);
    assertEquals(100 * 500_000, readOne(a));
    var out = new java.io.ByteArrayOutputStream();
    io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create().write(out,
        new org.balloonlab.hypervisor.metrics.HypervisorMetrics(machine::snapshot, () -> 0).collect());
    String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(text.contains("balloonlab_vm_sharing_scan_seconds_total{vm=\"a\"} 0.05"), text);
    assertTrue(text.contains("balloonlab_sharing_scan_seconds_total 0.05"), text);
    assertTrue(text.contains("balloonlab_sharing_hints_evicted_total 0"), text);
  }

  @Test
  void aVmWithSharingOffPaysNothing() {
    newMachine(SharingSettings.OFF, costs(700));
    Vm a = machine.powerOn("a", "linux", 128);
    fill(a);
    assertEquals(0, machine.scanForSharing(1_000_000_000L));
    assertEquals(0, readOne(a));
    assertEquals(0, machine.vm(a.id()).sharing().shareScanNs());
    assertEquals(0, machine.snapshot().sharing().shareScanNs());
  }

  @Test
  void aZeroCostTurnsTheChargeOff() {
    newMachine(RATES, costs(0));
    Vm a = machine.powerOn("a", "linux", 128);
    fill(a);
    assertEquals(100, machine.scanForSharing(1_000_000_000L));
    assertEquals(0, readOne(a));
    assertEquals(100, machine.vm(a.id()).sharing().scannedPages());
    assertEquals(0, machine.vm(a.id()).sharing().shareScanNs());
  }

  @Test
  void thePendingChargeOfAVmPoweredOffIsNotPaid() {
    newMachine(RATES, costs(700));
    Vm a = machine.powerOn("a", "linux", 128);
    Vm b = machine.powerOn("b", "linux", 128);
    fill(a);
    fill(b);
    machine.scanForSharing(100_000_000L);
    machine.powerOffByOperator(a);
    assertEquals(10 * 700, readOne(b));
    assertEquals(10 * 700, machine.snapshot().sharing().shareScanNs(), "only what was paid");
  }

  @Test
  void theChargeIsReproducible() {
    long[] first = run(RATES);
    assertArrayEquals(first, run(RATES), "the same seed, the same charges");
    assertTrue(first[0] > 0 && first[1] > 0, "the run charged something: " + first[0] + ", " + first[1]);
  }

  /** Ticks of uneven length with batches between: what each VM paid, batch by batch, and the machine's sum. */
  private long[] run(SharingSettings rates) {
    newMachine(rates, costs(1_300));
    Vm a = machine.powerOn("a", "linux", 128);
    Vm b = machine.powerOn("b", "linux", 128);
    fill(a);
    fill(b);
    long[] out = new long[14];
    long[] ticks = {3_000_000L, 47_000_000L, 250_000_000L, 1_000_000L, 700_000_000L, 90_000_000L};
    int i = 2;
    for (long t : ticks) {
      machine.scanForSharing(t);
      out[i++] = readOne(a);
      out[i++] = i % 3 == 0 ? readOne(b) : 0;
    }
    out[0] = machine.vm(a.id()).sharing().shareScanNs();
    out[1] = machine.vm(b.id()).sharing().shareScanNs();
    assertEquals(machine.vm(a.id()).sharing().scannedPages() * 1_300, out[0], "a paid every page scanned");
    machine.close();
    machine = null;
    return out;
  }
}
