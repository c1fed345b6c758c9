package org.balloonlab.transport;

/**
 * The two tokens of a hypervisor: the operator's, which guards the control plane, and the lab's, which guards
 * joining the lab. Each has its file name in the state directory, its environment variable and its flag.
 */
public enum TokenKind {
  /** Guards the operator's calls: balloon targets, driver modes, powering a VM off, holding the lab clock. */
  OPERATOR("operator", "operator.token", "BALLOONLAB_OPERATOR_TOKEN", "--operator-token-file"),
  /** Guards joining the lab (PowerOn) and a guest's own calls, beside its VM's credential. */
  LAB("lab", "lab.token", "BALLOONLAB_LAB_TOKEN", "--lab-token-file");

  private final String word;
  private final String fileName;
  private final String environmentVariable;
  private final String flag;

  TokenKind(String word, String fileName, String environmentVariable, String flag) {
    this.word = word;
    this.fileName = fileName;
    this.environmentVariable = environmentVariable;
    this.flag = flag;
  }

  /** {@code operator} or {@code lab}, as messages say it. */
  public String word() {
    return word;
  }

  /** The token's file in a hypervisor's state directory. */
  public String fileName() {
    return fileName;
  }

  /** The environment variable that carries the token itself. */
  public String environmentVariable() {
    return environmentVariable;
  }

  /** The flag that names a file holding the token. */
  public String flag() {
    return flag;
  }
}
