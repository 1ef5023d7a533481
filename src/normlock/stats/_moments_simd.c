/*
 * The moments kernel's fast path for x86-64 CPUs with AVX2 and FMA, and wider passes
 * where AVX-512 (F, DQ and VL) is there too.
 *
 * Four lanes at a time: four adjacent columns of a row-major block, or four adjacent
 * rows of one contiguous column; with AVX-512 the level sums take eight (columns or
 * rows) in one pass. A first pass over the block finds, per lane, the extrema (so the
 * largest magnitude) and the smallest nonzero magnitude; from those it follows how many
 * extraction levels it takes until what is left of every term adds exactly as it is
 * (every value is a multiple of the lowest bit of the smallest one, and level l keeps
 * the bits down to a known grid), so a second pass (_moments_levels.h) computes the
 * exact level sums of x and x*x in registers, in one read. x*x is exact in float64 for
 * float32 input; for float64 it is p + e exactly, with p = x*x and e = fma(x, x, -p).
 * A lane whose values are not all finite, or span more binades than the levels here
 * cover, takes the portable path (nl_block_column) instead.
 *
 * The row hash of a row-major block (_moments_rowhash.h) runs four rows at a time, a
 * 4 x 4 transpose putting one column of four rows in a vector, its 64-bit multiply made
 * of three 32-bit ones; with AVX-512, eight rows at a time by an 8 x 8 transpose, with
 * one multiply instruction.
 */
#include "_moments.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define FAST __attribute__((target("avx2,fma")))
#define WIDE __attribute__((target("avx2,fma,avx512f,avx512dq,avx512vl")))
#define INLINE __attribute__((always_inline)) inline
#define MAX_LEVELS 6

static int wide; /* AVX-512 passes in use (nl_simd_use) */

int nl_simd_level(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512vl")
               ? 2
               : 1;
}

void nl_simd_use(int level) { wide = level >= 2; }

FAST static INLINE __m256d load_lanes(const char *p, const int from_float32) {
    return from_float32 ? _mm256_cvtps_pd(_mm_loadu_ps((const float *)p))
                        : _mm256_loadu_pd((const double *)p);
}

typedef struct {
    double lo[4], hi[4], amin[4]; /* amin: smallest nonzero magnitude */
} lanes_t;

/* Lane k's largest magnitude. */
static double lane_amax(const lanes_t *s, int k) {
    return -s->lo[k] > s->hi[k] ? -s->lo[k] : s->hi[k];
}

/* The extrema of n steps, loading step r with LOAD(r), into out[0..LANES / 4): for
 * vectors of type V, of LANES lanes of type T, whose intrinsics end in _S and whose
 * integer lanes have I bits. The smallest nonzero magnitude is found as the least of
 * (bits of |v|) - 1: a zero's turns into a NaN, which the minimum (NaN in its first
 * operand) passes over. A NaN may or may not reach lo and hi: the level sums, which
 * every NaN and infinity turns non-finite, are the check. Four sets of extrema take
 * turns, so that no minimum waits on the one before. */
#define SCAN_STEP(S, I, u, v)                                                                 \
    do {                                                                                      \
        __m256i a_ = _mm256_and_si256(_mm256_cast##S##_si256(v), magnitude);                 \
        amins[u] = _mm256_min_##S(_mm256_castsi256_##S(_mm256_sub_epi##I(a_, one)), amins[u]); \
        los[u] = _mm256_min_##S(los[u], v);                                                   \
        his[u] = _mm256_max_##S(his[u], v);                                                   \
    } while (0)
#define SCAN_LOOP(V, T, LANES, S, I, LOAD)                                                    \
    V los[4], his[4], amins[4];                                                               \
    for (int u = 0; u < 4; u++) {                                                             \
        los[u] = amins[u] = _mm256_set1_##S(INFINITY);                                        \
        his[u] = _mm256_set1_##S(-INFINITY);                                                  \
    }                                                                                         \
    Py_ssize_t t = 0;                                                                         \
    for (; t + 4 <= n; t += 4)                                                                \
        for (int u = 0; u < 4; u++) SCAN_STEP(S, I, u, LOAD(t + u));                         \
    for (; t < n; t++) SCAN_STEP(S, I, 0, LOAD(t));                                           \
    V lo = _mm256_min_##S(_mm256_min_##S(los[0], los[1]), _mm256_min_##S(los[2], los[3]));    \
    V hi = _mm256_max_##S(_mm256_max_##S(his[0], his[1]), _mm256_max_##S(his[2], his[3]));    \
    V amin = _mm256_min_##S(_mm256_min_##S(amins[0], amins[1]), _mm256_min_##S(amins[2], amins[3])); \
    T lanes[3][LANES];                                                                        \
    _mm256_storeu_##S(lanes[0], lo);                                                          \
    _mm256_storeu_##S(lanes[1], hi);                                                          \
    _mm256_storeu_si256((__m256i *)lanes[2], _mm256_add_epi##I(_mm256_cast##S##_si256(amin), one)); \
    for (int k = 0; k < LANES; k++)                                                           \
        finish_lane(&out[k / 4], k % 4, lanes[0][k], lanes[1][k],                             \
                    isfinite(lanes[2][k]) ? lanes[2][k] : INFINITY);

/* Lane k of out: its extrema and its smallest nonzero magnitude. */
static void finish_lane(lanes_t *out, int k, double lo, double hi, double amin) {
    out->lo[k] = lo, out->hi[k] = hi, out->amin[k] = amin;
}

/* Extrema of the lanes over n steps of `step` bytes. */
FAST static INLINE void scan_lanes(lanes_t *out, const char *base, Py_ssize_t step, Py_ssize_t n,
                                   const int from_float32) {
    const __m256i magnitude = _mm256_set1_epi64x(0x7fffffffffffffffll), one = _mm256_set1_epi64x(1);
#define LOAD(r) load_lanes(base + (r) * step, from_float32)
    SCAN_LOOP(__m256d, double, 4, pd, 64, LOAD)
#undef LOAD
}

/* The same for eight adjacent float32 lanes (two groups of four), eight at a time. */
FAST static void scan_float32_pair(lanes_t out[2], const char *base, Py_ssize_t step, Py_ssize_t n) {
    const __m256i magnitude = _mm256_set1_epi32(0x7fffffff), one = _mm256_set1_epi32(1);
#define LOAD(r) _mm256_loadu_ps((const float *)(base + (r) * step))
    SCAN_LOOP(__m256, float, 8, ps, 32, LOAD)
#undef LOAD
}

/* Levels needed for a stream whose terms are below 2**top and multiples of 2**low:
 * level l keeps the bits down to 2**(top - 40 l - 39). */
static int levels_for(int top, int low) {
    int missing = top - 39 - low;
    return missing <= 0 ? 1 : 2 + (missing - 1) / 40;
}

typedef struct {
    int x, p, e; /* levels of x, of x*x (float64: its rounded part p) and of e (from level 2) */
} levels_t;

/* Fixed level counts the passes are compiled for, cheapest first: with the squares, and
 * (X_PLANS) of x alone. */
static const levels_t FLOAT32_PLANS[] = {{1, 2, 0}, {2, 3, 0}, {3, 5, 0}};
static const levels_t FLOAT64_PLANS[] = {{2, 2, 3}, {2, 3, 4}, {3, 4, 6}};
static const levels_t FLOAT32_X_PLANS[] = {{1, 0, 0}, {2, 0, 0}, {3, 0, 0}};
static const levels_t FLOAT64_X_PLANS[] = {{2, 0, 0}, {3, 0, 0}};
#define PLANS 3
#define FLOAT64_X_COUNT 2

/* The levels one lane needs (of x*x too, with `squares`), or x = 0 when the portable path
 * must take it. */
static levels_t lane_levels(const lanes_t *s, int k, int from_float32, int squares) {
    levels_t none = {0, 0, 0}, need = {1, 1, 0};
    if (!isfinite(s->lo[k]) || !isfinite(s->hi[k])) return none; /* a NaN or an infinity */
    double amax = lane_amax(s, k);
    if (amax == 0.0) return need;
    if (!from_float32 && (amax > 0x1p400 || s->amin[k] < 0x1p-400)) return none;
    int top = exponent_above(amax), top_sq = exponent_above(amax * amax * 2.0);
    int low = exponent_above(s->amin[k]) - (from_float32 ? 24 : 53); /* lowest bit of any x */
    if (from_float32 && low < -149) low = -149;
    need.x = levels_for(top, low);
    if (!squares) {
        need.p = 0;
    } else if (from_float32) {
        need.p = levels_for(top_sq, 2 * low);
    } else {
        need.p = levels_for(top_sq, 2 * exponent_above(s->amin[k]) - 54); /* ulp of the least p */
        need.e = levels_for(top_sq, 2 * low);
    }
    return need;
}

static int covers(levels_t plan, levels_t need) {
    return plan.x >= need.x && plan.p >= need.p && plan.e >= need.e;
}

/* Rows of level sums a plan leaves: x levels, then p, then e from level 1 on. */
static int plan_rows(levels_t plan) { return plan.x + plan.p + (plan.e ? plan.e - 1 : 0); }

#define VEC __m256d
#define OP(name) _mm256_##name
#define LOAD(p, f32) load_lanes(p, f32)
#define ATTR FAST
#define NAME(x) levels4_##x
#include "_moments_levels.h"

WIDE static INLINE __m512d load_lanes8(const char *p, const int from_float32) {
    return from_float32 ? _mm512_cvtps_pd(_mm256_loadu_ps((const float *)p))
                        : _mm512_loadu_pd((const double *)p);
}

#define VEC __m512d
#define OP(name) _mm512_##name
#define LOAD(p, f32) load_lanes8(p, f32)
#define ATTR WIDE
#define NAME(x) levels8_##x
#include "_moments_levels.h"

/* Sigmas per lane and level: 2**(top - 40 l + HEADROOM). */
static void fill_sigmas(double sigma[][8], int k, double magnitude) {
    int top = magnitude == 0.0 ? 0 : exponent_above(magnitude);
    for (int l = 0; l < MAX_LEVELS; l++) sigma[l][k] = pow2(top - 40 * l + HEADROOM);
}

/* The exact level sums of the lanes the fast path can take, of groups of four lanes
 * (s[g] for the group at base + g * group_step), into sums (plan_rows of *plan_out
 * rows), of x*x too with `squares`. Returns the mask of those lanes; the others take the
 * portable path. With `uniform`, every lane has the extrema of lane 0 (lanes of one
 * column), whose plan then serves them all. */
static int lane_sums(double sums[][8], levels_t *plan_out, const lanes_t *s, int groups,
                     const char *base, Py_ssize_t group_step, Py_ssize_t step, Py_ssize_t n,
                     int from_float32, int squares, int uniform) {
    const levels_t *plans = squares ? (from_float32 ? FLOAT32_PLANS : FLOAT64_PLANS)
                                    : (from_float32 ? FLOAT32_X_PLANS : FLOAT64_X_PLANS);
    int count = !squares && !from_float32 ? FLOAT64_X_COUNT : PLANS;
    double sigma_x[MAX_LEVELS][8], sigma_sq[MAX_LEVELS][8];
    levels_t widest = {1, squares, 0};
    int fast = 0;
    for (int k = 0; k < (uniform ? 1 : 4 * groups); k++) {
        levels_t need = lane_levels(&s[k / 4], k % 4, from_float32, squares);
        if (need.x > 0 && covers(plans[count - 1], need)) {
            fast |= 1 << k;
            widest.x = need.x > widest.x ? need.x : widest.x;
            widest.p = need.p > widest.p ? need.p : widest.p;
            widest.e = need.e > widest.e ? need.e : widest.e;
        }
        double amax = fast >> k & 1 ? lane_amax(&s[k / 4], k % 4) : 1.0;
        fill_sigmas(sigma_x, k, amax);
        fill_sigmas(sigma_sq, k, amax * amax * 2.0);
    }
    if (!fast) return 0;
    if (uniform) { /* lane 0's plan and sigmas for every lane */
        fast = (1 << (4 * groups)) - 1;
        for (int l = 0; l < MAX_LEVELS; l++)
            for (int k = 1; k < 4 * groups; k++)
                sigma_x[l][k] = sigma_x[l][0], sigma_sq[l][k] = sigma_sq[l][0];
    }
    int plan = 0;
    while (!covers(plans[plan], widest)) plan++;
    *plan_out = plans[plan];
    if (groups == 2 && wide) {
        levels8_run_plan(sums, plan, squares, base, step, n, from_float32, sigma_x, sigma_sq);
    } else {
        for (int g = 0; g < groups; g++) /* columns 4g.. of the rows of sums and sigmas */
            levels4_run_plan((double(*)[8])(sums[0] + 4 * g), plan, squares, base + g * group_step,
                             step, n, from_float32, (double(*)[8])(sigma_x[0] + 4 * g),
                             (double(*)[8])(sigma_sq[0] + 4 * g));
    }
    for (int k = 0; k < 4 * groups; k++) /* a NaN or an infinity the scan did not see */
        for (int row = 0; row < plan_rows(*plan_out); row++)
            if (!isfinite(sums[row][k])) fast &= ~(1 << k);
    return fast;
}

/* Lane k's level sums into its column: those of x, and of x*x with `squares` (a plan
 * with squares serves every lane of a group, whether or not each keeps them). */
static void commit_sums(column_t *c, double sums[][8], int k, levels_t plan, int squares) {
    int rows = squares ? plan_rows(plan) : plan.x;
    for (int row = 0; row < rows; row++)
        acc_add_double(row < plan.x ? &c->sum : &c->sq, sums[row][k]);
}

static void commit_extrema(column_t *c, double lo, double hi, Py_ssize_t n) {
    c->count += n;
    if (lo < c->min) c->min = lo;
    if (hi > c->max) c->max = hi;
}

/* One column's values of this block through the portable path. */
static void portable(column_t *c, const char *x, Py_ssize_t n, Py_ssize_t stride, int from_float32,
                     int squares, double *scratch) {
    for (Py_ssize_t i = 0; i < n; i++)
        scratch[i] = from_float32 ? (double)*(const float *)(x + i * stride) : *(const double *)(x + i * stride);
    nl_block_column(c, scratch, scratch + BLOCK, n, from_float32, squares);
}

/* 4 * groups adjacent columns, once their extrema (s[g] for columns 4g..4g+3) are known:
 * the squares of those whose bit is set in `squares` too. */
static void finish_columns(column_t *c, const lanes_t *s, int groups, const char *base,
                           Py_ssize_t n, Py_ssize_t rs, int from_float32, int squares,
                           double *scratch) {
    Py_ssize_t size = from_float32 ? 4 : 8;
    double sums[3 * MAX_LEVELS][8];
    levels_t plan;
    int done = lane_sums(sums, &plan, s, groups, base, 4 * size, rs, n, from_float32, squares != 0, 0);
    for (int k = 0; k < 4 * groups; k++) {
        const char *column = base + k * size;
        const lanes_t *lanes = &s[k / 4];
        if (!(done >> k & 1)) {
            portable(&c[k], column, n, rs, from_float32, squares >> k & 1, scratch);
            continue;
        }
        commit_extrema(&c[k], lanes->lo[k % 4], lanes->hi[k % 4], n);
        if (lanes->lo[k % 4] == 0.0 || lanes->hi[k % 4] == 0.0)
            note_zero_signs(&c[k], column, n, rs, from_float32);
        commit_sums(&c[k], sums, k, plan, squares >> k & 1);
    }
}

FAST void nl_fast_row_group(column_t *c, const char *base, Py_ssize_t n, Py_ssize_t rs, int from_float32,
                            int squares, double *scratch) {
    lanes_t s;
    if (from_float32) scan_lanes(&s, base, rs, n, 1);
    else scan_lanes(&s, base, rs, n, 0);
    finish_columns(c, &s, 1, base, n, rs, from_float32, squares, scratch);
}

FAST void nl_fast_pair(column_t *c, const char *base, Py_ssize_t n, Py_ssize_t rs, int from_float32,
                       int squares, double *scratch) {
    lanes_t s[2];
    if (from_float32) {
        scan_float32_pair(s, base, rs, n);
    } else {
        scan_lanes(&s[0], base, rs, n, 0);
        scan_lanes(&s[1], base + 32, rs, n, 0);
    }
    finish_columns(c, s, 2, base, n, rs, from_float32, squares, scratch);
}

/* The four lanes of s[0], all from one column, as one lane, copied to every lane of s. */
static void merge_lanes(lanes_t s[2]) {
    lanes_t *all = &s[0];
    for (int k = 1; k < 4; k++) {
        all->lo[0] = all->lo[k] < all->lo[0] ? all->lo[k] : all->lo[0];
        all->hi[0] = all->hi[k] > all->hi[0] ? all->hi[k] : all->hi[0];
        all->amin[0] = all->amin[k] < all->amin[0] ? all->amin[k] : all->amin[0];
    }
    for (int k = 1; k < 8; k++) {
        lanes_t *g = &s[k / 4];
        g->lo[k % 4] = all->lo[0], g->hi[k % 4] = all->hi[0], g->amin[k % 4] = all->amin[0];
    }
}

/* n rows of one contiguous column: one scan of its values, four at a time, then lanes of
 * four adjacent rows (eight with AVX-512) for the level sums. */
FAST void nl_fast_column(column_t *c, const char *x, Py_ssize_t n, int from_float32, int squares,
                         double *scratch) {
    int groups = wide ? 2 : 1, lanes = 4 * groups;
    Py_ssize_t size = from_float32 ? 4 : 8, steps = n / lanes, rows = lanes * steps;
    if (steps) {
        lanes_t s[2];
        if (from_float32) scan_lanes(&s[0], x, 4 * size, rows / 4, 1);
        else scan_lanes(&s[0], x, 4 * size, rows / 4, 0);
        merge_lanes(s);
        double sums[3 * MAX_LEVELS][8];
        levels_t plan;
        int done = lane_sums(sums, &plan, s, groups, x, 4 * size, lanes * size, steps, from_float32,
                             squares, 1);
        if (done == (1 << lanes) - 1) {
            commit_extrema(c, s[0].lo[0], s[0].hi[0], rows);
            if (s[0].lo[0] == 0.0 || s[0].hi[0] == 0.0) note_zero_signs(c, x, rows, size, from_float32);
            /* the lanes' level sums add exactly: `rows` terms on one grid */
            for (int row = 0; row < plan_rows(plan); row++)
                for (int k = 1; k < lanes; k++) sums[row][0] += sums[row][k];
            commit_sums(c, sums, 0, plan, squares);
        } else {
            portable(c, x, rows, size, from_float32, squares, scratch);
        }
    }
    if (n > rows) portable(c, x + rows * size, n - rows, size, from_float32, squares, scratch);
}

typedef uint64_t u64x4 __attribute__((vector_size(32)));

/* h * ROW_HASH_M mod 2**64, three 32-bit multiplies (or vpmullq where the function this
 * is inlined in targets AVX-512 DQ and VL). */
FAST static INLINE __m256i mul_m(__m256i h) { return (__m256i)((u64x4)h * ROW_HASH_M); }

FAST static INLINE __m256i hash4_step(__m256i h, __m256d v, uint64_t salt) {
    v = _mm256_add_pd(v, _mm256_setzero_pd()); /* -0.0 + 0.0 == +0.0 */
    __m256d nan = _mm256_cmp_pd(v, v, _CMP_UNORD_Q);
    v = _mm256_blendv_pd(v, _mm256_castsi256_pd(_mm256_set1_epi64x((int64_t)CANONICAL_NAN)), nan);
    __m256i bits = _mm256_add_epi64(_mm256_castpd_si256(v), _mm256_set1_epi64x((int64_t)salt));
    h = mul_m(_mm256_xor_si256(h, bits));
    return _mm256_xor_si256(h, _mm256_srli_epi64(h, 32));
}

/* Columns j..j+3 of four rows (from r, rs bytes apart), by a 4 x 4 transpose. */
FAST static INLINE __m256i hash4_columns(__m256i h, const char *r, Py_ssize_t rs, Py_ssize_t j,
                                         const int from_float32) {
    Py_ssize_t at = j * (from_float32 ? 4 : 8);
    __m256d r0 = load_lanes(r + at, from_float32), r1 = load_lanes(r + rs + at, from_float32);
    __m256d r2 = load_lanes(r + 2 * rs + at, from_float32), r3 = load_lanes(r + 3 * rs + at, from_float32);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    h = hash4_step(h, _mm256_permute2f128_pd(t0, t2, 0x20), ROW_HASH_G * (uint64_t)(j + 1));
    h = hash4_step(h, _mm256_permute2f128_pd(t1, t3, 0x20), ROW_HASH_G * (uint64_t)(j + 2));
    h = hash4_step(h, _mm256_permute2f128_pd(t0, t2, 0x31), ROW_HASH_G * (uint64_t)(j + 3));
    return hash4_step(h, _mm256_permute2f128_pd(t1, t3, 0x31), ROW_HASH_G * (uint64_t)(j + 4));
}

#define HVEC __m256i
#define LANES 4
#define OP(name) _mm256_##name
#define HLOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define HSTORE(p, h) _mm256_storeu_si256((__m256i *)(p), h)
#define LOADV(p, f32) load_lanes(p, f32)
#define ATTR FAST
#define NAME(x) hash4_##x
#include "_moments_rowhash.h"

/* One instruction writes v's canonical form: by v's class, the first operand (the
 * canonical NaN) for a NaN, +0.0 for a zero, v itself otherwise (token 0, 8 and 1 of the
 * class's four bits: QNaN, SNaN, zero, one, -inf, +inf, negative, positive). */
#define CANONICAL_FORM 0x11111800

WIDE static INLINE __m512i hash8_step(__m512i h, __m512d v, uint64_t salt) {
    const __m512d nan = _mm512_castsi512_pd(_mm512_set1_epi64((int64_t)CANONICAL_NAN));
    v = _mm512_fixupimm_pd(nan, v, _mm512_set1_epi64(CANONICAL_FORM), 0);
    __m512i bits = _mm512_add_epi64(_mm512_castpd_si512(v), _mm512_set1_epi64((int64_t)salt));
    h = _mm512_mullo_epi64(_mm512_xor_si512(h, bits), _mm512_set1_epi64((int64_t)ROW_HASH_M));
    return _mm512_xor_si512(h, _mm512_srli_epi64(h, 32));
}

/* Columns j..j+7 of eight rows (from r, rs bytes apart), by an 8 x 8 transpose: pairs of
 * rows interleave, then 128-bit lanes gather, twice. */
WIDE static INLINE __m512i hash8_columns(__m512i h, const char *r, Py_ssize_t rs, Py_ssize_t j,
                                         const int from_float32) {
    Py_ssize_t at = j * (from_float32 ? 4 : 8);
    __m512d t[8], u[4];
    for (int k = 0; k < 8; k += 2) {
        __m512d a = load_lanes8(r + k * rs + at, from_float32), b = load_lanes8(r + (k + 1) * rs + at, from_float32);
        t[k] = _mm512_unpacklo_pd(a, b);     /* columns 0, 2, 4, 6 of rows k, k+1 */
        t[k + 1] = _mm512_unpackhi_pd(a, b); /* columns 1, 3, 5, 7 */
    }
    for (int odd = 0; odd < 2; odd++) {
        u[0] = _mm512_shuffle_f64x2(t[odd], t[2 + odd], 0x44);
        u[1] = _mm512_shuffle_f64x2(t[odd], t[2 + odd], 0xEE);
        u[2] = _mm512_shuffle_f64x2(t[4 + odd], t[6 + odd], 0x44);
        u[3] = _mm512_shuffle_f64x2(t[4 + odd], t[6 + odd], 0xEE);
        t[odd] = _mm512_shuffle_f64x2(u[0], u[2], 0x88);     /* column odd */
        t[2 + odd] = _mm512_shuffle_f64x2(u[0], u[2], 0xDD); /* column 2 + odd */
        t[4 + odd] = _mm512_shuffle_f64x2(u[1], u[3], 0x88); /* column 4 + odd */
        t[6 + odd] = _mm512_shuffle_f64x2(u[1], u[3], 0xDD); /* column 6 + odd */
    }
    for (int c = 0; c < 8; c++) h = hash8_step(h, t[c], ROW_HASH_G * (uint64_t)(j + c + 1));
    return h;
}

#define HVEC __m512i
#define LANES 8
#define OP(name) _mm512_##name
#define HLOAD(p) _mm512_loadu_si512(p)
#define HSTORE(p, h) _mm512_storeu_si512(p, h)
#define LOADV(p, f32) load_lanes8(p, f32)
#define ATTR WIDE
#define NAME(x) hash8_##x
#include "_moments_rowhash.h"

FAST static void hash_rows_avx2(uint64_t *state, const char *base, Py_ssize_t n, Py_ssize_t cols,
                                Py_ssize_t rs, int from_float32) {
    if (from_float32) hash4_rows(state, base, n, cols, rs, 1);
    else hash4_rows(state, base, n, cols, rs, 0);
}

WIDE static void hash_rows_avx512(uint64_t *state, const char *base, Py_ssize_t n, Py_ssize_t cols,
                                  Py_ssize_t rs, int from_float32) {
    if (from_float32) hash8_rows(state, base, n, cols, rs, 1);
    else hash8_rows(state, base, n, cols, rs, 0);
}

FAST static void hash_column_avx2(uint64_t *state, const char *x, Py_ssize_t n, int from_float32,
                                  uint64_t salt) {
    if (from_float32) hash4_column(state, x, n, 1, salt);
    else hash4_column(state, x, n, 0, salt);
}

WIDE static void hash_column_avx512(uint64_t *state, const char *x, Py_ssize_t n, int from_float32,
                                    uint64_t salt) {
    if (from_float32) hash8_column(state, x, n, 1, salt);
    else hash8_column(state, x, n, 0, salt);
}

void nl_fast_hash_column(uint64_t *state, const char *x, Py_ssize_t n, int from_float32,
                         uint64_t salt) {
    if (wide) hash_column_avx512(state, x, n, from_float32, salt);
    else hash_column_avx2(state, x, n, from_float32, salt);
}

void nl_fast_hash_rows(uint64_t *state, const char *base, Py_ssize_t n, Py_ssize_t cols,
                       Py_ssize_t rs, int from_float32) {
    if (wide) hash_rows_avx512(state, base, n, cols, rs, from_float32);
    else hash_rows_avx2(state, base, n, cols, rs, from_float32);
}

#else /* not x86-64 with GCC or Clang: the portable path only */

int nl_simd_level(void) { return 0; }
void nl_simd_use(int level) {}
void nl_fast_row_group(column_t *c, const char *base, Py_ssize_t n, Py_ssize_t rs, int from_float32,
                       int squares, double *scratch) {}
void nl_fast_column(column_t *c, const char *x, Py_ssize_t n, int from_float32, int squares,
                    double *scratch) {}
void nl_fast_pair(column_t *c, const char *base, Py_ssize_t n, Py_ssize_t rs, int from_float32,
                  int squares, double *scratch) {}
void nl_fast_hash_rows(uint64_t *state, const char *base, Py_ssize_t n, Py_ssize_t cols,
                       Py_ssize_t rs, int from_float32) {}
void nl_fast_hash_column(uint64_t *state, const char *x, Py_ssize_t n, int from_float32,
                         uint64_t salt) {}

#endif
