package dev.ferry.cli;

/** Placeholder entry point; the commands arrive with the CLI work. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("ferry");
  }
}
