"""Golden pickles for ferry-pickle's tests, made by a real CPython (2.7 or 3.x, stdlib only).

    python make_pickles.py gen     prints "version<TAB>X.Y.Z<TAB>highest_protocol", then one line
                                   "name<TAB>protocol<TAB>hex<TAB>writer" per case, protocol
                                   0..highest and writer: "c" (the C pickler that
                                   multiprocessing uses: _pickle, or cPickle on 2.7) and "py"
                                   (the pure-Python pickler)
    python make_pickles.py check   reads "name<TAB>protocol<TAB>hex" lines on stdin, unpickles
                                   each and compares it with the case of that name; answers one
                                   line per input:
                                   "OK|FAIL|ERROR|SKIP<TAB>name<TAB>protocol[<TAB>detail]"

numpy cases are included when numpy can be imported.
"""
from __future__ import print_function

import array
import binascii
import collections
import datetime
import decimal
import fractions
import math
import pickle
import sys
import uuid

PY2 = sys.version_info[0] == 2
if PY2:
    INTS = (int, long)  # noqa: F821
else:
    INTS = (int,)

try:
    import numpy
except ImportError:
    numpy = None

try:
    import zoneinfo
except ImportError:  # Python < 3.9
    zoneinfo = None


def cases():
    """(name, value) pairs; the Java tests hold the same values under the same names."""
    c = []
    add = lambda name, value: c.append((name, value))
    add('none', None)
    add('true', True)
    add('false', False)
    for name, n in [('int_0', 0), ('int_1', 1), ('int_neg1', -1), ('int_255', 255),
                    ('int_256', 256), ('int_65535', 65535), ('int_65536', 65536),
                    ('int_2p31m1', 2 ** 31 - 1), ('int_m2p31', -2 ** 31), ('int_2p31', 2 ** 31),
                    ('int_m2p31m1', -2 ** 31 - 1), ('int_2p63m1', 2 ** 63 - 1),
                    ('int_m2p63', -2 ** 63), ('int_2p63', 2 ** 63), ('int_2p64', 2 ** 64),
                    ('int_m2p200', -2 ** 200), ('int_2p2100', 2 ** 2100)]:
        add(name, n)
    add('float_1_5', 1.5)
    add('float_neg_zero', -0.0)
    add('float_pi', math.pi)
    add('float_inf', float('inf'))
    add('float_neg_inf', float('-inf'))
    add('float_nan', float('nan'))
    add('float_tiny', 5e-324)
    add('str_empty', u'')
    add('str_ascii', u'hello')
    add('str_unicode', u'h\xe9llo \u20ac \U0001f600')
    add('str_controls', u'a\nb\\c\r\x00\x1a\\u0041 "\'')
    add('str_300', u'x' * 300)
    add('str_70000', u'\xe9' * 70000)
    if not PY2:
        add('str_surrogate', u'a\ud800b')
    add('bytes_empty', b'')
    add('bytes_bin', b'\x00\xff\x80abc\n\\')
    add('bytes_300', bytes(bytearray(range(256))) + b'y' * 44)
    add('bytes_70000', b'\xfe' * 70000)
    add('bytearray', bytearray(b'\x00\x01\xff'))
    add('bytearray_empty', bytearray())
    add('tuple_empty', ())
    add('tuple_1', (1,))
    add('tuple_2', (1, u'a'))
    add('tuple_3', (1, 2, 3))
    add('tuple_4', (1, 2, 3, None))
    add('list_empty', [])
    add('list_1', [1])
    add('list_mixed', [1, u'a', None, 2.5, True])
    add('list_2500', list(range(2500)))
    add('dict_empty', {})
    add('dict_1', {u'a': 1})
    add('dict_str', {u'a': 1, u'b': [1, 2]})
    add('dict_int_keys', {1: u'x', 2: u'y'})
    add('dict_tuple_key', {(1, 2): u'x'})
    add('dict_1500', dict((i, i) for i in range(1500)))
    add('set_empty', set())
    add('set', set([1, 2, 3]))
    add('frozenset', frozenset([1, 2]))
    add('frozenset_empty', frozenset())
    add('set_of_frozenset', set([frozenset([1])]))
    add('set_of_tuples', set([(1, 2), (3, 4)]))
    add('nested', {u'l': [(1, 2.5, u's'), {u'k': [[], {}]}], u'n': None})
    add('complex', complex(1, -2))
    add('date', datetime.date(2024, 2, 29))
    add('date_min', datetime.date(1, 1, 1))
    add('time', datetime.time(1, 2, 3, 4))
    add('datetime', datetime.datetime(2024, 2, 29, 13, 14, 15, 123456))
    add('datetime_max', datetime.datetime(9999, 12, 31, 23, 59, 59, 999999))
    add('timedelta', datetime.timedelta(days=-1, seconds=5, microseconds=7))
    add('timedelta_big', datetime.timedelta(days=999999999, seconds=86399))
    if not PY2:
        tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
        add('datetime_aware', datetime.datetime(2024, 2, 29, 13, 14, 15, 123456, tz))
        add('datetime_utc', datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
        pst = datetime.timezone(-datetime.timedelta(hours=8))
        add('datetime_neg', datetime.datetime(2000, 1, 1, tzinfo=pst))
        add('time_aware', datetime.time(23, 59, 0, 1, tz))
        add('timezone', tz)
    add('decimal', decimal.Decimal('3.14159'))
    add('decimal_exp', decimal.Decimal('-1E+3'))
    add('decimal_big', decimal.Decimal('1234567890123456789012345678901234567890.000001'))
    add('decimal_nan', decimal.Decimal('NaN'))
    add('uuid', uuid.UUID('12345678-1234-5678-1234-567812345678'))
    add('ordered_dict', collections.OrderedDict([(u'b', 1), (u'a', 2)]))
    add('defaultdict_list', collections.defaultdict(list, {u'a': [1]}))
    add('defaultdict_int', collections.defaultdict(int, {u'x': 3}))
    add('defaultdict_none', collections.defaultdict(None, {1: 2}))
    add('counter', collections.Counter({u'a': 2, u'b': 1}))
    add('deque', collections.deque([1, u'a']))
    add('deque_maxlen', collections.deque([1, 2], 5))
    add('fraction', fractions.Fraction(3, 4))
    add('fraction_whole', fractions.Fraction(-5))
    add('array_i', array.array('i', [1, -2, 3]))
    add('array_d', array.array('d', [1.5, -2.0]))
    add('array_B', array.array('B', [0, 255]))
    add('array_empty', array.array('h'))
    add('range', xrange(1, 11, 2) if PY2 else range(1, 11, 2))  # noqa: F821
    add('slice', slice(1, None, 2))
    if not PY2:
        add('array_Q', array.array('Q', [2 ** 64 - 1]))
        add('ellipsis', Ellipsis)
        add('not_implemented', NotImplemented)
    if zoneinfo is not None:
        paris = zoneinfo.ZoneInfo('Europe/Paris')
        add('datetime_zoneinfo', datetime.datetime(2024, 7, 1, 12, 0, 5, 7, paris))
        add('datetime_zoneinfo_fold', datetime.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=paris))
    shared = [1]
    add('shared', [shared, shared])
    rl = []
    rl.append(rl)
    add('recursive_list', rl)
    rd = {}
    rd[u'self'] = rd
    add('recursive_dict', rd)
    inner = []
    rt = (inner,)
    inner.append(rt)
    add('recursive_tuple', rt)
    if hasattr(pickle, 'PickleBuffer'):
        # In-band buffers (protocol 5 only): read-only ones travel as bytes, writable as bytearray.
        add('picklebuffer_ro', pickle.PickleBuffer(b'abc'))
        add('picklebuffer_rw', pickle.PickleBuffer(bytearray(b'abc')))
    if numpy is not None:
        add('np_i4_2x3', numpy.arange(6, dtype='<i4').reshape(2, 3))
        add('np_f8', numpy.array([1.5, -2.0, 1e300]))
        add('np_f4_3d', numpy.arange(24, dtype='<f4').reshape(2, 3, 4))
        add('np_bool', numpy.array([True, False, True]))
        add('np_u1', numpy.array([0, 200, 255], dtype='u1'))
        add('np_i8_fortran', numpy.asfortranarray(numpy.arange(6, dtype='<i8').reshape(2, 3)))
        add('np_i2_big_endian', numpy.array([1, -2, 300], dtype='>i2'))
        add('np_c16', numpy.array([1 + 2j, -3.5j]))
        add('np_empty', numpy.zeros((0, 3)))
        add('np_scalar_f8', numpy.float64(1.5))
        add('np_scalar_i8', numpy.int64(-7))
    return c


def same(a, b):
    """Equality that also checks types, NaN and the sign of zero, and looks inside numpy."""
    if numpy is not None and isinstance(a, numpy.ndarray):
        return (isinstance(b, numpy.ndarray) and a.dtype.str[1:] == b.dtype.str[1:]
                and a.shape == b.shape and bool(numpy.array_equal(a, b)))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, INTS) and isinstance(b, INTS):
        return a == b
    if type(a) is not type(b):
        return False
    if type(a).__name__ in ('range', 'xrange'):
        return repr(a) == repr(b)  # Python 2's xrange compares by identity
    if isinstance(a, array.array):
        return a.typecode == b.typecode and same(a.tolist(), b.tolist())
    if isinstance(a, collections.deque):
        return a.maxlen == b.maxlen and same(list(a), list(b))
    if isinstance(a, collections.defaultdict) and a.default_factory is not b.default_factory:
        return False
    if isinstance(a, float):
        if a != a:
            return b != b
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b) or list(a) != list(b) and isinstance(a, collections.OrderedDict):
            return False
        return all(k in b and same(v, b[k]) for k, v in a.items()) and \
            sorted(type(k).__name__ for k in a) == sorted(type(k).__name__ for k in b)
    if isinstance(a, (set, frozenset)):
        return a == b and sorted(type(k).__name__ for k in a) == sorted(type(k).__name__ for k in b)
    if isinstance(a, decimal.Decimal) and a.is_nan():
        return b.is_nan()
    if isinstance(a, (datetime.datetime, datetime.time)):
        return (a == b and a.utcoffset() == b.utcoffset()
                and getattr(a.tzinfo, 'key', None) == getattr(b.tzinfo, 'key', None)
                and getattr(a, 'fold', 0) == getattr(b, 'fold', 0))
    return a == b


def check(name, value, expected):
    if name == 'shared':
        return type(value) is list and value[0] is value[1] and value[0] == [1]
    if name == 'recursive_list':
        return type(value) is list and len(value) == 1 and value[0] is value
    if name == 'recursive_dict':
        return type(value) is dict and len(value) == 1 and value[u'self'] is value
    if name == 'recursive_tuple':
        return type(value) is tuple and type(value[0]) is list and value[0][0] is value
    return same(expected, value)


def hexlify(data):
    return binascii.hexlify(data).decode('ascii')


def writers():
    if PY2:
        import cPickle
        return [('c', cPickle.dumps), ('py', pickle.dumps)]
    return [('c', pickle.dumps), ('py', pickle._dumps)]


def gen():
    highest = pickle.HIGHEST_PROTOCOL
    print('version\t%d.%d.%d\t%d' % (sys.version_info[:3] + (highest,)))
    for name, value in cases():
        for protocol in range(highest + 1):
            if name.startswith('picklebuffer') and protocol < 5:
                continue
            for writer, dumps in writers():
                data = dumps(value, protocol)
                print('%s\t%d\t%s\t%s' % (name, protocol, hexlify(data), writer))


def check_stdin():
    known = dict(cases())
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        name, protocol, data = line.split('\t')
        if name not in known:
            answer = ['SKIP', name, protocol]
        else:
            try:
                value = pickle.loads(binascii.unhexlify(data))
                if check(name, value, known[name]):
                    answer = ['OK', name, protocol]
                else:
                    answer = ['FAIL', name, protocol, repr(value)[:300]]
            except Exception as e:  # report every failure to the Java side
                answer = ['ERROR', name, protocol, ('%s: %s' % (type(e).__name__, e))[:300]]
        sys.stdout.write('\t'.join(answer).replace('\n', ' ') + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    if sys.argv[1:] == ['gen']:
        gen()
    elif sys.argv[1:] == ['check']:
        check_stdin()
    else:
        sys.exit(__doc__)
