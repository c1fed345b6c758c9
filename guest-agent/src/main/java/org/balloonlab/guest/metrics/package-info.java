/**
 * A guest agent's Prometheus metrics (docs/metrics.md, "Guest agents"): its kernel's and its balloon driver's
 * counters, read at scrape time. The only guest package that knows the Prometheus client.
 */
package org.balloonlab.guest.metrics;
