/*
 * The argument check of corpus._kernels_aot, and the ownership check of what a kernel returns:
 * linked into the extension and called by numba's wrapper of each kernel (corpus/_kernels.py,
 * _array_arguments_checked).
 *
 * numba's ahead-of-time wrapper checks only an array's item size: an array of another dtype
 * of the same size would be read as the declared one, and one with more dimensions than
 * declared would overrun the native array's shape (a crash). Here, in C, each array argument
 * is checked as the Python guard it replaces did (~1 µs a kernel call): an ndarray, of a dtype
 * equal to the declared one (``typenum`` or its twin, e.g. ``long`` and ``long long``) in
 * native byte order, with the declared number of dimensions, C-contiguous where declared.
 * Only fields of the array and its descriptor are read: no call into numpy's C API.
 */

#include <Python.h>

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL chhanni_kernels_numpy_api /* (declared, never used) */
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

static PyTypeObject *ndarray_type = NULL;

static int
is_ndarray(PyObject *obj)
{
    if (ndarray_type == NULL) {
        PyObject *numpy = PyImport_ImportModule("numpy");
        PyObject *type = numpy == NULL ? NULL : PyObject_GetAttrString(numpy, "ndarray");
        Py_XDECREF(numpy);
        if (type == NULL || !PyType_Check(type)) {
            Py_XDECREF(type);
            return -1;
        }
        ndarray_type = (PyTypeObject *)type; /* (kept for the life of the process) */
    }
    return PyObject_TypeCheck(obj, ndarray_type);
}

/* 1 when ``obj`` may be unboxed as the declared array type; else 0 with a TypeError set that
   names the kernel, the argument and what it is: "_kernels.take_flags: argument 0 is
   float32[2], not u4[::1]". */
__attribute__((visibility("hidden"))) int
chhanni_check_array(PyObject *obj, int typenum, int twin, int ndim, int contiguous,
                    const char *kernel, int index, const char *declared)
{
    int array = is_ndarray(obj);
    if (array < 0) {
        return 0;
    }
    if (!array) {
        PyErr_Format(PyExc_TypeError, "_kernels.%s: argument %d is a %s, not %s", kernel, index,
                     Py_TYPE(obj)->tp_name, declared);
        return 0;
    }
    PyArrayObject *ary = (PyArrayObject *)obj;
    int num = PyArray_DESCR(ary)->type_num;
    if ((num == typenum || num == twin) && PyArray_ISNOTSWAPPED(ary) && PyArray_NDIM(ary) == ndim
        && (!contiguous || PyArray_IS_C_CONTIGUOUS(ary))) {
        return 1;
    }
    PyErr_Format(PyExc_TypeError, "_kernels.%s: argument %d is %S[%d], not %s", kernel, index,
                 (PyObject *)PyArray_DESCR(ary), PyArray_NDIM(ary), declared);
    return 0;
}

/* ``obj``, an array a kernel returns, or a copy of it (and ``obj`` let go) when it points into
   memory it does not hold: arguments are borrowed for the call, not referenced, so a view of
   one would dangle once the caller let go of the argument. Arrays the kernels make hold their
   memory (their base is numba's record of it); no kernel returns a view of an argument. NULL
   (an error set) passes through. */
__attribute__((visibility("hidden"))) PyObject *
chhanni_owned_array(PyObject *obj)
{
    int array = obj == NULL ? 0 : is_ndarray(obj);
    if (array < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    if (!array) {
        return obj;
    }
    PyArrayObject *ary = (PyArrayObject *)obj;
    if (PyArray_BASE(ary) != NULL || PyArray_CHKFLAGS(ary, NPY_ARRAY_OWNDATA)) {
        return obj;
    }
    PyObject *copy = PyObject_CallMethod(obj, "copy", NULL);
    Py_DECREF(obj);
    return copy;
}
