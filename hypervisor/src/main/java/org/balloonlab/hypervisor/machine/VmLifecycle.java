package org.balloonlab.hypervisor.machine;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.balloonlab.domain.VmName;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.mmu.Mmu;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import org.balloonlab.hypervisor.policy.ActivitySampler;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.swap.SwapDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The powered-on VMs and their lives: admission control (a VM's {@code min} must fit beside the reservations
 * already made), power-on with an empty P2M, a credential and an MMU, lookup by id and name, the credential check,
 * the access stream's attach and detach, and the release that frees every MFN and host swap slot a VM's P2M holds
 * at once, whoever ends the VM (its guest, an operator, a broken stream or the detach reaper).
 *
 * <p>VMs are kept in power-on order, which is the order the reclamation policy and the host pager consider them
 * in; {@link #vms()} is a live view the other parts read. Not thread-safe: every method assumes the caller holds
 * the machine's lock.
 */
final class VmLifecycle {
  /** What a PowerOn request id may be: a UUID fits, and so does any short token a client makes up. */
  static final String POWER_ON_REQUEST_ID_RULE = "1-64 characters of letters, digits or '-'";
  private static final Pattern POWER_ON_REQUEST_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
  /** The machine's logger: the hypervisor's log reads as it did when the machine was one class. */
  private static final Logger log = LoggerFactory.getLogger(Machine.class);

  private final MachineMemory memory;
  private final SwapDevice swap;
  private final EventLog events;
  private final BalloonBackend balloon;
  private final LongSupplier clock;
  private IntConsumer releaseListener = id -> { };
  private final CostModel costs;
  private final TlbConfig tlbConfig;
  private final ReclamationSettings reclamation;
  private final SecureRandom credentials;
  private final MachineCounters machineCounters;
  private final Map<Integer, Vm> vms = new LinkedHashMap<>();
  private final Map<String, Vm> vmsByName = new LinkedHashMap<>();
  /** Powered-on VMs by their PowerOn request id: bounded by the VMs that exist, each forgotten when it goes. */
  private final Map<String, Vm> vmsByRequestId = new HashMap<>();
  private final Collection<Vm> view = Collections.unmodifiableCollection(vms.values());
  private final Quotas quotas;
  private int nextVmId = 1;
  private long reservedPages;
  /** Host swap slots promised to the VMs, {@code memory - min} each: never more than the swap file holds. */
  private long swapReservedPages;
  private long configuredPages;

  private final PageSharing sharing;

  VmLifecycle(MachineMemory memory, SwapDevice swap, EventLog events, BalloonBackend balloon, LongSupplier clock,
              CostModel costs, TlbConfig tlbConfig, ReclamationSettings reclamation, SecureRandom credentials,
              MachineCounters machineCounters, Quotas quotas, PageSharing sharing) {
    this.sharing = sharing;
    this.quotas = quotas;
    this.memory = memory;
    this.swap = swap;
    this.events = events;
    this.balloon = balloon;
    this.clock = clock;
    this.costs = costs;
    this.tlbConfig = tlbConfig;
    this.reclamation = reclamation;
    this.credentials = credentials;
    this.machineCounters = machineCounters;
  }

  /** ESX's "normal" shares: 10 per MiB of configured memory (256 pages). */
  static long defaultShares(long memoryPages) {
    return Math.max(1, memoryPages * 10 / 256);
  }

  /** The powered-on VMs in power-on order, a live read-only view. */
  Collection<Vm> vms() {
    return view;
  }

  /** Machine memory reserved for the VMs' mins. */
  long reservedPages() {
    return reservedPages;
  }

  /** Host swap reserved for the VMs: the sum of their {@code memory - min}. */
  long swapReservedPages() {
    return swapReservedPages;
  }

  /** The VMs' configured sizes added up: more than machine memory when it is overcommitted. */
  long configuredPages() {
    return configuredPages;
  }

  Quotas quotas() {
    return quotas;
  }

  /**
   * Powers a VM on after checking what came from outside: the client's request id (empty for none), the name and
   * the OS kind (empty for "generic"). @throws MachineException INVALID_ARGUMENT for a bad one, never echoing it
   * unbounded; otherwise as {@link #powerOn(String, String, long, long, long, TranslationMode, String)}
   */
  Vm powerOnChecked(String name, String osKind, long memoryPages, long minPages, long shares, TranslationMode mode,
                    String requestId) {
    if (requestId != null && !requestId.isEmpty() && !POWER_ON_REQUEST_ID.matcher(requestId).matches()) {
      throw MachineException.invalid("a PowerOn request id must be " + POWER_ON_REQUEST_ID_RULE + ", got "
          + VmName.quote(requestId));
    }
    if (!VmName.isValid(name)) {
      throw MachineException.invalid("VM name must be " + VmName.RULE + ", got " + VmName.quote(name));
    }
    String kind = osKind == null || osKind.isEmpty() ? "generic" : osKind;
    if (!VmName.isValid(kind)) {
      throw MachineException.invalid("OS kind must be " + VmName.RULE + ", got " + VmName.quote(osKind));
    }
    return powerOn(name, kind, memoryPages, minPages, shares, mode,
        requestId == null || requestId.isEmpty() ? null : requestId);
  }

  /**
   * Powers a VM on whose name and OS kind the machine checked already.
   *
   * @throws MachineException INVALID_ARGUMENT for a bad size, min or shares; ALREADY_EXISTS for a name in use;
   *     RESOURCE_EXHAUSTED when the machine cannot reserve {@code minPages}
   */
  Vm powerOn(String name, String kind, long memoryPages, long minPages, long shares, TranslationMode mode) {
    return powerOn(name, kind, memoryPages, minPages, shares, mode, null);
  }

  /**
   * Powers a VM on, or answers the VM an earlier call with the same {@code requestId} (checked by the machine)
   * powered on, if its spec is the same: a retry lands once.
   *
   * @param requestId the client's id for this power-on, {@code null} for none
   * @throws MachineException as the other {@code powerOn}; ALREADY_EXISTS for a request id used with another spec
   */
  Vm powerOn(String name, String kind, long memoryPages, long minPages, long shares, TranslationMode mode,
             String requestId) {
    Vm earlier = requestId == null ? null : vmsByRequestId.get(requestId);
    if (earlier != null) {
      TranslationMode m = mode == null ? TranslationMode.NESTED : mode;
      long s = shares == 0 ? defaultShares(memoryPages) : shares;
      if (!earlier.name().equals(name) || !earlier.osKind().equals(kind) || earlier.memoryPages() != memoryPages
          || earlier.minPages != minPages || earlier.shares != s || earlier.translationMode() != m) {
        throw new MachineException(MachineException.Reason.ALREADY_EXISTS, "this PowerOn request id already "
            + "powered on " + earlier + " with another spec; a retry must repeat the spec exactly");
      }
      log.info("{}: PowerOn retried with the same request id; answered with the VM already on", earlier);
      return earlier;
    }
    Vm vm = powerOnNew(name, kind, memoryPages, minPages, shares, mode);
    if (requestId != null) {
      vm.powerOnRequestId = requestId;
      vmsByRequestId.put(requestId, vm);
    }
    return vm;
  }

  private Vm powerOnNew(String name, String kind, long memoryPages, long minPages, long shares,
                        TranslationMode mode) {
    if (memoryPages <= 0 || memoryPages > Machine.MAX_VM_PAGES) {
      throw MachineException.invalid("VM memory must be 1 to " + Machine.MAX_VM_PAGES + " pages (4 KiB to 1 TiB), "
          + "got " + memoryPages + " pages");
    }
    long backable = (long) memory.frames() + swap.slots();
    if (memoryPages > backable) {
      throw MachineException.invalid("VM memory of " + memoryPages + " pages is more than machine memory and host "
          + "swap together can back (" + backable + " pages)");
    }
    if (minPages < 0 || minPages > memoryPages) {
      throw MachineException.invalid("VM min must be from 0 to its memory (" + memoryPages + " pages), got "
          + minPages + " pages");
    }
    if (shares < 0 || shares > Machine.MAX_SHARES) {
      throw MachineException.invalid("VM shares must be from 1 to " + Machine.MAX_SHARES + " (or 0 for the "
          + "default), got " + shares);
    }
    if (vmsByName.containsKey(name)) {
      throw new MachineException(MachineException.Reason.ALREADY_EXISTS,
          "a VM named '" + name + "' is already powered on (id " + vmsByName.get(name).id() + ")");
    }
    if (vms.size() >= quotas.maxVms()) {
      throw new MachineException(MachineException.Reason.RESOURCE_EXHAUSTED, "cannot power on '" + name + "': the "
          + "VM limit (--max-vms) is " + quotas.maxVms() + " and " + vms.size() + " VMs are on");
    }
    if (configuredPages + memoryPages > quotas.maxConfiguredPages()) {
      throw new MachineException(MachineException.Reason.RESOURCE_EXHAUSTED, "cannot power on '" + name + "' with "
          + memoryPages + " pages: the configured-memory limit (--max-configured-memory) is "
          + quotas.maxConfiguredPages() + " pages and the VMs on are configured with " + configuredPages
          + " pages, " + (quotas.maxConfiguredPages() - configuredPages) + " are left");
    }
    if (reservedPages + minPages > memory.frames()) {
      throw new MachineException(MachineException.Reason.RESOURCE_EXHAUSTED, "cannot reserve min of " + minPages
          + " pages for '" + name + "': " + reservedPages + " of the machine's " + memory.frames()
          + " frames are already reserved, " + (memory.frames() - reservedPages) + " are left");
    }
    long swapNeeded = memoryPages - minPages;
    if (swapReservedPages + swapNeeded > swap.slots()) {
      // ESX's rule: what is not reserved in machine memory is reserved in host swap, so the hypervisor can always
      // page an admitted VM down to its min.
      throw new MachineException(MachineException.Reason.RESOURCE_EXHAUSTED, "cannot reserve " + swapNeeded
          + " pages of host swap (memory " + memoryPages + " - min " + minPages + ") for '" + name + "': "
          + swapReservedPages + " of the host swap's " + swap.slots() + " slots are already reserved, "
          + (swap.slots() - swapReservedPages) + " are free");
    }
    byte[] secret = new byte[16];
    credentials.nextBytes(secret);
    long vmShares = shares == 0 ? defaultShares(memoryPages) : shares;
    ActivitySampler sampler = new ActivitySampler((int) memoryPages, reclamation.samplePages(),
        reclamation.samplePeriodNs(), reclamation.fastGain(), reclamation.slowGain());
    int id = nextVmId++;
    Vm vm = new Vm(id, name, kind, (int) memoryPages, minPages, vmShares, sampler, HexFormat.of().formatHex(secret),
        clock.getAsLong(),
        new Mmu(mode == null ? TranslationMode.NESTED : mode, tlbConfig, id, (int) memoryPages, costs,
            quotas.maxTranslationTablePages()));
    reservedPages += minPages;
    swapReservedPages += swapNeeded;
    configuredPages += memoryPages;
    vms.put(vm.id(), vm);
    vmsByName.put(name, vm);
    log.info("powered on {}: {} pages (min {}, shares {}), os kind {}, {} translation; configured {} pages on {} "
        + "frames", vm, memoryPages, minPages, vmShares, kind, vm.translationMode().label(), configuredPages(),
        memory.frames());
    events.publish(EventKind.VM_POWERED_ON, vm.id(), name, "powered on with " + memoryPages + " pages (min "
        + minPages + ", shares " + vmShares + ", " + vm.translationMode().label() + " translation; "
        + configuredPages() + " pages configured on " + memory.frames() + " frames)");
    return vm;
  }

  /** A powered-on VM by id, or {@code null}. */
  Vm find(int id) {
    return vms.get(id);
  }

  /** @throws MachineException NOT_FOUND */
  Vm byId(int id) {
    Vm vm = vms.get(id);
    if (vm == null) {
      throw new MachineException(MachineException.Reason.NOT_FOUND, "no powered-on VM has id " + id);
    }
    return vm;
  }

  /** @throws MachineException NOT_FOUND */
  Vm byName(String name) {
    Vm vm = vmsByName.get(name);
    if (vm == null) {
      throw new MachineException(MachineException.Reason.NOT_FOUND, "no powered-on VM is named '" + name + "'");
    }
    return vm;
  }

  /**
   * Finds a VM and checks the caller's credential for it, in time that does not depend on where they differ.
   *
   * @throws MachineException NOT_FOUND or PERMISSION_DENIED
   */
  Vm authenticate(int vmId, String credential) {
    Vm vm = byId(vmId);
    byte[] given = (credential == null ? "" : credential).getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, vm.credential().getBytes(StandardCharsets.UTF_8))) {
      throw new MachineException(MachineException.Reason.PERMISSION_DENIED, "wrong credential for " + vm);
    }
    return vm;
  }

  /** @throws MachineException FAILED_PRECONDITION if the VM is off or another stream is attached */
  void attach(Vm vm) {
    vm.requirePoweredOn();
    if (vm.attached) {
      throw new MachineException(MachineException.Reason.FAILED_PRECONDITION,
          vm + " already has an attached access stream");
    }
    vm.attached = true;
  }

  /** The guest closed its stream cleanly: the detach timeout starts now. */
  void detach(Vm vm) {
    if (vm.poweredOn && vm.attached) {
      vm.attached = false;
      vm.detachedSinceNanos = clock.getAsLong();
    }
  }

  /** Releases every VM left without an attached stream for longer than {@code timeoutNanos}; answers how many. */
  int reapDetached(long nowNanos, long timeoutNanos) {
    List<Vm> stale = new ArrayList<>();
    for (Vm vm : vms.values()) {
      if (!vm.attached && nowNanos - vm.detachedSinceNanos > timeoutNanos) {
        stale.add(vm);
      }
    }
    for (Vm vm : stale) {
      release(vm, EventKind.VM_RELEASED, "no guest attached within " + timeoutNanos / 1_000_000 + " ms");
    }
    return stale.size();
  }

  /**
   * Ends a VM: every MFN and host swap slot its P2M holds is freed at once (a VM going away costs no simulated
   * time), its reservation returns to the machine, and its doorbell rings so a listening driver learns it is
   * gone. {@code why} is what its guest is told when its next request is refused.
   */
  void onRelease(IntConsumer listener) {
    this.releaseListener = listener;
  }

  /** See {@link Machine#powerOffAfterFailure}. */
  MachineException powerOffAfterFailure(Vm vm, String what, Throwable failure) {
    String why = what + " failed inside the hypervisor (" + failure.getClass().getSimpleName() + ")";
    log.error("{} failed for {}; powering it off", what, vm, failure);
    if (vm.poweredOn) {
      try {
        releaseAfterFailure(vm, why);
      } catch (RuntimeException | Error again) {
        failure.addSuppressed(again);
        log.error("releasing {} after a failure failed too", vm, again);
      }
    }
    return new MachineException(MachineException.Reason.INTERNAL, vm + " was powered off: " + why
        + "; all its memory was returned");
  }

  /**
   * Releases a VM whose request failed half-way: as {@link #release}, and then every frame the frame table still
   * gives it (one it took but had not mapped when the failure struck) is freed too, a scan of machine memory.
   */
  void releaseAfterFailure(Vm vm, String why) {
    int id = vm.id();
    release(vm, EventKind.VM_RELEASED, why);
    long strays = 0;
    for (int mfn = 0, n = memory.frames(); mfn < n; mfn++) {
      if (memory.owner(mfn) == id) {
        memory.free(mfn);
        strays++;
      }
    }
    if (strays > 0) {
      log.warn("{}: {} frames it held outside its P2M were freed", vm, strays);
    }
  }

  void release(Vm vm, EventKind kind, String why) {
    P2m p2m = vm.p2m;
    long frames = 0;
    long slots = 0;
    long sharedDropped = 0;
    long sharedFreed = 0;
    for (int pfn = 0, n = p2m.pages(); pfn < n; pfn++) {
      int e = p2m.get(pfn);
      if (P2m.isMapped(e)) {
        if (memory.owner(e) != MachineMemory.SHARED) {
          memory.free(e);
          frames++;
        } else {
          sharedDropped++;
          if (sharing.dropReference(vm, e)) {
            frames++;
            sharedFreed++;
          }
        }
      } else if (P2m.isSwapped(e)) {
        swap.release(P2m.swapSlot(e));
        slots++;
      }
      p2m.clear(pfn);
    }
    sharing.forget(vm);
    vm.mappedPages = 0;
    vm.hostSwappedPages = 0;
    vm.poweredOn = false;
    vm.attached = false;
    vm.offReason = why;
    vms.remove(vm.id());
    vmsByName.remove(vm.name());
    if (vm.powerOnRequestId != null) {
      vmsByRequestId.remove(vm.powerOnRequestId);
    }
    reservedPages -= vm.minPages;
    swapReservedPages -= vm.swapReservation();
    configuredPages -= vm.memoryPages();
    machineCounters.vmsReleased++;
    balloon.ring(vm);
    releaseListener.accept(vm.id());
    log.info("released {} ({}): {} frames freed, {} host swap slots released; {} frames free", vm, why, frames,
        slots, memory.freeFrames());
    events.publish(kind, vm.id(), vm.name(), why + ": " + frames + " frames freed, " + slots
        + " host swap slots released");
    sharing.released(vm, sharedDropped, sharedFreed);
  }
}
