package org.balloonlab.hypervisor.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.SharingSettings;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.MachineSharingState;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Page sharing as GetMachine reports it over the in-process transport. */
class SharingStateTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private ManagementServiceGrpc.ManagementServiceBlockingStub start(SharingSettings sharing) throws IOException {
    Machine machine = grpc.register(new Machine(new MachineConfig(256, 256, dir.resolve("host.swap"), 64,
        CostModel.DEFAULT, 3).withSharing(sharing)));
    String name = InProcessServerBuilder.generateName();
    grpc.register(new HypervisorServer(InProcessServerBuilder.forName(name), machine, Duration.ofHours(1)).start());
    ManagedChannel channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    java.util.List<Vm> vms = new java.util.ArrayList<>();
    for (String vmName : new String[] {"vm1", "vm2"}) {
      Vm vm = machine.powerOn(vmName, "linux", 32, 0, 0);
      vms.add(vm);
      byte[] ops = new byte[32];
      int[] pfns = new int[32];
      long[] values = new long[32];
      for (int i = 0; i < 32; i++) {
        ops[i] = AccessOps.WRITE;
        pfns[i] = i;
        values[i] = i < 16 ? 0xA000L + i : 0;
      }
      machine.applyBatch(vm, 32, ops, pfns, values, new long[32], new BatchResult());
    }
    // Ten simulated seconds at the default rates: every page of both VMs is looked at many times.
    for (int i = 0; i < 10; i++) {
      machine.scanForSharing(1_000_000_000L);
    }
    // A read each: the batch that pays the scanner's work on the VM's pages.
    for (Vm vm : vms) {
      machine.applyBatch(vm, 1, new byte[] {AccessOps.READ}, new int[] {0}, new long[0], new long[1],
          new BatchResult());
    }
    machine.checkInvariants();
    return ManagementServiceGrpc.newBlockingStub(channel);
  }

  @Test
  void getMachineReportsSharedAndSavedFramesPerVmAndMachineWide() throws IOException {
    ManagementServiceGrpc.ManagementServiceBlockingStub management = start(SharingSettings.ON);
    MachineState m = management.getMachine(GetMachineRequest.getDefaultInstance());
    MachineSharingState s = m.getSharing();
    assertTrue(s.getEnabled());
    assertEquals(17, s.getSharedFrames(), "16 image pages and one zero frame");
    assertEquals(64, s.getSharedReferences());
    assertEquals(47, s.getSavedFrames());
    assertEquals(32, s.getZeroReferences());
    assertTrue(s.getTableBytes() > 0 && s.getTableBytes() <= 256 * 4096 / 200, "table bytes " + s.getTableBytes());
    assertTrue(s.getScannedPages() > 64);
    assertEquals(256 - 17, m.getFreeFrames(), "a shared frame counts once");
    long paid = 0;
    for (VmState vm : management.listVms(ListVmsRequest.getDefaultInstance()).getVmsList()) {
      assertEquals(32, vm.getSharing().getSharedPages());
      assertTrue(vm.getSharing().getSavedPages() > 0);
      assertEquals(vm.getSharing().getScannedPages() * CostModel.DEFAULT_SHARE_SCAN_NS,
          vm.getSharing().getShareScanNs(), "every page scanned paid at share-scan");
      paid += vm.getSharing().getShareScanNs();
    }
    assertEquals(paid, s.getShareScanNs(), "machine-wide, the VMs' sum");
    assertEquals(0, s.getHintsEvicted(), "a table of 256 slots never filled");
  }

  @Test
  void sharingOffReportsNothingShared() throws IOException {
    MachineState m = start(SharingSettings.OFF).getMachine(GetMachineRequest.getDefaultInstance());
    assertFalse(m.getSharing().getEnabled());
    assertEquals(0, m.getSharing().getSharedFrames());
    assertEquals(0, m.getSharing().getScannedPages());
    assertEquals(0, m.getSharing().getShareScanNs());
    assertEquals(256 - 64, m.getFreeFrames());
  }
}
