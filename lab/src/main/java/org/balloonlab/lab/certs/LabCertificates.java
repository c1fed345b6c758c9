package org.balloonlab.lab.certs;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

/**
 * A lab's certificate authority and the certificates it signs: ECDSA P-256 keys, SHA-256 signatures, PEM files
 * (keys in PKCS#8, which gRPC reads). A CA lives in a directory as {@code ca.crt} (hand it to every machine) and
 * {@code ca.key} (keep it on the operator's machine); a certificate as {@code NAME.crt} and {@code NAME.key}.
 * Key files are created readable by their owner only.
 *
 * <p>A certificate issued with host names or IP addresses is a server certificate (they go in its subject
 * alternative names, which a client checks against the address it dials) that may also serve as a client's; one
 * issued without is a client certificate for mutual TLS.
 */
public final class LabCertificates {
  /** The CA certificate's file in a CA directory. */
  public static final String CA_CERT = "ca.crt";
  /** The CA key's file in a CA directory. */
  public static final String CA_KEY = "ca.key";
  private static final String SIGNATURE = "SHA256withECDSA";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9*]([A-Za-z0-9.*-]{0,252})");
  private static final SecureRandom RANDOM = new SecureRandom();

  private LabCertificates() {
  }

  /**
   * Creates a CA in {@code out}: {@code ca.crt} and {@code ca.key}.
   *
   * @param validity how long the CA's certificate is valid
   * @throws IOException if {@code out} already holds a CA, or a file cannot be written
   */
  public static Path createCa(Path out, String labName, Duration validity) throws IOException {
    requireName(labName, "--name");
    Files.createDirectories(out);
    Path cert = out.resolve(CA_CERT);
    Path key = out.resolve(CA_KEY);
    if (Files.exists(cert) || Files.exists(key)) {
      throw new IOException(out + " already holds a CA (" + CA_CERT + ", " + CA_KEY + "); choose another --out or "
          + "remove them");
    }
    try {
      KeyPair pair = newKeyPair();
      X500Name subject = name(labName + " BalloonLab CA");
      Instant now = Instant.now();
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minusSeconds(60)),
          Date.from(now.plus(validity)), subject, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate certificate = sign(b, pair.getPrivate());
      writeKey(key, pair.getPrivate());
      writePem(cert, certificate);
      return cert;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot create the CA: " + e.getMessage(), e);
    }
  }

  /**
   * Issues a certificate signed by the CA in {@code caDir}: {@code out/NAME.crt} and {@code out/NAME.key}.
   *
   * @param hosts host names and IP addresses the certificate is for (a server's); empty for a client certificate
   * @throws IOException if the CA cannot be read or the files cannot be written
   * @throws IllegalArgumentException if the name or a host is malformed
   */
  public static Path issue(Path caDir, String name, List<String> hosts, Path out, Duration validity)
      throws IOException {
    requireName(name, "--name");
    List<GeneralName> alternatives = new ArrayList<>();
    for (String h : hosts) {
      alternatives.add(alternativeName(h));
    }
    X509Certificate ca = readCertificate(caDir.resolve(CA_CERT));
    PrivateKey caKey = readKey(caDir.resolve(CA_KEY));
    Files.createDirectories(out);
    Path cert = out.resolve(name + ".crt");
    Path key = out.resolve(name + ".key");
    try {
      KeyPair pair = newKeyPair();
      Instant now = Instant.now();
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minusSeconds(60)),
          Date.from(now.plus(validity)), name(name), pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
          .addExtension(Extension.extendedKeyUsage, false, hosts.isEmpty()
              ? new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth)
              : new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()))
          .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
      if (!alternatives.isEmpty()) {
        b.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(alternatives.toArray(GeneralName[]::new)));
      }
      X509Certificate certificate = sign(b, caKey);
      writeKey(key, pair.getPrivate());
      writePem(cert, certificate);
      return cert;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot issue the certificate: " + e.getMessage(), e);
    }
  }

  /** Reads a PEM certificate. */
  public static X509Certificate readCertificate(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (!(o instanceof X509CertificateHolder holder)) {
        throw new IOException(file + " holds no PEM certificate");
      }
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the certificate " + file + ": " + e.getMessage(), e);
    }
  }

  private static PrivateKey readKey(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (!(o instanceof PrivateKeyInfo info)) {
        throw new IOException(file + " holds no PKCS#8 private key");
      }
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the key " + file + ": " + e.getMessage(), e);
    }
  }

  private static GeneralName alternativeName(String host) {
    if (host.isEmpty() || host.length() > 253) {
      throw new IllegalArgumentException("--host: a host must be 1 to 253 characters");
    }
    if (host.matches("[0-9.]+") || host.contains(":")) {
      try {
        InetAddress.getByName(host); // a literal: no lookup happens
      } catch (IOException e) {
        throw new IllegalArgumentException("--host: not an IP address: " + quote(host));
      }
      if (!host.matches("[0-9a-fA-F.:]+")) {
        throw new IllegalArgumentException("--host: not an IP address: " + quote(host));
      }
      return new GeneralName(GeneralName.iPAddress, host);
    }
    if (!HOST.matcher(host).matches()) {
      throw new IllegalArgumentException("--host: not a host name: " + quote(host));
    }
    return new GeneralName(GeneralName.dNSName, host);
  }

  private static void requireName(String name, String flag) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(flag + " must be 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a "
          + "letter or digit, got " + quote(name));
    }
  }

  private static String quote(String s) {
    if (s == null) {
      return "nothing";
    }
    return "\"" + (s.length() > 64 ? s.substring(0, 64) + "..." : s) + "\"";
  }

  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName)
        .addRDN(BCStyle.O, "BalloonLab").build();
  }

  private static BigInteger serial() {
    return new BigInteger(128, RANDOM);
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE).build(key);
    return new JcaX509CertificateConverter().getCertificate(b.build(signer));
  }

  /** Writes a key as PKCS#8 PEM to a file created readable by its owner only, then moved into place. */
  private static void writeKey(Path file, PrivateKey key) throws IOException {
    StringWriter pem = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
      w.writeObject(new JcaPKCS8Generator(key, null));
    }
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(tmp);
    }
    Files.writeString(tmp, pem.toString(), StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void writePem(Path file, Object o) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII); JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(o);
    }
  }
}
