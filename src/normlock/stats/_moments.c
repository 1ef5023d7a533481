/*
 * Exact one-pass moments of float32/float64 columns.
 *
 * For every column: counts of finite, NaN, +inf and -inf values; min and max (with flags
 * for -0.0 and +0.0); and the EXACT sums of x and of x*x, accumulated in integer
 * "limbs" (sum = SUM_i limb[i] * 2**(32*i - UNIT_BITS)) and returned as the bytes of
 * one integer. Nothing is rounded, so any split of the rows gives the same integers.
 *
 * This portable path works on blocks of BLOCK rows, one column at a time (converted to
 * float64 in a scratch buffer); CPUs with AVX2 and FMA take _moments_simd.c where the
 * layout allows (adjacent columns or adjacent rows). With sigma a power of two above the block's largest
 * magnitude (Rump, Ogita & Oishi's ExtractVector), q = (sigma + r) - sigma puts every
 * value's high bits on one grid, so the float64 sum of the q is exact in any order, and
 * r - q is the exact remainder for the next level. x*x is split exactly into p + e
 * (Dekker's product; exact for float32 inputs). The few level sums per block, and any
 * remainder left after the last level, go into the integer limbs exactly. Blocks with
 * float64 magnitudes outside [2**-400, 2**400] (where Dekker's product could overflow or
 * underflow) take an all-integer path instead.
 *
 * Build with -ffp-contract=off: a fused multiply-add would change the rounding the
 * error-free transformations rely on.
 */
#include "_moments.h"

#define PITCH (BLOCK + 24) /* scratch column pitch: avoids cache-set aliasing */
#define LEVELS 4

/* Four doubles at a time (SSE2 pairs, or AVX2 in the avx2 clone); explicit lanes keep
 * every reduction's order fixed, with no reassociation by the compiler. */
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4i __attribute__((vector_size(32)));

static inline v4d load4(const double *p) {
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void store4(double *p, v4d v) { memcpy(p, &v, sizeof v); }
static inline v4d select4(v4i mask, v4d a, v4d b) { return (v4d)((mask & (v4i)a) | (~mask & (v4i)b)); }
static inline v4d splat4(double x) { return (v4d){x, x, x, x}; }

/* One extraction level: out[i] = in[i] - q[i] (or in[i]**2 - q[i] when `square`), with
 * the exact sum of the q added to acc. Returns the number of nonzero remainders. */
static inline __attribute__((always_inline)) int64_t level(acc_t *acc, const double *in,
                                                           double *out, Py_ssize_t n,
                                                           double sigma, int square) {
    const v4d vs = splat4(sigma), zero = splat4(0.0);
    v4d sums = zero; /* exact: every partial sum lies on the grid of sigma */
    v4i left = {0, 0, 0, 0};
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v4d t = load4(in + i);
        if (square) t = t * t;
        v4d q = (vs + t) - vs;
        sums += q;
        t -= q;
        store4(out + i, t);
        left -= (t != zero); /* a true comparison is -1 */
    }
    double tail = 0.0;
    int64_t left_tail = 0;
    for (; i < n; i++) {
        double t = square ? in[i] * in[i] : in[i];
        double q = (sigma + t) - sigma;
        tail += q;
        out[i] = t - q;
        left_tail += out[i] != 0.0;
    }
    for (int k = 0; k < 4; k++) acc_add_double(acc, sums[k]);
    acc_add_double(acc, tail);
    return left[0] + left[1] + left[2] + left[3] + left_tail;
}

/* Exact sum of in[0..n) (squared first when `square`; all |terms| <= 2**exponent) into
 * acc, level by level; the remainders go to terms[0..n). When few nonzero remainders are
 * left, they are added to the limbs one by one. */
static inline __attribute__((always_inline)) void extract(acc_t *acc, const double *in,
                                                          double *terms, Py_ssize_t n,
                                                          int exponent, int square) {
    int64_t remaining = level(acc, in, terms, n, ldexp(1.0, exponent + HEADROOM), square);
    for (int k = 1; k < LEVELS && remaining > n / 64; k++) {
        exponent = exponent + HEADROOM - 53;
        remaining = level(acc, terms, terms, n, ldexp(1.0, exponent + HEADROOM), 0);
    }
    if (remaining == 0) return;
    for (Py_ssize_t i = 0; i < n; i++) /* few leftovers */
        if (terms[i] != 0.0) acc_add_double(acc, terms[i]);
}

typedef struct {
    double lo, hi, amax, amin_nonzero;
} extrema_t;

/* Count and zero the NaN and infinite values; extrema over the finite ones. Returns the
 * number of finite values. */
static Py_ssize_t clear_nonfinite(column_t *c, double *x, Py_ssize_t n, extrema_t *e) {
    Py_ssize_t finite = 0;
    *e = (extrema_t){INFINITY, -INFINITY, 0.0, INFINITY};
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = x[i], a = fabs(v);
        if (isnan(v)) c->nan++;
        else if (isinf(v)) { if (v > 0) c->posinf++; else c->neginf++; }
        else {
            finite++;
            if (v < e->lo) e->lo = v;
            if (v > e->hi) e->hi = v;
            if (a > e->amax) e->amax = a;
            if (a != 0.0 && a < e->amin_nonzero) e->amin_nonzero = a;
            continue;
        }
        x[i] = 0.0;
    }
    return finite;
}

__attribute__((target_clones("avx2", "default")))
void nl_block_column(column_t *c, double *restrict x, double *restrict work, Py_ssize_t n,
                     int from_float32, int squares) {
    extrema_t e = {INFINITY, -INFINITY, 0.0, INFINITY};
    double amin = INFINITY;
    int bad = 0;
    {
        const v4d top = splat4(0x1.fffffffffffffp+1023), sign = splat4(-0.0);
        v4d lo = splat4(INFINITY), hi = splat4(-INFINITY), big = splat4(0.0);
        v4d small = splat4(INFINITY), small_nz = splat4(INFINITY);
        v4i nonfinite = {0, 0, 0, 0};
        Py_ssize_t i = 0;
        for (; i + 4 <= n; i += 4) {
            v4d v = load4(x + i);
            v4d a = (v4d)(~(v4i)sign & (v4i)v);
            nonfinite |= ~(a <= top); /* NaN compares false */
            lo = select4(v < lo, v, lo);
            hi = select4(v > hi, v, hi);
            big = select4(a > big, a, big);
            small = select4(a < small, a, small);
            small_nz = select4((a < small_nz) & (a != splat4(0.0)), a, small_nz);
        }
        for (int k = 0; k < 4; k++) {
            bad |= nonfinite[k] != 0;
            e.lo = lo[k] < e.lo ? lo[k] : e.lo;
            e.hi = hi[k] > e.hi ? hi[k] : e.hi;
            e.amax = big[k] > e.amax ? big[k] : e.amax;
            amin = small[k] < amin ? small[k] : amin;
            e.amin_nonzero = small_nz[k] < e.amin_nonzero ? small_nz[k] : e.amin_nonzero;
        }
        for (; i < n; i++) {
            double v = x[i], a = fabs(v);
            bad |= !(a <= 0x1.fffffffffffffp+1023);
            e.lo = v < e.lo ? v : e.lo;
            e.hi = v > e.hi ? v : e.hi;
            e.amax = a > e.amax ? a : e.amax;
            amin = a < amin ? a : amin;
            e.amin_nonzero = (a != 0.0 && a < e.amin_nonzero) ? a : e.amin_nonzero;
        }
    }
    if (amin == 0.0) note_zero_signs(c, (const char *)x, n, sizeof(double), 0); /* NaN, inf are not 0 */
    Py_ssize_t finite = bad ? clear_nonfinite(c, x, n, &e) : n;
    c->count += finite;
    if (finite == 0) return;
    if (e.lo < c->min) c->min = e.lo;
    if (e.hi > c->max) c->max = e.hi;
    if (e.amax == 0.0) return;
    if (!from_float32 && (e.amax > 0x1p400 || e.amin_nonzero < 0x1p-400)) {
        for (Py_ssize_t i = 0; i < n; i++) { /* all-integer path for extreme magnitudes */
            acc_add_double(&c->sum, x[i]);
            if (squares) acc_add_square(&c->sq, x[i]);
        }
        return;
    }
    if (!squares) {
        extract(&c->sum, x, x, n, exponent_above(e.amax), 0);
        return;
    }
    int square_exponent = exponent_above(e.amax * e.amax * 2.0);
    if (from_float32) { /* x * x is exact: square on the fly in the first level */
        extract(&c->sq, x, work, n, square_exponent, 1);
    } else { /* p + err == x * x exactly (Dekker's product) */
        double *p = work, *err = work + n;
        for (Py_ssize_t i = 0; i < n; i++) {
            double v = x[i];
            double scaled = 134217729.0 * v; /* Veltkamp split, 2**27 + 1 */
            double h = scaled - (scaled - v), l = v - h;
            p[i] = v * v;
            err[i] = ((h * h - p[i]) + 2.0 * h * l) + l * l;
        }
        extract(&c->sq, work, work, 2 * n, square_exponent, 0);
    }
    extract(&c->sum, x, x, n, exponent_above(e.amax), 0);
}

/* Copy n rows of every column into dst[j * PITCH + i] as float64, reading memory in its
 * own order (row after row for row-major data). */
static void load_block(double *dst, const char *src, Py_ssize_t n, Py_ssize_t cols,
                       Py_ssize_t rs, Py_ssize_t cs, int from_float32) {
    int rows_outer = (cs < 0 ? -cs : cs) < (rs < 0 ? -rs : rs);
    if (rows_outer) {
        for (Py_ssize_t i = 0; i < n; i++) {
            const char *row = src + i * rs;
            if (from_float32)
                for (Py_ssize_t j = 0; j < cols; j++) dst[j * PITCH + i] = *(const float *)(row + j * cs);
            else
                for (Py_ssize_t j = 0; j < cols; j++) dst[j * PITCH + i] = *(const double *)(row + j * cs);
        }
    } else {
        for (Py_ssize_t j = 0; j < cols; j++) {
            const char *col = src + j * cs;
            double *out = dst + j * PITCH;
            if (from_float32)
                for (Py_ssize_t i = 0; i < n; i++) out[i] = *(const float *)(col + i * rs);
            else
                for (Py_ssize_t i = 0; i < n; i++) out[i] = *(const double *)(col + i * rs);
        }
    }
}

static int fast_cpu; /* the fast path in use (AVX2 and FMA): set when the module loads */

/* The bits of squares[first..first+lanes): which of these columns keep their squares. */
static int square_bits(const unsigned char *squares, Py_ssize_t first, int lanes) {
    int bits = 0;
    for (int k = 0; k < lanes; k++) bits |= (squares[first + k] != 0) << k;
    return bits;
}

/* Ask for the `bytes` after x[0..length) to be brought into the cache: a column's next
 * block, read once every column of this one is done (a short stream of each of many
 * columns, which the hardware's prefetcher would see too late). */
static inline void prefetch_after(const char *x, Py_ssize_t length, Py_ssize_t bytes) {
    for (Py_ssize_t at = 0; at < bytes; at += 64) __builtin_prefetch(x + length + at, 0, 2);
}

/* n rows of every column, at base, through the fast path where the layout allows; the
 * sums of squares of the columns whose `squares` entry is set. */
static void moments_block(column_t *out, const char *base, Py_ssize_t n, Py_ssize_t ahead,
                          Py_ssize_t cols, Py_ssize_t rs, Py_ssize_t cs, int from_float32,
                          const unsigned char *squares, double *scratch, double *work) {
    Py_ssize_t size = from_float32 ? 4 : 8, first = 0;
    if (fast_cpu && rs == size) { /* adjacent rows: one column at a time */
        for (Py_ssize_t j = 0; j < cols; j++) {
            prefetch_after(base + j * cs, n * size, ahead * size);
            nl_fast_column(&out[j], base + j * cs, n, from_float32, squares[j], work);
        }
        return;
    }
    if (fast_cpu && cs == size) { /* adjacent columns: eight or four at a time */
        for (; first + 8 <= cols; first += 8)
            nl_fast_pair(&out[first], base + first * size, n, rs, from_float32,
                         square_bits(squares, first, 8), work);
        for (; first + 4 <= cols; first += 4)
            nl_fast_row_group(&out[first], base + first * size, n, rs, from_float32,
                              square_bits(squares, first, 4), work);
    }
    load_block(scratch, base + first * cs, n, cols - first, rs, cs, from_float32);
    for (Py_ssize_t j = first; j < cols; j++)
        nl_block_column(&out[j], scratch + (j - first) * PITCH, work, n, from_float32, squares[j]);
}

__attribute__((target_clones("avx2", "default")))
static void hash_column(uint64_t *restrict state, const char *restrict data, Py_ssize_t n,
                        Py_ssize_t stride, int is32, uint64_t salt) {
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = is32 ? (double)*(const float *)(data + i * stride) : *(const double *)(data + i * stride);
        state[i] = row_hash_step(state[i], v, salt);
    }
}

static void hash_one_column(uint64_t *state, const char *x, Py_ssize_t n, Py_ssize_t stride,
                            int is32, uint64_t salt) {
    if (fast_cpu && stride == (is32 ? 4 : 8)) nl_fast_hash_column(state, x, n, is32, salt);
    else hash_column(state, x, n, stride, is32, salt);
}

/* Row hashes of rows [start, start + n) into state[0..n): the 48-bit row hash, or with
 * `wide` the 64 bits it is the top of (the rows' sample keys, see rows.py). */
static void hash_block(uint64_t *state, const source_t *s, Py_ssize_t start, Py_ssize_t n,
                       int wide) {
    uint64_t first = mix64((uint64_t)s->cols);
    for (Py_ssize_t i = 0; i < n; i++) state[i] = first;
    if (s->matrix && fast_cpu && s->cs == (s->from_float32 ? 4 : 8)) {
        nl_fast_hash_rows(state, s->column[0] + start * s->rs, n, s->cols, s->rs, s->from_float32);
    } else {
        for (Py_ssize_t j = 0; j < s->cols; j++)
            hash_one_column(state, s->column[j] + start * s->stride[j], n, s->stride[j], s->is32[j],
                            ROW_HASH_G * (uint64_t)(j + 1));
    }
    int shift = wide ? 0 : 16;
    for (Py_ssize_t i = 0; i < n; i++) state[i] = mix64(state[i]) >> shift;
}

/* Rows [start, start + n) of every column. */
static void moments_rows(column_t *out, const source_t *s, Py_ssize_t start, Py_ssize_t n,
                         const unsigned char *squares, double *scratch, double *work) {
    Py_ssize_t left = s->rows - start - n, ahead = left < BLOCK ? left : BLOCK;
    if (s->matrix) {
        moments_block(out, s->column[0] + start * s->rs, n, ahead, s->cols, s->rs, s->cs,
                      s->from_float32, squares, scratch, work);
        return;
    }
    for (Py_ssize_t j = 0; j < s->cols; j++) {
        const char *x = s->column[j] + start * s->stride[j];
        if (fast_cpu && s->stride[j] == (s->is32[j] ? 4 : 8)) {
            prefetch_after(x, n * s->stride[j], ahead * s->stride[j]);
            nl_fast_column(&out[j], x, n, s->is32[j], squares[j], work);
        } else {
            load_block(scratch, x, n, 1, s->stride[j], 0, s->is32[j]);
            nl_block_column(&out[j], scratch, work, n, s->is32[j], squares[j]);
        }
    }
}

/* A normalized sum as little-endian two's complement bytes, 32 bits per limb: every
 * limb but the last is in [0, 2**32), and the last, at 2**(32 * 159), is 0 or -1 for any
 * sum of fewer than 2**63 squares of float64 values (|sum| < 2**4600 units). */
static PyObject *acc_bytes(const acc_t *a) {
    unsigned char raw[4 * NLIMBS];
    for (int i = 0; i < NLIMBS; i++) {
        uint32_t word = (uint32_t)a->limb[i];
        for (int b = 0; b < 4; b++) raw[4 * i + b] = (unsigned char)(word >> (8 * b));
    }
    return PyBytes_FromStringAndSize((const char *)raw, sizeof raw);
}

/* A buffer of `cols` accumulators, as accumulator() makes it: checked against its size. */
static column_t *columns_of(Py_buffer *view, Py_ssize_t cols) {
    if (view->len != cols * (Py_ssize_t)sizeof(column_t)) {
        PyErr_Format(PyExc_ValueError, "the accumulator holds %zd bytes, not those of %zd columns",
                     view->len, cols);
        return NULL;
    }
    return view->buf;
}

static void column_clear(column_t *c) {
    memset(c, 0, sizeof *c);
    c->min = INFINITY;
    c->max = -INFINITY;
}

/* accumulator(cols) -> bytearray: the running counts, extrema and exact sums of `cols`
 * columns, before any value (moments() adds into it). */
static PyObject *accumulator(PyObject *self, PyObject *args) {
    Py_ssize_t cols;
    if (!PyArg_ParseTuple(args, "n", &cols)) return NULL;
    if (cols < 0) return PyErr_Format(PyExc_ValueError, "cols must be >= 0, got %zd", cols);
    PyObject *out = PyByteArray_FromStringAndSize(NULL, cols * (Py_ssize_t)sizeof(column_t));
    if (!out) return NULL;
    column_t *c = (column_t *)PyByteArray_AS_STRING(out);
    for (Py_ssize_t j = 0; j < cols; j++) column_clear(&c[j]);
    return out;
}

static void acc_merge(acc_t *into, acc_t *other) {
    acc_normalize(into);
    acc_normalize(other);
    for (int i = 0; i < NLIMBS; i++) into->limb[i] += other->limb[i];
    acc_normalize(into);
}

/* combine(into, other): adds the columns of the accumulator `other` into `into`. */
static PyObject *combine(PyObject *self, PyObject *args) {
    PyObject *into_obj, *other_obj;
    if (!PyArg_ParseTuple(args, "OO", &into_obj, &other_obj)) return NULL;
    Py_buffer into, other;
    if (PyObject_GetBuffer(into_obj, &into, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) return NULL;
    if (PyObject_GetBuffer(other_obj, &other, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&into);
        return NULL;
    }
    Py_ssize_t cols = into.len / (Py_ssize_t)sizeof(column_t);
    column_t *a = columns_of(&into, cols), *b = a ? columns_of(&other, cols) : NULL;
    for (Py_ssize_t j = 0; b && j < cols; j++) {
        a[j].count += b[j].count, a[j].nan += b[j].nan;
        a[j].posinf += b[j].posinf, a[j].neginf += b[j].neginf;
        if (b[j].min < a[j].min) a[j].min = b[j].min;
        if (b[j].max > a[j].max) a[j].max = b[j].max;
        a[j].negzero |= b[j].negzero, a[j].poszero |= b[j].poszero;
        acc_merge(&a[j].sum, &b[j].sum);
        acc_merge(&a[j].sq, &b[j].sq);
    }
    PyBuffer_Release(&into);
    PyBuffer_Release(&other);
    if (!b) return NULL;
    Py_RETURN_NONE;
}

/* A normalized sum's limbs as little-endian two's complement bytes, 32 bits per limb:
 * every limb but the last is in [0, 2**32), and the last, at 2**(32 * 159), is 0 or -1 for
 * any sum of fewer than 2**63 squares of float64 values (|sum| < 2**4600 units). */
static void acc_write(acc_t *a, unsigned char *raw) {
    acc_normalize(a);
    for (int i = 0; i < NLIMBS; i++) {
        uint32_t word = (uint32_t)a->limb[i];
        for (int b = 0; b < 4; b++) raw[4 * i + b] = (unsigned char)(word >> (8 * b));
    }
}

/* unpack(acc) -> (counts, extrema, zeros, sums, squares), as bytes: per column its int64
 * count, nan, posinf and neginf; its float64 min and max; a byte each for a -0.0 and a
 * +0.0 seen; and its exact sums of x and of x*x, each 4 * NLIMBS bytes (see acc_write). */
static PyObject *unpack(PyObject *self, PyObject *args) {
    PyObject *acc_obj;
    if (!PyArg_ParseTuple(args, "O", &acc_obj)) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(acc_obj, &view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) return NULL;
    Py_ssize_t cols = view.len / (Py_ssize_t)sizeof(column_t), width = 4 * NLIMBS;
    column_t *c = columns_of(&view, cols);
    PyObject *counts = NULL, *extrema = NULL, *zeros = NULL, *sums = NULL, *squares = NULL;
    PyObject *result = NULL;
    if (c) {
        counts = PyBytes_FromStringAndSize(NULL, cols * 4 * 8);
        extrema = PyBytes_FromStringAndSize(NULL, cols * 2 * 8);
        zeros = PyBytes_FromStringAndSize(NULL, cols * 2);
        sums = PyBytes_FromStringAndSize(NULL, cols * width);
        squares = PyBytes_FromStringAndSize(NULL, cols * width);
    }
    if (counts && extrema && zeros && sums && squares) {
        int64_t *n = (int64_t *)PyBytes_AS_STRING(counts);
        double *e = (double *)PyBytes_AS_STRING(extrema);
        unsigned char *z = (unsigned char *)PyBytes_AS_STRING(zeros);
        for (Py_ssize_t j = 0; j < cols; j++) {
            n[4 * j] = c[j].count, n[4 * j + 1] = c[j].nan;
            n[4 * j + 2] = c[j].posinf, n[4 * j + 3] = c[j].neginf;
            e[2 * j] = c[j].min, e[2 * j + 1] = c[j].max;
            z[2 * j] = (unsigned char)c[j].negzero, z[2 * j + 1] = (unsigned char)c[j].poszero;
            acc_write(&c[j].sum, (unsigned char *)PyBytes_AS_STRING(sums) + j * width);
            acc_write(&c[j].sq, (unsigned char *)PyBytes_AS_STRING(squares) + j * width);
        }
        result = PyTuple_Pack(5, counts, extrema, zeros, sums, squares);
    }
    Py_XDECREF(counts);
    Py_XDECREF(extrema);
    Py_XDECREF(zeros);
    Py_XDECREF(sums);
    Py_XDECREF(squares);
    PyBuffer_Release(&view);
    return result;
}

/* counts(acc) -> bytes: per column its int64 count, nan, posinf and neginf so far. */
static PyObject *counts(PyObject *self, PyObject *args) {
    PyObject *acc_obj;
    if (!PyArg_ParseTuple(args, "O", &acc_obj)) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(acc_obj, &view, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    Py_ssize_t cols = view.len / (Py_ssize_t)sizeof(column_t);
    column_t *c = columns_of(&view, cols);
    PyObject *out = c ? PyBytes_FromStringAndSize(NULL, cols * 4 * 8) : NULL;
    if (out) {
        int64_t *n = (int64_t *)PyBytes_AS_STRING(out);
        for (Py_ssize_t j = 0; j < cols; j++) {
            n[4 * j] = c[j].count, n[4 * j + 1] = c[j].nan;
            n[4 * j + 2] = c[j].posinf, n[4 * j + 3] = c[j].neginf;
        }
    }
    PyBuffer_Release(&view);
    return out;
}

/* Write the hashes among state[0..n) at most `most` to kept[], with their rows (`start`
 * + i) to rows[]; returns how many. */
static Py_ssize_t keep_at_most(uint64_t *kept, int64_t *rows, const uint64_t *state,
                               Py_ssize_t start, Py_ssize_t n, uint64_t most) {
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < n; i++) { /* branch-free: write, then advance if kept */
        kept[count] = state[i];
        rows[count] = start + i;
        count += state[i] <= most;
    }
    return count;
}

/* moments(data, acc, squares=None, hashes=None, rows=None, most=0) -> kept: adds the
 * counts, extrema and exact sums of every column of `data` (a 2-D array, or a list of
 * equal-length 1-D arrays) into the accumulator `acc` (see accumulator()), the sums of
 * squares only of the columns whose byte in `squares` is nonzero (all when None). In the
 * same pass over the data, with the writable uint64 `hashes` and int64 `rows` (room for
 * one per row), it computes every row's 64-bit hash (whose top 48 bits are the row hash)
 * and writes those at most `most`, in row order, with their rows; it returns how many
 * (0 without them). The GIL is released while it runs. */
static PyObject *moments(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"data", "acc", "squares", "hashes", "rows", "most", NULL};
    PyObject *obj, *acc_obj, *squares_obj = Py_None, *hashes_obj = Py_None, *rows_obj = Py_None;
    unsigned long long most = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOOK", names, &obj, &acc_obj, &squares_obj,
                                     &hashes_obj, &rows_obj, &most))
        return NULL;
    Py_buffer *views = NULL, acc = {0}, squares = {0}, hashes = {0}, rows = {0};
    source_t s;
    Py_ssize_t opened = nl_open_source(obj, &s, &views), kept = 0;
    int ok = opened >= 0, hashing = hashes_obj != Py_None;
    ok = ok && PyObject_GetBuffer(acc_obj, &acc, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) == 0;
    column_t *out = ok ? columns_of(&acc, s.cols) : NULL;
    ok = out != NULL;
    if (ok && squares_obj != Py_None) {
        ok = PyObject_GetBuffer(squares_obj, &squares, PyBUF_C_CONTIGUOUS) == 0;
        if (ok && squares.len != s.cols) {
            PyErr_SetString(PyExc_ValueError, "squares needs one byte per column");
            ok = 0;
        }
    }
    if (ok && hashing) {
        ok = PyObject_GetBuffer(hashes_obj, &hashes, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) == 0 &&
             PyObject_GetBuffer(rows_obj, &rows, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) == 0;
        if (ok && (hashes.len < s.rows * 8 || rows.len < s.rows * 8)) {
            PyErr_SetString(PyExc_ValueError, "hashes and rows need room for one per row");
            ok = 0;
        }
    }
    Py_ssize_t cols = s.cols ? s.cols : 1;
    unsigned char *every = ok ? PyMem_RawMalloc(cols) : NULL;
    /* one block of every column as float64, column after column, plus work space */
    double *scratch = ok ? PyMem_RawMalloc(sizeof(double) * (PITCH * cols + 3 * BLOCK)) : NULL;
    uint64_t *state = ok && hashing ? PyMem_RawMalloc(sizeof(uint64_t) * BLOCK) : NULL;
    if (ok && (!every || !scratch || (hashing && !state))) {
        PyErr_NoMemory();
        ok = 0;
    }
    if (ok) {
        const unsigned char *keep = squares.buf;
        if (!keep) memset(every, 1, cols), keep = every;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t start = 0; start < s.rows; start += BLOCK) {
            Py_ssize_t n = s.rows - start < BLOCK ? s.rows - start : BLOCK;
            if (hashing) {
                hash_block(state, &s, start, n, 1);
                kept += keep_at_most((uint64_t *)hashes.buf + kept, (int64_t *)rows.buf + kept, state,
                                     start, n, most);
            }
            moments_rows(out, &s, start, n, keep, scratch, scratch + PITCH * cols);
        }
        for (Py_ssize_t j = 0; j < s.cols; j++) {
            acc_normalize(&out[j].sum);
            acc_normalize(&out[j].sq);
        }
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(every);
    PyMem_RawFree(scratch);
    PyMem_RawFree(state);
    if (acc.obj) PyBuffer_Release(&acc);
    if (squares.obj) PyBuffer_Release(&squares);
    if (hashes.obj) PyBuffer_Release(&hashes);
    if (rows.obj) PyBuffer_Release(&rows);
    nl_close_source(&s, views, opened < 0 ? 0 : opened);
    return ok ? PyLong_FromSsize_t(kept) : NULL;
}

/* row_hash(data, out, wide=False): the 48-bit row hash "normlock-row-v1" (see _moments.h),
 * or with `wide` the 64 bits it is the top of, of every row of a 2-D array or of a list of
 * equal-length 1-D arrays, into the uint64 array `out`. The GIL is released while it runs. */
static PyObject *row_hash(PyObject *self, PyObject *args) {
    PyObject *obj, *out_obj;
    Py_buffer out, *views = NULL;
    source_t s;
    int wide = 0;
    if (!PyArg_ParseTuple(args, "OO|p", &obj, &out_obj, &wide)) return NULL;
    Py_ssize_t opened = nl_open_source(obj, &s, &views);
    if (opened < 0) {
        nl_close_source(&s, views, 0);
        return NULL;
    }
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        nl_close_source(&s, views, opened);
        return NULL;
    }
    if (out.len != s.rows * 8) {
        PyBuffer_Release(&out);
        nl_close_source(&s, views, opened);
        PyErr_SetString(PyExc_ValueError, "row_hash: out must be one uint64 per row");
        return NULL;
    }
    uint64_t *state = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t start = 0; start < s.rows; start += BLOCK) /* a block stays in cache */
        hash_block(state + start, &s, start, s.rows - start < BLOCK ? s.rows - start : BLOCK, wide);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    nl_close_source(&s, views, opened);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"accumulator", accumulator, METH_VARARGS,
     "accumulator(cols) -> bytearray: running moments of cols columns, before any value."},
    {"moments", (PyCFunction)(void (*)(void))moments, METH_VARARGS | METH_KEYWORDS,
     "moments(data, acc, squares=None, hashes=None, rows=None, most=0) -> kept: adds the "
     "counts, extrema and exact sums of every column of a 2-D array or a list of 1-D arrays "
     "into acc (of squares only where squares[j]); with hashes and rows, writes the rows' "
     "64-bit hashes at most `most` and their rows, returning how many."},
    {"combine", combine, METH_VARARGS, "combine(into, other): adds accumulator other into into."},
    {"counts", counts, METH_VARARGS,
     "counts(acc) -> bytes: per column int64 (count, nan, posinf, neginf) so far."},
    {"unpack", unpack, METH_VARARGS,
     "unpack(acc) -> (counts, extrema, zeros, sums, squares) as bytes: per column int64 "
     "(count, nan, posinf, neginf), float64 (min, max), bytes (negzero, poszero), and the "
     "exact sums of x and x*x as little-endian two's complement integers in units of "
     "2**-2400."},
    {"sort_pairs", nl_sort_pairs, METH_VARARGS,
     "sort_pairs(hashes, rows, most): sorts uint64 hashes (each <= most) in place with their "
     "int64 rows."},
    {"gather_rows", nl_gather_rows, METH_VARARGS,
     "gather_rows(data, picked, out, pitch, canonical, first, last): data[picked[i], j] in "
     "float64 for i in [first, last), at out[i * pitch + j] for a row-major matrix "
     "(rows_adjacent), else at out[j * pitch + i]; the first `canonical` columns as the row "
     "hash reads them."},
    {"select", nl_select, METH_VARARGS,
     "select(parts, ranks) -> bytes: the float64 values of the ascending int64 ranks among "
     "every value of the finite 1-D float32/float64 arrays parts, in total order."},
    {"rows_adjacent", nl_rows_adjacent_py, METH_VARARGS,
     "rows_adjacent(data) -> bool: whether gather_rows writes data's rows row by row (a "
     "matrix whose rows hold adjacent values) rather than column by column."},
    {"affine", nl_affine, METH_VARARGS,
     "affine(src2d, dst2d, centers, scales) -> per column (nan, inf, overflow) counts."},
    {"row_hash", row_hash, METH_VARARGS,
     "row_hash(data, out_uint64, wide=False): the 48-bit row hash normlock-row-v1 (with "
     "wide, the 64 bits it is the top of) of every row of a 2-D array or a list of 1-D "
     "arrays."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_moments",
                                    "Exact one-pass moments of float columns.", -1, methods};

PyMODINIT_FUNC PyInit__moments(void) {
    /* NORMLOCK_KERNEL=portable or =avx2 keeps to that path and those below it (to test
     * them on any CPU); otherwise the kernel runs the widest this CPU has */
    const char *path = getenv("NORMLOCK_KERNEL");
    int level = nl_simd_level();
    if (path && !strcmp(path, "portable")) level = 0;
    if (path && !strcmp(path, "avx2") && level > 1) level = 1;
    fast_cpu = level > 0;
    nl_simd_use(level);
    return PyModule_Create(&module);
}
