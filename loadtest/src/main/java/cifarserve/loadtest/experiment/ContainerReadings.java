package cifarserve.loadtest.experiment;

import cifarserve.loadtest.resources.CgroupProbe;
import cifarserve.loadtest.resources.ResourceReading;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;

/** A container's cgroup and what it has used so far, read on the daemon's host. */
final class ContainerReadings {
  private final DockerCli docker;
  private final Vertx vertx;

  ContainerReadings(DockerCli docker, Vertx vertx) {
    this.docker = docker;
    this.vertx = vertx;
  }

  /** The container's cgroup, for the load tester's --cgroup probe (its --container would ask the default daemon). */
  String cgroupOf(String container) throws Exception {
    return CgroupProbe.cgroupOfPid(Long.parseLong(docker.run(30, "inspect", "-f", "{{.State.Pid}}", container)));
  }

  /** CPU-seconds the container's cgroup has used so far. */
  Double cpuSeconds(String container) throws Exception {
    ResourceReading r = reading(container);
    return r == null ? null : r.cpuSeconds();
  }

  Double memoryMiB(String container) throws Exception {
    ResourceReading r = reading(container);
    return r == null || r.memoryBytes() == null ? null : r.memoryBytes() / 1048576.0;
  }

  private ResourceReading reading(String container) throws Exception {
    return CgroupProbe.open(vertx, cgroupOf(container)).read().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
