// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.test;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;

/**
 * Waiting in tests, with one default timeout: for a future, for a future's failure, or for a condition polled until
 * it holds. A test never sleeps a fixed time to wait for something; it waits for the thing itself, here.
 */
public final class Await {

  /**
   * How long a test waits for anything by default: long, since a 2-core CI machine running several JVMs at once is
   * slow; a test that works takes a fraction of it and one that is broken fails with what it waited for.
   */
  public static final long TIMEOUT_S = 90;

  private static final long POLL_MS = 20;

  private Await() {
  }

  /** The result of {@code future}, waiting up to {@link #TIMEOUT_S}; its failure is thrown. */
  public static <T> T await(Future<T> future) throws Exception {
    return future.await(TIMEOUT_S, TimeUnit.SECONDS);
  }

  /** The failure of {@code future}, waiting up to {@link #TIMEOUT_S}; an {@link AssertionError} if it succeeded. */
  public static Throwable awaitFailure(Future<?> future) throws Exception {
    return awaitFailure(future, TIMEOUT_S, TimeUnit.SECONDS);
  }

  /**
   * The failure of {@code future}, waiting up to {@code timeout}; an {@link AssertionError} if it succeeded (the
   * wait itself timing out is a failure too: a {@link java.util.concurrent.TimeoutException}, returned).
   */
  public static Throwable awaitFailure(Future<?> future, long timeout, TimeUnit unit) throws Exception {
    Object result;
    try {
      result = future.await(timeout, unit);
    } catch (Exception e) {
      return e;
    }
    throw new AssertionError("expected a failure, got " + result);
  }

  /**
   * The failure of {@code future}, or {@code null} if it succeeded, waiting up to {@code timeout}: for calls that may
   * have completed before the fault they race with.
   */
  public static Throwable failureOf(Future<?> future, long timeout, TimeUnit unit) {
    try {
      future.await(timeout, unit);
      return null;
    } catch (Exception e) {
      return e;
    }
  }

  /** Polls {@code condition} until it holds, up to {@link #TIMEOUT_S}; an {@link AssertionError} naming {@code what} if not. */
  public static void until(String what, Condition condition) throws Exception {
    until(what, TIMEOUT_S, TimeUnit.SECONDS, condition);
  }

  /** Polls {@code condition} until it holds, up to {@code timeout}; an {@link AssertionError} naming {@code what} if not. */
  public static void until(String what, long timeout, TimeUnit unit, Condition condition) throws Exception {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (!condition.holds()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(what + ": not within " + unit.toMillis(timeout) + " ms");
      }
      Thread.sleep(POLL_MS);
    }
  }

  /** A condition to wait for; it may throw (a failed probe is a failed test). */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }
}
