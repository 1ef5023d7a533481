/*
 * Exact co-moments of float32/float64 columns: over the rows whose values are all finite,
 * the row count n, the sums of x_i and the sums of x_i * x_j, as exact integers.
 *
 * Error-free slicing (after Ozaki's scheme for exact matrix products): column j is given
 * an anchor E_j (every |x| < 2**E_j) and K_j slices of SLICE_BITS bits, so that every
 * value is x = sign * SUM_k s_k * 2**(E_j - SLICE_BITS * (k + 1)) with integer slices
 * 0 <= s_k < 2**SLICE_BITS, read straight off the value's bits. The slices of a block of
 * rows, stored as float64, form a matrix S with one column per slice (plus a column of
 * ones, which gives n and the sums of x); the Gram matrix S^T S of up to EXACT_ROWS rows
 * is a sum of integers below 2**53, so its float64 sums are exact in ANY order (this is
 * what lets the product run at the speed of a matrix product, fused multiply-adds
 * included). Those sums go into int64 totals per slice pair, and, every LONG_ROWS rows
 * and at the end, into one 384-bit integer per column pair, each weighted by its power of
 * two. A value with bits below its column's last slice (a column spanning more binades
 * than MAX_SLICES slices hold) makes its row "dirty": the row is left out here and its
 * index returned, for the caller to add exactly.
 *
 * The product runs on 4 x 8 tiles of the Gram matrix, with an AVX2 and FMA path and a
 * portable one; both give the same integers.
 */
#include "_moments.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#else
#define HAVE_AVX2_PATH 0
#endif

#define SLICE_BITS 21
#define SLICE_MASK ((1u << SLICE_BITS) - 1)
#define MAX_SLICES 6
#define QUAD 4            /* slice columns are padded to a multiple of the tile's height */
#define BLOCK_ROWS 256    /* rows sliced at a time */
#define PITCH (BLOCK_ROWS + 8) /* doubles between slice columns: avoids cache-set aliasing */
#define EXACT_ROWS 2048   /* 2048 * (2**21 - 1)**2 < 2**53: float64 sums stay exact */
#define LONG_ROWS (1 << 20) /* 2**20 * (2**21 - 1)**2 < 2**62: int64 sums stay exact */
#define TOTAL_WORDS 6     /* a column pair's total: 384-bit two's complement */
#define MAX_COLUMNS 512

static int use_avx2;

typedef struct {
    Py_ssize_t cols;    /* data columns plus the column of ones (the last) */
    int *anchor;        /* E_j: every |x| of column j is below 2**E_j */
    int *slices;        /* K_j */
    Py_ssize_t *offset; /* the first slice column of column j */
    Py_ssize_t width, padded; /* slice columns, and that rounded up to whole tiles */
} layout_t;

/* The largest magnitude and the lowest set bit (the exponent of the least significant
 * one bit) among the finite nonzero values of one column. */
static void scan_column(const char *x, Py_ssize_t n, Py_ssize_t stride, int is32, double *amax,
                        int *lowbit) {
    double big = 0.0;
    int low = INT32_MAX;
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = is32 ? (double)*(const float *)(x + i * stride) : *(const double *)(x + i * stride);
        double a = fabs(v);
        if (!(a <= 0x1.fffffffffffffp+1023) || a == 0.0) continue; /* NaN, inf, zero */
        if (a > big) big = a;
        uint64_t m;
        int e;
        split_double(v, &m, &e);
        int bit = e + __builtin_ctzll(m);
        if (bit < low) low = bit;
    }
    *amax = big;
    *lowbit = low;
}

/* Anchors and slice counts from each column's scan; returns -1 with an exception set
 * when memory runs out. */
static int plan_layout(layout_t *l, const source_t *s) {
    l->cols = s->cols + 1;
    l->anchor = PyMem_Calloc(l->cols, sizeof(int));
    l->slices = PyMem_Calloc(l->cols, sizeof(int));
    l->offset = PyMem_Calloc(l->cols, sizeof(Py_ssize_t));
    if (!l->anchor || !l->slices || !l->offset) return PyErr_NoMemory(), -1;
    double *amax = PyMem_Calloc(s->cols ? s->cols : 1, sizeof(double));
    int *lowbit = PyMem_Calloc(s->cols ? s->cols : 1, sizeof(int));
    if (!amax || !lowbit) {
        PyMem_Free(amax);
        PyMem_Free(lowbit);
        return PyErr_NoMemory(), -1;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t j = 0; j < s->cols; j++)
        scan_column(s->column[j], s->rows, s->stride[j], s->is32[j], &amax[j], &lowbit[j]);
    Py_END_ALLOW_THREADS
    Py_ssize_t width = 0;
    for (Py_ssize_t j = 0; j < l->cols; j++) {
        int anchor = 0, slices = 1;
        if (j == s->cols) {
            anchor = SLICE_BITS; /* the ones: one slice holding 1 */
        } else if (amax[j] > 0.0) {
            anchor = exponent_above(amax[j]);
            int bits = anchor - lowbit[j];
            slices = (bits + SLICE_BITS - 1) / SLICE_BITS;
            if (slices < 1) slices = 1;
            if (slices > MAX_SLICES) slices = MAX_SLICES;
        }
        l->anchor[j] = anchor;
        l->slices[j] = slices;
        l->offset[j] = width;
        width += slices;
    }
    PyMem_Free(amax);
    PyMem_Free(lowbit);
    l->width = width;
    l->padded = (width + QUAD - 1) / QUAD * QUAD;
    return 0;
}

static void free_layout(layout_t *l) {
    PyMem_Free(l->anchor);
    PyMem_Free(l->slices);
    PyMem_Free(l->offset);
}

/* One column's rows [0, n) into its slice columns w, w + 1, ... of the block (each
 * PITCH doubles long): with t = |x| * 2**(SLICE_BITS * slices - anchor), an integer below
 * 2**(SLICE_BITS * slices) for a value that fits, the slices are t's base-2**SLICE_BITS
 * digits, each found with exact float64 operations (a scaling by a power of two, floor,
 * and a subtraction of two integers less than 2**SLICE_BITS apart). flags[r] is raised to
 * 4 for a non-finite value, to 2 for a value with bits below the last slice. */
typedef struct {
    double up, rest; /* 2**(SLICE_BITS * slices - anchor) as two factors */
} scale_t;

static scale_t scale_of(int anchor, int slices) {
    int scale = SLICE_BITS * slices - anchor; /* in [-1003, 1200] */
    return (scale_t){pow2(scale > 1000 ? 1000 : scale), pow2(scale > 1000 ? scale - 1000 : 0)};
}

static void slice_portable(double *block, double *flags, const double *x, double *t, Py_ssize_t n,
                           Py_ssize_t w, int anchor, int slices) {
    scale_t k = scale_of(anchor, slices);
    for (Py_ssize_t r = 0; r < n; r++) {
        double a = fabs(x[r]), v = a * k.up * k.rest;
        int finite = a <= 0x1.fffffffffffffp+1023;
        double flag = !finite ? 4.0 : (v != floor(v) || (v == 0.0 && a != 0.0)) ? 2.0 : 0.0;
        if (flag > flags[r]) flags[r] = flag;
        t[r] = finite ? v : 0.0;
    }
    for (int q = slices - 1; q >= 0; q--) {
        double *out = block + (w + q) * PITCH;
        for (Py_ssize_t r = 0; r < n; r++) {
            double high = floor(t[r] * 0x1p-21), low = t[r] - high * 0x1p21;
            t[r] = high;
            out[r] = x[r] < 0 ? -low : low;
        }
    }
}

#if HAVE_AVX2_PATH
/* slice_portable, four rows at a time (n a multiple of 4; rows past the block's are 0). */
__attribute__((target("avx2,fma")))
static void slice_avx2(double *block, double *flags, const double *x, double *t, Py_ssize_t n,
                       Py_ssize_t w, int anchor, int slices) {
    scale_t k = scale_of(anchor, slices);
    const __m256d up = _mm256_set1_pd(k.up), rest = _mm256_set1_pd(k.rest);
    const __m256d top = _mm256_set1_pd(0x1.fffffffffffffp+1023), zero = _mm256_setzero_pd();
    const __m256d sign = _mm256_set1_pd(-0.0), two = _mm256_set1_pd(2.0), four = _mm256_set1_pd(4.0);
    for (Py_ssize_t r = 0; r < n; r += 4) {
        __m256d a = _mm256_andnot_pd(sign, _mm256_loadu_pd(x + r));
        __m256d v = _mm256_mul_pd(_mm256_mul_pd(a, up), rest);
        __m256d finite = _mm256_cmp_pd(a, top, _CMP_LE_OQ);
        __m256d inexact = _mm256_or_pd(
            _mm256_cmp_pd(v, _mm256_floor_pd(v), _CMP_NEQ_UQ),
            _mm256_and_pd(_mm256_cmp_pd(v, zero, _CMP_EQ_OQ), _mm256_cmp_pd(a, zero, _CMP_NEQ_UQ)));
        __m256d flag = _mm256_blendv_pd(four, _mm256_and_pd(inexact, two), finite);
        _mm256_storeu_pd(flags + r, _mm256_max_pd(_mm256_loadu_pd(flags + r), flag));
        _mm256_storeu_pd(t + r, _mm256_and_pd(v, finite));
    }
    const __m256d digit = _mm256_set1_pd(0x1p-21), base = _mm256_set1_pd(0x1p21);
    for (int q = slices - 1; q >= 0; q--) {
        double *out = block + (w + q) * PITCH;
        for (Py_ssize_t r = 0; r < n; r += 4) {
            __m256d tv = _mm256_loadu_pd(t + r);
            __m256d high = _mm256_floor_pd(_mm256_mul_pd(tv, digit));
            __m256d low = _mm256_sub_pd(tv, _mm256_mul_pd(high, base));
            _mm256_storeu_pd(t + r, high);
            __m256d negative = _mm256_and_pd(_mm256_loadu_pd(x + r), sign);
            _mm256_storeu_pd(out + r, _mm256_xor_pd(low, negative));
        }
    }
}
#endif

/* Slice rows [start, start + n) into the (zeroed) block; rows with a non-finite value
 * (counted in *skipped) or with bits below a slice (written to dirty[]) are left zero.
 * work holds 3 * BLOCK_ROWS doubles. Returns how many dirty rows it wrote. */
static Py_ssize_t slice_block(double *block, double *work, const source_t *s, const layout_t *l,
                              Py_ssize_t start, Py_ssize_t n, int64_t *skipped, int64_t *dirty) {
    double *x = work, *t = work + BLOCK_ROWS, *flags = work + 2 * BLOCK_ROWS;
    Py_ssize_t n4 = (n + 3) / 4 * 4;
    for (Py_ssize_t r = 0; r < n4; r++) flags[r] = x[r] = 0.0;
    for (Py_ssize_t j = 0; j < s->cols; j++) {
        const char *p = s->column[j] + start * s->stride[j];
        Py_ssize_t stride = s->stride[j];
        if (s->is32[j])
            for (Py_ssize_t r = 0; r < n; r++) x[r] = *(const float *)(p + r * stride);
        else
            for (Py_ssize_t r = 0; r < n; r++) x[r] = *(const double *)(p + r * stride);
#if HAVE_AVX2_PATH
        if (use_avx2) {
            slice_avx2(block, flags, x, t, n4, l->offset[j], l->anchor[j], l->slices[j]);
            continue;
        }
#endif
        slice_portable(block, flags, x, t, n4, l->offset[j], l->anchor[j], l->slices[j]);
    }
    double *ones = block + l->offset[s->cols] * PITCH;
    Py_ssize_t found = 0;
    for (Py_ssize_t r = 0; r < n; r++) {
        if (flags[r] == 0.0) {
            ones[r] = 1.0;
            continue;
        }
        for (Py_ssize_t w = 0; w < l->width; w++) block[w * PITCH + r] = 0.0;
        if (flags[r] == 4.0) (*skipped)++;
        else dirty[found++] = start + r;
    }
    return found;
}

/* g[u][v] += SUM_r a_u[r] * b_v[r], u < 4, v < 2, over the slice columns a_u (a, a +
 * PITCH, ...) and b_v, for n rows (a multiple of 4). */
__attribute__((target_clones("avx2", "default")))
static void tile_portable(const double *a, const double *b, Py_ssize_t n, double *g, Py_ssize_t ldg) {
    for (int u = 0; u < QUAD; u++)
        for (int v = 0; v < 2; v++) {
            double lanes[4] = {0.0, 0.0, 0.0, 0.0};
            for (Py_ssize_t r = 0; r < n; r += 4)
                for (int k = 0; k < 4; k++) lanes[k] += a[u * PITCH + r + k] * b[v * PITCH + r + k];
            g[u * ldg + v] += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
        }
}

#if HAVE_AVX2_PATH
__attribute__((target("avx2,fma")))
static void tile_avx2(const double *a, const double *b, Py_ssize_t n, double *g, Py_ssize_t ldg) {
    __m256d c[QUAD][2];
    for (int u = 0; u < QUAD; u++) c[u][0] = c[u][1] = _mm256_setzero_pd();
    for (Py_ssize_t r = 0; r < n; r += 4) {
        __m256d b0 = _mm256_loadu_pd(b + r), b1 = _mm256_loadu_pd(b + PITCH + r);
        for (int u = 0; u < QUAD; u++) {
            __m256d x = _mm256_loadu_pd(a + u * PITCH + r);
            c[u][0] = _mm256_fmadd_pd(x, b0, c[u][0]);
            c[u][1] = _mm256_fmadd_pd(x, b1, c[u][1]);
        }
    }
    for (int u = 0; u < QUAD; u++)
        for (int v = 0; v < 2; v++) {
            __m128d h = _mm_add_pd(_mm256_castpd256_pd128(c[u][v]), _mm256_extractf128_pd(c[u][v], 1));
            g[u * ldg + v] += _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
        }
}
#endif

/* The upper triangle (by tiles) of the Gram matrix of n sliced rows (padded with zero
 * rows to a multiple of 4), added into g. */
static void gram_block(const double *block, Py_ssize_t n, Py_ssize_t padded, double *g) {
    n = (n + 3) / 4 * 4;
    for (Py_ssize_t a = 0; a < padded; a += QUAD)
        for (Py_ssize_t b = a; b < padded; b += 2) {
            const double *x = block + a * PITCH, *y = block + b * PITCH;
            double *out = g + a * padded + b;
#if HAVE_AVX2_PATH
            if (use_avx2) {
                tile_avx2(x, y, n, out, padded);
                continue;
            }
#endif
            tile_portable(x, y, n, out, padded);
        }
}

/* The exact float64 sums of g (upper triangle) into the int64 sums, g cleared. */
static void fold_exact(double *g, int64_t *sums, Py_ssize_t padded) {
    for (Py_ssize_t a = 0; a < padded; a++)
        for (Py_ssize_t b = a; b < padded; b++) {
            sums[a * padded + b] += (int64_t)g[a * padded + b];
            g[a * padded + b] = 0.0;
        }
}

/* t += v * 2**shift in TOTAL_WORDS-word two's complement (shift < 64 * (TOTAL_WORDS - 1)). */
static void total_add(uint64_t *t, int64_t v, int shift) {
    if (!v) return;
    int word = shift >> 6;
    unsigned __int128 x = (unsigned __int128)(__int128)v << (shift & 63);
    uint64_t fill = v < 0 ? ~0ull : 0;
    unsigned __int128 carry = 0;
    for (int w = word; w < TOTAL_WORDS; w++) {
        uint64_t add = w == word ? (uint64_t)x : w == word + 1 ? (uint64_t)(x >> 64) : fill;
        unsigned __int128 s = (unsigned __int128)t[w] + add + carry;
        t[w] = (uint64_t)s;
        carry = s >> 64;
    }
}

/* The int64 slice-pair sums into the column-pair totals (upper triangle, row by row),
 * each weighted by its power of two; the sums cleared. */
static void fold_totals(int64_t *sums, uint64_t *totals, const layout_t *l) {
    Py_ssize_t pair = 0, padded = l->padded;
    for (Py_ssize_t i = 0; i < l->cols; i++)
        for (Py_ssize_t j = i; j < l->cols; j++, pair++) {
            uint64_t *t = totals + pair * TOTAL_WORDS;
            for (int k = 0; k < l->slices[i]; k++)
                for (int q = i == j ? k : 0; q < l->slices[j]; q++) {
                    Py_ssize_t a = l->offset[i] + k, b = l->offset[j] + q;
                    int shift = SLICE_BITS * (l->slices[i] - 1 - k + l->slices[j] - 1 - q);
                    total_add(t, sums[a * padded + b], shift + (i == j && q != k));
                    sums[a * padded + b] = 0;
                }
        }
}

/* comoments(data) -> (totals, bases, skipped, dirty): over the rows of `data` (a 2-D
 * float32/float64 array, or a list of equal-length 1-D ones) whose values are all finite
 * and fit their column's slices, per column pair i <= j of the columns and a last column
 * of ones (upper triangle, row by row), the exact sum of x_i * x_j in units of
 * 2**(bases[i] + bases[j]), as TOTAL_WORDS little-endian 64-bit words of two's complement
 * each; the rows skipped for a non-finite value; and the int64 indices of the other rows
 * left out (dirty: the caller adds them). The GIL is released while it runs. */
static PyObject *comoments(PyObject *self, PyObject *args) {
    PyObject *obj;
    if (!PyArg_ParseTuple(args, "O", &obj)) return NULL;
    Py_buffer *views = NULL;
    source_t s;
    Py_ssize_t opened = nl_open_source(obj, &s, &views);
    if (opened < 0) {
        nl_close_source(&s, views, 0);
        return NULL;
    }
    PyObject *result = NULL;
    layout_t l = {0};
    if (s.cols > MAX_COLUMNS) {
        PyErr_Format(PyExc_ValueError, "co-moments take at most %d columns, got %zd", MAX_COLUMNS,
                     s.cols);
        goto done;
    }
    if (plan_layout(&l, &s) < 0) goto done;
    Py_ssize_t padded = l.padded, pairs = l.cols * (l.cols + 1) / 2;
    double *block = PyMem_RawCalloc((size_t)padded * PITCH, sizeof(double));
    double *g = PyMem_RawCalloc((size_t)padded * padded, sizeof(double));
    int64_t *sums = PyMem_RawCalloc((size_t)padded * padded, sizeof(int64_t));
    uint64_t *totals = PyMem_RawCalloc((size_t)pairs * TOTAL_WORDS, sizeof(uint64_t));
    double *work = PyMem_RawMalloc(sizeof(double) * 3 * BLOCK_ROWS);
    int64_t *dirty = PyMem_RawMalloc(sizeof(int64_t) * (size_t)(s.rows ? s.rows : 1));
    int64_t skipped = 0;
    Py_ssize_t found = 0;
    if (!block || !g || !sums || !totals || !work || !dirty) {
        PyErr_NoMemory();
    } else {
        Py_BEGIN_ALLOW_THREADS
        Py_ssize_t exact = 0, long_rows = 0;
        for (Py_ssize_t start = 0; start < s.rows; start += BLOCK_ROWS) {
            Py_ssize_t n = s.rows - start < BLOCK_ROWS ? s.rows - start : BLOCK_ROWS;
            memset(block, 0, sizeof(double) * (size_t)padded * PITCH);
            found += slice_block(block, work, &s, &l, start, n, &skipped, dirty + found);
            gram_block(block, n, padded, g);
            exact += n, long_rows += n;
            if (exact + BLOCK_ROWS > EXACT_ROWS) {
                fold_exact(g, sums, padded);
                exact = 0;
            }
            if (long_rows + EXACT_ROWS > LONG_ROWS) {
                fold_exact(g, sums, padded);
                fold_totals(sums, totals, &l);
                exact = long_rows = 0;
            }
        }
        fold_exact(g, sums, padded);
        fold_totals(sums, totals, &l);
        Py_END_ALLOW_THREADS
        PyObject *raw = PyBytes_FromStringAndSize(NULL, pairs * TOTAL_WORDS * 8);
        PyObject *bases = PyList_New(l.cols);
        PyObject *left = PyBytes_FromStringAndSize((const char *)dirty, found * 8);
        if (raw && bases && left) {
            unsigned char *out = (unsigned char *)PyBytes_AS_STRING(raw);
            for (Py_ssize_t w = 0; w < pairs * TOTAL_WORDS; w++)
                for (int b = 0; b < 8; b++) out[8 * w + b] = (unsigned char)(totals[w] >> (8 * b));
            for (Py_ssize_t j = 0; j < l.cols; j++)
                PyList_SET_ITEM(bases, j, PyLong_FromLong(l.anchor[j] - SLICE_BITS * l.slices[j]));
            result = Py_BuildValue("(OOLO)", raw, bases, (long long)skipped, left);
        }
        Py_XDECREF(raw);
        Py_XDECREF(bases);
        Py_XDECREF(left);
    }
    PyMem_RawFree(block);
    PyMem_RawFree(g);
    PyMem_RawFree(sums);
    PyMem_RawFree(totals);
    PyMem_RawFree(work);
    PyMem_RawFree(dirty);
done:
    free_layout(&l);
    nl_close_source(&s, views, opened);
    return result;
}

static PyMethodDef methods[] = {
    {"comoments", comoments, METH_VARARGS,
     "comoments(data) -> (totals, bases, skipped, dirty): exact sums of x_i * x_j over the "
     "complete rows of data and a column of ones, as 384-bit little-endian integers in units "
     "of 2**(bases[i] + bases[j]); rows skipped for non-finite values; int64 indices of rows "
     "left for the caller to add."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_comoments",
                                    "Exact co-moments of float columns.", -1, methods};

PyMODINIT_FUNC PyInit__comoments(void) {
    /* NORMLOCK_KERNEL=portable keeps to the portable product (to test it on any CPU) */
    const char *path = getenv("NORMLOCK_KERNEL");
#if HAVE_AVX2_PATH
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               !(path && !strcmp(path, "portable"));
#else
    (void)path;
#endif
    return PyModule_Create(&module);
}
