/*
 * Order statistics by radix selection: the values of given ranks (0-based, in total
 * order: -0.0 before +0.0) among finite float32/float64 values held in several arrays,
 * without sorting them and without changing them.
 *
 * Each value maps to a 64-bit key that orders as the values do (the sign bit flipped for
 * positive values, every bit for negative ones). A pass counts the keys by their top 11
 * bits; only the buckets that hold a wanted rank are searched further, on their next bits
 * (a digit of fewer bits for fewer keys), down to a few keys (sorted by insertion) or to
 * keys that are all equal. The first pass reads the data, the rest ever smaller buckets:
 * linear time.
 */
#include "_moments.h"

#define DIGIT_BITS 11
#define DIGITS (1 << DIGIT_BITS)
#define DEPTH 16 /* digits of a 64-bit key: 11 bits first, then 4 to 11 bits a level */
#define FEW 32   /* keys a bucket holds when insertion finishes it */
#define RANKS 256 /* ranks one search looks for */

static inline uint64_t order_key(double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits >> 63 ? ~bits : bits | 0x8000000000000000ull;
}

static inline double key_value(uint64_t key) {
    uint64_t bits = key >> 63 ? key & 0x7FFFFFFFFFFFFFFFull : ~key;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void insertion(uint64_t *key, Py_ssize_t n) {
    for (Py_ssize_t i = 1; i < n; i++) {
        uint64_t k = key[i];
        Py_ssize_t j = i;
        for (; j > 0 && key[j - 1] > k; j--) key[j] = key[j - 1];
        key[j] = k;
    }
}

/* Where the ranks rank[0..m) (ascending) fall among `digits` buckets whose counts start
 * (digits + 1 entries, cumulative) gives: want[d] is set for each bucket that holds one. */
static void wanted_buckets(const Py_ssize_t *start, int digits, const int64_t *rank, Py_ssize_t m,
                           unsigned char *want) {
    memset(want, 0, digits);
    for (Py_ssize_t r = 0, d = 0; r < m; r++) {
        while (start[d + 1] <= rank[r]) d++;
        want[d] = 1;
    }
}

static void select_keys(uint64_t *key, Py_ssize_t n, int bits, const int64_t *rank, Py_ssize_t m,
                        uint64_t *found, uint64_t *tmp, Py_ssize_t *counts);

/* The ranks of each wanted bucket, whose keys lie in order of bucket at key (bucket d,
 * if wanted, at key + offset[d]), each searched on its `bits` low bits. */
static void select_buckets(uint64_t *key, const Py_ssize_t *start, const Py_ssize_t *offset,
                           int bits, const int64_t *rank, Py_ssize_t m, uint64_t *found,
                           uint64_t *tmp, Py_ssize_t *counts) {
    int64_t local[RANKS];
    for (Py_ssize_t r = 0, d = 0; r < m;) { /* the ranks of one bucket at a time */
        while (start[d + 1] <= rank[r]) d++;
        Py_ssize_t some = 0;
        for (; r + some < m && rank[r + some] < start[d + 1]; some++)
            local[some] = rank[r + some] - start[d];
        select_keys(key + offset[d], start[d + 1] - start[d], bits, local, some, found + r, tmp,
                    counts);
        r += some;
    }
}

/* The digit width for n keys of which `bits` low bits differ: about n / 8 buckets, from
 * 16 to DIGITS, so that a small bucket does not clear thousands of counts. */
static int digit_bits(Py_ssize_t n, int bits) {
    int width = 4;
    while (width < DIGIT_BITS && ((Py_ssize_t)8 << width) < n) width++;
    return width < bits ? width : bits;
}

/* The keys of ranks rank[0..m) (ascending, all < n, m <= RANKS) among key[0..n), whose
 * bits above their `bits` low ones are all equal (bits == 0: every bit), into
 * found[0..m). key[] and tmp[] (n keys) are overwritten; counts holds every level's. */
static void select_keys(uint64_t *key, Py_ssize_t n, int bits, const int64_t *rank, Py_ssize_t m,
                        uint64_t *found, uint64_t *tmp, Py_ssize_t *counts) {
    if (bits == 0) { /* all equal */
        for (Py_ssize_t r = 0; r < m; r++) found[r] = key[0];
        return;
    }
    if (n <= FEW) {
        insertion(key, n);
        for (Py_ssize_t r = 0; r < m; r++) found[r] = key[rank[r]];
        return;
    }
    int width = digit_bits(n, bits), shift = bits - width, digits = 1 << width;
    Py_ssize_t *start = counts, *offset = counts + digits + 1;
    memset(start, 0, (digits + 1) * sizeof *start);
    for (Py_ssize_t i = 0; i < n; i++) start[((key[i] >> shift) & (digits - 1)) + 1]++;
    for (int d = 0; d < digits; d++) start[d + 1] += start[d];
    int first = (int)((key[0] >> shift) & (digits - 1));
    if (start[first + 1] - start[first] == n) { /* one bucket: the next digit */
        select_keys(key, n, shift, rank, m, found, tmp, counts);
        return;
    }
    unsigned char want[DIGITS];
    wanted_buckets(start, digits, rank, m, want);
    Py_ssize_t at[DIGITS], size = 0;
    for (int d = 0; d < digits; d++) /* the wanted buckets' keys, one after another, in tmp */
        if (want[d]) offset[d] = at[d] = size, size += start[d + 1] - start[d];
    for (Py_ssize_t i = 0; i < n; i++) {
        int d = (int)((key[i] >> shift) & (digits - 1));
        if (want[d]) tmp[at[d]++] = key[i];
    }
    /* the next level searches tmp, with key[] as its scratch */
    select_buckets(tmp, start, offset, shift, rank, m, found, key, counts + 2 * (digits + 1));
}

/* BODY for each value of parts[0..count), its order key in `key`. */
#define EACH_KEY(parts, count, BODY)                                                       \
    for (Py_ssize_t j = 0; j < (count); j++) {                                             \
        const Py_buffer *v_ = &(parts)[j];                                                 \
        const char *p_ = v_->buf;                                                          \
        int f32_ = !strcmp(v_->format, "f");                                              \
        for (Py_ssize_t k_ = 0; k_ < v_->shape[0]; k_++) {                                 \
            const char *at_ = p_ + k_ * v_->strides[0];                                    \
            uint64_t key = order_key(f32_ ? (double)*(const float *)at_ : *(const double *)at_); \
            BODY                                                                           \
        }                                                                                  \
    }

/* The values of ranks rank[0..m) (m <= RANKS) among the values of the parts: the first
 * digit counted straight from them, only the wanted buckets' keys copied out. Returns -1
 * when out of memory. */
static int select_values(const Py_buffer *parts, Py_ssize_t count, const int64_t *rank,
                         Py_ssize_t m, double *values, Py_ssize_t *counts) {
    const int shift = 64 - DIGIT_BITS;
    Py_ssize_t *start = counts, *offset = counts + DIGITS + 1, at[DIGITS], size = 0;
    memset(start, 0, (DIGITS + 1) * sizeof *start);
    EACH_KEY(parts, count, start[(key >> shift) + 1]++;)
    for (int d = 0; d < DIGITS; d++) start[d + 1] += start[d];
    unsigned char want[DIGITS];
    wanted_buckets(start, DIGITS, rank, m, want);
    for (int d = 0; d < DIGITS; d++)
        if (want[d]) offset[d] = at[d] = size, size += start[d + 1] - start[d];
    uint64_t *bucketed = PyMem_RawMalloc((2 * size + 1) * sizeof(uint64_t));
    if (!bucketed) return -1;
    EACH_KEY(parts, count, if (want[key >> shift]) bucketed[at[key >> shift]++] = key;)
    uint64_t found[RANKS];
    select_buckets(bucketed, start, offset, shift, rank, m, found, bucketed + size,
                   counts + 2 * (DIGITS + 1));
    for (Py_ssize_t r = 0; r < m; r++) values[r] = key_value(found[r]);
    PyMem_RawFree(bucketed);
    return 0;
}

/* select(parts, ranks) -> bytes: the float64 values of the int64 ranks (ascending, 0-based)
 * among every value of the 1-D float32/float64 arrays `parts` (all finite; of any
 * lengths), in total order. The GIL is released. */
PyObject *nl_select(PyObject *self, PyObject *args) {
    PyObject *parts_obj, *ranks_obj;
    if (!PyArg_ParseTuple(args, "OO", &parts_obj, &ranks_obj)) return NULL;
    PyObject *parts = PySequence_Fast(parts_obj, "select needs a list of 1-D float arrays");
    if (!parts) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(parts), opened = 0, n = 0;
    Py_buffer *views = PyMem_Calloc(count ? count : 1, sizeof(Py_buffer)), ranks = {0};
    int ok = views != NULL;
    for (; ok && opened < count; opened++) {
        Py_buffer *v = &views[opened];
        ok = PyObject_GetBuffer(PySequence_Fast_GET_ITEM(parts, opened), v,
                                PyBUF_STRIDES | PyBUF_FORMAT) == 0;
        if (!ok) break;
        if (v->ndim != 1 || !v->format || (strcmp(v->format, "f") && strcmp(v->format, "d"))) {
            PyErr_SetString(PyExc_TypeError, "select needs 1-D float32 or float64 arrays");
            ok = 0, opened++;
            break;
        }
        n += v->shape[0];
    }
    ok = ok && PyObject_GetBuffer(ranks_obj, &ranks, PyBUF_C_CONTIGUOUS) == 0;
    Py_ssize_t m = ok ? ranks.len / 8 : 0;
    const int64_t *rank = ranks.buf;
    for (Py_ssize_t r = 0; ok && r < m; r++)
        if (rank[r] < 0 || rank[r] >= n || (r && rank[r] <= rank[r - 1])) {
            PyErr_SetString(PyExc_ValueError, "select: ranks must ascend within the values' count");
            ok = 0;
        }
    Py_ssize_t *counts = ok ? PyMem_RawMalloc(2 * DEPTH * (DIGITS + 1) * sizeof(Py_ssize_t)) : NULL;
    PyObject *out = ok && counts ? PyBytes_FromStringAndSize(NULL, m * 8) : NULL;
    if (ok && !counts) PyErr_NoMemory();
    int failed = 0;
    if (out) {
        double *values = (double *)PyBytes_AS_STRING(out);
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < m && !failed; r += RANKS) {
            Py_ssize_t some = m - r < RANKS ? m - r : RANKS;
            failed = select_values(views, count, rank + r, some, values + r, counts) < 0;
        }
        Py_END_ALLOW_THREADS
    }
    if (failed) {
        Py_CLEAR(out);
        PyErr_NoMemory();
    }
    PyMem_RawFree(counts);
    if (ranks.obj) PyBuffer_Release(&ranks);
    for (Py_ssize_t j = 0; j < opened; j++)
        if (views[j].obj) PyBuffer_Release(&views[j]);
    PyMem_Free(views);
    Py_DECREF(parts);
    return out;
}
