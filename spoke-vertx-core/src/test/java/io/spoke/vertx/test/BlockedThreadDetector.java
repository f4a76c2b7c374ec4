// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test during which Vert.x reported a blocked event loop or worker ({@code BlockedThreadChecker}):
 * blocking an event loop is a bug even when the test's assertions pass.
 * Use with {@code @ExtendWith(BlockedThreadDetector.class)}.
 */
public final class BlockedThreadDetector implements BeforeEachCallback, AfterEachCallback {

  private static final String CHECKER = "io.vertx.core.impl.BlockedThreadChecker";
  private static final List<String> WARNINGS = new CopyOnWriteArrayList<>();
  private static volatile boolean installed;

  @Override
  public void beforeEach(ExtensionContext context) {
    install();
    WARNINGS.clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (!WARNINGS.isEmpty()) {
      List<String> seen = List.copyOf(WARNINGS);
      WARNINGS.clear();
      throw new AssertionError("Vert.x reported blocked threads during the test: " + seen);
    }
  }

  private static synchronized void install() {
    if (installed) {
      return;
    }
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    Configuration config = ctx.getConfiguration();
    AbstractAppender appender = new AbstractAppender("blocked-thread-detector", null, null, true, Property.EMPTY_ARRAY) {
      @Override
      public void append(LogEvent event) {
        WARNINGS.add(event.getMessage().getFormattedMessage());
      }
    };
    appender.start();
    config.addAppender(appender);
    LoggerConfig checker = new LoggerConfig(CHECKER, Level.WARN, true);
    checker.addAppender(appender, Level.WARN, null);
    config.addLogger(CHECKER, checker);
    ctx.updateLoggers();
    installed = true;
  }
}
