package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;

/**
 * Values that a pickle carries by reference rather than by value (connections, served by a
 * resource sharer), for one pickle at a time: an instance sees one {@code dumps} or one
 * {@code loads}, so it may remember what it wrote or read and undo it if that pickle fails.
 */
public interface References {

  /** The form to write in place of {@code value}, or null when {@code value} is not carried. */
  PyObject write(Object value) throws CodecException;

  /** Whether a decoded instance of {@code type} is handed to {@link #read}. */
  boolean reads(PyGlobal type);

  /** The value a decoded form refers to, once the whole pickle is read. */
  Object read(PyObject form) throws CodecException;
}
