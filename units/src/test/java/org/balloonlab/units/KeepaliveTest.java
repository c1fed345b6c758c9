package org.balloonlab.units;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class KeepaliveTest {

  @Test
  void theDefaultNoticesAPartitionWithinFifteenSeconds() {
    assertEquals(Duration.ofSeconds(10), Keepalive.DEFAULT.time());
    assertEquals(Duration.ofSeconds(5), Keepalive.DEFAULT.timeout());
    assertEquals(Duration.ofSeconds(15), Keepalive.DEFAULT.detection());
    assertEquals("10s,5s", Keepalive.DEFAULT.toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = ';', value = {
      "10s; 10s,5s",
      "30s,10s; 30s,10s",
      "10s,1s; 10s,1s",
      "' 20s , 1500ms '; 20s,1500ms",
      "2h; 2h,5s",
      "1m,1m; 1m,1m"})
  void readsTimeAndTimeout(String text, String written) {
    Keepalive k = Keepalive.parse(text);
    assertEquals(written, k.toString());
    assertEquals(k, Keepalive.parse(k.toString()), "what it prints reads back the same");
  }

  @ParameterizedTest
  @CsvSource(delimiter = ';', value = {
      "9s; the keepalive time must be from 10s (gRPC pings no more often) to 2h, got 9s",
      "500ms; the keepalive time must be from 10s",
      "3h; to 2h, got 3h",
      "10s,999ms; the keepalive timeout must be from 1s to the keepalive time (10s), got 999ms",
      "10s,0s; the keepalive timeout must be from 1s",
      "10s,11s; got 11s",
      "10s,5s,1s; write TIME or TIME,TIMEOUT",
      "ten; cannot read 'ten' as a duration",
      "10s,; a duration is required"})
  void refusesWhatGrpcWouldNotHonourOrWhatIsNotAKeepalive(String text, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Keepalive.parse(text));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "  "})
  void aBlankKeepaliveIsRefused(String text) {
    assertThrows(IllegalArgumentException.class, () -> Keepalive.parse(text));
  }

  @Test
  void aLongTextIsNotEchoedInFull() {
    String huge = "1".repeat(10_000) + "s," + "x".repeat(10_000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Keepalive.parse(huge));
    assertTrue(e.getMessage().length() < 200, e.getMessage());
  }

  @Test
  void theCommandLineReadsItAndNamesTheOptionWhenItIsWrong() {
    class Command implements Runnable {
      @CommandLine.Option(names = "--keepalive")
      Keepalive keepalive = Keepalive.DEFAULT;

      @Override
      public void run() {}
    }
    Command ok = new Command();
    CommandLineConverters.register(new CommandLine(ok)).parseArgs("--keepalive", "20s,2s");
    assertEquals(new Keepalive(Duration.ofSeconds(20), Duration.ofSeconds(2)), ok.keepalive);

    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
        () -> CommandLineConverters.register(new CommandLine(new Command())).parseArgs("--keepalive", "1s"));
    assertTrue(e.getMessage().contains("--keepalive") && e.getMessage().contains("from 10s"), e.getMessage());
  }
}
