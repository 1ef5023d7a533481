/*
 * The fused affine transform of the lock's linear methods:
 *     dst[i, j] = round_to_dst_dtype((double(src[i, j]) - centers[j]) / scales[j])
 * in float64 and rounded once (the canonical formula, so the same bits as numpy), with
 * per column counts of NaN inputs, infinite inputs and finite inputs whose output
 * overflows. Rows with adjacent values take a loop that only flags such values; a block
 * of rows with a flag is counted value by value afterwards.
 */
#include "_moments.h"

/* Rows of the affine transform with adjacent values, branch-free so that they vectorize:
 * y = (OUT)((x - c[j]) / s[j]). Returns whether any input or output was not finite
 * (the caller then counts those rows' values one by one). */
#define AFFINE_ROWS(NAME, IN, OUT, OUT_MAX)                                                  \
    __attribute__((target_clones("avx512f", "avx2", "default"))) static int NAME(            \
        const char *in, Py_ssize_t in_rs, char *out, Py_ssize_t out_rs, Py_ssize_t n,         \
        const double *restrict c, const double *restrict s, Py_ssize_t cols) {               \
        int any = 0;                                                                         \
        for (Py_ssize_t i = 0; i < n; i++) {                                                 \
            const IN *restrict x_row = (const IN *)(in + i * in_rs);                         \
            OUT *restrict y_row = (OUT *)(out + i * out_rs);                                 \
            int odd = 0;                                                                     \
            for (Py_ssize_t j = 0; j < cols; j++) {                                          \
                double x = (double)x_row[j];                                                 \
                OUT y = (OUT)((x - c[j]) / s[j]);                                            \
                y_row[j] = y;                                                                \
                odd |= !(fabs(x) <= 0x1.fffffffffffffp+1023) | !(fabs((double)y) <= (OUT_MAX)); \
            }                                                                                \
            any |= odd;                                                                      \
        }                                                                                    \
        return any;                                                                          \
    }
AFFINE_ROWS(affine_rows_ff, float, float, 0x1.fffffep+127)
AFFINE_ROWS(affine_rows_fd, float, double, 0x1.fffffffffffffp+1023)
AFFINE_ROWS(affine_rows_df, double, float, 0x1.fffffep+127)
AFFINE_ROWS(affine_rows_dd, double, double, 0x1.fffffffffffffp+1023)

#define AFFINE_BLOCK 256

/* Rows of the affine transform with any strides, counting per column the NaN inputs
 * (counts[j]), the infinite inputs (counts[cols + j]) and the finite inputs whose output
 * is not finite (counts[2 cols + j]); with `write` 0 the outputs are already there. */
static void affine_counted(const Py_buffer *src, const Py_buffer *dst, Py_ssize_t first,
                           Py_ssize_t n, const double *c, const double *sc, int64_t *counts,
                           int write) {
    Py_ssize_t cols = src->shape[1];
    int in32 = !strcmp(src->format, "f"), out32 = !strcmp(dst->format, "f");
    for (Py_ssize_t i = first; i < first + n; i++) {
        const char *in = (const char *)src->buf + i * src->strides[0];
        char *out = (char *)dst->buf + i * dst->strides[0];
        for (Py_ssize_t j = 0; j < cols; j++) {
            double x = in32 ? (double)*(const float *)(in + j * src->strides[1])
                            : *(const double *)(in + j * src->strides[1]);
            char *y = out + j * dst->strides[1];
            if (write) {
                double value = (x - c[j]) / sc[j];
                if (out32) *(float *)y = (float)value;
                else *(double *)y = value;
            }
            int finite_out = (out32 ? isfinite(*(const float *)y) : isfinite(*(const double *)y)) != 0;
            counts[j] += isnan(x) != 0; /* isinf(-inf) may be -1 */
            counts[cols + j] += isinf(x) != 0;
            counts[2 * cols + j] += isfinite(x) && !finite_out;
        }
    }
}

/* affine(src, dst, centers, scales) -> per column (nan, inf, overflow) counts.
 * dst[i, j] = round_to_dst_dtype((double(src[i, j]) - centers[j]) / scales[j]): the
 * canonical formula, computed in float64 and rounded once. `overflow` counts finite
 * inputs whose output is not finite. The GIL is released while it runs. */
PyObject *nl_affine(PyObject *self, PyObject *args) {
    PyObject *src_obj, *dst_obj, *c_obj, *s_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &src_obj, &dst_obj, &c_obj, &s_obj)) return NULL;
    Py_buffer src, dst, cen, sca;
    if (PyObject_GetBuffer(src_obj, &src, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return NULL;
    if (PyObject_GetBuffer(dst_obj, &dst, PyBUF_STRIDES | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&src);
        return NULL;
    }
    if (PyObject_GetBuffer(c_obj, &cen, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        return NULL;
    }
    if (PyObject_GetBuffer(s_obj, &sca, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        PyBuffer_Release(&cen);
        return NULL;
    }
    int ok = src.ndim == 2 && dst.ndim == 2 && src.shape[0] == dst.shape[0] &&
             src.shape[1] == dst.shape[1] && cen.len == (Py_ssize_t)(sizeof(double) * src.shape[1]) &&
             sca.len == cen.len && src.format && dst.format && (!strcmp(src.format, "f") || !strcmp(src.format, "d")) &&
             (!strcmp(dst.format, "f") || !strcmp(dst.format, "d")) && !strcmp(cen.format, "d") && !strcmp(sca.format, "d");
    if (!ok) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        PyBuffer_Release(&cen);
        PyBuffer_Release(&sca);
        PyErr_SetString(PyExc_TypeError, "affine needs 2-D float arrays of one shape and float64 vectors");
        return NULL;
    }
    Py_ssize_t rows = src.shape[0], cols = src.shape[1];
    int in32 = !strcmp(src.format, "f"), out32 = !strcmp(dst.format, "f");
    int64_t *counts = PyMem_RawCalloc(3 * (cols ? cols : 1), sizeof(int64_t));
    if (!counts) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        PyBuffer_Release(&cen);
        PyBuffer_Release(&sca);
        return PyErr_NoMemory();
    }
    const double *c = cen.buf, *sc = sca.buf;
    Py_BEGIN_ALLOW_THREADS
    int contiguous = src.strides[1] == (in32 ? 4 : 8) && dst.strides[1] == (out32 ? 4 : 8);
    for (Py_ssize_t first = 0; first < rows; first += AFFINE_BLOCK) {
        Py_ssize_t n = rows - first < AFFINE_BLOCK ? rows - first : AFFINE_BLOCK;
        if (!contiguous) {
            affine_counted(&src, &dst, first, n, c, sc, counts, 1);
            continue;
        }
        const char *in = (const char *)src.buf + first * src.strides[0];
        char *out = (char *)dst.buf + first * dst.strides[0];
        Py_ssize_t irs = src.strides[0], ors = dst.strides[0];
        int odd;
        if (in32 && out32) odd = affine_rows_ff(in, irs, out, ors, n, c, sc, cols);
        else if (in32) odd = affine_rows_fd(in, irs, out, ors, n, c, sc, cols);
        else if (out32) odd = affine_rows_df(in, irs, out, ors, n, c, sc, cols);
        else odd = affine_rows_dd(in, irs, out, ors, n, c, sc, cols);
        if (odd) affine_counted(&src, &dst, first, n, c, sc, counts, 0);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    PyBuffer_Release(&cen);
    PyBuffer_Release(&sca);
    PyObject *result = PyList_New(cols);
    for (Py_ssize_t j = 0; j < cols && result; j++) {
        PyObject *item = Py_BuildValue("(LLL)", (long long)counts[j], (long long)counts[cols + j],
                                       (long long)counts[2 * cols + j]);
        if (!item) { Py_CLEAR(result); break; }
        PyList_SET_ITEM(result, j, item);
    }
    PyMem_RawFree(counts);
    return result;
}
