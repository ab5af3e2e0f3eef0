#!/usr/bin/env bash
# Benches two builds of Ferry one after the other, twice (old, new, old, new), on this machine:
# the before/after check of an engine change. Each build is a folder holding the CLI jar and its
# lib/ (copy ferry-cli/target/ferry-cli-*.jar and ferry-cli/target/lib of each build there).
#
#   tools/bench-old-new.sh OLD_DIR NEW_DIR OUT_DIR [bench options...]
#   tools/bench-old-new.sh /tmp/old /tmp/new /tmp/out --repetitions 3
#
# JAVA (default: java) runs both. Writes OUT_DIR/{old,new}-{1,2}.md (the tables) and times.txt.
set -u
if [ $# -lt 3 ]; then
  echo "usage: $0 OLD_DIR NEW_DIR OUT_DIR [bench options...]" >&2
  exit 2
fi
old="$1" new="$2" out="$3"
shift 3
java="${JAVA:-java}"
mkdir -p "$out"
for round in 1 2; do
  for build in old new; do
    dir="$old"; [ "$build" = new ] && dir="$new"
    start=$(date +%s)
    "$java" -cp "$(ls "$dir"/ferry-cli-*.jar | head -1):$dir/lib/*" dev.ferry.cli.Main bench "$@" \
      > "$out/$build-$round.md" 2> "$out/$build-$round.err"
    echo "$build round $round: exit $? in $(( $(date +%s) - start )) s" | tee -a "$out/times.txt"
  done
done
