// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Class-data sharing for actor hosts (AppCDS): the first actor host an agent starts writes a dynamic archive of
 * the classes it loaded when it exits ({@code -XX:ArchiveClassesAtExit}), and every later one maps it
 * ({@code -XX:SharedArchiveFile}) instead of loading and verifying those classes again, which takes the largest
 * part of an actor's start-up. The archive is named after the JVM, the class path and each jar's size and
 * modification time, as the JVM checks them: a changed class path, or jars replaced in place (an upgrade), train
 * a new one. The JVM checks the archive itself and starts without it (with a warning in the actor's log) if it
 * does not match. Only class paths made of jar files can be archived.
 *
 * <p>Not thread-safe: the agent's event loop owns it; {@link #load} and {@link #publish} touch files and run on
 * a worker.
 */
public final class ActorCds {

  private static final Logger log = LogManager.getLogger(ActorCds.class);

  private final Path archive;
  private final boolean archivable;
  private boolean ready;
  private String trainer;
  private Path trainerOutput;

  /**
   * Blocking (it reads the jars' sizes and times): construct it on a worker.
   *
   * @param dir where archives live
   * @param java the java command of actor hosts
   * @param classpath their class path
   */
  public ActorCds(Path dir, String java, String classpath) {
    List<String> entries = classpath.isEmpty() ? List.of() : List.of(classpath.split(File.pathSeparator));
    this.archivable = !entries.isEmpty() && entries.stream().allMatch(entry -> entry.endsWith(".jar") && !entry.contains("*"));
    // Named <family>-<stamps>: the family (JVM and class path) stays across upgrades in place, the stamps do not.
    StringBuilder stamps = new StringBuilder();
    for (String entry : entries) {
      stamps.append(stamp(Path.of(entry))).append('\n');
    }
    String family = "actor-host-" + digest(java + "\n" + System.getProperty("java.vm.version") + "\n" + classpath);
    this.archive = dir.resolve(family + "-" + digest(stamps.toString()) + ".jsa");
  }

  /** Size and modification time: what the JVM compares to decide whether an archive still fits a jar. */
  private static String stamp(Path jar) {
    try {
      return Files.size(jar) + "@" + Files.getLastModifiedTime(jar).toMillis();
    } catch (IOException e) {
      return "missing";
    }
  }

  /** Looks for an archive written earlier. Blocking: call on a worker, before the first spawn. */
  public void load() throws IOException {
    if (archivable) {
      Files.createDirectories(archive.getParent());
      ready = Files.isRegularFile(archive) && Files.size(archive) > 0;
    }
  }

  public Path archive() {
    return archive;
  }

  /** Whether actor hosts start from the archive now. */
  public boolean ready() {
    return ready;
  }

  /**
   * JVM options for the next actor host: map the archive, or train it when there is none and no other actor
   * host is training; none when the user chose CDS options of their own.
   */
  public List<String> optionsFor(String actorId, List<String> jvmOptions) {
    if (!archivable || jvmOptions.stream().anyMatch(o -> o.startsWith("-XX:SharedArchiveFile") || o.startsWith("-XX:ArchiveClassesAtExit")
      || o.startsWith("-Xshare"))) {
      return List.of();
    }
    if (ready) {
      return List.of("-XX:SharedArchiveFile=" + archive);
    }
    if (trainer != null) {
      return List.of();
    }
    trainer = actorId;
    trainerOutput = archive.resolveSibling(archive.getFileName() + "." + actorId + ".tmp");
    // The JVM lists every class it leaves out of the archive as a warning at exit, in the actor's log: keep errors only.
    return List.of("-XX:ArchiveClassesAtExit=" + trainerOutput, "-Xlog:cds=error");
  }

  /** Returns the training actor's output path if {@code actorId} was training, and stops training; else null. */
  public Path trainerExited(String actorId) {
    if (!actorId.equals(trainer)) {
      return null;
    }
    trainer = null;
    return trainerOutput;
  }

  /**
   * Publishes what a trainer wrote at exit (nothing, if it was killed). Blocking: call on a worker.
   *
   * @return whether the archive is ready now
   */
  public static boolean publish(Path output, Path archive) {
    try {
      if (Files.isRegularFile(output) && Files.size(output) > 0) {
        Files.move(output, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        log.info("Actor hosts start from the class-data archive {} from now on", archive);
        removeOutdated(archive);
        return true;
      }
      Files.deleteIfExists(output);
    } catch (IOException e) {
      log.warn("Cannot publish the class-data archive {}: {}", archive, e.toString());
    }
    return false;
  }

  /**
   * Deletes the archives of the same JVM and class path for jars as they were before (an upgrade in place): no
   * JVM can use them any more. Actor hosts that mapped one keep their mapping. Archives of other class paths (other
   * agents sharing the directory) are left alone. Failing to delete one leaves it behind, with a warning: the new
   * archive is published all the same.
   */
  private static void removeOutdated(Path archive) {
    String name = archive.getFileName().toString();
    String family = name.substring(0, name.lastIndexOf('-') + 1);
    try (java.util.stream.Stream<Path> files = Files.list(archive.getParent())) {
      for (Path old : (Iterable<Path>) files::iterator) {
        String other = old.getFileName().toString();
        if (!other.equals(name) && other.startsWith(family) && other.endsWith(".jsa")) {
          Files.deleteIfExists(old);
          log.info("Deleted the outdated class-data archive {}", old);
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      log.warn("Cannot delete outdated class-data archives next to {}: {}", archive, e.toString());
    }
  }

  /** Marks the archive ready (on the owner's thread, after {@link #publish}). */
  public void published() {
    ready = true;
  }

  private static String digest(String s) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
