/**
 * Ferry's Python pickle codec: {@link dev.ferry.pickle.PickleCodec}. Reads pickle protocols 0 to
 * 5, writes 2 to 5, and refuses any Python global outside an allow-list. See {@code TYPES.md}.
 */
module dev.ferry.pickle {
  requires transitive dev.ferry;

  exports dev.ferry.pickle;
}
