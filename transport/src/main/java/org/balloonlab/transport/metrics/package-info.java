/**
 * What the hypervisor's and the guest agents' Prometheus metrics share (docs/metrics.md): the families of one
 * scrape and the HTTP endpoint that serves them. Each process's collector lives with it
 * ({@code hypervisor.metrics}, {@code guest.metrics}); this package knows nothing of what they measure.
 */
package org.balloonlab.transport.metrics;
