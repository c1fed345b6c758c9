package org.balloonlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing workload descriptions, and what each workload touches. */
class WorkloadSpecTest {

  // ---------------------------------------------------------------- parsing

  @Test
  void sequentialWithDefaultsAndOptions() {
    WorkloadSpec s = WorkloadSpec.parse("sequential:footprint=1MiB");
    assertEquals("sequential", s.type());
    assertEquals(256, s.footprintPages());
    assertEquals(0.5, s.writeFraction());
    assertEquals(0, s.accesses(), "forever");
    assertEquals(0, s.passes(), "forever");

    s = WorkloadSpec.parse("sequential:footprint=64KiB,writes=0.25,passes=3,accesses=100");
    assertEquals(16, s.footprintPages());
    assertEquals(0.25, s.writeFraction());
    assertEquals(3, s.passes());
    assertEquals(100, s.accesses());
  }

  @Test
  void uniformWithDefaultsAndOptions() {
    WorkloadSpec s = WorkloadSpec.parse("uniform:footprint=2MiB");
    assertEquals("uniform", s.type());
    assertEquals(512, s.footprintPages());
    assertEquals(0.5, s.writeFraction());
    assertEquals(0, s.accesses());

    s = WorkloadSpec.parse("uniform:footprint=4096,writes=0,accesses=7");
    assertEquals(1, s.footprintPages(), "a plain number is bytes");
    assertEquals(0.0, s.writeFraction());
    assertEquals(7, s.accesses());
  }

  @Test
  void hotsetWithDefaultsAndOptions() {
    WorkloadSpec s = WorkloadSpec.parse("hotset:footprint=4MiB");
    assertEquals("hotset", s.type());
    assertEquals(1024, s.footprintPages());
    assertEquals(0.2, s.hotFraction());
    assertEquals(0.8, s.hotShare());
    assertEquals(0.5, s.writeFraction());

    s = WorkloadSpec.parse("hotset:footprint=4MiB,hot=0.1,hot-share=0.95,writes=1,accesses=10");
    assertEquals(0.1, s.hotFraction());
    assertEquals(0.95, s.hotShare());
    assertEquals(1.0, s.writeFraction());
    assertEquals(10, s.accesses());
  }

  @Test
  void phasesWithDefaultsAndOptions() {
    WorkloadSpec s = WorkloadSpec.parse("phases:sizes=64KiB/256KiB/128KiB,accesses=100");
    assertEquals("phases", s.type());
    assertEquals(List.of(16, 64, 32), s.phasePages());
    assertEquals(64, s.footprintPages(), "the largest phase");
    assertEquals(100, s.accesses());
    assertFalse(s.loop());

    s = WorkloadSpec.parse("phases:sizes=8KiB,accesses=5,loop=true,writes=0.1");
    assertEquals(List.of(2), s.phasePages());
    assertTrue(s.loop());
    assertEquals(0.1, s.writeFraction());
  }

  @Test
  void idleWithDefaultsAndOptions() {
    WorkloadSpec s = WorkloadSpec.parse("idle:footprint=32KiB");
    assertEquals("idle", s.type());
    assertEquals(8, s.footprintPages());
    assertEquals(0.5, s.writeFraction());
    assertEquals(0.0, WorkloadSpec.parse("idle:footprint=32KiB,writes=0").writeFraction());
  }

  @Test
  void everyTypeTakesARateInAccessesPerSimulatedSecond() {
    for (String text : List.of("sequential:footprint=1MiB", "uniform:footprint=1MiB", "hotset:footprint=1MiB",
        "phases:sizes=64KiB/128KiB,accesses=10", "idle:footprint=1MiB")) {
      WorkloadSpec plain = WorkloadSpec.parse(text);
      assertEquals(0, plain.rate(), text + ": as fast as it can by default");
      assertEquals(0, plain.create().ratePerSecond());
      WorkloadSpec paced = WorkloadSpec.parse(text + ",rate=2500");
      assertEquals(2500, paced.rate(), text);
      assertEquals(2500, paced.create().ratePerSecond(), text + ": the workload carries it to the vCPU");
    }
    assertEquals(WorkloadSpec.MAX_RATE, WorkloadSpec.parse("uniform:footprint=1MiB,rate=1000000000").rate());
  }

  @Test
  void typesAndKeysAreCaseInsensitiveAndSpacesAreTrimmed() {
    WorkloadSpec s = WorkloadSpec.parse("  HotSet:Footprint=1MiB, Hot-Share = 0.5 ");
    assertEquals("hotset", s.type());
    assertEquals(256, s.footprintPages());
    assertEquals(0.5, s.hotShare());
  }

  @ParameterizedTest(name = "{0} -> names {1}")
  @CsvSource(delimiter = '|', value = {
      "bogus:footprint=1MiB                          | bogus",
      "bogus                                         | bogus",
      "uniform:footprint=1MiB,passes=2               | passes",
      "idle:footprint=1MiB,hot=0.5                   | hot",
      "uniform:footprint=1MiB,footprint=2MiB         | footprint",
      "uniform:writes=0.5                            | footprint",
      "uniform                                       | footprint",
      "hotset:accesses=5                             | footprint",
      "uniform:footprint=1MiB,writes=2               | writes",
      "uniform:footprint=1MiB,writes=abc             | writes",
      "uniform:footprint=1MiB,writes=-0.1            | writes",
      "uniform:footprint=1MiB,writes=NaN             | writes",
      "hotset:footprint=1MiB,hot-share=1.5           | hot-share",
      "uniform:footprint=1MiB,accesses=-5            | accesses",
      "uniform:footprint=1MiB,accesses=0             | accesses",
      "uniform:footprint=1MiB,accesses=lots          | accesses",
      "sequential:footprint=1MiB,passes=0            | passes",
      "hotset:footprint=1MiB,hot=0                   | hot",
      "hotset:footprint=1MiB,hot=1                   | hot",
      "phases:accesses=100                           | sizes",
      "phases:sizes=64KiB/128KiB                     | accesses",
      "phases:sizes=64KiB/5000,accesses=10           | sizes",
      "phases:sizes=64KiB//128KiB,accesses=10        | sizes",
      "uniform:footprint=5000                        | footprint",
      "uniform:footprint=0                           | footprint",
      "uniform:footprint=xyz                         | footprint",
      "uniform:footprint=1TiB                        | footprint",
      "uniform:footprint                             | footprint",
      "uniform:footprint=1MiB,ramp=0                 | ramp",
      "hotset:footprint=1MiB,ramp=soon               | ramp",
      "idle:footprint=1MiB,ramp=10                   | ramp",
      "sequential:footprint=1MiB,ramp=10             | ramp",
      "uniform:footprint=1MiB,rate=0                 | rate",
      "idle:footprint=1MiB,rate=-3                   | rate",
      "hotset:footprint=1MiB,rate=fast               | rate",
      "sequential:footprint=1MiB,rate=1000000001     | rate",
  })
  void badDescriptionsAreRefusedNamingTheCulprit(String text, String named) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse(text));
    assertTrue(e.getMessage().contains(named), "'" + e.getMessage() + "' should name " + named);
  }

  @Test
  void duplicateKeysAreCalledOut() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WorkloadSpec.parse("uniform:footprint=1MiB,writes=0.1,writes=0.2"));
    assertTrue(e.getMessage().contains("writes") && e.getMessage().contains("twice"), e.getMessage());
  }

  @Test
  void anUnknownTypeListsTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("random"));
    for (String t : List.of("sequential", "uniform", "hotset", "phases", "idle")) {
      assertTrue(e.getMessage().contains(t), e.getMessage());
    }
  }

  @Test
  void blankIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse(null));
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("   "));
  }

  // ---------------------------------------------------------------- behaviour

  private static List<Long> drain(Workload w, SplittableRandom random, int max) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < max; i++) {
      long a = w.next(random);
      out.add(a);
      if (a == Workload.DONE) {
        break;
      }
    }
    return out;
  }

  @Test
  void accessEncodingRoundTrips() {
    for (int vpn : new int[] {0, 1, 12345, Integer.MAX_VALUE}) {
      for (boolean write : new boolean[] {false, true}) {
        long a = Workload.encode(vpn, write);
        assertTrue(a >= 0, "never mistaken for IDLE or DONE");
        assertEquals(vpn, Workload.vpn(a));
        assertEquals(write, Workload.isWrite(a));
      }
    }
  }

  @Test
  void sequentialVisitsPagesInOrderAndIsDoneAfterItsPasses() {
    Workload w = WorkloadSpec.parse("sequential:footprint=16KiB,passes=2,writes=0").create();
    assertEquals(4, w.footprintPages());
    SplittableRandom random = new SplittableRandom(1);
    List<Long> got = drain(w, random, 100);
    assertEquals(9, got.size(), "two passes of four pages, then DONE");
    for (int i = 0; i < 8; i++) {
      assertEquals(i % 4, Workload.vpn(got.get(i)));
      assertFalse(Workload.isWrite(got.get(i)), "writes=0");
    }
    assertEquals(Workload.DONE, got.get(8));
    assertEquals(Workload.DONE, w.next(random), "and stays done");
  }

  @Test
  void sequentialStopsAfterItsAccessesAndWritesWhenAskedTo() {
    Workload w = WorkloadSpec.parse("sequential:footprint=16KiB,accesses=6,writes=1").create();
    List<Long> got = drain(w, new SplittableRandom(1), 100);
    assertEquals(7, got.size());
    assertEquals(List.of(0, 1, 2, 3, 0, 1), got.subList(0, 6).stream().map(Workload::vpn).toList());
    assertTrue(got.subList(0, 6).stream().allMatch(Workload::isWrite), "writes=1");
    assertEquals(Workload.DONE, got.get(6));
  }

  @Test
  void sequentialWithoutLimitsRunsOn() {
    Workload w = WorkloadSpec.parse("sequential:footprint=16KiB").create();
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < 10_000; i++) {
      assertEquals(i % 4, Workload.vpn(w.next(random)));
    }
  }

  @Test
  void uniformStaysWithinItsFootprintCoversItAndHonoursTheWriteFraction() {
    Workload w = WorkloadSpec.parse("uniform:footprint=400KiB,writes=0.3,accesses=20000").create();
    assertEquals(100, w.footprintPages());
    SplittableRandom random = new SplittableRandom(7);
    boolean[] seen = new boolean[100];
    int writes = 0;
    for (int i = 0; i < 20_000; i++) {
      long a = w.next(random);
      int vpn = Workload.vpn(a);
      assertTrue(vpn >= 0 && vpn < 100, "vpn " + vpn);
      seen[vpn] = true;
      writes += Workload.isWrite(a) ? 1 : 0;
    }
    for (int vpn = 0; vpn < 100; vpn++) {
      assertTrue(seen[vpn], "vpn " + vpn + " never touched");
    }
    assertEquals(0.3, writes / 20_000.0, 0.03);
    assertEquals(Workload.DONE, w.next(random));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "uniform:footprint=400KiB,ramp=10000",
      "hotset:footprint=400KiB,ramp=10000",
      "phases:sizes=400KiB,accesses=20000,ramp=10000",
  })
  void aRampGrowsTheTouchedFootprintLinearly(String text) {
    Workload w = WorkloadSpec.parse(text).create();
    SplittableRandom random = new SplittableRandom(11);
    int highest = -1;
    for (int i = 0; i < 20_000; i++) {
      int vpn = Workload.vpn(w.next(random));
      // After i accesses of a ramp of 10000 over 100 pages, at most i / 100 + 1 pages are reachable.
      assertTrue(vpn <= Math.max(1, Math.min(100, (long) i * 100 / 10_000)), "access " + i + " touched " + vpn);
      if (i == 5_000) {
        assertTrue(highest >= 40, "half-way through the ramp about half the footprint is in use: " + highest);
      }
      highest = Math.max(highest, vpn);
    }
    assertEquals(99, highest, "after the ramp the whole footprint is in use");
  }

  @Test
  void hotsetSendsAboutItsHotShareToTheHotSetAndStaysWithinItsFootprint() {
    Workload w = WorkloadSpec.parse("hotset:footprint=4000KiB,hot=0.1,accesses=100000").create();
    assertEquals(1000, w.footprintPages());
    SplittableRandom random = new SplittableRandom(42);
    int hot = 0;
    boolean coldSeen = false;
    for (int i = 0; i < 100_000; i++) {
      int vpn = Workload.vpn(w.next(random));
      assertTrue(vpn >= 0 && vpn < 1000, "vpn " + vpn);
      if (vpn < 100) {
        hot++;
      } else {
        coldSeen = true;
      }
    }
    assertEquals(0.8, hot / 100_000.0, 0.03, "hot-share defaults to 80 %");
    assertTrue(coldSeen);
    assertEquals(Workload.DONE, w.next(random));
    assertTrue(w.describe().startsWith("hotset"), w.describe());
  }

  @Test
  void hotsetHonoursAnotherHotShare() {
    Workload w = WorkloadSpec.parse("hotset:footprint=4000KiB,hot=0.2,hot-share=0.5").create();
    SplittableRandom random = new SplittableRandom(5);
    int hot = 0;
    for (int i = 0; i < 50_000; i++) {
      int vpn = Workload.vpn(w.next(random));
      assertTrue(vpn >= 0 && vpn < 1000);
      if (vpn < 200) {
        hot++;
      }
    }
    assertEquals(0.5, hot / 50_000.0, 0.03);
  }

  @Test
  void hotsetOfOnePageStillWorks() {
    Workload w = WorkloadSpec.parse("hotset:footprint=4KiB").create();
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < 1_000; i++) {
      assertEquals(0, Workload.vpn(w.next(random)));
    }
  }

  @Test
  void phasesChangeTheWorkingSetPhaseByPhaseThenEnd() {
    Workload w = WorkloadSpec.parse("phases:sizes=16KiB/64KiB/32KiB,accesses=1000").create();
    assertEquals(16, w.footprintPages());
    SplittableRandom random = new SplittableRandom(3);
    int[] sizes = {4, 16, 8};
    for (int phase = 0; phase < 3; phase++) {
      int max = -1;
      for (int i = 0; i < 1_000; i++) {
        int vpn = Workload.vpn(w.next(random));
        assertTrue(vpn >= 0 && vpn < sizes[phase], "phase " + phase + " touched vpn " + vpn);
        max = Math.max(max, vpn);
      }
      assertEquals(sizes[phase] - 1, max, "phase " + phase + " covers its whole working set");
      assertTrue(w.describe().startsWith("phase " + (phase + 1) + "/3"), w.describe());
    }
    assertEquals(Workload.DONE, w.next(random));
    assertEquals(Workload.DONE, w.next(random), "and stays done");
  }

  @Test
  void loopingPhasesStartOverInsteadOfEnding() {
    Workload w = WorkloadSpec.parse("phases:sizes=8KiB/32KiB,accesses=100,loop=true").create();
    SplittableRandom random = new SplittableRandom(3);
    for (int round = 0; round < 5; round++) {
      int[] sizes = {2, 8};
      for (int phase = 0; phase < 2; phase++) {
        for (int i = 0; i < 100; i++) {
          long a = w.next(random);
          assertNotEquals(Workload.DONE, a);
          assertTrue(Workload.vpn(a) < sizes[phase], "round " + round + " phase " + phase);
        }
      }
    }
  }

  @Test
  void idleTouchesItsFootprintOnceThenIdles() {
    Workload w = WorkloadSpec.parse("idle:footprint=32KiB,writes=1").create();
    SplittableRandom random = new SplittableRandom(1);
    assertTrue(w.describe().contains("touching"), w.describe());
    for (int vpn = 0; vpn < 8; vpn++) {
      long a = w.next(random);
      assertEquals(vpn, Workload.vpn(a));
      assertTrue(Workload.isWrite(a));
    }
    for (int i = 0; i < 1_000; i++) {
      assertEquals(Workload.IDLE, w.next(random), "idle, never done");
    }
    assertTrue(w.describe().startsWith("idle 32KiB"), w.describe());
  }

  @Test
  void eachCreateIsAFreshWorkload() {
    WorkloadSpec spec = WorkloadSpec.parse("sequential:footprint=16KiB,passes=1");
    Workload a = spec.create();
    Workload b = spec.create();
    SplittableRandom random = new SplittableRandom(1);
    drain(a, random, 100);
    assertEquals(0, Workload.vpn(b.next(random)), "b starts at the beginning");
  }

  @Test
  void filesTypeReadsAndWritesAFileThroughThePageCache() {
    WorkloadSpec s = WorkloadSpec.parse("files:files=1MiB");
    assertEquals(256, s.filePages());
    assertEquals(4096, s.footprintPages(), "16MiB of its own memory by default");
    assertEquals(0.5, s.fileShare());
    Workload w = s.create();
    assertEquals(256, w.filePages());
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    int files = 0;
    for (int i = 0; i < 1000; i++) {
      long a = w.next(r);
      if (Workload.isFile(a)) {
        files++;
        assertTrue(Workload.vpn(a) < 256);
      } else {
        assertTrue(Workload.vpn(a) < 4096);
      }
    }
    assertTrue(files > 400 && files < 600, "about half file operations: " + files);
    s = WorkloadSpec.parse("files:files=64KiB,footprint=64KiB,file-share=1,writes=0,accesses=10");
    w = s.create();
    for (int i = 0; i < 10; i++) {
      long a = w.next(r);
      assertTrue(Workload.isFile(a) && !Workload.isWrite(a));
    }
    assertEquals(Workload.DONE, w.next(r));
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("files:footprint=1MiB"));
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("files:files=65GiB"));
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("files:files=1MiB,file-share=2"));
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("uniform:footprint=1MiB,files=1MiB"));
  }

  @Test
  void dataSetsAndZeroRegionsAreReadOnly() {
    WorkloadSpec s = WorkloadSpec.parse("uniform:footprint=64KiB,writes=1,data-set=census.v1,data=16KiB,zero=16KiB");
    assertEquals("census.v1", s.dataSet());
    assertEquals(4, s.dataPages());
    assertEquals(4, s.zeroPages());
    Workload w = s.create();
    assertEquals(4, w.dataPages());
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    for (int i = 0; i < 500; i++) {
      long a = w.next(r);
      assertEquals(Workload.vpn(a) >= 8, Workload.isWrite(a), "writes only outside the data set and zero region");
    }
    assertEquals(4, WorkloadSpec.parse("hotset:footprint=1MiB,zero=16KiB").zeroPages());
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("uniform:footprint=1MiB,data=16KiB"),
        "data needs a name");
    assertThrows(IllegalArgumentException.class, () -> WorkloadSpec.parse("uniform:footprint=1MiB,data-set=x"),
        "a name needs data");
    assertThrows(IllegalArgumentException.class,
        () -> WorkloadSpec.parse("uniform:footprint=1MiB,data-set=a b,data=16KiB"));
    assertThrows(IllegalArgumentException.class,
        () -> WorkloadSpec.parse("uniform:footprint=64KiB,data-set=x,data=48KiB,zero=32KiB"),
        "more than the footprint");
  }
}
