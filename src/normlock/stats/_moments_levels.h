/*
 * The extraction-level pass of the moments kernel's fast path, for one vector width:
 * _moments_simd.c includes this file once per width, after defining
 *   VEC          the vector of float64 lanes (__m256d: 4 lanes, __m512d: 8 lanes);
 *   OP(name)     its intrinsic (_mm256_name or _mm512_name);
 *   LOAD(p, f32) one vector of adjacent values at p (float32 widened exactly);
 *   ATTR         the target attribute of the functions;
 *   NAME(x)      the name of function x for this width;
 * and it undefines them at its end. Sums and sigmas are rows of 8 doubles, of which a pass
 * uses the first as many as it has lanes.
 */

/* One extraction level: q = (sigma + r) - sigma keeps the bits of r down to sigma's
 * grid; sum += q (exact: every partial sum is on that grid); r -= q (exact). The last
 * two additions run as fused multiply-adds by 1.0, which round exactly like additions
 * and keep both kinds of floating-point unit busy. */
ATTR static INLINE void NAME(extract)(VEC *r, VEC *sum, VEC sigma) {
    const VEC one = OP(set1_pd)(1.0);
    VEC q = OP(sub_pd)(OP(add_pd)(sigma, *r), sigma);
    *sum = OP(fmadd_pd)(q, one, *sum);
    *r = OP(fnmadd_pd)(q, one, *r);
}

/* One step's x (and the levels of x*x) into the level sums ax, ap, ae. */
ATTR static INLINE void NAME(step)(VEC x, VEC *ax, VEC *ap, VEC *ae, const int lx, const int lp,
                                   const int le, const int from_float32, const VEC *sx,
                                   const VEC *ss) {
    if (lp) { /* the squares (lp == 0: a plan without them) */
        VEC p = OP(mul_pd)(x, x);
        if (!from_float32) { /* exact: x*x == p + e, |e| <= 2**-53 |p|: from level 1 on */
            VEC e = OP(fmsub_pd)(x, x, p);
            for (int l = 1; l < le - 1; l++) NAME(extract)(&e, &ae[l], ss[l]);
            ae[le - 1] = OP(add_pd)(ae[le - 1], e);
        }
        for (int l = 0; l < lp - 1; l++) NAME(extract)(&p, &ap[l], ss[l]);
        ap[lp - 1] = OP(add_pd)(ap[lp - 1], p);
    }
    for (int l = 0; l < lx - 1; l++) NAME(extract)(&x, &ax[l], sx[l]);
    ax[lx - 1] = OP(add_pd)(ax[lx - 1], x);
}

/* The level sums of n steps, lane by lane, into sums[level][lane] (x levels, then p,
 * then e). The last level of a stream extracts nothing: what is left of every term is a
 * multiple of the stream's lowest bit and below 2**39 of it, so n <= 2**13 of them add
 * exactly as they are, in any order. Even and odd steps go to two sets of sums, so that
 * each addition waits on the one two steps back rather than the one before. The level
 * counts are compile-time constants at every call, so the loops unroll into registers. */
ATTR static INLINE void NAME(pass)(double sums[][8], const char *base, Py_ssize_t step,
                                   Py_ssize_t n, const int from_float32, const int lx,
                                   const int lp, const int le, double sigma_x[][8],
                                   double sigma_sq[][8]) {
    VEC sx[MAX_LEVELS], ss[MAX_LEVELS], ax[2][MAX_LEVELS], ap[2][MAX_LEVELS], ae[2][MAX_LEVELS];
    for (int l = 0; l < MAX_LEVELS; l++) {
        sx[l] = OP(loadu_pd)(sigma_x[l]);
        ss[l] = OP(loadu_pd)(sigma_sq[l]);
        for (int u = 0; u < 2; u++) ax[u][l] = ap[u][l] = ae[u][l] = OP(setzero_pd)();
    }
    Py_ssize_t t = 0;
    for (; t + 2 <= n; t += 2)
        for (int u = 0; u < 2; u++)
            NAME(step)(LOAD(base + (t + u) * step, from_float32), ax[u], ap[u], ae[u], lx, lp, le,
                       from_float32, sx, ss);
    if (t < n)
        NAME(step)(LOAD(base + t * step, from_float32), ax[0], ap[0], ae[0], lx, lp, le,
                   from_float32, sx, ss);
    int row = 0;
    for (int l = 0; l < lx; l++) OP(storeu_pd)(sums[row++], OP(add_pd)(ax[0][l], ax[1][l]));
    for (int l = 0; l < lp; l++) OP(storeu_pd)(sums[row++], OP(add_pd)(ap[0][l], ap[1][l]));
    for (int l = 1; l < le; l++) OP(storeu_pd)(sums[row++], OP(add_pd)(ae[0][l], ae[1][l]));
}

/* Runs the pass compiled for plan number `plan` of the PLANS tables (with `squares`, else
 * of the X_PLANS tables, whose plans sum x alone). */
ATTR static void NAME(run_plan)(double sums[][8], int plan, int squares, const char *base,
                                Py_ssize_t step, Py_ssize_t n, int from_float32,
                                double sigma_x[][8], double sigma_sq[][8]) {
#define PASS(F32, LX, LP, LE) NAME(pass)(sums, base, step, n, F32, LX, LP, LE, sigma_x, sigma_sq)
    if (from_float32 && squares) {
        if (plan == 0) PASS(1, 1, 2, 0);
        else if (plan == 1) PASS(1, 2, 3, 0);
        else PASS(1, 3, 5, 0);
    } else if (squares) {
        if (plan == 0) PASS(0, 2, 2, 3);
        else if (plan == 1) PASS(0, 2, 3, 4);
        else PASS(0, 3, 4, 6);
    } else if (from_float32) {
        if (plan == 0) PASS(1, 1, 0, 0);
        else if (plan == 1) PASS(1, 2, 0, 0);
        else PASS(1, 3, 0, 0);
    } else {
        if (plan == 0) PASS(0, 2, 0, 0);
        else PASS(0, 3, 0, 0);
    }
#undef PASS
}

#undef VEC
#undef OP
#undef LOAD
#undef ATTR
#undef NAME
