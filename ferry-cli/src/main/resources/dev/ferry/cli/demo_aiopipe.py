# Python side of `ferry demo aiopipe`: seed 003's child, as it is, on the write end of a raw pipe
# that the Java parent sent over the ChildProcess connection. argv[1]: the directory of aiopipe.py.
import asyncio
import sys
from contextlib import closing

sys.path.insert(0, sys.argv[1])

import ferry_child
from aiopipe import AioPipeWriter


def childProc(tx):
    eventLoop = asyncio.new_event_loop()
    stream = eventLoop.run_until_complete(tx.open(eventLoop))

    with closing(stream):
        stream.write(b"hi from child process\n")


parent = ferry_child.connect_to_parent()
childProc(AioPipeWriter(ferry_child.receive_fd(parent)))
