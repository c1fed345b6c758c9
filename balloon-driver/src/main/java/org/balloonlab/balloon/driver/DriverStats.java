package org.balloonlab.balloon.driver;

import org.balloonlab.domain.DriverMode;

/**
 * A snapshot of the driver's state and of every decision it counted.
 *
 * @param mode the mode in force
 * @param connected whether the driver has a session
 * @param sessionId the session's id, 0 without one
 * @param targetPages the last target the hypervisor sent
 * @param sizePages pages in the balloon (locked at the hypervisor)
 * @param capPages the most pages the balloon may hold
 * @param stuck whether the worker hangs in a {@code STUCK} inflation now
 * @param rounds rounds the worker ran
 * @param sessionsStarted sessions opened
 * @param inflations rounds that locked at least one page
 * @param deflations rounds (and stops) that unlocked at least one page, OOM releases not included
 * @param pagesLocked pages the hypervisor accepted
 * @param pagesUnlocked pages the hypervisor released (OK or NOT_LOCKED), OOM releases included
 * @param pagesRefused pages the hypervisor refused
 * @param refusalBackoffs inflation rounds cut short by too many refusals
 * @param pagesRejected pages a lock rejected otherwise (invalid, already locked, duplicate, reset)
 * @param unlockFailures pages an unlock did not release; they stayed in the balloon
 * @param resets balloon resets
 * @param resetPages pages returned to the kernel by resets, without an unlock
 * @param allocationFailures inflation batches for which the kernel had no page
 * @param oomDeflations deflate-on-OOM calls that gave pages back
 * @param oomPages pages given back on OOM
 * @param oomUntold of those, pages handed over without the hypervisor's answer (it could not be reached)
 * @param hostErrors calls to the hypervisor that failed as a whole
 * @param doorbellRings doorbell rings received
 * @param statsReports stats reports sent
 * @param modeSwitches mode changes, local or requested
 * @param stuckEpisodes times the worker hung in {@code STUCK}
 * @param retries lock and unlock calls sent again, same request, after no answer came ({@link PageCalls})
 * @param unknownOutcomes locks still unanswered after every retry: their pages were pinned until the hypervisor
 *     said what it holds
 * @param unknownPages pages pinned so now
 */
public record DriverStats(DriverMode mode, boolean connected, long sessionId, long targetPages, long sizePages,
                          long capPages, boolean stuck, long rounds, long sessionsStarted, long inflations,
                          long deflations, long pagesLocked, long pagesUnlocked, long pagesRefused,
                          long refusalBackoffs, long pagesRejected, long unlockFailures, long resets, long resetPages,
                          long allocationFailures, long oomDeflations, long oomPages, long oomUntold, long hostErrors,
                          long doorbellRings, long statsReports, long modeSwitches, long stuckEpisodes,
                          long retries, long unknownOutcomes, long unknownPages) {}
