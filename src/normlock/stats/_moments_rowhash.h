/*
 * The row hash (normlock-row-v1) of a row-major block, for one vector width:
 * _moments_simd.c includes this file once per width, after defining
 *   HVEC, LANES  the vector of uint64 hash states and its number of lanes;
 *   OP(name)     their intrinsic (_mm256_name or _mm512_name);
 *   HLOAD(p), HSTORE(p, h)  LANES hash states from and to memory;
 *   LOADV(p, f32)  LANES adjacent values at p as float64 (float32 widened exactly);
 *   NAME(step)(h, v, salt)  one column's step of the hash for LANES rows;
 *   NAME(columns)(h, r, rs, j, f32)  the steps of columns j..j+LANES-1 of LANES rows;
 *   ATTR, NAME(x)  the target attribute, and the name of function x for this width;
 * and it undefines them at its end.
 */

/* Column j of LANES rows (from r, rs bytes apart) into their hash state h. */
ATTR static INLINE HVEC NAME(one_column)(HVEC h, const char *r, Py_ssize_t rs, Py_ssize_t j,
                                          const int from_float32) {
    double v[LANES];
    for (int k = 0; k < LANES; k++)
        v[k] = from_float32 ? (double)*(const float *)(r + k * rs + j * 4)
                            : *(const double *)(r + k * rs + j * 8);
    return NAME(step)(h, OP(loadu_pd)(v), ROW_HASH_G * (uint64_t)(j + 1));
}

/* The hash states of LANES * groups rows from base. Each step of a row's hash waits on
 * the one before (a multiply's latency), so several groups of rows advance together. */
ATTR static INLINE void NAME(row_groups)(uint64_t *state, const char *base, Py_ssize_t cols,
                                         Py_ssize_t rs, const int from_float32, const int groups) {
    HVEC h[4];
    for (int g = 0; g < groups; g++) h[g] = HLOAD(state + LANES * g);
    Py_ssize_t j = 0;
    for (; j + LANES <= cols; j += LANES)
        for (int g = 0; g < groups; g++)
            h[g] = NAME(columns)(h[g], base + LANES * g * rs, rs, j, from_float32);
    for (; j < cols; j++)
        for (int g = 0; g < groups; g++)
            h[g] = NAME(one_column)(h[g], base + LANES * g * rs, rs, j, from_float32);
    for (int g = 0; g < groups; g++) HSTORE(state + LANES * g, h[g]);
}

/* The hash states of n rows of `cols` adjacent values from base (rows rs bytes apart). */
ATTR static INLINE void NAME(rows)(uint64_t *state, const char *base, Py_ssize_t n, Py_ssize_t cols,
                                   Py_ssize_t rs, const int from_float32) {
    Py_ssize_t size = from_float32 ? 4 : 8, i = 0;
    for (; i + 4 * LANES <= n; i += 4 * LANES)
        NAME(row_groups)(state + i, base + i * rs, cols, rs, from_float32, 4);
    for (; i + LANES <= n; i += LANES) NAME(row_groups)(state + i, base + i * rs, cols, rs, from_float32, 1);
    for (; i < n; i++) {
        const char *r = base + i * rs;
        for (Py_ssize_t j = 0; j < cols; j++) {
            double v = from_float32 ? (double)*(const float *)(r + j * size) : *(const double *)(r + j * size);
            state[i] = row_hash_step(state[i], v, ROW_HASH_G * (uint64_t)(j + 1));
        }
    }
}

/* One column's step of the hash (salt for its position) over n adjacent values. */
ATTR static INLINE void NAME(column)(uint64_t *state, const char *x, Py_ssize_t n,
                                     const int from_float32, uint64_t salt) {
    Py_ssize_t size = from_float32 ? 4 : 8, i = 0;
    for (; i + LANES <= n; i += LANES)
        HSTORE(state + i, NAME(step)(HLOAD(state + i), LOADV(x + i * size, from_float32), salt));
    for (; i < n; i++) {
        double v = from_float32 ? (double)*(const float *)(x + i * size) : *(const double *)(x + i * size);
        state[i] = row_hash_step(state[i], v, salt);
    }
}

#undef HVEC
#undef LANES
#undef OP
#undef HLOAD
#undef HSTORE
#undef LOADV
#undef ATTR
#undef NAME
