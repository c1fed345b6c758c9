package org.balloonlab.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.units.HostPort;

/**
 * A TCP proxy on a loopback port in front of one target, for tests that cut a connection the ways a network does.
 * Each accepted connection gets a connection to the target and two threads that copy bytes, one per direction.
 *
 * <ul>
 *   <li>{@link Mode#PASS}: bytes go through.
 *   <li>{@link Mode#RESET}: every connection is closed with a reset on both sides ({@code SO_LINGER} 0), as a
 *       crashed host or a firewall's reject would; new connections are reset at once.
 *   <li>{@link Mode#BLACK_HOLE}: a silent partition. The sockets stay open (no FIN, no RST), but nothing is
 *       forwarded in either direction any more: what arrives is read and dropped, as packets lost on the way. New
 *       connections are accepted and get the same treatment, without a connection to the target.
 * </ul>
 *
 * <p>Closing the proxy closes every socket it opened and ends its threads.
 */
final class TcpProxy implements AutoCloseable {
  /** What the proxy does with the bytes of its connections. */
  enum Mode { PASS, RESET, BLACK_HOLE }

  private final HostPort target;
  private final ServerSocket server;
  private final Thread acceptor;
  private final List<Socket> sockets = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile Mode mode = Mode.PASS;
  private volatile boolean closed;

  TcpProxy(HostPort target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::accept, "tcp-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The address guests are given instead of the target's. */
  HostPort address() {
    return new HostPort(server.getInetAddress().getHostAddress(), server.getLocalPort());
  }

  /** Switches every connection, present and future, to {@code next}. */
  synchronized void mode(Mode next) {
    mode = next;
    if (next == Mode.RESET) {
      for (Socket s : sockets) {
        reset(s);
      }
      sockets.clear();
    }
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      try {
        connect(client);
      } catch (IOException e) {
        reset(client);
      }
    }
  }

  private synchronized void connect(Socket client) throws IOException {
    if (closed || mode == Mode.RESET) {
      reset(client);
      return;
    }
    sockets.add(client);
    if (mode == Mode.BLACK_HOLE) {
      pump("tcp-proxy-drop", client, null);
      return;
    }
    Socket upstream = new Socket();
    sockets.add(upstream);
    upstream.connect(new InetSocketAddress(target.host(), target.port()), 5_000);
    pump("tcp-proxy-up", client, upstream);
    pump("tcp-proxy-down", upstream, client);
  }

  /** Copies {@code from} to {@code to} while the mode is PASS, drops what arrives while it is BLACK_HOLE. */
  private void pump(String name, Socket from, Socket toOrNull) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[64 * 1024];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = toOrNull == null ? null : toOrNull.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (mode == Mode.PASS && out != null) {
            out.write(buffer, 0, n);
            out.flush();
          }
        }
        // The sender closed its side: pass the close on, unless the proxy plays a silent network.
        if (mode == Mode.PASS && toOrNull != null) {
          toOrNull.shutdownOutput();
        }
      } catch (IOException e) {
        // A reset or the proxy closing: pass a reset on while bytes go through, so the other direction ends too.
        if (mode == Mode.PASS && toOrNull != null) {
          reset(toOrNull);
        }
      }
    }, name);
    t.setDaemon(true);
    synchronized (this) {
      threads.add(t);
    }
    t.start();
  }

  private static void reset(Socket s) {
    try {
      // A close with a zero linger time sends RST instead of FIN.
      s.setSoLinger(true, 0);
    } catch (SocketException e) {
      // Already closed.
    }
    try {
      s.close();
    } catch (IOException e) {
      // Already closed.
    }
  }

  @Override
  public void close() throws InterruptedException {
    List<Thread> toJoin;
    synchronized (this) {
      closed = true;
      for (Socket s : sockets) {
        reset(s);
      }
      sockets.clear();
      toJoin = new ArrayList<>(threads);
    }
    try {
      server.close();
    } catch (IOException e) {
      // Closing anyway.
    }
    acceptor.join(5_000);
    for (Thread t : toJoin) {
      t.join(5_000);
    }
  }
}
