/**
 * Reclamation decisions, apart from the mechanisms that carry them out: free-memory states and their thresholds,
 * the policies behind {@code ReclamationPolicy} (ESX's shares with the idle memory tax, manual), the activity
 * sampler and the settings. Plain Java with no dependencies on the rest of the hypervisor, so a policy can be
 * tested, and compared with another, on numbers alone.
 */
package org.balloonlab.hypervisor.policy;
