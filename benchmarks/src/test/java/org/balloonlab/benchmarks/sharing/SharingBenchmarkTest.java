package org.balloonlab.benchmarks.sharing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.balloonlab.units.CommandLineConverters;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The sharing benchmark's harness on a tiny machine: it prints every figure for the layouts asked, the table
 * within its budget, and refuses a bad command line. Nothing here asserts a rate: rates depend on the host.
 */
class SharingBenchmarkTest {
  private record Run(int code, String out, String err) {
  }

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = CommandLineConverters.register(new CommandLine(new SharingBenchmark()));
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void printsTheDataPathForBothLayoutsAndTheTableWithinItsBudget() {
    Run r = run("--vm-pages", "1024", "--rounds", "1", "--batches", "2");
    assertEquals(0, r.code(), r.err() + r.out());
    for (String layout : new String[] {"interleaved first touches", "one block per VM"}) {
      assertTrue(r.out().contains("data path on / off, " + layout), r.out());
      // Two batches of warm-up leave shared pages for the timed ones to break: the breaks are counted.
      Matcher breaks = Pattern.compile("copy-on-write breaks timed, " + layout + " +(\\d+)").matcher(r.out());
      assertTrue(breaks.find(), r.out());
      assertTrue(Long.parseLong(breaks.group(1)) > 0, r.out());
    }
    Matcher bytes = Pattern.compile("sharing table bytes per machine page +([0-9.]+) .*(PASS|MISS)").matcher(r.out());
    assertTrue(bytes.find(), r.out());
    assertTrue(Double.parseDouble(bytes.group(1)) <= 4096 * 0.005, r.out());
    assertEquals("PASS", bytes.group(2));
  }

  @Test
  void measuresOnlyTheLayoutsAsked() {
    Run r = run("--vm-pages", "1024", "--rounds", "1", "--batches", "1", "--layout", "blocks");
    assertEquals(0, r.code(), r.err() + r.out());
    assertTrue(r.out().contains("one block per VM"), r.out());
    assertTrue(!r.out().contains("interleaved first touches"), r.out());
  }

  @Test
  void refusesABadCommandLine() {
    Run bogus = run("--layout", "bogus");
    assertEquals(2, bogus.code());
    assertTrue(bogus.err().contains("unknown layout 'bogus'; known: interleaved, blocks"), bogus.err());
    Run twice = run("--layout", "blocks,blocks");
    assertEquals(2, twice.code());
    assertTrue(twice.err().contains("--layout names a layout twice"), twice.err());
    assertEquals(2, run("--vm-pages", "10").code());
  }
}
