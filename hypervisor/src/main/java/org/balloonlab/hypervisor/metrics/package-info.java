/**
 * The hypervisor's Prometheus metrics (docs/metrics.md): a collector that reads the machine's snapshot when it is
 * scraped (served by {@code transport.metrics.MetricsEndpoint}). The only hypervisor package that knows the
 * Prometheus client; the machine and the policy know nothing of it, and the data path pays nothing for it.
 */
package org.balloonlab.hypervisor.metrics;
