/*
 * The data the kernels read: a 2-D float32/float64 array of any strides, or a sequence
 * of equal-length 1-D float32/float64 arrays, each column described by its first value,
 * its row stride and its type (source_t in _moments.h).
 */
#include "_moments.h"

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

Py_ssize_t nl_open_source(PyObject *obj, source_t *s, Py_buffer **views) {
    memset(s, 0, sizeof *s);
    if (PyObject_CheckBuffer(obj)) { /* a 2-D array */
        Py_buffer *view = *views = PyMem_Calloc(1, sizeof(Py_buffer));
        if (!view) return PyErr_NoMemory(), -1;
        if (PyObject_GetBuffer(obj, view, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return -1;
        if (view->ndim != 2 || !is_float_format(view->format)) {
            PyErr_SetString(PyExc_TypeError, "the kernel needs a 2-D float32 or float64 array");
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
    PyObject *fast = PySequence_Fast(obj, "the kernel needs a 2-D array or a list of 1-D arrays");
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
                PyErr_SetString(PyExc_TypeError, "the kernel needs equal-length 1-D float32/float64 columns");
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

void nl_close_source(source_t *s, Py_buffer *views, Py_ssize_t opened) {
    for (Py_ssize_t j = 0; j < opened; j++) PyBuffer_Release(&views[j]);
    PyMem_Free(views);
    PyMem_Free(s->column);
    PyMem_Free(s->stride);
    PyMem_Free(s->is32);
}
