// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import java.io.IOException;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.apache.logging.log4j.spi.Provider;
import org.apache.logging.log4j.util.PropertySource;

/**
 * Names Log4j API's own simple logger as the logging provider when the class path holds no other, so that an
 * application that embeds the client without a logging implementation does not start with
 * {@code ERROR StatusLogger Log4j API could not find a logging provider.} Log4j falls back to that same simple
 * logger then (errors only, on standard error); this spares the message and changes nothing else. With log4j-core,
 * log4j-to-slf4j or any other provider present, it says nothing and Log4j chooses as usual.
 *
 * <p>Why not a {@code log4j2.component.properties} naming the simple provider: its {@code log4j2.provider} would also
 * win over log4j-core, and a library must not choose an application's logging. Why not
 * {@code log4j2.statusLoggerLevel=OFF}: that would hide Log4j's real errors too.
 *
 * <p>Log4j (2.24 and later read {@code log4j2.provider}) finds this source through {@code ServiceLoader}. Its priority
 * puts it after Log4j's own sources (system properties 0, environment 100, {@code log4j2.component.properties} 200; the
 * lower number wins), so a provider the application names is used instead. Log4j refuses look-ups that a property
 * source makes back into Log4j's properties, so the deprecated {@code log4j2.loggerContextFactory} is read here from
 * system properties and the environment directly; set in a {@code log4j2.component.properties}, it is not seen.
 */
public final class Log4jProviderDefault implements PropertySource {

  /** The normal form of {@code log4j.provider}: the one key answered. */
  static final String PROVIDER_KEY = "log4j2.provider";
  /** Log4j API's fallback provider, which Log4j creates itself when named so. */
  static final String SIMPLE_PROVIDER = "org.apache.logging.log4j.simple.internal.SimpleProvider";
  /** Where providers that predate ServiceLoader registration declare themselves; Log4j reads it too. */
  static final String PROVIDER_RESOURCE = "META-INF/log4j-provider.properties";

  /** Decided at the first look-up of {@link #PROVIDER_KEY}, which Log4j makes once, as it starts. */
  private volatile Boolean answers;

  @Override
  public int getPriority() {
    return Integer.MAX_VALUE;
  }

  @Override
  public CharSequence getNormalForm(Iterable<? extends CharSequence> tokens) {
    return "log4j2." + Util.joinAsCamelCase(tokens);
  }

  @Override
  public boolean containsProperty(String key) {
    return PROVIDER_KEY.equals(key) && answers();
  }

  @Override
  public String getProperty(String key) {
    return containsProperty(key) ? SIMPLE_PROVIDER : null;
  }

  private boolean answers() {
    Boolean decided = answers;
    if (decided == null) {
      decided = System.getProperty("log4j2.loggerContextFactory") == null && System.getenv("LOG4J_LOGGER_CONTEXT_FACTORY") == null
        && !providerOnClassPath(Provider.class.getClassLoader(), Thread.currentThread().getContextClassLoader());
      answers = decided;
    }
    return decided;
  }

  /**
   * Whether any of these class loaders sees a Log4j provider, as Log4j looks for one: a {@code ServiceLoader}
   * registration or a {@link #PROVIDER_RESOURCE}. Registered providers are not instantiated, so none starts here.
   * When in doubt (a broken registration, an unreadable class path), yes: Log4j then chooses, and reports.
   */
  static boolean providerOnClassPath(ClassLoader... loaders) {
    for (ClassLoader loader : loaders) {
      if (loader == null) {
        continue;
      }
      try {
        if (ServiceLoader.load(Provider.class, loader).stream().findAny().isPresent()
          || loader.getResources(PROVIDER_RESOURCE).hasMoreElements()) {
          return true;
        }
      } catch (ServiceConfigurationError | IOException e) {
        return true;
      }
    }
    return false;
  }
}
