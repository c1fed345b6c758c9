package org.balloonlab.lab.dashboard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.StatusRuntimeException;
import org.balloonlab.domain.VmName;
import org.balloonlab.lab.DriverModes;
import org.balloonlab.lab.ManagementClient;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;
import org.balloonlab.transport.Channels;
import org.balloonlab.units.MemorySize;

/**
 * The operator's actions the dashboard offers, as the CLI's {@code balloon} and {@code driver} verbs: each request
 * body (JSON) is validated here (a VM name by {@link VmName}, a size by {@link MemorySize#parse}, a mode by
 * {@link DriverModes#parse}) and then applied through the management API with the operator token.
 */
final class DashboardControl {
  /** What a control request answers: an HTTP status and a JSON body. */
  record Answer(int status, String json) {
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The longest field accepted: a VM name, a size, a driver mode all fit. */
  private static final int MAX_FIELD = 64;

  private final ManagementClient client;

  DashboardControl(ManagementClient client) {
    this.client = client;
  }

  /** {@code {"vm": NAME, "target": SIZE}}: sets a VM's balloon target ({@code balloonlab balloon VM SIZE}). */
  Answer balloon(String body) {
    try {
      JsonNode n = object(body);
      String vm = VmName.require(text(n, "vm"));
      MemorySize target = MemorySize.parse(text(n, "target"));
      long pages = target.bytes() == 0 ? 0 : target.requirePages("target");
      VmState s = client.stub().setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(select(vm))
          .setTargetPages(pages).build());
      return ok(s, s.getName() + ": balloon target " + MemorySize.humanPages(s.getBalloon().getTargetPages()));
    } catch (IllegalArgumentException e) {
      return problem(400, e.getMessage());
    } catch (StatusRuntimeException e) {
      return refused(e);
    }
  }

  /** {@code {"vm": NAME, "mode": MODE}}: switches a VM's balloon driver ({@code balloonlab driver VM MODE}). */
  Answer driver(String body) {
    try {
      JsonNode n = object(body);
      String vm = VmName.require(text(n, "vm"));
      DriverModeRequest mode = DriverModes.parse(text(n, "mode"));
      VmState s = client.stub().setDriverMode(SetDriverModeRequest.newBuilder().setVm(select(vm)).setMode(mode)
          .build());
      return ok(s, s.getName() + ": balloon driver asked to switch to " + s.getBalloon().getRequestedMode());
    } catch (IllegalArgumentException e) {
      return problem(400, e.getMessage());
    } catch (StatusRuntimeException e) {
      return refused(e);
    }
  }

  private static VmSelector select(String vm) {
    return VmSelector.newBuilder().setName(vm).build();
  }

  private static JsonNode object(String body) {
    JsonNode n;
    try {
      n = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the request body is not JSON");
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("the request body must be a JSON object");
    }
    return n;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("\"" + field + "\" must be given, as a string");
    }
    if (v.asText().length() > MAX_FIELD) {
      throw new IllegalArgumentException("\"" + field + "\" is too long: " + VmName.quote(v.asText()));
    }
    return v.asText();
  }

  private static Answer ok(VmState s, String message) {
    ObjectNode n = JSON.createObjectNode();
    n.put("message", message);
    n.put("vm", s.getName());
    n.put("targetPages", s.getBalloon().getTargetPages());
    n.put("balloonPages", s.getBalloon().getSizePages());
    return new Answer(200, n.toString());
  }

  static Answer problem(int status, String message) {
    ObjectNode n = JSON.createObjectNode();
    n.put("error", message);
    return new Answer(status, n.toString());
  }

  /** A call the hypervisor refused or did not answer, as the HTTP status that says the same. */
  private static Answer refused(StatusRuntimeException e) {
    int status = switch (e.getStatus().getCode()) {
      case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION -> 400;
      case NOT_FOUND -> 404;
      case UNAUTHENTICATED, PERMISSION_DENIED -> 403;
      default -> 502;
    };
    return problem(status, "the hypervisor answered " + e.getStatus().getCode() + ": " + Channels.describe(e));
  }
}
