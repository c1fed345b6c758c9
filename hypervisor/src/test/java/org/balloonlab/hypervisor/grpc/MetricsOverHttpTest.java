package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.metrics.HypervisorMetrics;
import org.balloonlab.transport.metrics.MetricsEndpoint;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hypervisor's Prometheus endpoint, scraped over HTTP on a real loopback port, against the management API's
 * view of the same moment: no guest runs, so nothing moves between the two reads but what the test does.
 */
class MetricsOverHttpTest {
  private static final int FRAMES = 1000;
  private static final double PAGE = 4096;
  /** Lab time the machine's clock stands at: a fixed value, as a held lab clock gives. */
  private static final long LAB_TIME_NS = 62_500_000_000L;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private Machine machine;
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private MetricsEndpoint endpoint;

  @BeforeEach
  void start() throws IOException {
    machine = grpc.register(new Machine(new MachineConfig(FRAMES, 4 * FRAMES, dir.resolve("host.swap"), 4096,
        CostModel.DEFAULT, 42, 64, Long.MAX_VALUE, ReclamationSettings.ESX), TlbConfig.DEFAULT, () -> LAB_TIME_NS));
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine, Duration.ofHours(1)).start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    management = ManagementServiceGrpc.newBlockingStub(channel);
    endpoint = grpc.register(MetricsEndpoint.start("127.0.0.1", 0,
        new HypervisorMetrics(machine::snapshot, () -> LAB_TIME_NS)));
  }

  private void write(Vm vm, int pages) {
    int[] pfns = new int[pages];
    Arrays.setAll(pfns, i -> i);
    byte[] ops = new byte[pages];
    Arrays.fill(ops, AccessOps.WRITE);
    long[] values = new long[pages];
    machine.validateBatch(vm, pages, ops, pfns, pages);
    machine.applyBatch(vm, pages, ops, pfns, values, new long[pages], new BatchResult());
  }

  private String scrape() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    // Wall-clock timeout: a network deadline, not part of the model.
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(endpoint.url()))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  /** The value of the series {@code name} whose labels include every {@code key="value"} given. */
  static double value(String text, String name, String... labels) {
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + " ") || line.startsWith(name + "{"))) {
        continue;
      }
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        all &= line.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no series " + name + " " + Arrays.toString(labels) + " in\n" + text);
  }

  @Test
  void aScrapeShowsWhatTheManagementApiShows() throws Exception {
    Vm big = machine.powerOn("big", "linux", 800, 0, 100);
    Vm small = machine.powerOn("small", "linux", 800, 64, 300);
    write(big, 600);
    write(small, 370);
    machine.rebalance(); // the soft state: the policy sets balloon targets
    ListVmsResponse view = management.listVms(ListVmsRequest.getDefaultInstance());
    String text = scrape();

    MachineState m = view.getMachine();
    assertEquals("soft", m.getFreeState(), "the test needs a decision under pressure");
    assertEquals(m.getMachineFrames() * PAGE, value(text, "balloonlab_machine_memory_bytes"));
    assertEquals(m.getFreeFrames() * PAGE, value(text, "balloonlab_machine_free_bytes"));
    assertEquals(m.getMappedFrames() * PAGE, value(text, "balloonlab_machine_mapped_bytes"));
    assertEquals(m.getTargetFreeFrames() * PAGE, value(text, "balloonlab_machine_target_free_bytes"));
    assertEquals(1, value(text, "balloonlab_machine_free_state", "state", "soft"));
    assertEquals(0, value(text, "balloonlab_machine_free_state", "state", "high"));
    assertEquals(m.getTau(), value(text, "balloonlab_machine_idle_memory_tax_ratio"));
    assertEquals(m.getHostPageOuts(), value(text, "balloonlab_machine_host_page_outs_total"));
    assertEquals(LAB_TIME_NS / 1e9, value(text, "balloonlab_lab_time_seconds"));
    assertEquals(2, value(text, "balloonlab_machine_vms"));

    for (VmState vm : view.getVmsList()) {
      String n = vm.getName();
      assertEquals(vm.getMemoryPages() * PAGE, value(text, "balloonlab_vm_memory_bytes", "vm", n));
      assertEquals(vm.getMappedPages() * PAGE, value(text, "balloonlab_vm_mapped_bytes", "vm", n));
      assertEquals(vm.getHostSwappedPages() * PAGE, value(text, "balloonlab_vm_host_swapped_bytes", "vm", n));
      assertEquals(vm.getBalloon().getSizePages() * PAGE, value(text, "balloonlab_vm_balloon_bytes", "vm", n));
      assertEquals(vm.getBalloon().getTargetPages() * PAGE,
          value(text, "balloonlab_vm_balloon_target_bytes", "vm", n));
      assertTrue(vm.getBalloon().getTargetPages() > 0, n + " got a balloon target from the policy");
      assertEquals(vm.getReclamation().getAllocationTargetPages() * PAGE,
          value(text, "balloonlab_vm_allocation_bytes", "vm", n));
      assertEquals(vm.getReclamation().getShares(), value(text, "balloonlab_vm_shares", "vm", n));
      assertEquals(vm.getReclamation().getSharesPerPage(), value(text, "balloonlab_vm_shares_per_page", "vm", n),
          1e-9 * vm.getReclamation().getSharesPerPage());
      assertEquals(vm.getReclamation().getActiveFraction(), value(text, "balloonlab_vm_active_ratio", "vm", n));
      assertEquals(vm.getCounters().getDemandZeroFaults(),
          value(text, "balloonlab_vm_faults_total", "vm", n, "kind", "demand_zero"));
      assertTrue(vm.getCounters().getDemandZeroFaults() > 0);
      assertEquals(vm.getCounters().getHiddenFaults(),
          value(text, "balloonlab_vm_faults_total", "vm", n, "kind", "hidden"));
      assertEquals(vm.getCounters().getDoublePaging(), value(text, "balloonlab_vm_double_paging_total", "vm", n));
      assertEquals(vm.getMmu().getTlbMisses(), value(text, "balloonlab_vm_tlb_misses_total", "vm", n));
      assertEquals(vm.getMmu().getExitsP2MFault(),
          value(text, "balloonlab_vm_exits_total", "vm", n, "reason", "p2m_fault"));
      assertEquals(vm.getCounters().getHypervisorNs() / 1e9,
          value(text, "balloonlab_vm_hypervisor_seconds_total", "vm", n), 1e-9);
    }
  }

  @Test
  void everyMetricHasHelpAndTheNamesFollowPrometheusConventions() throws Exception {
    machine.powerOn("vm1", "linux", 100, 0, 0);
    String text = scrape();
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        String[] parts = line.split(" ");
        String family = parts[2];
        assertTrue(family.startsWith("balloonlab_"), family);
        assertTrue(text.contains("# HELP " + family + " "), "help for " + family);
        assertEquals(parts[3].equals("counter"), family.endsWith("_total"), family + " is a " + parts[3]
            + ": counters, and only they, end in _total");
      }
    }
  }
}
