package dev.ferry;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/** The JVM's direct buffer pool, for tests that bound the native memory a path holds. */
final class DirectMemory {
  private DirectMemory() {}

  /** Direct memory in use now, collected or not. */
  static long used() {
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) return pool.getMemoryUsed();
    }
    throw new AssertionError("no direct buffer pool");
  }

  /** Direct memory in use once dropped buffers are collected (their cleaners free it). */
  static long usedAfterGc() throws InterruptedException {
    long used = used();
    for (int i = 0; i < 20; i++) {
      System.gc();
      Thread.sleep(20);
      long now = used();
      if (now == used) break;
      used = now;
    }
    return used;
  }
}
