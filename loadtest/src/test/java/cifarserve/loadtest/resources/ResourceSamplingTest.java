package cifarserve.loadtest.resources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Resource sampling of real processes (a busy loop, a sleeper) and of cgroup/metrics sources. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ResourceSamplingTest {
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private List<ResourceSample> sample(ResourceProbe probe, long millis) throws Exception {
    ResourceSamplerVerticle sampler = new ResourceSamplerVerticle(List.of(probe), 100);
    vertx.deployVerticle(sampler).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Thread.sleep(millis);
    return sampler.finish().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aBusyLoopUsesCpuAndASleeperDoesNot() throws Exception {
    // A busy loop in one process (no forks, so all its CPU is its own), ending by itself after 20 s
    // in case this JVM dies before destroying it.
    Process busy = new ProcessBuilder("bash", "-c", "while [ $SECONDS -lt 20 ]; do :; done").start();
    Process sleeper = new ProcessBuilder("sleep", "20").start();
    try {
      long busyPid = busy.pid();
      ProcessHandle busyHandle = busy.toHandle();
      double cpuBefore = cpuSeconds(busyHandle);
      long wallBefore = System.nanoTime();
      List<ResourceSample> busySamples = sample(new ProcessProbe(vertx, busyPid), 1500);
      double cpuAfter = cpuSeconds(busyHandle);
      long wallAfter = System.nanoTime();
      List<ResourceSample> idleSamples = sample(new ProcessProbe(vertx, sleeper.pid()), 1000);

      PhaseResources busyPhase = PhaseResources.of("idle", busySamples, 100_000_000L);
      PhaseResources idlePhase = PhaseResources.of("idle", idleSamples, 100_000_000L);
      assertThat(busySamples.size()).isBetween(5, 20);
      // The busy loop gets whatever share of a core this shared machine leaves it, so compare the
      // sampler with the CPU time the JDK reports for the same process over the same stretch.
      double independent = 100 * (cpuAfter - cpuBefore) / ((wallAfter - wallBefore) / 1e9);
      assertThat(independent).isGreaterThan(0.5);
      assertThat(busyPhase.cpuAvg()).isBetween(independent * 0.6 - 3, independent * 1.4 + 3);
      assertThat(busyPhase.cpuPeak()).isGreaterThanOrEqualTo(busyPhase.cpuAvg());
      assertThat(busyPhase.cpuAvg()).isGreaterThan(idlePhase.cpuAvg());
      assertThat(idlePhase.cpuAvg()).isLessThan(2.0);
      assertThat(idlePhase.memoryPeak()).isGreaterThan(100_000L);
      assertThat(busyPhase.memoryAvg()).isGreaterThan(100_000.0);
    } finally {
      busy.destroyForcibly();
      sleeper.destroyForcibly();
    }
  }

  private static double cpuSeconds(ProcessHandle process) {
    return process.info().totalCpuDuration().orElseThrow().toNanos() / 1e9;
  }

  @Test
  void aMissingPidIsRejectedBeforeTheRun() {
    assertThatThrownBy(() -> ProcessProbe.checkExists(999_999_999L)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void cgroupV2AndV1LayoutsAreRead(@TempDir Path root) throws Exception {
    Path v2 = Files.createDirectories(root.resolve("system.slice/app.scope"));
    Files.writeString(v2.resolve("cpu.stat"), "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
    Files.writeString(v2.resolve("memory.current"), "123456789\n");
    ResourceReading r2 = CgroupProbe.open(vertx, root, "/system.slice/app.scope").readNow();
    assertThat(r2.cpuSeconds()).isEqualTo(2.5);
    assertThat(r2.memoryBytes()).isEqualTo(123_456_789L);

    Path cpu = Files.createDirectories(root.resolve("cpuacct/docker/abc"));
    Path mem = Files.createDirectories(root.resolve("memory/docker/abc"));
    Files.writeString(cpu.resolve("cpuacct.usage"), "1500000000\n");
    Files.writeString(mem.resolve("memory.usage_in_bytes"), "4096\n");
    ResourceReading r1 = CgroupProbe.open(vertx, root, "/docker/abc").readNow();
    assertThat(r1.cpuSeconds()).isEqualTo(1.5);
    assertThat(r1.memoryBytes()).isEqualTo(4096L);

    assertThatThrownBy(() -> CgroupProbe.open(vertx, root, "/nowhere")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theCgroupOfAProcessIsFoundInProcPidCgroup() {
    assertThat(CgroupProbe.cgroupOf("0::/system.slice/docker-abc.scope\n")).isEqualTo("/system.slice/docker-abc.scope");
    assertThat(CgroupProbe.cgroupOf("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n")).isEqualTo("/docker/abc");
  }

  @Test
  void thisJvmsOwnCgroupIsSampledWhenReadable() throws Exception {
    String cgroup = CgroupProbe.cgroupOfPid(ProcessHandle.current().pid());
    CgroupProbe probe;
    try {
      probe = CgroupProbe.open(vertx, cgroup == null ? "" : cgroup);
    } catch (IllegalArgumentException notReadable) {
      Assumptions.abort("cgroup of this JVM not readable here: " + notReadable.getMessage());
      return;
    }
    ResourceReading first = probe.readNow();
    long spin = System.nanoTime() + 200_000_000L;
    long x = 0;
    while (System.nanoTime() < spin) {
      x += System.nanoTime() % 7;
    }
    ResourceReading second = probe.readNow();
    assertThat(x).isPositive();
    assertThat(second.cpuSeconds()).isGreaterThan(first.cpuSeconds());
    assertThat(second.memoryBytes()).isPositive();
  }

  @Test
  void prometheusTextGivesCpuPerCoreAndHeap() {
    ResourceReading r = PrometheusProbe.parse("""
        # TYPE process_cpu_usage gauge
        process_cpu_usage 0.25
        system_cpu_count 2.0
        jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.0E7
        jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2.0E7
        jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 5.0E7
        """, 1L);
    assertThat(r.cpuPercentNow()).isEqualTo(50.0); // a quarter of 2 cores = half a core
    assertThat(r.heapBytes()).isEqualTo(30_000_000L);
    assertThat(r.cpuSeconds()).isNull();
  }

  @Test
  void phaseAveragesAreTimeWeightedAndPeaksIgnoreSlivers() {
    long second = 1_000_000_000L;
    List<ResourceSample> samples = List.of(
        new ResourceSample(0, "idle", 0, null, 100L, null),
        new ResourceSample(1, "idle", second, 10.0, 200L, null),
        new ResourceSample(2, "busy", second, 100.0, 300L, 50L),
        new ResourceSample(3, "busy", 3 * second, 60.0, 500L, 70L),
        // a 1 ms sliver at the phase boundary: its rate is tick noise, not a peak
        new ResourceSample(4, "busy", second / 1000, 900.0, 400L, 60L));
    PhaseResources busy = PhaseResources.of("busy", samples, second);
    assertThat(busy.samples()).isEqualTo(3);
    assertThat(busy.cpuAvg()).isCloseTo((100.0 + 180 + 0.9) / 4.001, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(busy.cpuPeak()).isEqualTo(100.0);
    assertThat(busy.memoryAvg()).isEqualTo(400.0);
    assertThat(busy.memoryPeak()).isEqualTo(500L);
    assertThat(busy.heapPeak()).isEqualTo(70L);
    PhaseResources idle = PhaseResources.of("idle", samples, second);
    assertThat(idle.cpuAvg()).isEqualTo(10.0);
    assertThat(idle.heapAvg()).isNull();
  }
}
