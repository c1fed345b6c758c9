package org.balloonlab.lab.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabCertificatesTest {
  @TempDir
  Path dir;

  @Test
  void aServerCertificateVerifiesAgainstItsCaAndNamesItsHosts() throws Exception {
    Path caDir = dir.resolve("ca");
    LabCertificates.createCa(caDir, "lab", Duration.ofDays(10));
    X509Certificate ca = LabCertificates.readCertificate(caDir.resolve("ca.crt"));
    ca.verify(ca.getPublicKey());
    assertTrue(ca.getBasicConstraints() >= 0, "the CA may sign certificates");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve("ca.key"))));

    LabCertificates.issue(caDir, "hv", List.of("teacher.lab.example", "192.168.1.10", "::1"), dir.resolve("out"),
        Duration.ofDays(5));
    X509Certificate hv = LabCertificates.readCertificate(dir.resolve("out/hv.crt"));
    hv.verify(ca.getPublicKey());
    hv.checkValidity();
    assertEquals(-1, hv.getBasicConstraints(), "not a CA");
    List<String> sans = new ArrayList<>();
    hv.getSubjectAlternativeNames().forEach(n -> sans.add(n.get(0) + ":" + n.get(1)));
    assertEquals(List.of("2:teacher.lab.example", "7:192.168.1.10", "7:0:0:0:0:0:0:0:1"), sans);
    assertTrue(hv.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "server auth");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("out/hv.key"))));
    assertTrue(Files.readString(dir.resolve("out/hv.key")).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
  }

  @Test
  void aClientCertificateHasNoHostsAndAnotherCaDoesNotVerifyIt() throws Exception {
    LabCertificates.createCa(dir.resolve("ca"), "lab", Duration.ofDays(10));
    LabCertificates.createCa(dir.resolve("other"), "other", Duration.ofDays(10));
    LabCertificates.issue(dir.resolve("ca"), "student-1", List.of(), dir.resolve("out"), Duration.ofDays(5));
    X509Certificate client = LabCertificates.readCertificate(dir.resolve("out/student-1.crt"));
    assertEquals(null, client.getSubjectAlternativeNames());
    assertEquals(List.of("1.3.6.1.5.5.7.3.2"), client.getExtendedKeyUsage());
    X509Certificate other = LabCertificates.readCertificate(dir.resolve("other/ca.crt"));
    assertThrows(SignatureException.class, () -> client.verify(other.getPublicKey()));
  }

  @Test
  void badInputIsRefused() throws Exception {
    LabCertificates.createCa(dir.resolve("ca"), "lab", Duration.ofDays(10));
    assertEquals(dir.resolve("ca") + " already holds a CA (ca.crt, ca.key); choose another --out or remove them",
        assertThrows(java.io.IOException.class,
            () -> LabCertificates.createCa(dir.resolve("ca"), "lab", Duration.ofDays(1))).getMessage());
    assertEquals("--host: not a host name: \"bad host\"", assertThrows(IllegalArgumentException.class,
        () -> LabCertificates.issue(dir.resolve("ca"), "x", List.of("bad host"), dir, Duration.ofDays(1)))
        .getMessage());
    assertEquals("--name must be 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit, got "
        + "\"../evil\"", assertThrows(IllegalArgumentException.class,
        () -> LabCertificates.issue(dir.resolve("ca"), "../evil", List.of(), dir, Duration.ofDays(1)))
        .getMessage());
  }
}
