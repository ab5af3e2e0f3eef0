package dev.ferry.handle;

/**
 * Who keeps a connection after it has been passed to another process.
 *
 * <p>Either way the passed end is marked so that closing this process's copy releases only the
 * descriptor and never shuts the socket down: a shutdown would end the connection for the
 * receiving process too.
 */
public enum Ownership {
  /** This process keeps its copy open; both processes hold the socket and each must close its own. */
  DUPLICATE,
  /** This process's copy is closed (without shutdown) as soon as the message carrying it has been sent. */
  MOVE
}
