package dev.ferry.pickle;

import dev.ferry.AuthenticationException;
import dev.ferry.Connection;
import dev.ferry.codec.CodecException;
import dev.ferry.pickle.internal.References;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The connections of one pickle, for a codec built with {@link PickleCodec.Builder#connections}:
 * on the way out each one is shared through the sharer as a duplicate; on the way in each
 * {@code rebuild_connection} form is fetched from the sharer it names. If the pickle fails
 * half way, {@link #undo} withdraws what was shared and closes what was fetched.
 */
final class CarriedConnections implements References {
  private final ResourceSharer sharer;
  private final List<PyObject> shared = new ArrayList<>();
  private final List<Connection> fetched = new ArrayList<>();

  CarriedConnections(ResourceSharer sharer) {
    this.sharer = sharer;
  }

  @Override
  public PyObject write(Object value) throws CodecException {
    if (!(value instanceof Connection connection)) return null;
    PyObject form;
    try {
      form = sharer.shareCopy(connection);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new CodecException("cannot pickle " + connection + ": " + e.getMessage(), e);
    } catch (CodecException e) {
      throw e;
    } catch (IOException e) {
      throw new CodecException("cannot share " + connection + ": " + e.getMessage(), e);
    }
    shared.add(form);
    return form;
  }

  @Override
  public boolean reads(PyGlobal type) {
    return type.qualifiedName().equals(ResourceSharer.REBUILD);
  }

  @Override
  public Object read(PyObject form) throws CodecException {
    Connection connection;
    try {
      connection = ResourceSharer.rebuild(form, sharer.authKey());
    } catch (CodecException e) {
      throw e;
    } catch (AuthenticationException e) {
      throw new CodecException("cannot fetch pickled connection: " + e.getMessage()
          + " (the sender's multiprocessing authkey must be the sharer's key)", e);
    } catch (IOException e) {
      throw new CodecException("cannot fetch pickled connection: " + e.getMessage(), e);
    }
    fetched.add(connection);
    return connection;
  }

  /** Withdraws the references shared and closes the connections fetched, for a failed pickle. */
  void undo(Throwable failure) {
    for (PyObject form : shared) sharer.withdraw(form);
    for (Connection connection : fetched) {
      try {
        connection.close();
      } catch (IOException e) {
        failure.addSuppressed(e);
      }
    }
  }
}
