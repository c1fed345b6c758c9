package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.units.CommandLineConverters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class PagingComparisonCommandTest {

  @Test
  void theTablePutsBothRunsOfAVmOnOneRow() {
    String table = PagingComparisonCommand.table(
        List.of(new PagingComparisonCommand.GuestResult("vm1", 20_050_000_000L, 109_509, 1, 6511, 1439, 4660, 0)),
        List.of(new PagingComparisonCommand.GuestResult("vm1", 26_150_000_000L, 43_128, 1, 184_844, 25_969, 0, 0)));
    List<String> lines = table.lines().toList();
    assertEquals(3, lines.size(), table);
    assertTrue(lines.get(0).contains("enabled") && lines.get(0).contains("disabled"), table);
    String row = lines.get(2);
    assertTrue(row.startsWith("vm1"), row);
    assertTrue(row.indexOf("20.05s") < row.indexOf("26.15s"), "enabled first: " + row);
    for (String figure : new String[] {"109509", "6511", "1439", "18.2MiB", "43128", "184844", "25969"}) {
      assertTrue(row.contains(figure), figure + " in " + row);
    }
  }

  @Test
  void readsTheGuestSummary() {
    String summary = "BALLOONLAB_GUEST_SUMMARY name=vm1 simulated_ns=42 true_faults=7 double_paging=3";
    assertEquals(42, GuestSummary.count(summary, "simulated_ns"));
    assertEquals(3, GuestSummary.count(summary, "double_paging"));
    assertThrows(IllegalStateException.class, () -> GuestSummary.count(summary, "host_page_ins"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--guests 0                | --guests",
      "--guests 17               | --guests",
      "--memory lots             | --memory",
      "--guest-memory 5000       | --guest-memory",
      "--stall-timeout 0s        | --stall-timeout",
      "--timeout 0s              | --timeout",
  })
  void badOptionsAreRefusedBeforeAnyProcessStarts(String line, String named) {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    CommandLine cl = CommandLineConverters.register(new CommandLine(new PagingComparisonCommand()));
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(out, true));
    assertEquals(2, cl.execute(line.trim().split(" +")), err.toString());
    assertTrue(err.toString().contains(named), err.toString());
    assertTrue(!out.toString().contains("run with"), "no run started: " + out);
  }
}
