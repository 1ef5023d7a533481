/*
 * Shared by the portable moments kernel (_moments.c) and its AVX2 fast path
 * (_moments_simd.c): exact integer accumulators, per-column state and the row hash step.
 *
 * An exact sum is held in "limbs": sum = SUM_i limb[i] * 2**(32*i - UNIT_BITS). Every
 * float64 and every square of one is an integer multiple of 2**-UNIT_BITS, so nothing
 * is ever rounded.
 */
#ifndef NORMLOCK_MOMENTS_H
#define NORMLOCK_MOMENTS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define UNIT_BITS 2400
#define NLIMBS 160
#define BLOCK 1024 /* rows per block: a block of a few columns stays in cache */
#define HEADROOM 13 /* 2**13 >= 2 * (2 * BLOCK + 2): room for two terms per row */
#define CARRY_EVERY (1 << 20)

typedef struct {
    int64_t limb[NLIMBS];
    int64_t adds;
} acc_t;

typedef struct {
    int64_t count, nan, posinf, neginf;
    double min, max;
    int negzero, poszero;
    acc_t sum, sq;
} column_t;

static inline void acc_normalize(acc_t *a) {
    for (int i = 0; i < NLIMBS - 1; i++) {
        int64_t carry = a->limb[i] >> 32; /* arithmetic shift: floor division */
        a->limb[i] -= carry * ((int64_t)1 << 32);
        a->limb[i + 1] += carry;
    }
    a->adds = 0;
}

/* Add the unsigned value u * 2**(shift - UNIT_BITS), u < 2**64, with sign. */
static inline void acc_add_bits(acc_t *a, uint64_t u, int shift, int negative) {
    if (u == 0) return;
    int idx = shift >> 5, off = shift & 31;
    unsigned __int128 t = (unsigned __int128)u << off;
    int64_t parts[3] = {(int64_t)(t & 0xffffffffu), (int64_t)((t >> 32) & 0xffffffffu),
                        (int64_t)(t >> 64)};
    for (int k = 0; k < 3; k++) a->limb[idx + k] += negative ? -parts[k] : parts[k];
    if (++a->adds >= CARRY_EVERY) acc_normalize(a);
}

/* |x| = m * 2**e with m < 2**53, for finite x, read off its bits; returns the sign. */
static inline int split_double(double x, uint64_t *m, int *e) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7ff);
    *m = (bits & 0xFFFFFFFFFFFFFull) | (biased ? (uint64_t)1 << 52 : 0);
    *e = (biased ? biased : 1) - 1075;
    return (int)(bits >> 63);
}

static inline void acc_add_double(acc_t *a, double x) {
    uint64_t m;
    int e;
    int negative = split_double(x, &m, &e);
    acc_add_bits(a, m, e + UNIT_BITS, negative);
}

static inline void acc_add_square(acc_t *a, double x) {
    uint64_t m;
    int e;
    split_double(x, &m, &e);
    unsigned __int128 s = (unsigned __int128)m * m;
    acc_add_bits(a, (uint64_t)s, 2 * e + UNIT_BITS, 0);
    acc_add_bits(a, (uint64_t)(s >> 64), 2 * e + 64 + UNIT_BITS, 0);
}

static inline int exponent_above(double magnitude) { /* 0 < magnitude < 2**result */
    uint64_t bits;
    memcpy(&bits, &magnitude, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7ff);
    if (biased == 0) { /* subnormal */
        int e;
        frexp(magnitude, &e);
        return e;
    }
    return biased - 1022;
}

static inline double pow2(int e) { /* 2**e for -1022 <= e <= 1023 */
    uint64_t bits = (uint64_t)(e + 1023) << 52;
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* Record the signs of the zeros among x[0..n) (stride in bytes): they settle the sign of
 * a zero minimum or maximum. */
static inline void note_zero_signs(column_t *c, const char *x, Py_ssize_t n, Py_ssize_t stride,
                                   int from_float32) {
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = from_float32 ? (double)*(const float *)(x + i * stride)
                                : *(const double *)(x + i * stride);
        if (v == 0.0) {
            if (signbit(v)) c->negzero = 1; else c->poszero = 1;
        }
    }
}

/* The row hash normlock-row-v1 (see rows.py): h = mix(width); per column j
 * h = (h ^ (bits_j + G * (j + 1))) * M, h ^= h >> 32; hash = mix(h) >> 16. */
#define ROW_HASH_G 0x9E3779B97F4A7C15ull
#define ROW_HASH_M 0xD6E8FEB86659FD93ull
#define CANONICAL_NAN 0x7FF8000000000000ull

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t row_hash_step(uint64_t h, double v, uint64_t salt) {
    uint64_t bits;
    v = v == 0.0 ? 0.0 : v;
    memcpy(&bits, &v, sizeof bits);
    bits = v != v ? CANONICAL_NAN : bits;
    h = (h ^ (bits + salt)) * ROW_HASH_M;
    return h ^ (h >> 32); /* carry the high bits' differences down */
}

/* The data a kernel reads (_source.c): a 2-D array, or a list of equal-length 1-D arrays,
 * each column described by its first value, its row stride and its type. */
typedef struct {
    Py_ssize_t rows, cols;
    int matrix; /* a 2-D array: rs, cs and from_float32 hold for every column */
    Py_ssize_t rs, cs;
    int from_float32;
    const char **column;
    Py_ssize_t *stride;
    int *is32;
} source_t;

/* Fill `s` from a 2-D array or a sequence of 1-D arrays. *views receives the buffers to
 * release with nl_close_source; returns how many, or -1 with an exception set (and none
 * held). */
Py_ssize_t nl_open_source(PyObject *obj, source_t *s, Py_buffer **views);
void nl_close_source(source_t *s, Py_buffer *views, Py_ssize_t opened);

/* The value at row i of column j of a source, as float64. */
static inline double source_value(const source_t *s, Py_ssize_t j, Py_ssize_t i) {
    const char *p = s->column[j] + i * s->stride[j];
    return s->is32[j] ? (double)*(const float *)p : *(const double *)p;
}

/* Whether a source is a matrix whose rows hold adjacent values (row-major). */
static inline int nl_rows_adjacent(const source_t *s) {
    return s->matrix && s->cs == (s->from_float32 ? 4 : 8);
}

/* sort_pairs, gather_rows and rows_adjacent (_rowsample.c): the row sample's sort and
 * gather. */
PyObject *nl_sort_pairs(PyObject *self, PyObject *args);
PyObject *nl_gather_rows(PyObject *self, PyObject *args);
PyObject *nl_rows_adjacent_py(PyObject *self, PyObject *args);

/* select(parts, ranks) (_select.c): order statistics by radix selection. */
PyObject *nl_select(PyObject *self, PyObject *args);

/* affine(src, dst, centers, scales) -> per column (nan, inf, overflow) counts (_affine.c). */
PyObject *nl_affine(PyObject *self, PyObject *args);

/* One block of one column, already float64 in x[0..n) (overwritten); work holds 2n. The
 * exact sum of the squares only with `squares`. */
void nl_block_column(column_t *c, double *x, double *work, Py_ssize_t n, int from_float32,
                     int squares);

/* The fast path (_moments_simd.c). nl_simd_level() says what this CPU runs: 0 none of
 * it, 1 AVX2 and FMA, 2 AVX-512 (F, DQ, VL) as well; nl_simd_use(level) sets what the
 * functions below use, at most that. Each function handles one block of n <= BLOCK rows
 * and falls back to nl_block_column for what it cannot do exactly (non-finite values,
 * extreme ranges). scratch holds 3 * BLOCK doubles. */
int nl_simd_level(void);
void nl_simd_use(int level);
/* Each takes `squares`: the sums of squares to keep, one bit per column (lane), or for one
 * column whether to keep it. */
/* Columns first..first+3 of a row-major block (4 values adjacent in each row). */
void nl_fast_row_group(column_t *c, const char *base, Py_ssize_t n, Py_ssize_t rs, int from_float32,
                       int squares, double *scratch);
/* Columns first..first+7 of a row-major block. */
void nl_fast_pair(column_t *c, const char *base, Py_ssize_t n, Py_ssize_t rs, int from_float32,
                  int squares, double *scratch);
/* n rows of one contiguous column. */
void nl_fast_column(column_t *c, const char *x, Py_ssize_t n, int from_float32, int squares,
                    double *scratch);
/* One column's step of the row hash over n adjacent values. */
void nl_fast_hash_column(uint64_t *state, const char *x, Py_ssize_t n, int from_float32,
                         uint64_t salt);
/* Row hashes of a row-major block with adjacent values (state holds mix(width) on entry). */
void nl_fast_hash_rows(uint64_t *state, const char *base, Py_ssize_t n, Py_ssize_t cols,
                       Py_ssize_t rs, int from_float32);

#endif
