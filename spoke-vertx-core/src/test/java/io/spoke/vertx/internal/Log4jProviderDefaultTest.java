// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import org.apache.logging.log4j.LogManager;
import org.junit.jupiter.api.Test;

class Log4jProviderDefaultTest {

  private static final String NO_PROVIDER = "Log4j API could not find a logging provider";
  private static final String SIMPLE_CONTEXT = "org.apache.logging.log4j.simple.SimpleLoggerContext";

  /** What Log4j did as it started in a class loader of its own: the logger context it chose, and what it printed. */
  record StartUp(String contextClass, String statusOutput) {
  }

  @Test
  void leavesTheChoiceToLog4jWhenAProviderIsOnTheClassPath() {
    // This module's tests have log4j-core, as the hub, the agent and the distribution do.
    assertThat(Log4jProviderDefault.providerOnClassPath(getClass().getClassLoader())).isTrue();
    assertThat(new Log4jProviderDefault().getProperty(Log4jProviderDefault.PROVIDER_KEY)).isNull();
    assertThat(LogManager.getContext(false)).isInstanceOf(org.apache.logging.log4j.core.LoggerContext.class);
  }

  @Test
  void namesTheSimpleLoggerWithoutAWordWhenLog4jApiIsAlone() throws Exception {
    StartUp startUp = startLog4j(codeSource(LogManager.class), codeSource(Log4jProviderDefault.class));
    assertThat(startUp.statusOutput()).isEmpty();
    assertThat(startUp.contextClass()).isEqualTo(SIMPLE_CONTEXT);
  }

  /** The same class path without this module: the message the source spares, and the same simple logger after it. */
  @Test
  void log4jApiAloneReportsTheMissingProviderWithoutIt() throws Exception {
    StartUp startUp = startLog4j(codeSource(LogManager.class));
    assertThat(startUp.statusOutput()).contains(NO_PROVIDER);
    assertThat(startUp.contextClass()).isEqualTo(SIMPLE_CONTEXT);
  }

  private static URL codeSource(Class<?> type) {
    return type.getProtectionDomain().getCodeSource().getLocation();
  }

  /**
   * Starts a fresh Log4j API in a class loader that sees only {@code classPath} (none of this test's class path), with
   * standard error captured: Log4j's status logger prints to the standard error it finds when it starts.
   */
  private static StartUp startLog4j(URL... classPath) throws Exception {
    PrintStream err = System.err;
    Thread thread = Thread.currentThread();
    ClassLoader contextLoader = thread.getContextClassLoader();
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (URLClassLoader loader = new URLClassLoader(classPath, ClassLoader.getPlatformClassLoader())) {
      System.setErr(new PrintStream(captured, true, UTF_8));
      thread.setContextClassLoader(loader);
      Class<?> logManager = Class.forName(LogManager.class.getName(), true, loader);
      Object context = logManager.getMethod("getContext", boolean.class).invoke(null, false);
      return new StartUp(context.getClass().getName(), captured.toString(UTF_8));
    } finally {
      thread.setContextClassLoader(contextLoader);
      System.setErr(err);
    }
  }
}
