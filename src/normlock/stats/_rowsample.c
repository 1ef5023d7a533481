/*
 * The row sample's two compiled steps (see sample.py):
 *
 * sort_pairs sorts the hashes a pass kept, with their rows, by hash. The hashes are
 * uniform in [0, most], so passes of a bucket sort by their top bits (256 buckets a pass,
 * then, once a bucket fits in cache, about one bucket per hash) leave a few in each
 * bucket, put in order by insertion; a bucket of many (repeated rows hash alike) is
 * sorted the same way on its own range, down to runs of equal hashes.
 *
 * gather_rows copies the values of the picked rows into a float64 buffer laid out as the
 * source is (row-major for a matrix of adjacent values, column-major for columns), so
 * that both sides of the copy run through memory in order; it writes the first
 * `canonical` columns as the row hash reads them: -0.0 as +0.0 and every NaN as one NaN.
 */
#include "_moments.h"

#include <pthread.h>

#define FANOUT_BITS 8 /* buckets of a pass over more than LOCAL pairs: 256 write streams */
#define LOCAL 2048 /* pairs sorted in cache by one pass into about as many buckets */

static void insertion(uint64_t *key, int64_t *row, Py_ssize_t n) {
    for (Py_ssize_t i = 1; i < n; i++) {
        uint64_t k = key[i];
        int64_t r = row[i];
        Py_ssize_t j = i;
        for (; j > 0 && key[j - 1] > k; j--) key[j] = key[j - 1], row[j] = row[j - 1];
        key[j] = k, row[j] = r;
    }
}

static int bits_of(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* Distribute the pairs (keys in [lo, hi]) by their top bits into at most 2**want buckets,
 * in order, through tkey and trow and back; start[b + 1] is where bucket b ends. Returns
 * the number of buckets and sets *shift (bucket = (key - lo) >> shift). */
static Py_ssize_t distribute(uint64_t *key, int64_t *row, Py_ssize_t n, uint64_t lo, uint64_t hi,
                             int want, uint64_t *tkey, int64_t *trow, Py_ssize_t *start, int *shift) {
    int span = bits_of(hi - lo);
    *shift = span > want ? span - want : 0;
    Py_ssize_t buckets = (Py_ssize_t)((hi - lo) >> *shift) + 1;
    memset(start, 0, (buckets + 1) * sizeof *start);
    for (Py_ssize_t i = 0; i < n; i++) start[((key[i] - lo) >> *shift) + 1]++;
    for (Py_ssize_t b = 0; b < buckets; b++) start[b + 1] += start[b];
    for (Py_ssize_t i = 0; i < n; i++) { /* start[b] runs to the end of bucket b */
        Py_ssize_t at = start[(key[i] - lo) >> *shift]++;
        tkey[at] = key[i], trow[at] = row[i];
    }
    memcpy(key, tkey, n * sizeof *key);
    memcpy(row, trow, n * sizeof *row);
    return buckets;
}

/* Sort the pairs (keys in [lo, hi]) by key; tkey and trow hold n of scratch. Uniform keys
 * leave a few in each bucket of the last pass, which one insertion pass puts in order; a
 * bucket of many is sorted on its own range, down to runs of equal keys (left as they
 * are). */
static void bucket_sort(uint64_t *key, int64_t *row, Py_ssize_t n, uint64_t lo, uint64_t hi,
                        uint64_t *tkey, int64_t *trow) {
    if (n < 2 || lo == hi) return;
    if (n <= 16) {
        insertion(key, row, n);
        return;
    }
    Py_ssize_t start[LOCAL + 2];
    int shift, local = n <= LOCAL;
    Py_ssize_t buckets = distribute(key, row, n, lo, hi, local ? bits_of((uint64_t)n) - 1 : FANOUT_BITS,
                                    tkey, trow, start, &shift);
    for (Py_ssize_t b = 0; b < buckets; b++) {
        Py_ssize_t first = b ? start[b - 1] : 0, size = start[b] - first;
        if (size <= (local ? 16 : 1)) continue; /* a local pass's few wait for the insertion */
        uint64_t low = lo + ((uint64_t)b << shift);
        uint64_t high = shift ? low + (((uint64_t)1 << shift) - 1) : low;
        if (high > hi || high < low) high = hi;
        bucket_sort(key + first, row + first, size, low, high, tkey, trow);
    }
    if (local) insertion(key, row, n); /* moves each key within its bucket only */
}

/* Scratch memory for sorts, kept per thread up to KEPT_SCRATCH bytes: fresh pages cost a
 * page fault each (on some virtual machines more than sorting them), so a thread reuses
 * its own. */
#define KEPT_SCRATCH (8 << 20)

typedef struct {
    void *memory;
    size_t size;
} scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *item) {
    scratch_t *s = item;
    free(s->memory);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

/* At least `size` bytes of scratch for this thread (NULL when out of memory); a block
 * above KEPT_SCRATCH is the caller's to free (*owned set). */
static void *scratch_get(size_t size, int *owned) {
    pthread_once(&scratch_once, scratch_init);
    *owned = size > KEPT_SCRATCH;
    if (*owned) return malloc(size);
    scratch_t *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s)) return free(s), NULL;
    }
    if (s->size < size) {
        void *grown = realloc(s->memory, size);
        if (!grown) return NULL;
        s->memory = grown, s->size = size;
    }
    return s->memory;
}

/* sort_pairs(hashes, rows, most): sorts the uint64 `hashes` (each at most `most`) in
 * place, ascending, and their int64 `rows` with them. The GIL is released. */
PyObject *nl_sort_pairs(PyObject *self, PyObject *args) {
    PyObject *keys_obj, *rows_obj, *most_obj;
    if (!PyArg_ParseTuple(args, "OOO", &keys_obj, &rows_obj, &most_obj)) return NULL;
    uint64_t most = PyLong_AsUnsignedLongLong(most_obj);
    if (PyErr_Occurred()) return NULL;
    Py_buffer keys, rows;
    if (PyObject_GetBuffer(keys_obj, &keys, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) return NULL;
    if (PyObject_GetBuffer(rows_obj, &rows, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&keys);
        return NULL;
    }
    Py_ssize_t n = keys.len / 8;
    int failed = keys.len != rows.len || keys.len % 8;
    if (failed) {
        PyErr_SetString(PyExc_ValueError, "sort_pairs: one int64 row per uint64 hash");
    } else if (n > 1) {
        Py_BEGIN_ALLOW_THREADS
        int owned;
        uint64_t *tkey = scratch_get(2 * n * sizeof(uint64_t), &owned);
        failed = !tkey;
        if (!failed) bucket_sort(keys.buf, rows.buf, n, 0, most, tkey, (int64_t *)(tkey + n));
        if (owned) free(tkey);
        Py_END_ALLOW_THREADS
        if (failed) PyErr_NoMemory();
    }
    PyBuffer_Release(&keys);
    PyBuffer_Release(&rows);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

/* v as the row hash reads it: -0.0 as +0.0 (-0.0 + 0.0 is +0.0), every NaN as one NaN;
 * with integer masks rather than a branch, so that a loop of it vectorizes. */
static inline double canonical_value(double v) {
    double w = v + 0.0;
    uint64_t bits, nan = -(uint64_t)(v != v);
    memcpy(&bits, &w, sizeof bits);
    bits = (bits & ~nan) | (CANONICAL_NAN & nan);
    memcpy(&w, &bits, sizeof w);
    return w;
}

/* Rows at[first..last) of a matrix of adjacent float32 or float64 values (rows rs bytes
 * apart) into out (`pitch` values a row) as float64, the first `canonical` columns as the
 * row hash reads them. */
#define COPY_ROWS(NAME, T)                                                                   \
    __attribute__((target_clones("avx2", "default"))) static void NAME(                     \
        const char *base, Py_ssize_t rs, Py_ssize_t cols, const int64_t *at, double *out,   \
        Py_ssize_t pitch, Py_ssize_t canonical, Py_ssize_t first, Py_ssize_t last) {        \
        for (Py_ssize_t i = first; i < last; i++) {                                          \
            const T *restrict row = (const T *)(base + at[i] * rs);                          \
            double *restrict to = out + i * pitch;                                           \
            for (Py_ssize_t j = 0; j < canonical; j++) to[j] = canonical_value((double)row[j]); \
            for (Py_ssize_t j = canonical; j < cols; j++) to[j] = (double)row[j];            \
        }                                                                                    \
    }
COPY_ROWS(copy_rows32, float)
COPY_ROWS(copy_rows64, double)

/* Rows at[first..last) of one column (values `stride` bytes apart) into to[first..last),
 * as float64, as the row hash reads them with `canonical`. */
#define COPY_COLUMN(NAME, T)                                                                 \
    static void NAME(const char *column, Py_ssize_t stride, const int64_t *at, double *to,  \
                     int canonical, Py_ssize_t first, Py_ssize_t last) {                    \
        if (canonical)                                                                       \
            for (Py_ssize_t i = first; i < last; i++)                                        \
                to[i] = canonical_value((double)*(const T *)(column + at[i] * stride));      \
        else                                                                                 \
            for (Py_ssize_t i = first; i < last; i++)                                        \
                to[i] = (double)*(const T *)(column + at[i] * stride);                       \
    }
COPY_COLUMN(copy_column32, float)
COPY_COLUMN(copy_column64, double)

/* Rows picked[first..last) into out: for a matrix with adjacent values, row-major (row i
 * at out + i * pitch), row by row; for columns, column-major (column j at out + j *
 * pitch), column by column. The first `canonical` columns as the row hash reads them. */
static void gather(const source_t *s, const int64_t *at, double *out, Py_ssize_t pitch,
                   Py_ssize_t canonical, Py_ssize_t first, Py_ssize_t last) {
    if (nl_rows_adjacent(s)) {
        if (s->from_float32)
            copy_rows32(s->column[0], s->rs, s->cols, at, out, pitch, canonical, first, last);
        else
            copy_rows64(s->column[0], s->rs, s->cols, at, out, pitch, canonical, first, last);
        return;
    }
    for (Py_ssize_t j = 0; j < s->cols; j++) {
        if (s->is32[j])
            copy_column32(s->column[j], s->stride[j], at, out + j * pitch, j < canonical, first, last);
        else
            copy_column64(s->column[j], s->stride[j], at, out + j * pitch, j < canonical, first, last);
    }
}

/* gather_rows(data, picked, out, pitch, canonical, first, last): the picked rows
 * picked[first..last) (int64) of a 2-D array or a list of columns into the float64
 * buffer out: for a matrix whose rows hold adjacent values (see rows_adjacent()), row i
 * at out[i * pitch] (pitch >= columns), else column j at out[j * pitch] (pitch >=
 * len(picked)); the first `canonical` columns as the row hash reads them. The GIL is
 * released. */
/* rows_adjacent(data) -> bool: whether gather_rows lays data's rows out row by row. */
PyObject *nl_rows_adjacent_py(PyObject *self, PyObject *args) {
    PyObject *data;
    if (!PyArg_ParseTuple(args, "O", &data)) return NULL;
    source_t s;
    Py_buffer *views = NULL;
    Py_ssize_t opened = nl_open_source(data, &s, &views);
    if (opened < 0) {
        nl_close_source(&s, views, 0);
        return NULL;
    }
    int adjacent = nl_rows_adjacent(&s);
    nl_close_source(&s, views, opened);
    return PyBool_FromLong(adjacent);
}

PyObject *nl_gather_rows(PyObject *self, PyObject *args) {
    PyObject *data, *picked_obj, *out_obj;
    Py_ssize_t pitch, canonical, first, last;
    if (!PyArg_ParseTuple(args, "OOOnnnn", &data, &picked_obj, &out_obj, &pitch, &canonical, &first,
                          &last))
        return NULL;
    source_t s;
    Py_buffer *views = NULL, picked, out;
    Py_ssize_t opened = nl_open_source(data, &s, &views);
    if (opened < 0) {
        nl_close_source(&s, views, 0);
        return NULL;
    }
    if (PyObject_GetBuffer(picked_obj, &picked, PyBUF_C_CONTIGUOUS) < 0) {
        nl_close_source(&s, views, opened);
        return NULL;
    }
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&picked);
        nl_close_source(&s, views, opened);
        return NULL;
    }
    Py_ssize_t k = picked.len / 8;
    const int64_t *at = picked.buf;
    Py_ssize_t lines = nl_rows_adjacent(&s) ? k : s.cols, width = nl_rows_adjacent(&s) ? s.cols : k;
    int bad = pitch < width || out.len < pitch * lines * 8 || first < 0 || last > k || first > last;
    for (Py_ssize_t i = first; i < last && !bad; i++) bad = at[i] < 0 || at[i] >= s.rows;
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "gather_rows: rows out of range or output of the wrong size");
    } else {
        Py_BEGIN_ALLOW_THREADS
        gather(&s, at, out.buf, pitch, canonical, first, last);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&picked);
    PyBuffer_Release(&out);
    nl_close_source(&s, views, opened);
    if (bad) return NULL;
    Py_RETURN_NONE;
}
