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
                     int from_float32) {
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
            acc_add_square(&c->sq, x[i]);
        }
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

/* n rows of every column, at base, through the fast path where the layout allows. */
static void moments_block(column_t *out, const char *base, Py_ssize_t n, Py_ssize_t cols,
                          Py_ssize_t rs, Py_ssize_t cs, int from_float32, double *scratch,
                          double *work) {
    Py_ssize_t size = from_float32 ? 4 : 8, first = 0;
    if (fast_cpu && rs == size) { /* adjacent rows: one column at a time */
        for (Py_ssize_t j = 0; j < cols; j++) nl_fast_column(&out[j], base + j * cs, n, from_float32, work);
        return;
    }
    if (fast_cpu && cs == size) { /* adjacent columns: eight or four at a time */
        for (; first + 8 <= cols; first += 8)
            nl_fast_pair(&out[first], base + first * size, n, rs, from_float32, work);
        for (; first + 4 <= cols; first += 4)
            nl_fast_row_group(&out[first], base + first * size, n, rs, from_float32, work);
    }
    load_block(scratch, base + first * cs, n, cols - first, rs, cs, from_float32);
    for (Py_ssize_t j = first; j < cols; j++)
        nl_block_column(&out[j], scratch + (j - first) * PITCH, work, n, from_float32);
}

__attribute__((target_clones("avx2", "default")))
static void hash_column(uint64_t *restrict state, const char *restrict data, Py_ssize_t n,
                        Py_ssize_t stride, int is32, uint64_t salt) {
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = is32 ? (double)*(const float *)(data + i * stride) : *(const double *)(data + i * stride);
        state[i] = row_hash_step(state[i], v, salt);
    }
}

/* The data moments() reads: a 2-D array, or a list of equal-length 1-D arrays, each
 * column described by its first value, its row stride and its type. */
typedef struct {
    Py_ssize_t rows, cols;
    int matrix; /* a 2-D array: rs, cs and from_float32 hold for every column */
    Py_ssize_t rs, cs;
    int from_float32;
    const char **column;
    Py_ssize_t *stride;
    int *is32;
} source_t;

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
                         double *scratch, double *work) {
    if (s->matrix) {
        moments_block(out, s->column[0] + start * s->rs, n, s->cols, s->rs, s->cs, s->from_float32,
                      scratch, work);
        return;
    }
    for (Py_ssize_t j = 0; j < s->cols; j++) {
        const char *x = s->column[j] + start * s->stride[j];
        if (fast_cpu && s->stride[j] == (s->is32[j] ? 4 : 8)) {
            nl_fast_column(&out[j], x, n, s->is32[j], work);
        } else {
            load_block(scratch, x, n, 1, s->stride[j], 0, s->is32[j]);
            nl_block_column(&out[j], scratch, work, n, s->is32[j]);
        }
    }
}

static int is_float_format(const char *format) {
    return format && (!strcmp(format, "f") || !strcmp(format, "d"));
}

static int alloc_columns(source_t *s, Py_ssize_t cols) {
    Py_ssize_t n = cols ? cols : 1;
    s->cols = cols;
    s->column = PyMem_Calloc(n, sizeof(char *));
    s->stride = PyMem_Calloc(n, sizeof(Py_ssize_t));
    s->is32 = PyMem_Calloc(n, sizeof(int));
    if (s->column && s->stride && s->is32) return 0;
    PyErr_NoMemory();
    return -1;
}

/* Fill `s` from a 2-D array or a sequence of 1-D arrays. *views receives the buffers to
 * release with close_source; returns how many, or -1 with an exception set (and none
 * held). */
static Py_ssize_t open_source(PyObject *obj, source_t *s, Py_buffer **views) {
    memset(s, 0, sizeof *s);
    if (PyObject_CheckBuffer(obj)) { /* a 2-D array */
        Py_buffer *view = *views = PyMem_Calloc(1, sizeof(Py_buffer));
        if (!view) return PyErr_NoMemory(), -1;
        if (PyObject_GetBuffer(obj, view, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return -1;
        if (view->ndim != 2 || !is_float_format(view->format)) {
            PyErr_SetString(PyExc_TypeError, "moments needs a 2-D float32 or float64 array");
        } else if (alloc_columns(s, view->shape[1]) == 0) {
            s->matrix = 1;
            s->rows = view->shape[0];
            s->rs = view->strides[0], s->cs = view->strides[1];
            s->from_float32 = !strcmp(view->format, "f");
            for (Py_ssize_t j = 0; j < s->cols; j++) {
                s->column[j] = (const char *)view->buf + j * s->cs;
                s->stride[j] = s->rs;
                s->is32[j] = s->from_float32;
            }
            return 1;
        }
        PyBuffer_Release(view);
        return -1;
    }
    PyObject *fast = PySequence_Fast(obj, "moments needs a 2-D array or a list of 1-D arrays");
    if (!fast) return -1;
    Py_ssize_t cols = PySequence_Fast_GET_SIZE(fast), got = 0;
    *views = PyMem_Calloc(cols ? cols : 1, sizeof(Py_buffer));
    if (!*views) PyErr_NoMemory();
    if (*views && alloc_columns(s, cols) == 0) {
        for (; got < cols; got++) {
            Py_buffer *v = &(*views)[got];
            if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(fast, got), v, PyBUF_STRIDES | PyBUF_FORMAT) < 0) break;
            if (v->ndim != 1 || !is_float_format(v->format) || (got && v->shape[0] != s->rows)) {
                PyBuffer_Release(v);
                PyErr_SetString(PyExc_TypeError, "moments needs equal-length 1-D float32/float64 columns");
                break;
            }
            s->rows = v->shape[0];
            s->column[got] = v->buf;
            s->stride[got] = v->strides[0];
            s->is32[got] = !strcmp(v->format, "f");
        }
    }
    Py_DECREF(fast);
    if (*views && got == cols && !PyErr_Occurred()) return cols;
    for (Py_ssize_t j = 0; j < got; j++) PyBuffer_Release(&(*views)[j]);
    return -1;
}

static void close_source(source_t *s, Py_buffer *views, Py_ssize_t opened) {
    for (Py_ssize_t j = 0; j < opened; j++) PyBuffer_Release(&views[j]);
    PyMem_Free(views);
    PyMem_Free(s->column);
    PyMem_Free(s->stride);
    PyMem_Free(s->is32);
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

/* A growing array of hashes and their rows, filled without the GIL. */
typedef struct {
    uint64_t *item;
    int64_t *row;
    Py_ssize_t count, room;
} found_t;

/* Append the hashes among state[0..n) at most `most`, with their rows (`start` + i);
 * returns -1 when out of memory. */
static int keep_at_most(found_t *found, const uint64_t *state, Py_ssize_t start, Py_ssize_t n,
                        uint64_t most) {
    if (found->count + n > found->room) {
        Py_ssize_t room = 2 * found->room + n;
        uint64_t *item = PyMem_RawRealloc(found->item, room * sizeof(uint64_t));
        if (item) found->item = item;
        int64_t *row = item ? PyMem_RawRealloc(found->row, room * sizeof(int64_t)) : NULL;
        if (!row) return -1;
        found->row = row, found->room = room;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        found->item[found->count] = state[i];
        found->row[found->count] = start + i;
        found->count += state[i] <= most;
    }
    return 0;
}

/* moments(data, most=None) -> (per column tuples, hashes, rows), for a 2-D array or a
 * list of equal-length 1-D arrays. In the same pass over the data, with `most` an int,
 * it computes every row's 64-bit hash (whose top 48 bits are the row hash) and returns,
 * as the bytes of uint64 values in row order, the hashes at most `most`, and as int64
 * bytes their rows (else None, None). The GIL is released while it runs. */
static PyObject *moments(PyObject *self, PyObject *args) {
    Py_buffer *views = NULL;
    PyObject *obj, *most_obj = Py_None;
    PyObject *result = NULL, *columns = NULL;
    column_t *out = NULL;
    double *scratch = NULL;
    uint64_t *state = NULL, most = 0;
    found_t found = {0};
    int failed = 0;
    source_t s;
    if (!PyArg_ParseTuple(args, "O|O", &obj, &most_obj)) return NULL;
    if (most_obj != Py_None) {
        most = PyLong_AsUnsignedLongLong(most_obj);
        if (PyErr_Occurred()) return NULL;
    }
    Py_ssize_t opened = open_source(obj, &s, &views);
    if (opened < 0) {
        close_source(&s, views, 0);
        return NULL;
    }
    Py_ssize_t cols = s.cols;
    out = PyMem_RawCalloc(cols ? cols : 1, sizeof(column_t));
    /* one block of every column as float64, column after column, plus work space */
    scratch = PyMem_RawMalloc(sizeof(double) * (PITCH * (cols ? cols : 1) + 3 * BLOCK));
    if (most_obj != Py_None) state = PyMem_RawMalloc(sizeof(uint64_t) * BLOCK);
    if (!out || !scratch || (most_obj != Py_None && !state)) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t j = 0; j < cols; j++) {
        out[j].min = INFINITY;
        out[j].max = -INFINITY;
    }
    for (Py_ssize_t start = 0; start < s.rows; start += BLOCK) {
        Py_ssize_t n = s.rows - start < BLOCK ? s.rows - start : BLOCK;
        if (state) {
            hash_block(state, &s, start, n, 1);
            if (keep_at_most(&found, state, start, n, most) < 0) {
                failed = 1;
                break;
            }
        }
        moments_rows(out, &s, start, n, scratch, scratch + PITCH * (cols ? cols : 1));
    }
    for (Py_ssize_t j = 0; j < cols; j++) {
        acc_normalize(&out[j].sum);
        acc_normalize(&out[j].sq);
    }
    Py_END_ALLOW_THREADS

    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    columns = PyList_New(cols);
    for (Py_ssize_t j = 0; j < cols && columns; j++) {
        column_t *c = &out[j];
        PyObject *sum = acc_bytes(&c->sum), *sq = acc_bytes(&c->sq);
        PyObject *item = sum && sq ? Py_BuildValue("(LLLLddiiOO)", (long long)c->count,
                                                   (long long)c->nan, (long long)c->posinf,
                                                   (long long)c->neginf, c->min, c->max,
                                                   c->negzero, c->poszero, sum, sq)
                                   : NULL;
        Py_XDECREF(sum);
        Py_XDECREF(sq);
        if (!item) { Py_CLEAR(columns); break; }
        PyList_SET_ITEM(columns, j, item);
    }
    if (columns && state) {
        result = Py_BuildValue("(Ny#y#)", columns, (const char *)found.item,
                               found.count * (Py_ssize_t)sizeof(uint64_t), (const char *)found.row,
                               found.count * (Py_ssize_t)sizeof(int64_t));
    } else if (columns) {
        result = Py_BuildValue("(NOO)", columns, Py_None, Py_None);
    }
done:
    PyMem_RawFree(out);
    PyMem_RawFree(scratch);
    PyMem_RawFree(state);
    PyMem_RawFree(found.item);
    PyMem_RawFree(found.row);
    close_source(&s, views, opened);
    return result;
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
    Py_ssize_t opened = open_source(obj, &s, &views);
    if (opened < 0) {
        close_source(&s, views, 0);
        return NULL;
    }
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        close_source(&s, views, opened);
        return NULL;
    }
    if (out.len != s.rows * 8) {
        PyBuffer_Release(&out);
        close_source(&s, views, opened);
        PyErr_SetString(PyExc_ValueError, "row_hash: out must be one uint64 per row");
        return NULL;
    }
    uint64_t *state = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t start = 0; start < s.rows; start += BLOCK) /* a block stays in cache */
        hash_block(state + start, &s, start, s.rows - start < BLOCK ? s.rows - start : BLOCK, wide);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    close_source(&s, views, opened);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"moments", moments, METH_VARARGS,
     "moments(data, most=None) -> (columns, hashes, rows): for a 2-D array or a list of "
     "1-D arrays, per column (count, nan, posinf, neginf, min, max, negzero, poszero, sum, "
     "sq), where sum and sq are little-endian two's complement integers in units of "
     "2**-2400; with most, the bytes of the rows' 64-bit uint64 hashes at most it and of "
     "their int64 rows, else None and None."},
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
