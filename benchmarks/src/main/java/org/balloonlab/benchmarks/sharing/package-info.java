/** The page-sharing benchmark: the scanner's cost, the data path with sharing on and off, the table's bytes. */
package org.balloonlab.benchmarks.sharing;
